import Foundation
import PropertyBased
import Testing

@testable import AccordCalendar

/// Every kind of zone the daemon meets: UTC, a fixed offset, daylight saving in the north and in
/// the south, negative daylight saving (Ireland's winter time), and a zone known only by its
/// footer rule (no transitions in the file: every instant is evaluated by the POSIX rule, in
/// any year).
private let ruleOnly: Zone = {
    let directory = NSTemporaryDirectory() + "accord-rule-only-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: directory + "/Test", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    FileManager.default.createFile(
        atPath: directory + "/Test/RuleOnly",
        contents: Data(tzif(types: [-5 * 3600], footer: "EST5EDT,M3.2.0,M11.1.0")))
    return try! Zone.load("Test/RuleOnly", from: directory)
}()

private let everyZoneKind: [Zone] = [
    zone("UTC"), zone("Etc/GMT-14"), zone("America/Toronto"), zone("Australia/Sydney"), zone("Europe/Dublin"), ruleOnly
]

/// Days since 1970 of 0001-01-01 and 9999-12-31: the range the TOML and RFC 3339 formats accept.
private let firstDay = -719_162, lastDay = 2_932_896
private let days = Gen.int(in: firstDay...lastDay)
private let secondsOfDay = Gen.int(in: 0...86_399)
private let zones = Gen.element(of: everyZoneKind)

@Suite("Calendar functions over the whole range of the formats, in every zone kind")
struct FullRangePropertyTests {
    @Test func aFarFutureDateInARuleZoneHasAnOffset() {
        // The crash of issue 16: the footer rule was expanded for year + 1 with a force-unwrapped
        // CivilDate, which 9999 + 1 is not.
        for zone in everyZoneKind {
            let lastInstant = zone.instant(for: wall("9999-12-31", "23:59:59"))
            #expect(abs(zone.offset(at: lastInstant)) <= 14 * 3600, "\(zone)")
            #expect(zone.local(at: lastInstant).date.year >= 9999, "\(zone)")
        }
        #expect(zone("America/Toronto").offset(at: zone("America/Toronto").startOfDay(day("9998-12-30"))) == -5 * 3600)
        #expect(zone("Australia/Sydney").offset(at: zone("Australia/Sydney").startOfDay(day("9999-01-15"))) == 11 * 3600)
    }

    @Test func wallTimesRoundTripWhereTheyExist() async {
        await propertyCheck(count: 600, input: zones, days, secondsOfDay) { zone, day, second in
            let zone = zone!
            let reading = LocalDateTime(
                date: CivilDate(daysSinceEpoch: day),
                time: LocalTime(hour: second / 3600, minute: second % 3600 / 60, second: second % 60)!)
            let moment = zone.instant(for: reading)
            let back = zone.local(at: moment)
            // Exact, except in a spring-forward gap, where the reading moves forward by the gap.
            if back != reading {
                #expect(back > reading && back.secondsAsIfUTC - reading.secondsAsIfUTC <= 3 * 3600, "\(zone) \(reading) → \(back)")
            }
            #expect(abs(zone.offset(at: moment)) <= 14 * 3600)
        }
    }

    @Test func instantsRoundTripOrTakeTheEarlierOfAnOverlap() async {
        await propertyCheck(count: 600, input: zones, days, secondsOfDay) { zone, day, second in
            let zone = zone!
            let moment = Instant(seconds: Int64(day) * 86_400 + Int64(second))
            let reading = zone.local(at: moment)
            let back = zone.instant(for: reading)
            #expect(back == moment || (back < moment && zone.local(at: back) == reading), "\(zone) \(moment)")
        }
    }

    @Test func offsetsChangeOnlyAtTransitionsAndStayInRange() async {
        await propertyCheck(count: 400, input: zones, days) { zone, day in
            let zone = zone!
            let start = zone.startOfDay(CivilDate(daysSinceEpoch: day))
            let next = zone.startOfDay(CivilDate(daysSinceEpoch: day).adding(days: 1))
            // A civil day lasts 24 hours, give or take one daylight-saving change (at most 2 h here).
            #expect(abs(next.seconds - start.seconds - 86_400) <= 7200, "\(zone) \(CivilDate(daysSinceEpoch: day))")
            #expect(next > start)
        }
    }

    @Test func instantsIncreaseWithTheWallClockWhereTheReadingsExist() async {
        // Two readings up to two days apart, on any day of 0001...9999: where both exist (a
        // reading in a spring-forward gap moves forward by the gap, so it may pass a later
        // reading: the gap rule, not an ordering), the later reading is the later instant, and
        // the instants are never further apart than the readings plus the largest offset change
        // of these zones (Dublin's and Toronto's one hour, so 2 h is a safe bound).
        await propertyCheck(count: 600, input: zones, days, secondsOfDay, Gen.int(in: 0...172_799)) { zone, day, second, delta in
            let zone = zone!
            let a = LocalDateTime(secondsAsIfUTC: Int64(day) * 86_400 + Int64(second))
            let b = LocalDateTime(secondsAsIfUTC: a.secondsAsIfUTC + Int64(delta))
            let (ia, ib) = (zone.instant(for: a), zone.instant(for: b))
            guard zone.local(at: ia) == a, zone.local(at: ib) == b else { return }
            #expect(delta == 0 ? ia == ib : ia < ib, "\(zone) \(a) \(b)")
            #expect(abs((ib.seconds - ia.seconds) - Int64(delta)) <= 7200, "\(zone) \(a) \(b)")
        }
    }

    @Test func durationsAddTotallyAndUndoWithoutClamping() async {
        let durations = Gen.int(in: 0...12_000).map { months in ISODuration(months: months) }
        await propertyCheck(count: 500, input: zones, days, durations) { zone, day, duration in
            let zone = zone!
            let date = CivilDate(daysSinceEpoch: day)
            let later = date.adding(duration)
            // The month moves by exactly the months; the day is kept or clamped to the month's end.
            #expect((later.year * 12 + later.month) - (date.year * 12 + date.month) == duration.months)
            #expect(later.day == min(date.day, CivilDate.daysIn(year: later.year, month: later.month)))
            if date.day <= 28 { #expect(later.adding(duration, sign: -1) == date) }
            // Past 9999 too: a term of a thousand years from a date in 9999 is still a date.
            let moment = zone.adding(duration, to: zone.startOfDay(date))
            #expect(zone.local(at: moment).date >= later.adding(days: -1))
        }
    }

    @Test func theLongestDurationFromTheLastDayIsTotal() {
        let longest = ISODuration(
            years: 1_000_000, months: 1_000_000, weeks: 1_000_000, days: 1_000_000,
            hours: 1_000_000, minutes: 1_000_000, seconds: 1_000_000)
        for zone in everyZoneKind {
            let last = zone.startOfDay(day("9999-12-31"))
            let far = zone.adding(longest, to: last)
            let back = zone.adding(longest, to: far, sign: -1)
            #expect(far > last && back <= far, "\(zone)")
            #expect(zone.adding(longest, to: day("0001-01-01"), at: .midnight) > zone.startOfDay(day("0001-01-01")))
        }
    }
}
