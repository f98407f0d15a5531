import AccordCalendar
import AccordCore
import Foundation
import Testing

/// docs/contracts.md §4, the calendar rules as the plan applies them (terms, remind-at, datetime
/// deadlines, days left), each with values worked out by hand. The rules of the calendar alone are
/// in AccordCalendarTests/CalendarRuleTests.swift.
@Suite("Calendar rules in the plan")
struct CalendarTests {
    // MARK: half-open terms

    static func termPortfolio(_ zone: String) -> String {
        """
        [dialogue]
        id = "d"
        title = "Terms"
        time-zone = "\(zone)"
        reminders = ["P7D", "P0D"]

        [[instrument]]
        id = "pilot"
        kind = "mou"
        title = "One-year pilot"
        in-force = { date = 2016-10-01, basis = "confirmed" }
        term = "P1Y"
        """
    }

    @Test(
        "a term is half-open: in force through 2017-09-30, expiring 2017-10-01",
        arguments: [
            ("America/Toronto", "2017-10-01T04:00:00Z"),
            ("Asia/Shanghai", "2017-09-30T16:00:00Z")
        ])
    func halfOpenTerm(zoneName: String, expiryStarts: String) throws {
        let plan = try plan(Self.termPortfolio(zoneName))
        let item = plan.catalog.items[0]
        let timeline = ItemTimeline(item: item, events: [])
        #expect(timeline.terms.count == 1)
        #expect(timeline.terms[0].start == day("2016-10-01"))
        #expect(timeline.terms[0].expiry == day("2017-10-01"))

        let lastSecond = instant(expiryStarts).adding(seconds: -1)
        #expect(plan.state(ofItem: 0, at: lastSecond) == .inForce)
        #expect(plan.state(ofItem: 0, at: instant(expiryStarts)) == .expired)
        #expect(plan.state(ofItem: 0, at: zone(zoneName).startOfDay(day("2016-10-01"))) == .inForce)
        #expect(plan.state(ofItem: 0, at: zone(zoneName).startOfDay(day("2016-10-01")).adding(seconds: -1)) == .planned)

        let reminders = plan.all(from: "2016-01-01T00:00:00Z", until: "2018-12-31T00:00:00Z")
        #expect(reminders.keys == ["d/pilot:expiry:2017-10-01:P7D", "d/pilot:expiry:2017-10-01:P0D"])
        // An expiry deadline passes at the start of the expiry day.
        #expect(reminders.allSatisfy { $0.deadlineAt == instant(expiryStarts) })
        #expect(reminders.allSatisfy { $0.deadlineTime == .date(day("2017-10-01")) })
    }

    // MARK: remind-at

    static func remindAtPortfolio(_ zone: String, _ remindAt: String, _ due: String, _ leads: String) -> String {
        """
        [dialogue]
        id = "d"
        title = "Remind-at"
        time-zone = "\(zone)"
        remind-at = \(remindAt)
        reminders = [\(leads)]

        [[objective]]
        id = "o"
        title = "Objective"
        due = \(due)
        """
    }

