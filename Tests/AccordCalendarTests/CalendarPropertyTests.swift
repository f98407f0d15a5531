import AccordCalendar
import PropertyBased
import Testing

/// Text round trips of durations, dates and instants, and wall-clock round trips through
/// zones with gaps, overlaps and odd offsets. Moved from AccordCoreTests' plan properties:
/// they need nothing but the calendar module.
@Suite("Calendar text and zone properties")
struct CalendarPropertyTests {
    static let zones = [
        "America/Toronto", "Asia/Shanghai", "UTC", "Asia/Kathmandu", "Australia/Lord_Howe",
        "Europe/London", "America/St_Johns", "America/Santiago"
    ]

    // MARK: durations

    static let durations = zip(
        Gen.int(in: -6...20), Gen.int(in: -6...30), Gen.int(in: -6...10), Gen.int(in: -6...400),
        Gen.int(in: -6...72), Gen.int(in: -6...120), Gen.int(in: -6...120)
    ).map { y, m, w, d, h, min, s in
        ISODuration(
            years: max(0, y), months: max(0, m), weeks: max(0, w), days: max(0, d),
            hours: max(0, h), minutes: max(0, min), seconds: max(0, s))
    }

    @Test func durationsPrintAndParseBackEqual() async {
        await propertyCheck(count: 300, input: Self.durations) { value throws in
            let text = value.description
            #expect(try ISODuration(parsing: text) == value, "\(text)")
            #expect(text.hasPrefix("P"))
            #expect(text.contains("T") == value.hasTimePart)
        }
    }

    @Test func datesPrintAndParseBackEqual() async {
        await propertyCheck(count: 300, input: Gen.int(in: -719_162...2_932_896)) { days throws in
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            #expect(try CivilDate(parsing: date.description) == date)
        }
    }

    @Test func instantsPrintAndParseBackEqual() async {
        await propertyCheck(count: 300, input: Gen.int64(in: -2_000_000_000...4_000_000_000)) { seconds throws in
            let value = Instant(seconds: seconds)
            #expect(try Instant(parsingRFC3339: value.rfc3339) == value)
        }
    }

    @Test func localTimesRoundTripThroughEveryZone() async {
        await propertyCheck(count: 200, input: Gen.element(of: Self.zones), Gen.int64(in: 1_400_000_000...1_700_000_000)) { name, seconds in
            let zone = zone(name!)
            let moment = Instant(seconds: seconds)
            let local = zone.local(at: moment)
            let back = zone.instant(for: local)
            // Exact, except in a fall-back overlap, where the earlier of the two comes back.
            #expect(back == moment || (back < moment && zone.local(at: back) == local))
        }
    }
}
