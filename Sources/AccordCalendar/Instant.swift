/// A point in time: whole seconds since 1970-01-01T00:00:00Z.
///
/// Reminders are planned to the second; a plain integer keeps the plan cheap to
/// sort, hash and store, and keeps Foundation's date types out of the hot path.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.seconds < rhs.seconds }

    public func adding(seconds delta: Int64) -> Instant { Instant(seconds: seconds + delta) }

    public static let distantPast = Instant(seconds: Int64.min / 4)
    public static let distantFuture = Instant(seconds: Int64.max / 4)

    /// RFC 3339 in UTC: `2017-10-01T04:00:00Z`.
    public var rfc3339: String { LocalDateTime(secondsAsIfUTC: seconds).description + "Z" }

    public var description: String { rfc3339 }

    /// Parses an RFC 3339 instant with `Z` or a numeric offset (`2017-03-31T17:00:00-04:00`).
    /// Fractional seconds are accepted and dropped.
    public init(parsingRFC3339 text: String) throws(CalendarError) {
        let bytes = Array(text.utf8)
        let why = "expected an RFC 3339 instant, e.g. 2017-03-31T17:00:00Z or 2017-03-31T17:00:00-04:00"
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " ") else {
            throw .invalidDate(text, why)
        }
        let date: CivilDate
        let time: LocalTime
        do {
            date = try CivilDate(parsing: String(decoding: bytes[0..<10], as: UTF8.self))
            time = try LocalTime(parsing: String(decoding: bytes[11..<19], as: UTF8.self))
        } catch {
            throw .invalidDate(text, why)
        }
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
        }
        var offset = 0
        let rest = bytes[index...]
        if rest.count == 1, rest.first == UInt8(ascii: "Z") || rest.first == UInt8(ascii: "z") {
            offset = 0
        } else if rest.count == 6, rest[index] == UInt8(ascii: "+") || rest[index] == UInt8(ascii: "-"),
            rest[index + 3] == UInt8(ascii: ":"),
            let h = digits(rest[(index + 1)..<(index + 3)]), let m = digits(rest[(index + 4)..<(index + 6)]),
            h < 24, m < 60
        {
            offset = (h * 3600 + m * 60) * (rest[index] == UInt8(ascii: "-") ? -1 : 1)
        } else {
            throw .invalidDate(text, why)
        }
        self.init(seconds: LocalDateTime(date: date, time: time).secondsAsIfUTC - Int64(offset))
    }
}
