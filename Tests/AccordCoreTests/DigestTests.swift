import AccordCalendar
import AccordCore
import Testing

/// The digest's text and counts as a pure function of plan and instant, the digest schedule
/// (`digest`, `digest-at`), and escalations in the plan (docs/contracts.md §14).
@Suite("Digest and escalation")
struct DigestTests {
    static let portfolio = """
        [dialogue]
        id = "d"
        title = "D"
        time-zone = "America/Toronto"
        owner = "Desk A"
        default-basis = "statement"
        reminders = ["P7D", "P0D"]

        [[objective]]
        id = "late"
        title = "Late"
        due = 2030-03-01
        owner = "Desk B"

        [[objective]]
        id = "stale"
        title = "Stale"
        due = 2029-12-01
        overdue-every = "P7D"
        overdue-for = "P30D"

        [[instrument]]
        id = "old"
        kind = "mou"
        title = "Old MOU"
        in-force = 2029-01-10
        term = "P1Y"

        [[objective]]
        id = "soon"
        title = "Soon"
        due = 2030-03-12

        [[objective]]
        id = "guess"
        title = "Guessed"
        due = { date = 2030-03-13, basis = "assumed" }

        [[objective]]
        id = "far"
        title = "Far"
        due = 2030-06-01

        [[objective]]
        id = "done"
        title = "Done"
        due = 2030-02-01
        status = "done"

        [[objective]]
        id = "acked"
        title = "Acked"
        due = 2030-02-02
        """

    static let now = instant("2030-03-10T14:00:00Z")  // 10:00 in Toronto, EDT since 07:00Z that day

