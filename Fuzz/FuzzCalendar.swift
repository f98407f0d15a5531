// libFuzzer harness: the duration, date, time and instant parsers. Whatever parses must print
// and parse back to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCalendar(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let duration = try? ISODuration(parsing: text) {
        precondition((try? ISODuration(parsing: duration.description)) == duration, "duration round trip: \(text)")
        _ = duration.times(3).approximateSeconds
    }
    if let date = try? CivilDate(parsing: text) {
        precondition((try? CivilDate(parsing: date.description)) == date, "date round trip: \(text)")
        precondition(CivilDate(daysSinceEpoch: date.daysSinceEpoch) == date, "day count round trip: \(text)")
        _ = date.adding(months: 13).adding(days: -400)
    }
    if let time = try? LocalTime(parsing: text) {
        precondition((try? LocalTime(parsing: time.description)) == time, "time round trip: \(text)")
    }
    if let instant = try? Instant(parsingRFC3339: text) {
        precondition((try? Instant(parsingRFC3339: instant.rfc3339)) == instant, "instant round trip: \(text)")
    }
    return 0
}
