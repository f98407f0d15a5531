import AccordCalendar
import Testing

/// ISO 8601 durations, dates and RFC 3339 instants: parsing, printing, rejections.
@Suite("Durations, dates and instants as text")
struct DurationAndTextTests {
    @Test func everyComponent() throws {
        let all = try ISODuration(parsing: "P1Y2M3W4DT5H6M7S")
        #expect(all == ISODuration(years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7))
        #expect(all.description == "P1Y2M3W4DT5H6M7S")
        #expect(all.dayCount == 25)
        #expect(all.timeSeconds == 5 * 3600 + 6 * 60 + 7)
        #expect(all.hasTimePart)
    }

    @Test(
        "parse and print",
        arguments: [
            ("P1Y", ISODuration(years: 1), "P1Y"),
            ("P6M", ISODuration(months: 6), "P6M"),
            ("P2W", ISODuration(weeks: 2), "P2W"),
            ("P90D", ISODuration(days: 90), "P90D"),
            ("PT36H", ISODuration(hours: 36), "PT36H"),
            ("PT90M", ISODuration(minutes: 90), "PT90M"),
            ("PT10S", ISODuration(seconds: 10), "PT10S"),
            ("P1Y2M3DT4H", ISODuration(years: 1, months: 2, days: 3, hours: 4), "P1Y2M3DT4H"),
            ("P1DT12H", ISODuration(days: 1, hours: 12), "P1DT12H"),
            ("P0D", ISODuration.zero, "P0D"),
            ("PT0S", ISODuration.zero, "P0D"),
            ("P0Y", ISODuration.zero, "P0D")
        ])
    func parseAndPrint(text: String, value: ISODuration, printed: String) throws {
        let parsed = try ISODuration(parsing: text)
        #expect(parsed == value)
        #expect(parsed.description == printed)
        #expect(try ISODuration(parsing: printed) == value)
    }

    @Test func zero() throws {
        #expect(try ISODuration(parsing: "P0D").isZero)
        #expect(ISODuration.zero.description == "P0D")
        #expect(!(try ISODuration(parsing: "P0D").hasTimePart))
    }

