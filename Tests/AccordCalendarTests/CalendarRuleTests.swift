import AccordCalendar
import Testing

/// The calendar rules of docs/contracts.md §4 (month-end clamping, calendar days, wall-clock
/// readings in gaps and overlaps), each with values worked out by hand. Moved from
/// AccordCoreTests: they need nothing but the calendar module.
@Suite("Calendar rules")
struct CalendarRuleTests {
    let toronto = zone("America/Toronto")
    let shanghai = zone("Asia/Shanghai")

    // MARK: month-end clamping

    @Test(
        "adding years and months clamps to the month's end",
        arguments: [
            ("2016-02-29", "P1Y", 1, "2017-02-28"),
            ("2016-02-29", "P4Y", 1, "2020-02-29"),
            ("2016-02-29", "P1Y", -1, "2015-02-28"),
            ("2016-01-31", "P1M", 1, "2016-02-29"),
            ("2017-01-31", "P1M", 1, "2017-02-28"),
            ("2017-03-31", "P1M", -1, "2017-02-28"),
            ("2016-03-31", "P1M", -1, "2016-02-29"),
            ("2016-05-31", "P1M", 1, "2016-06-30"),
            ("2016-08-31", "P1Y6M", 1, "2018-02-28"),
            ("2016-01-31", "P1M1D", 1, "2016-03-01"),  // months first, then days
            ("2016-12-31", "P1D", 1, "2017-01-01"),
            ("2018-01-15", "P90D", -1, "2017-10-17"),
            ("2016-12-25", "P2W", 1, "2017-01-08"),
            ("2016-10-01", "P1Y", 1, "2017-10-01"),
            ("2017-01-01", "P1M", -1, "2016-12-01")
        ])
    func clamping(start: String, by: String, sign: Int, expected: String) {
        #expect(day(start).adding(duration(by), sign: sign) == day(expected))
    }

    @Test func repeatedMonthsDoNotDriftThroughAShortMonth() {
        // 2017-01-31 + 2 × P1M is 2017-03-31, not 2017-03-28.
        #expect(day("2017-01-31").adding(duration("P1M").times(2)) == day("2017-03-31"))
        #expect(day("2017-01-31").adding(duration("P1M")).adding(duration("P1M")) == day("2017-03-28"))
    }

    @Test func calendarDays() {
        #expect(day("2016-02-28").days(until: day("2016-03-01")) == 2)
        #expect(day("2017-02-28").days(until: day("2017-03-01")) == 1)
        #expect(day("2017-03-31").days(until: day("2017-03-24")) == -7)
        #expect(day("1970-01-01").daysSinceEpoch == 0)
        #expect(day("2017-10-01").daysSinceEpoch == 17_440)
        #expect(CivilDate(daysSinceEpoch: 17_440) == day("2017-10-01"))
        #expect(CivilDate(daysSinceEpoch: -1) == day("1969-12-31"))
    }

    // MARK: zones, gaps and overlaps

    @Test(
        "wall-clock readings become instants",
        arguments: [
            ("America/Toronto", "2017-03-31", "09:00:00", "2017-03-31T13:00:00Z"),  // EDT, -04:00
            ("America/Toronto", "2017-01-30", "09:00:00", "2017-01-30T14:00:00Z"),  // EST, -05:00
            ("Asia/Shanghai", "2017-03-24", "09:00:00", "2017-03-24T01:00:00Z"),  // CST, +08:00 all year
            ("Asia/Shanghai", "2017-07-01", "00:00:00", "2017-06-30T16:00:00Z"),
            ("Asia/Kathmandu", "2017-03-31", "09:00:00", "2017-03-31T03:15:00Z"),  // +05:45
            ("Australia/Lord_Howe", "2017-01-15", "09:00:00", "2017-01-14T22:00:00Z"),  // +11:00 in summer
            ("Australia/Lord_Howe", "2017-07-15", "09:00:00", "2017-07-14T22:30:00Z"),  // +10:30 in winter
            ("UTC", "2017-03-12", "02:30:00", "2017-03-12T02:30:00Z"),
            ("Asia/Shanghai", "2017-03-12", "02:30:00", "2017-03-11T18:30:00Z")  // no DST in China
        ])
    func wallClock(zoneName: String, date: String, time: String, expected: String) {
        let zone = zone(zoneName)
        #expect(zone.instant(for: wall(date, time)) == instant(expected))
        #expect(zone.local(at: instant(expected)) == wall(date, time))
    }