    @Test(
        "a date reminder fires at remind-at on (date − lead) in the item's zone",
        arguments: [
            ("America/Toronto", "09:00:00", "2017-03-24T13:00:00Z"),
            ("Asia/Shanghai", "09:00:00", "2017-03-24T01:00:00Z"),
            ("Asia/Shanghai", "17:30:00", "2017-03-24T09:30:00Z"),
            ("Asia/Kathmandu", "09:00:00", "2017-03-24T03:15:00Z"),
            ("UTC", "09:00:00", "2017-03-24T09:00:00Z")
        ])
    func remindAt(zoneName: String, remindAt: String, expected: String) throws {
        let plan = try plan(Self.remindAtPortfolio(zoneName, remindAt, "2017-03-31", "\"P7D\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(reminders.count == 1)
        let reminder = try #require(reminders.first)
        #expect(reminder.key == "d/o:due:2017-03-31:P7D")
        #expect(reminder.fireAt == instant(expected))
        #expect(reminder.daysLeft == 7)
        #expect(reminder.lead == "P7D")
        #expect(reminder.message == "d/o: due in 7 days (2017-03-31)")
    }

    @Test func remindersThatFallIntoTheSpringForwardGap() throws {
        // remind-at 02:30 on 2017-03-12 in Toronto does not exist: it fires at 03:30 EDT.
        let plan = try plan(Self.remindAtPortfolio("America/Toronto", "02:30:00", "2017-03-13", "\"P1D\", \"P0D\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(reminders.keys == ["d/o:due:2017-03-13:P1D", "d/o:due:2017-03-13:P0D"])
        #expect(reminders[0].fireAt == instant("2017-03-12T07:30:00Z"))
        #expect(reminders[1].fireAt == instant("2017-03-13T06:30:00Z"))  // 02:30 EDT, a normal day again
    }

    @Test func remindersOnTheFallBackDayTakeTheEarlierInstant() throws {
        let plan = try plan(Self.remindAtPortfolio("America/Toronto", "01:30:00", "2017-11-05", "\"P0D\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(reminders.keys == ["d/o:due:2017-11-05:P0D"])
        #expect(reminders.first?.fireAt == instant("2017-11-05T05:30:00Z"))
        #expect(reminders.first?.message == "d/o: due today (2017-11-05)")
    }

    @Test func anItemOverridesItsDialoguesZoneAndRemindAt() throws {
        let plan = try plan(
            """
            [dialogue]
            id = "d"
            title = "Overrides"
            time-zone = "America/Toronto"
            reminders = ["P7D"]

            [[objective]]
            id = "beijing"
            title = "Objective kept in Beijing time"
            due = 2017-03-31
            time-zone = "Asia/Shanghai"
            remind-at = 10:15:00
            """)
        let reminder = try #require(plan.all(from: "2017-01-01T00:00:00Z", until: "2018-01-01T00:00:00Z").first)
        #expect(reminder.fireAt == instant("2017-03-24T02:15:00Z"))
        #expect(reminder.deadlineAt == instant("2017-03-31T16:00:00Z"))
        #expect(reminder.zone == shanghai)
    }

    // MARK: datetime deadlines

    @Test func aDatetimeDeadlineWithAnotherOffsetThanTheItemsZone() throws {
        // 2017-03-31T17:00:00+08:00 is 09:00Z, 05:00 EDT in Toronto.
        let plan = try plan(
            Self.remindAtPortfolio(
                "America/Toronto", "09:00:00", "2017-03-31T17:00:00+08:00",
                "\"P1D\", \"PT36H\", \"P0D\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(
            reminders.keys == [
                "d/o:due:2017-03-31T09:00:00Z:PT36H",
                "d/o:due:2017-03-31T09:00:00Z:P1D",
                "d/o:due:2017-03-31T09:00:00Z:P0D"
            ])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-29T21:00:00Z"),  // exactly 36 hours before
                instant("2017-03-30T09:00:00Z"),  // one calendar day before in Toronto: 05:00 EDT on 03-30
                instant("2017-03-31T09:00:00Z")  // remind-at plays no part for instants
            ])
        #expect(reminders.allSatisfy { $0.deadlineAt == instant("2017-03-31T09:00:00Z") })
        #expect(reminders.allSatisfy { $0.deadlineTime == .instant(instant("2017-03-31T09:00:00Z")) })
        #expect(reminders.map(\.daysLeft) == [1, 1, 0])  // 36 h truncates to 1 day
        #expect(reminders[0].message == "d/o: due in 1 day (2017-03-31T09:00:00Z)")
    }

    @Test func aCalendarDayBeforeADatetimeDeadlineAcrossSpringForward() throws {
        // 2017-03-12T17:00:00+08:00 = 09:00Z = 05:00 EDT on 03-12 in Toronto. One calendar day
        // before is 05:00 EST on 03-11 = 10:00Z: only 23 hours earlier. PT24H is 09:00Z.
        let plan = try plan(
            Self.remindAtPortfolio(
                "America/Toronto", "09:00:00", "2017-03-12T17:00:00+08:00",
                "\"P1D\", \"PT24H\", \"PT36H\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(
            reminders.keys == [
                "d/o:due:2017-03-12T09:00:00Z:PT36H",
                "d/o:due:2017-03-12T09:00:00Z:PT24H",
                "d/o:due:2017-03-12T09:00:00Z:P1D"
            ])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-10T21:00:00Z"), instant("2017-03-11T09:00:00Z"), instant("2017-03-11T10:00:00Z")
            ])
        // 23 hours left truncates to 0 days.
        #expect(reminders.map(\.daysLeft) == [1, 1, 0])
        #expect(reminders.map(\.priority) == [4, 4, 3])
        #expect(reminders[2].message == "d/o: due in 23 hours (2017-03-12T09:00:00Z)")
    }

    @Test func aDatetimeDeadlineInShanghai() throws {
        // 2017-03-31T17:00:00-04:00 = 21:00Z = 05:00 on 04-01 in Shanghai; no DST, so P1D is 24 h.
        let plan = try plan(
            Self.remindAtPortfolio(
                "Asia/Shanghai", "09:00:00", "2017-03-31T17:00:00-04:00",
                "\"P1D\", \"PT36H\""))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z")
        #expect(reminders.map(\.key) == ["d/o:due:2017-03-31T21:00:00Z:PT36H", "d/o:due:2017-03-31T21:00:00Z:P1D"])
        #expect(reminders.map(\.fireAt) == [instant("2017-03-30T09:00:00Z"), instant("2017-03-30T21:00:00Z")])
    }

    @Test func aLocalDatetimeIsReadInTheItemsZone() throws {
        // No offset: 02:30 on the spring-forward day in Toronto moves to 03:30 EDT.
        let plan = try plan(Self.remindAtPortfolio("America/Toronto", "09:00:00", "2017-03-12T02:30:00", "\"P0D\""))
        let reminder = try #require(plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z").first)
        #expect(reminder.deadlineTime == .instant(instant("2017-03-12T07:30:00Z")))
        #expect(reminder.fireAt == instant("2017-03-12T07:30:00Z"))
    }

    // MARK: when a deadline passes, days left, priority

    @Test(
        "a date deadline passes at the end of its day",
        arguments: [
            ("America/Toronto", "2017-03-31", "2017-04-01T04:00:00Z"),
            ("Asia/Shanghai", "2017-03-31", "2017-03-31T16:00:00Z"),
            ("America/Toronto", "2017-03-11", "2017-03-12T05:00:00Z"),  // the next day starts in EST
            ("America/Toronto", "2017-03-12", "2017-03-13T04:00:00Z"),  // and this one in EDT
            ("Australia/Lord_Howe", "2017-03-31", "2017-03-31T13:00:00Z")
        ])
    func dateDeadlinePasses(zoneName: String, due: String, passes: String) throws {
        let plan = try plan(Self.remindAtPortfolio(zoneName, "09:00:00", due, "\"P0D\""))
        let reminder = try #require(plan.all(from: "2017-01-01T00:00:00Z", until: "2017-12-31T00:00:00Z").first)
        #expect(reminder.deadlineAt == instant(passes))
        let justBefore = plan.deadlines(ofItem: 0, at: instant(passes).adding(seconds: -1))
        let atTheEnd = plan.deadlines(ofItem: 0, at: instant(passes))
        #expect(justBefore.map(\.passed) == [false])
        #expect(justBefore.map(\.daysLeft) == [0])
        #expect(atTheEnd.map(\.passed) == [true])
    }

    @Test(
        "days left and priority",
        arguments: [
            // Date deadline 2017-03-31 in Toronto, overdue every P7D.
            ("P30D", 30, 5), ("P8D", 8, 5), ("P7D", 7, 4), ("P1D", 1, 4), ("P0D", 0, 3),
            ("PT12H", 1, 4),  // 21:00 on 03-30: one calendar day before, though only 12 hours
            ("+P7D", -7, 3), ("+P14D", -14, 3)
        ])
    func daysLeftForDates(lead: String, daysLeft: Int, priority: Int) throws {
        let leads = ["P30D", "P8D", "P7D", "P1D", "P0D", "PT12H"].map { "\"\($0)\"" }.joined(separator: ", ")
        let plan = try plan(
            Self.remindAtPortfolio("America/Toronto", "09:00:00", "2017-03-31", leads)
                .replacingOccurrences(of: "remind-at", with: "overdue-every = \"P7D\"\nremind-at"))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-04-20T00:00:00Z")
        let reminder = try #require(reminders.keyed("d/o:due:2017-03-31:\(lead)"))
        #expect(reminder.daysLeft == daysLeft)
        #expect(reminder.priority == priority)
    }

    @Test func daysLeftForInstantsAreTruncated() throws {
        // Due 2017-03-10T12:00:00-05:00 = 17:00Z. Overdue P7D is 12:00 EDT on 03-17 = 16:00Z:
        // 6 days 23 hours after, which truncates to -6.
        let plan = try plan(
            Self.remindAtPortfolio("America/Toronto", "09:00:00", "2017-03-10T12:00:00-05:00", "\"PT47H\"")
                .replacingOccurrences(of: "remind-at", with: "overdue-every = \"P7D\"\nremind-at"))
        let reminders = plan.all(from: "2017-01-01T00:00:00Z", until: "2017-03-25T00:00:00Z")
        #expect(
            reminders.keys == [
                "d/o:due:2017-03-10T17:00:00Z:PT47H", "d/o:due:2017-03-10T17:00:00Z:+P7D", "d/o:due:2017-03-10T17:00:00Z:+P14D"
            ])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-08T18:00:00Z"), instant("2017-03-17T16:00:00Z"), instant("2017-03-24T16:00:00Z")
            ])
        #expect(reminders.map(\.daysLeft) == [1, -6, -13])
        #expect(reminders[1].message == "d/o: overdue by 6 days (due 2017-03-10T17:00:00Z)")
    }

    @Test(
        "journal priority from days left: 5 above 7, 4 from 1 to 7, 3 at 0 or below",
        arguments: [
            (8, 5), (30, 5), (7, 4), (1, 4), (0, 3), (-1, 3), (-7, 3)
        ])
    func priority(daysLeft: Int, expected: Int) {
        #expect(Reminder.priority(daysLeft: daysLeft) == expected)
    }
}