    @Test func theTextListsEachSectionByOwnerWithCounts() throws {
        let ack = Acknowledgement(itemID: "d/acked", deadline: .due, deadlineTime: "2030-02-02", at: instant("2030-02-03T00:00:00Z"))
        let plan = try plan(Self.portfolio, history: History(acknowledgements: [ack]))
        let digest = Digest.make(plan: plan, at: Self.now, period: duration("P7D"), zone: toronto)
        #expect(digest.until == instant("2030-03-17T14:00:00Z"))  // 10:00 EDT a week later
        #expect(digest.count(.overdue) == 1 && digest.count(.lapsed) == 1 && digest.count(.unacknowledged) == 1)
        #expect(digest.count(.due) == 2)
        #expect(
            digest.text == """
                accord digest 2030-03-10T14:00:00Z: 1 overdue, 1 lapsed, 1 unacknowledged, 2 due by 2030-03-17T14:00:00Z

                Owner: Desk A (4)
                  lapsed         d/stale: due 2029-12-01, 99 days overdue — Stale
                  unacknowledged d/old: expiry 2030-01-10, 59 days overdue — Old MOU
                  due            d/soon: due 2030-03-12, in 2 days — Soon
                  due            d/guess: due 2030-03-13, in 3 days — Guessed [assumed date]

                Owner: Desk B (1)
                  overdue        d/late: due 2030-03-01, 9 days overdue — Late

                """)
        #expect(digest.summary == digest.text.split(separator: "\n").first.map(String.init))
        #expect(digest.lines.map(\.itemID) == ["d/stale", "d/old", "d/soon", "d/guess", "d/late"])
    }

    @Test func withNothingToSayItSaysSo() throws {
        let plan = try plan(Self.portfolio)
        let digest = Digest.make(plan: plan, at: instant("2028-01-01T00:00:00Z"), period: duration("P1D"))
        #expect(digest.lines.isEmpty)
        #expect(digest.text.hasSuffix("\nNothing is overdue, lapsed, unacknowledged or due by 2028-01-02T00:00:00Z.\n"))
        #expect(digest.summary == "accord digest 2028-01-01T00:00:00Z: 0 overdue, 0 lapsed, 0 unacknowledged, 0 due by 2028-01-02T00:00:00Z")
    }

    @Test func aFulfilledObjectiveIsListedOnceThroughItsInstrument() throws {
        let text = """
            [dialogue]
            id = "d"
            title = "D"
            time-zone = "UTC"

            [[objective]]
            id = "goal"
            title = "Goal"
            due = 2030-01-10
            fulfilled-by = { item = "treaty", event = "signed" }

            [[instrument]]
            id = "treaty"
            kind = "treaty"
            title = "Treaty"
            sign-by = 2030-01-10
            """
        let digest = Digest.make(plan: try plan(text), at: instant("2030-01-20T00:00:00Z"), period: duration("P7D"))
        #expect(digest.lines.map(\.itemID) == ["d/treaty"])
        #expect(digest.lines.first?.text == "overdue        d/treaty: sign-by 2030-01-10, 10 days overdue — Treaty")
    }

    // MARK: the schedule

    @Test func mondayAtNineKeepsItsWallTimeAcrossOffsetChanges() throws {
        let schedule = try DigestSchedule.parse(period: duration("P7D"), at: "Monday 09:00 America/Toronto").get()
        // 2030-03-04 and 2030-03-11 are Mondays; Toronto moves from -05:00 to -04:00 on 2030-03-10.
        #expect(schedule.next(after: instant("2030-03-04T13:00:00Z")) == instant("2030-03-04T14:00:00Z"))
        #expect(schedule.next(after: instant("2030-03-04T14:00:00Z")) == instant("2030-03-11T13:00:00Z"))
        #expect(schedule.latest(atOrBefore: instant("2030-03-11T12:59:59Z")) == instant("2030-03-04T14:00:00Z"))
        #expect(schedule.latest(atOrBefore: instant("2030-03-11T13:00:00Z")) == instant("2030-03-11T13:00:00Z"))
        let fortnightly = try DigestSchedule.parse(period: duration("P2W"), at: "mon 09:00").get()
        let a = fortnightly.next(after: instant("2030-03-04T00:00:00Z"))
        #expect(fortnightly.next(after: a).seconds - a.seconds == 14 * 86_400)
        #expect(LocalDateTime(secondsAsIfUTC: a.seconds).time == LocalTime(hour: 9, minute: 0))
    }

    @Test func anInstantAnchorFiresEveryPeriodFromIt() throws {
        let schedule = try DigestSchedule.parse(period: duration("PT5S"), at: "2030-01-01T00:00:00Z").get()
        #expect(schedule.next(after: instant("2029-12-31T00:00:00Z")) == instant("2030-01-01T00:00:00Z"))
        #expect(schedule.latest(atOrBefore: instant("2029-12-31T23:59:59Z")) == nil)
        #expect(schedule.next(after: instant("2030-01-01T00:00:00Z")) == instant("2030-01-01T00:00:05Z"))
        #expect(schedule.latest(atOrBefore: instant("2030-01-01T01:00:03Z")) == instant("2030-01-01T01:00:00Z"))
        let monthly = try DigestSchedule.parse(period: duration("P1M"), at: "08:30").get()
        #expect(monthly.next(after: instant("2030-02-15T00:00:00Z")) == instant("2030-03-01T08:30:00Z"))
    }

    @Test func wrongFormsAreRefusedNamingTheKey() {
        func error(_ period: String, _ at: String) -> ScheduleError? {
            if case let .failure(error) = DigestSchedule.parse(period: duration(period), at: at) { return error }
            return nil
        }
        #expect(error("P7D", "moonday 09:00")?.key == "digest-at")
        #expect(error("P7D", "monday 25:00")?.message.contains("\"monday 09:00\"") == true)
        #expect(error("P7D", "monday 09:00 Mars/Olympus")?.key == "digest-at")
        #expect(error("P10D", "monday 09:00")?.message.hasPrefix("P10D is not whole weeks") == true)
        #expect(error("P1M", "friday 09:00")?.key == "digest")
        #expect(error("PT12H", "09:00")?.message.contains("has a time part") == true)
        #expect(error("P0D", "09:00")?.message == "must be longer than zero")
        #expect(error("P7D", "2030-13-01T00:00:00Z")?.key == "digest-at")
        #expect(DigestSchedule.defaultAnchor(for: duration("P2W")) == "monday 09:00")
        #expect(DigestSchedule.defaultAnchor(for: duration("P1D")) == "09:00")
    }

    // MARK: escalation

    static let escalating = """
        [dialogue]
        id = "d"
        title = "D"
        time-zone = "UTC"
        remind-at = 09:00:00
        reminders = ["P0D"]
        overdue-every = "P1D"

        [[objective]]
        id = "a"
        title = "A"
        due = 2030-01-10

        [[objective]]
        id = "b"
        title = "B"
        due = 2030-01-10T12:00:00Z

        [[instrument]]
        id = "m"
        kind = "mou"
        title = "M"
        in-force = { date = 2029-01-20, basis = "statement" }
        term = "P1Y"
        """

    @Test func aPassedDeadlineEscalatesOnceAtPriorityTwo() throws {
        let catalog = try catalog(Self.escalating)
        let plan = ReminderPlan(catalog: catalog, escalateAfter: duration("P3D"))
        let escalations = plan.reminders(from: .distantPast, until: instant("2031-01-01T00:00:00Z")).filter { $0.tone == .escalated }
        // a date: at remind-at 3 days after the date, like the +P3D repeat; an instant: 3 days after it; an expiry never.
        #expect(escalations.map(\.key) == ["d/a:due:2030-01-10:escalate+P3D", "d/b:due:2030-01-10T12:00:00Z:escalate+P3D"])
        #expect(escalations.map(\.fireAt) == [instant("2030-01-13T09:00:00Z"), instant("2030-01-13T12:00:00Z")])
        let a = try #require(escalations.first { $0.itemID == "d/a" })
        #expect(a.fireAt == instant("2030-01-13T09:00:00Z") && a.priority == 2 && a.messageID == MessageID.escalated)
        #expect(a.lead == "escalate+P3D" && a.isOverdue)
        #expect(a.message == "d/a: overdue by 3 days (due 2030-01-10), neither acknowledged nor resolved P3D after it: escalated")
        #expect(a.occurrenceKey == Substring(a.key))  // its own: no overdue repeat stands for it
        // The plan without escalate-after has none, and the deadlines listed are the same.
        let plain = ReminderPlan(catalog: catalog)
        #expect(plain.reminders(from: .distantPast, until: instant("2031-01-01T00:00:00Z")).allSatisfy { $0.tone != .escalated })
        #expect(plain.deadlines(ofItem: 0, at: Self.now) == plan.deadlines(ofItem: 0, at: Self.now))
    }

    @Test func anAcknowledgementOrAResolutionBeforeItSilencesTheEscalation() throws {
        let catalog = try catalog(Self.escalating)
        let ack = Acknowledgement(itemID: "d/a", deadline: .due, deadlineTime: "2030-01-10", at: instant("2030-01-12T00:00:00Z"))
        let done = ItemEvent(
            id: 1, itemID: "d/b", type: .completed, on: day("2030-01-11"), recordedAt: instant("2030-01-11T10:00:00Z"),
            recordedBy: "root")
        let plan = ReminderPlan(catalog: catalog, history: History(events: [done], acknowledgements: [ack]), escalateAfter: duration("P3D"))
        #expect(plan.reminders(from: .distantPast, until: instant("2031-01-01T00:00:00Z")).allSatisfy { $0.tone != .escalated })
        // A short escalate-after counts from the passing of a date deadline, never before it.
        let short = ReminderPlan(catalog: catalog, escalateAfter: duration("PT1H"))
        let a = short.reminders(from: .distantPast, until: instant("2031-01-01T00:00:00Z")).first { $0.tone == .escalated && $0.itemID == "d/a" }
        #expect(a?.fireAt == instant("2030-01-11T01:00:00Z"))
    }
}