    @Test(
        "rejections say what is allowed",
        arguments: [
            ("", "must start with P"),
            ("P", "has no amount"),
            ("PT", "T must be followed by hours, minutes or seconds"),
            ("P1DT", "T must be followed by hours, minutes or seconds"),
            ("P1.5D", "fractions are not supported"),
            ("P1,5D", "fractions are not supported"),
            ("P-1D", "expected a whole number before a designator (Y, M, W, D, T, H, M, S)"),
            ("1D", "must start with P"),
            ("p1d", "must start with P"),
            ("P1H", "before T only Y, M, W and D are allowed"),
            ("PT1D", "after T only H, M and S are allowed"),
            ("PT1Y", "after T only H, M and S are allowed"),
            ("P1D2Y", "designators must come in the order Y, M, W, D, T, H, M, S"),
            ("PT1S2H", "designators must come in the order Y, M, W, D, T, H, M, S"),
            ("P1D2D", "D appears twice"),
            ("P1DD", "expected a whole number before a designator"),
            ("P1DT1HT1M", "T appears twice"),
            ("P7", "the last number has no designator"),
            ("P7D ", "expected a whole number before a designator"),
            ("P99999999D", "a number is larger than 1000000")
        ])
    func rejected(text: String, why: String) {
        #expect {
            try ISODuration(parsing: text)
        } throws: { error in
            guard let error = error as? CalendarError, case let .invalidDuration(quoted, reason) = error else { return false }
            return quoted == text && reason.contains(why)
                && error.description.hasPrefix("\"\(text)\" is not an ISO 8601 duration: ")
        }
    }

    @Test func durationArithmetic() throws {
        #expect(duration("P7D").times(3) == duration("P21D"))
        #expect(duration("P1M").times(2).description == "P2M")
        #expect(duration("P1Y").approximateSeconds > duration("P364D").approximateSeconds)
        #expect(duration("P12M").approximateSeconds == duration("P1Y").approximateSeconds)
        #expect(duration("P1W") != duration("P7D"))  // kept as written
        #expect(duration("P1W").dayCount == duration("P7D").dayCount)
    }

    // MARK: dates, times, instants

    @Test func civilDates() throws {
        let date = try CivilDate(parsing: "2017-03-31")
        #expect(date == CivilDate(year: 2017, month: 3, day: 31))
        #expect(date.description == "2017-03-31")
        #expect(try CivilDate(parsing: "2016-02-29").description == "2016-02-29")
        #expect(CivilDate(year: 17, month: 1, day: 2)?.description == "0017-01-02")
        #expect(CivilDate(year: 2017, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2017, month: 13, day: 1) == nil)
        #expect(day("2016-12-31") < day("2017-01-01"))
        for text in ["2017-02-29", "2017-13-01", "2017-04-31", "2017-00-10"] {
            #expect(throws: CalendarError.invalidDate(text, "no such day in the calendar")) { try CivilDate(parsing: text) }
        }
        for text in ["2017-3-31", "20170331", "2017/03/31", "2017-03-31T00:00:00Z", "", "17-03-31", "2017-03-3a"] {
            #expect(throws: CalendarError.invalidDate(text, "expected YYYY-MM-DD, e.g. 2017-03-31")) { try CivilDate(parsing: text) }
        }
    }

    @Test func timesOfDay() throws {
        #expect(try LocalTime(parsing: "09:00:00") == LocalTime.nineAM)
        #expect(try LocalTime(parsing: "02:30") == LocalTime(hour: 2, minute: 30))
        #expect(LocalTime(hour: 23, minute: 59, second: 59)?.description == "23:59:59")
        #expect(throws: CalendarError.self) { try LocalTime(parsing: "24:00:00") }
        #expect(throws: CalendarError.self) { try LocalTime(parsing: "9:00") }
        #expect(throws: CalendarError.self) { try LocalTime(parsing: "09:60") }
    }

    @Test(
        "RFC 3339 instants",
        arguments: [
            ("2017-03-31T17:00:00Z", 1_490_979_600, "2017-03-31T17:00:00Z"),
            ("2017-03-31T17:00:00+08:00", 1_490_950_800, "2017-03-31T09:00:00Z"),
            ("2017-03-31T17:00:00-04:00", 1_490_994_000, "2017-03-31T21:00:00Z"),
            ("2017-03-31T17:00:00+05:45", 1_490_958_900, "2017-03-31T11:15:00Z"),
            ("2017-03-31T17:00:00.250Z", 1_490_979_600, "2017-03-31T17:00:00Z"),  // fractions dropped
            ("2017-03-31t17:00:00z", 1_490_979_600, "2017-03-31T17:00:00Z"),
            ("2017-03-31 17:00:00Z", 1_490_979_600, "2017-03-31T17:00:00Z"),
            ("1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"),
            ("1969-12-31T23:59:59Z", -1, "1969-12-31T23:59:59Z"),
            ("2017-01-01T00:30:00+01:00", 1_483_227_000, "2016-12-31T23:30:00Z")
        ])
    func rfc3339(text: String, seconds: Int64, printed: String) throws {
        let parsed = try Instant(parsingRFC3339: text)
        #expect(parsed.seconds == seconds)
        #expect(parsed.rfc3339 == printed)
        #expect(parsed.description == printed)
        #expect(try Instant(parsingRFC3339: printed) == parsed)
    }

    @Test func rfc3339Rejections() {
        for text in [
            "2017-03-31", "2017-03-31T17:00:00", "2017-03-31T17:00Z", "2017-03-31T17:00:00+8:00",
            "2017-03-31T17:00:00+0800", "2017-02-29T17:00:00Z", "2017-03-31T25:00:00Z",
            "2017-03-31T17:00:00+24:00", "2017-03-31X17:00:00Z", "2017-03-31T17:00:00Zjunk", ""
        ] {
            #expect(throws: CalendarError.self, "\(text)") { try Instant(parsingRFC3339: text) }
        }
    }
}