    @Test func springForwardMovesForwardByTheGap() {
        // Toronto, 2017-03-12: 02:00 EST jumps to 03:00 EDT; 02:30 does not exist.
        let fired = toronto.instant(for: wall("2017-03-12", "02:30:00"))
        #expect(fired == instant("2017-03-12T07:30:00Z"))
        #expect(toronto.local(at: fired) == wall("2017-03-12", "03:30:00"))
        #expect(toronto.instant(for: wall("2017-03-12", "01:59:59")) == instant("2017-03-12T06:59:59Z"))
        #expect(toronto.instant(for: wall("2017-03-12", "03:00:00")) == instant("2017-03-12T07:00:00Z"))
        // Lord Howe moves by half an hour: 02:00 → 02:30, so 02:15 becomes 02:45 (+11:00).
        let lordHowe = zone("Australia/Lord_Howe")
        #expect(lordHowe.instant(for: wall("2017-10-01", "02:15:00")) == instant("2017-09-30T15:45:00Z"))
        #expect(lordHowe.local(at: instant("2017-09-30T15:45:00Z")) == wall("2017-10-01", "02:45:00"))
    }

    @Test func fallBackTakesTheEarlierInstant() {
        // Toronto, 2017-11-05: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        #expect(toronto.instant(for: wall("2017-11-05", "01:30:00")) == instant("2017-11-05T05:30:00Z"))
        #expect(toronto.local(at: instant("2017-11-05T05:30:00Z")) == wall("2017-11-05", "01:30:00"))
        #expect(toronto.local(at: instant("2017-11-05T06:30:00Z")) == wall("2017-11-05", "01:30:00"))
        #expect(toronto.instant(for: wall("2017-11-05", "02:00:00")) == instant("2017-11-05T07:00:00Z"))
        // Lord Howe, 2017-04-02: 02:00 (+11:00) falls back to 01:30 (+10:30).
        let lordHowe = zone("Australia/Lord_Howe")
        #expect(lordHowe.instant(for: wall("2017-04-02", "01:45:00")) == instant("2017-04-01T14:45:00Z"))
    }

    @Test func offsets() {
        #expect(toronto.offset(at: instant("2017-01-15T12:00:00Z")) == -5 * 3600)
        #expect(toronto.offset(at: instant("2017-07-15T12:00:00Z")) == -4 * 3600)
        #expect(toronto.offset(at: instant("2017-03-12T06:59:59Z")) == -5 * 3600)
        #expect(toronto.offset(at: instant("2017-03-12T07:00:00Z")) == -4 * 3600)
        #expect(shanghai.offset(at: instant("2017-07-15T12:00:00Z")) == 8 * 3600)
        #expect(zone("Asia/Kathmandu").offset(at: instant("2017-07-15T12:00:00Z")) == 5 * 3600 + 45 * 60)
        #expect(toronto.startOfDay(day("2017-03-12")) == instant("2017-03-12T05:00:00Z"))
        #expect(toronto.startOfDay(day("2017-03-13")) == instant("2017-03-13T04:00:00Z"))
    }

    @Test func zoneNamesAreIANAExactly() {
        #expect(toronto.identifier == "America/Toronto")
        #expect(Zone.utc.identifier == "UTC")
        #expect(zone("America/Toronto") == toronto)
        for name in ["Mars/Olympus", "america/toronto", "", "EST5EDT/Nowhere", "Toronto"] {
            #expect(throws: CalendarError.unknownTimeZone(name)) { try Zone.named(name) }
        }
        let message = CalendarError.unknownTimeZone("Mars/Olympus").description
        #expect(message.contains("\"Mars/Olympus\" is not an IANA time zone"))
        #expect(message.contains("America/Toronto"))
    }

}
