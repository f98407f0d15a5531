import AccordCalendar
import AccordCore
import Foundation
import Testing

/// docs/contracts.md §5: the reminder plan, from portfolios and what happened so far.
@Suite("Reminder plan")
struct ReminderPlanTests {
    static let shippedFile = repositoryRoot.appendingPathComponent("Config/portfolios/canada-china-2016.toml").path

    /// A cut-down Canada–China portfolio, in Toronto, with the shipped file's dates.
    static let dialogue = """
        [dialogue]
        id = "ca-cn-nsrl"
        title = "Canada–China High-Level National Security and Rule of Law Dialogue"
        parties = ["Canada", "People's Republic of China"]
        established = 2016-09-12
        time-zone = "America/Toronto"
        remind-at = 09:00:00
        reminders = ["P30D", "P7D", "P1D", "P0D"]
        overdue-every = "P7D"
        # These tests are about §5: the fixture's bare dates are facts and its overdue
        # reminders never lapse, as every portfolio read before §10 and §11.
        default-basis = "confirmed"
        overdue-for = "P36500D"

        [[objective]]
        id = "extradition-treaty-talks"
        title = "Start discussions on an Extradition Treaty"
        due = 2017-03-31
        reminders = ["P60D", "P14D", "P0D"]

        [[instrument]]
        id = "rcmp-mps-mou"
        kind = "mou"
        title = "MOU Concerning Cooperation in Combatting Crime"
        in-force = 2012-10-01
        term = "P5Y"
        notice = "P90D"

        [[instrument]]
        id = "cbsa-beea-pilot-mou"
        kind = "mou"
        title = "One-year MOU on the identity-verification pilot project"
        sign-by = 2016-12-31
        term = "P1Y"
        in-force = 2017-01-15
        notice = "P90D"
        """

    static let talks = "ca-cn-nsrl/extradition-treaty-talks"
    static let rcmp = "ca-cn-nsrl/rcmp-mps-mou"
    static let pilot = "ca-cn-nsrl/cbsa-beea-pilot-mou"

    static func event(_ item: String, _ type: EventType, on date: String, id: Int64 = 1, term: String? = nil) -> ItemEvent {
        ItemEvent(
            id: id, itemID: item, type: type, on: day(date),
            recordedAt: toronto.startOfDay(day(date)), term: term.map(duration))
    }

    func everything(_ plan: ReminderPlan) -> [Reminder] {
        plan.all(from: "2016-09-12T00:00:00Z", until: "2020-01-01T00:00:00Z")
    }

    func keys(of item: String, in reminders: [Reminder]) -> [String] {
        reminders.filter { $0.itemID == item }.map(\.key)
    }

    // MARK: keys, times and messages

    @Test func anObjectivesKeysTimesAndMessages() throws {
        let reminders = everything(try plan(Self.dialogue)).filter { $0.itemID == Self.talks }
        let first = Array(reminders.prefix(5))
        #expect(
            first.keys == [
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P60D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P14D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P0D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P7D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P14D"
            ])
        #expect(
            first.map(\.fireAt) == [
                instant("2017-01-30T14:00:00Z"),  // 09:00 EST
                instant("2017-03-17T13:00:00Z"),  // 09:00 EDT
                instant("2017-03-31T13:00:00Z"),
                instant("2017-04-07T13:00:00Z"),
                instant("2017-04-14T13:00:00Z")
            ])
        #expect(first.map(\.lead) == ["P60D", "P14D", "P0D", "+P7D", "+P14D"])
        #expect(first.map(\.isOverdue) == [false, false, false, true, true])
        #expect(first.map(\.daysLeft) == [60, 14, 0, -7, -14])
        #expect(first.map(\.priority) == [5, 5, 3, 3, 3])
        #expect(
            first.map(\.message) == [
                "ca-cn-nsrl/extradition-treaty-talks: due in 60 days (2017-03-31)",
                "ca-cn-nsrl/extradition-treaty-talks: due in 14 days (2017-03-31)",
                "ca-cn-nsrl/extradition-treaty-talks: due today (2017-03-31)",
                "ca-cn-nsrl/extradition-treaty-talks: overdue by 7 days (due 2017-03-31)",
                "ca-cn-nsrl/extradition-treaty-talks: overdue by 14 days (due 2017-03-31)"
            ])
        #expect(
            first.map(\.messageID) == [
                MessageID.approaching, MessageID.approaching, MessageID.reached,
                MessageID.overdue, MessageID.overdue
            ])
        #expect(first.allSatisfy { $0.deadline == .due && $0.dialogueID == "ca-cn-nsrl" })
        #expect(first.allSatisfy { $0.deadlineAt == instant("2017-04-01T04:00:00Z") })
        #expect(first[3].occurrenceKey == "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31")
        // An open objective stays overdue: the repeats go on, one a week.
        #expect(reminders.count > 100)
        #expect(reminders.last?.key.hasPrefix("ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P") == true)
    }

    @Test func termExpiryAndRenewalNotice() throws {
        let reminders = everything(try plan(Self.dialogue))
        let rcmp = reminders.filter { $0.itemID == Self.rcmp }
        // Expiry 2012-10-01 + P5Y = 2017-10-01; notice 90 days before: 2017-07-03.
        let expiry7 = try #require(rcmp.keyed("ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P7D"))
        #expect(expiry7.message == "ca-cn-nsrl/rcmp-mps-mou: term expires in 7 days (2017-10-01)")
        #expect(expiry7.fireAt == instant("2017-09-24T13:00:00Z"))
        #expect(expiry7.deadlineAt == instant("2017-10-01T04:00:00Z"))
        #expect(expiry7.deadline == .expiry)
        let expired = try #require(rcmp.keyed("ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P0D"))
        #expect(expired.message == "ca-cn-nsrl/rcmp-mps-mou: term has expired (2017-10-01)")
        #expect(expired.messageID == MessageID.reached)
        #expect(expired.daysLeft == 0)
        #expect(expired.priority == 3)
        let tomorrow = try #require(rcmp.keyed("ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P1D"))
        #expect(tomorrow.message == "ca-cn-nsrl/rcmp-mps-mou: term expires tomorrow (2017-10-01)")
        let notice = try #require(rcmp.keyed("ca-cn-nsrl/rcmp-mps-mou:renewal-notice:2017-07-03:P30D"))
        #expect(notice.message == "ca-cn-nsrl/rcmp-mps-mou: renewal decision due in 30 days (2017-07-03)")
        #expect(notice.fireAt == instant("2017-06-03T13:00:00Z"))
        #expect(notice.deadline == .renewalNotice)
        #expect(notice.deadlineAt == instant("2017-07-04T04:00:00Z"))
        // Expiry reminders do not repeat once overdue: P30D, P7D, P1D, P0D and nothing else.
        #expect(
            keys(of: Self.rcmp, in: reminders).filter { $0.contains(":expiry:") } == [
                "ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P30D", "ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P7D",
                "ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P1D", "ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P0D"
            ])
        let overdueNotice = try #require(rcmp.keyed("ca-cn-nsrl/rcmp-mps-mou:renewal-notice:2017-07-03:+P7D"))
        #expect(overdueNotice.message == "ca-cn-nsrl/rcmp-mps-mou: renewal decision overdue by 7 days (due 2017-07-03)")
    }

    @Test func renewalNoticeRepeatsStopAtExpiry() throws {
        let reminders = everything(try plan(Self.dialogue))
        for (item, notice, expiry) in [(Self.rcmp, "2017-07-03", "2017-10-01"), (Self.pilot, "2017-10-17", "2018-01-15")] {
            let overdue = reminders.filter { $0.itemID == item && $0.deadline == .renewalNotice && $0.isOverdue }
            // Weekly from the notice date, the last one 12 weeks on: 13 weeks would reach the expiry day.
            #expect(overdue.map(\.lead) == (1...12).map { "+P\($0 * 7)D" })
            #expect(overdue.last?.key == "\(item):renewal-notice:\(notice):+P84D")
            #expect(overdue.allSatisfy { $0.fireAt < toronto.startOfDay(day(expiry)) })
        }
    }

    @Test func signByReminders() throws {
        let reminders = everything(try plan(Self.dialogue)).filter { $0.itemID == Self.pilot && $0.deadline == .signBy }
        // Signed is not recorded, but the file's in-force date (2017-01-15) means it was: the
        // overdue repeats stop there.
        #expect(
            reminders.keys == [
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P30D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P7D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P1D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P0D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P7D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P14D"
            ])
        #expect(reminders[0].message == "ca-cn-nsrl/cbsa-beea-pilot-mou: to be signed in 30 days (by 2016-12-31)")
        #expect(reminders[3].message == "ca-cn-nsrl/cbsa-beea-pilot-mou: to be signed today (by 2016-12-31)")
        #expect(reminders[4].message == "ca-cn-nsrl/cbsa-beea-pilot-mou: signature overdue by 7 days (sign-by 2016-12-31)")
    }

    @Test func overdueRemindersWaitUntilADateDeadlineHasPassed() throws {
        // Due 2017-03-31 in Shanghai; it passes at midnight, 2017-03-31T16:00:00Z. Repeats every
        // 12 hours from the 09:00 reminder: 21:00 on the due day is not overdue yet.
        let plan = try plan(
            """
            [dialogue]
            id = "d"
            title = "Twice a day"
            time-zone = "Asia/Shanghai"
            reminders = ["P0D"]
            overdue-every = "PT12H"

            [[objective]]
            id = "o"
            title = "Objective"
            due = 2017-03-31
            """)
        let reminders = plan.all(from: "2017-03-01T00:00:00Z", until: "2017-04-02T00:00:00Z")
        #expect(reminders.keys == ["d/o:due:2017-03-31:P0D", "d/o:due:2017-03-31:+PT24H", "d/o:due:2017-03-31:+PT36H"])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-31T01:00:00Z"), instant("2017-04-01T01:00:00Z"), instant("2017-04-01T13:00:00Z")
            ])
        #expect(reminders.map(\.daysLeft) == [0, -1, -1])
        #expect(reminders[1].message == "d/o: overdue by 1 day (due 2017-03-31)")
        // The cursor agrees when it starts between the two.
        var cursor = plan.cursor(from: instant("2017-03-31T12:00:00Z"))
        #expect(cursor.next()?.key == "d/o:due:2017-03-31:+PT24H")
    }

    @Test func thePlanIsInFiringOrderAndCountable() throws {
        let plan = try plan(Self.dialogue)
        let reminders = everything(plan)
        #expect(zip(reminders, reminders.dropFirst()).allSatisfy { $0.fireAt <= $1.fireAt })
        #expect(Set(reminders.keys).count == reminders.count)
        #expect(plan.count(from: instant("2016-09-12T00:00:00Z"), until: instant("2020-01-01T00:00:00Z")) == reminders.count)
        // The window is half-open: [from, until).
        let p0 = instant("2017-03-31T13:00:00Z")
        #expect(plan.reminders(from: p0, until: p0.adding(seconds: 1)).keys == ["ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P0D"])
        #expect(plan.reminders(from: p0.adding(seconds: 1), until: p0.adding(seconds: 3600)).isEmpty)
        #expect(plan.reminders(from: p0.adding(seconds: -3600), until: p0).isEmpty)
    }

    @Test func objectivesAlreadyDoneOrDroppedInTheFileHaveNoReminders() throws {
        for status in ["done", "dropped"] {
            let text = Self.dialogue.replacingOccurrences(
                of: "reminders = [\"P60D\", \"P14D\", \"P0D\"]",
                with: "status = \"\(status)\"")
            let plan = try plan(text)
            #expect(!everything(plan).contains { $0.itemID == Self.talks }, "\(status)")
            #expect(plan.state(ofItem: 0, at: instant("2017-01-01T00:00:00Z")).rawValue == status)
        }
        let inProgress = try plan(
            Self.dialogue.replacingOccurrences(
                of: "reminders = [\"P60D\", \"P14D\", \"P0D\"]",
                with: "status = \"in-progress\""))
        // In progress still counts: the dialogue's default leads apply.
        #expect(
            keys(of: Self.talks, in: everything(inProgress)).prefix(4) == [
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P30D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P7D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P1D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P0D"
            ])
    }

    // MARK: events

    @Test func aCompletedObjectiveStopsItsRemindersFromItsDate() throws {
        let plan = try plan(Self.dialogue, history: History(events: [Self.event(Self.talks, .completed, on: "2017-03-20")]))
        #expect(
            keys(of: Self.talks, in: everything(plan)) == [
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P60D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P14D"
            ])
        #expect(plan.state(ofItem: 0, at: instant("2017-03-20T04:00:00Z")) == .done)
        #expect(plan.state(ofItem: 0, at: instant("2017-03-20T03:59:59Z")) == .open)
    }

    @Test func aDroppedObjectiveStopsToo_andAReopenedOneResumes() throws {
        let dropped = try plan(Self.dialogue, history: History(events: [Self.event(Self.talks, .dropped, on: "2017-02-01")]))
        #expect(keys(of: Self.talks, in: everything(dropped)) == ["ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P60D"])

        let reopened = try plan(
            Self.dialogue,
            history: History(events: [
                Self.event(Self.talks, .completed, on: "2017-03-20", id: 1),
                Self.event(Self.talks, .reopened, on: "2017-04-10", id: 2)
            ]))
        let keys = keys(of: Self.talks, in: everything(reopened))
        #expect(
            Array(keys.prefix(4)) == [
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P60D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P14D",
                // P0D and +P7D fell while it was done.
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P14D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P21D"
            ])
    }

    @Test func aRenewalStartsANewTermAtTheOldExpiry() throws {
        let plan = try plan(Self.dialogue, history: History(events: [Self.event(Self.pilot, .renewed, on: "2017-11-01")]))
        let keys = keys(of: Self.pilot, in: everything(plan))
        // The new term: 2018-01-15 + P1Y = 2019-01-15, notice 90 days before: 2018-10-17.
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2018-10-17:P30D"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2019-01-15:P30D"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2019-01-15:P0D"))
        // The old term's reminders stop on the renewal day: its notice repeats end with +P14D
        // (2017-10-31) and none of its expiry reminders (from 2017-12-16) fire.
        #expect(
            keys.filter { $0.contains(":2017-10-17:") } == [
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:P30D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:P7D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:P1D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:P0D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:+P7D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:+P14D"
            ])
        #expect(!keys.contains { $0.contains(":expiry:2018-01-15:") })
        let timeline = plan.timelines[2]
        #expect(timeline.terms.map(\.expiry) == [day("2018-01-15"), day("2019-01-15")])
        #expect(plan.state(ofItem: 2, at: instant("2018-06-01T00:00:00Z")) == .inForce)
        #expect(plan.state(ofItem: 2, at: instant("2019-01-15T05:00:00Z")) == .expired)
    }

    @Test func aRenewalWithItsOwnTerm() throws {
        let plan = try plan(
            Self.dialogue,
            history: History(events: [
                Self.event(Self.pilot, .renewed, on: "2017-11-01", term: "P2Y")
            ]))
        let keys = keys(of: Self.pilot, in: plan.all(from: "2016-09-12T00:00:00Z", until: "2021-01-01T00:00:00Z"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2020-01-15:P0D"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2019-10-17:P30D"))
    }

    @Test func terminationStopsEverythingFromItsDate() throws {
        let plan = try plan(Self.dialogue, history: History(events: [Self.event(Self.pilot, .terminated, on: "2017-06-01")]))
        let reminders = everything(plan)
        let pilot = reminders.filter { $0.itemID == Self.pilot }
        #expect(pilot.allSatisfy { $0.fireAt < instant("2017-06-01T04:00:00Z") })
        #expect(pilot.allSatisfy { $0.deadline == .signBy })
        #expect(pilot.count == 6)
        #expect(plan.state(ofItem: 2, at: instant("2017-06-01T04:00:00Z")) == .terminated)
        // Other items are untouched.
        #expect(reminders.contains { $0.key == "ca-cn-nsrl/rcmp-mps-mou:expiry:2017-10-01:P0D" })
    }

    @Test func anInForceEventReplacesThePlannedDate() throws {
        let plan = try plan(Self.dialogue, history: History(events: [Self.event(Self.pilot, .inForce, on: "2017-02-01")]))
        let keys = keys(of: Self.pilot, in: everything(plan))
        // 2017-02-01 + P1Y = 2018-02-01; 90 days before is 2017-11-03.
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2018-02-01:P0D"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-11-03:P30D"))
        #expect(!keys.contains { $0.contains("2018-01-15") || $0.contains("2017-10-17") })
        // Not yet in force on 2017-01-15 any more: the sign-by repeats go on until 2017-02-01.
        #expect(
            keys.filter { $0.contains(":sign-by:") && $0.contains("+") } == [
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P7D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P14D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P21D",
                "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:+P28D"
            ])
        #expect(plan.timelines[2].terms.map(\.start) == [day("2017-02-01")])
        #expect(plan.state(ofItem: 2, at: instant("2017-01-20T00:00:00Z")) == .planned)
    }

    @Test func anInForceEventGivesAPlannedInstrumentItsFirstTerm() throws {
        let text = Self.dialogue.replacingOccurrences(of: "in-force = 2017-01-15\n", with: "")
        let before = try plan(text)
        #expect(!everything(before).contains { $0.itemID == Self.pilot && $0.deadline != .signBy })
        let after = try plan(
            text,
            history: History(events: [
                Self.event(Self.pilot, .signed, on: "2017-01-05", id: 1),
                Self.event(Self.pilot, .inForce, on: "2017-01-20", id: 2)
            ]))
        let keys = keys(of: Self.pilot, in: everything(after))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2018-01-20:P0D"))
        #expect(keys.contains("ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-22:P30D"))
        // Signed on 2017-01-05: sign-by repeats stop, the +P7D of 2017-01-07 does not fire.
        #expect(keys.filter { $0.contains(":sign-by:") }.last == "ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P0D")
    }

    // MARK: acknowledgements and snoozes

    @Test func anAcknowledgementSilencesTheRestOfOneOccurrence() throws {
        let history = History(acknowledgements: [
            Acknowledgement(itemID: Self.talks, deadline: .due, deadlineTime: "2017-03-31", at: instant("2017-04-08T00:00:00Z")),
            Acknowledgement(itemID: Self.rcmp, deadline: .renewalNotice, deadlineTime: "2017-07-03", at: instant("2017-07-05T00:00:00Z"))
        ])
        let reminders = everything(try plan(Self.dialogue, history: history))
        #expect(
            keys(of: Self.talks, in: reminders) == [
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P60D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P14D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P0D",
                "ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P7D"
            ])
        let rcmp = keys(of: Self.rcmp, in: reminders)
        #expect(rcmp.filter { $0.contains(":renewal-notice:") }.last == "ca-cn-nsrl/rcmp-mps-mou:renewal-notice:2017-07-03:P0D")
        // The other deadline of the same item still fires.
        #expect(rcmp.filter { $0.contains(":expiry:") }.count == 4)
    }

    @Test func anAcknowledgementOfAnotherOccurrenceChangesNothing() throws {
        let history = History(acknowledgements: [
            Acknowledgement(itemID: Self.talks, deadline: .due, deadlineTime: "2017-04-30", at: instant("2017-01-01T00:00:00Z"))
        ])
        #expect(everything(try plan(Self.dialogue, history: history)).keys == everything(try plan(Self.dialogue)).keys)
    }

    static let snoozed = """
        [dialogue]
        id = "d"
        title = "Snoozes"
        time-zone = "America/Toronto"
        reminders = ["P7D", "P1D", "P0D"]
        overdue-every = "P7D"

        [[instrument]]
        id = "mou"
        kind = "mou"
        title = "A short MOU"
        in-force = { date = 2016-06-15, basis = "confirmed" }
        term = "P1Y"
        notice = "P10D"

        [[objective]]
        id = "other"
        title = "Not snoozed"
        due = 2017-06-10
        """

    @Test func aSnoozeHoldsRemindersAndReleasesTheLatestPerDeadlineAtItsEnd() throws {
        // Term expires 2017-06-15, renewal notice 2017-06-05.
        let plain = try plan(Self.snoozed)
        let window = plain.all(from: "2017-05-01T00:00:00Z", until: "2017-06-20T00:00:00Z").filter { $0.itemID == "d/mou" }
        #expect(
            window.keys == [
                "d/mou:renewal-notice:2017-06-05:P7D",  // 05-29
                "d/mou:renewal-notice:2017-06-05:P1D",  // 06-04
                "d/mou:renewal-notice:2017-06-05:P0D",  // 06-05
                "d/mou:expiry:2017-06-15:P7D",  // 06-08
                "d/mou:renewal-notice:2017-06-05:+P7D",  // 06-12
                "d/mou:expiry:2017-06-15:P1D",  // 06-14
                "d/mou:expiry:2017-06-15:P0D"  // 06-15
            ])

        let until = instant("2017-06-13T04:00:00Z")  // midnight in Toronto
        let snooze = Snooze(itemID: "mou", from: instant("2017-06-01T04:00:00Z"), until: until)
        let snoozed = try plan(Self.snoozed, history: History(snoozes: [snooze]))
        let reminders = snoozed.all(from: "2017-05-01T00:00:00Z", until: "2017-06-20T00:00:00Z")
        let held = reminders.filter { $0.itemID == "d/mou" }
        #expect(
            held.keys == [
                "d/mou:renewal-notice:2017-06-05:P7D",
                "d/mou:renewal-notice:2017-06-05:+P7D",  // the latest held of its deadline, at the snooze's end
                "d/mou:expiry:2017-06-15:P7D",  // likewise
                "d/mou:expiry:2017-06-15:P1D",
                "d/mou:expiry:2017-06-15:P0D"
            ])
        #expect(held[1].fireAt == until)
        #expect(held[2].fireAt == until)
        // Days left are counted from when they actually fire: 2017-06-13 in Toronto.
        #expect(held[1].daysLeft == -8)
        #expect(held[1].message == "d/mou: renewal decision overdue by 8 days (due 2017-06-05)")
        #expect(held[2].daysLeft == 2)
        #expect(held[2].message == "d/mou: term expires in 2 days (2017-06-15)")
        // Other items are not held.
        #expect(
            reminders.filter { $0.itemID == "d/other" }.keys
                == plain.all(from: "2017-05-01T00:00:00Z", until: "2017-06-20T00:00:00Z").filter { $0.itemID == "d/other" }.keys)
        // A cursor started inside the snooze (a daemon restarted then) releases the same as the
        // plan walked from the start: what the snooze held before the cursor began included.
        var cursor = snoozed.cursor(from: instant("2017-06-10T00:00:00Z"))
        var fromInside: [Reminder] = []
        while let next = cursor.peekFireAt(), next < instant("2017-06-20T00:00:00Z"), let reminder = cursor.next() {
            fromInside.append(reminder)
        }
        #expect(fromInside == reminders.filter { $0.fireAt >= instant("2017-06-10T00:00:00Z") })
        #expect(
            fromInside.filter { $0.itemID == "d/mou" }.keys == [
                "d/mou:renewal-notice:2017-06-05:+P7D", "d/mou:expiry:2017-06-15:P7D",
                "d/mou:expiry:2017-06-15:P1D", "d/mou:expiry:2017-06-15:P0D"
            ])
    }

    // MARK: queries

    @Test func remindersOfOneItem() throws {
        let plan = try plan(Self.dialogue)
        guard case let .found(index) = plan.catalog.lookup("cbsa-beea-pilot-mou") else {
            Issue.record("bare id not found")
            return
        }
        let from = instant("2016-09-12T00:00:00Z"), until = instant("2019-01-01T00:00:00Z")
        let all = plan.reminders(ofItem: index, from: from, until: until)
        #expect(all.keys == plan.reminders(from: from, until: until).filter { $0.itemID == Self.pilot }.keys)
        #expect(all.count == 6 + 4 + 4 + 12)  // sign-by, notice, expiry, notice repeats
        let three = plan.reminders(ofItem: index, from: from, until: until, limit: 3)
        #expect(three.keys == Array(all.keys.prefix(3)))
        let later = plan.reminders(ofItem: index, from: instant("2018-01-01T00:00:00Z"), until: until, limit: 2)
        #expect(
            later.keys == [
                "ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice:2017-10-17:+P77D",  // 2018-01-02
                "ca-cn-nsrl/cbsa-beea-pilot-mou:expiry:2018-01-15:P7D"
            ])
        #expect(plan.catalog.lookup("ca-cn-nsrl/cbsa-beea-pilot-mou") == .found(index))
        #expect(plan.catalog.lookup("no-such-item") == .notFound)
    }

    @Test func bareIdsThatTwoDialoguesShareAreAmbiguous() throws {
        let other = Self.dialogue.replacingOccurrences(of: "id = \"ca-cn-nsrl\"", with: "id = \"ca-cn-2\"")
        let catalog = try catalog(Self.dialogue, other)
        #expect(catalog.lookup("rcmp-mps-mou") == .ambiguous(["ca-cn-2/rcmp-mps-mou", "ca-cn-nsrl/rcmp-mps-mou"]))
        #expect(catalog.objectiveCount == 2)
        #expect(catalog.instrumentCount == 4)
    }

    // MARK: lifecycle

    @Test func inForceAfterTerminatedIsRefused() throws {
        let plan = try plan(Self.dialogue)
        let item = plan.catalog.items[2]
        let timeline = ItemTimeline(item: item, events: [Self.event(Self.pilot, .terminated, on: "2017-06-01")])
        #expect(timeline.latestState == .terminated)
        #expect {
            try Lifecycle.validate(.inForce, item: item, timeline: timeline, term: nil)
        } throws: { error in
            guard let error = error as? LifecycleError else { return false }
            return error.state == .terminated && error.allowed.isEmpty && error.event == "in-force"
                && error.itemID == Self.pilot && error.reason == "not allowed from this state"
        }
    }

    @Test func lifecycleErrorsNameTheStateAndTheAllowedEvents() throws {
        let plan = try plan(Self.dialogue)
        let objective = plan.catalog.items[0]
        let done = ItemTimeline(item: objective, events: [Self.event(Self.talks, .completed, on: "2017-03-20")])
        let error = try #require(throws: LifecycleError.self) {
            try Lifecycle.validate(.completed, item: objective, timeline: done, term: nil)
        }
        #expect(error.state == .done)
        #expect(error.allowed == [.reopened])
        #expect(error.reason == "not allowed from this state")
        // An instrument event on an objective says which kind it is for.
        let wrongKind = try #require(throws: LifecycleError.self) {
            try Lifecycle.validate(.signed, item: objective, timeline: ItemTimeline(item: objective, events: []), term: nil)
        }
        #expect(wrongKind.reason.contains("signed is an event for instruments"))
        #expect(wrongKind.allowed == [.started, .completed, .dropped])
    }

    @Test func lifecycleAcceptsWhatIsAllowed() throws {
        let plan = try plan(Self.dialogue)
        let pilot = plan.catalog.items[2]
        let fromFile = ItemTimeline(item: pilot, events: [])
        #expect(fromFile.inForceOnlyFromFile)
        // The file's in-force date is a plan: recording the real one is allowed.
        #expect(Lifecycle.allowedEvents(item: pilot, timeline: fromFile) == [.inForce, .renewed, .terminated])
        #expect(try Lifecycle.validate(.inForce, item: pilot, timeline: fromFile, term: nil) == .inForce)
        #expect(try Lifecycle.validate(.renewed, item: pilot, timeline: fromFile, term: duration("P2Y")) == .inForce)
        #expect(throws: LifecycleError.self) {
            try Lifecycle.validate(.renewed, item: pilot, timeline: fromFile, term: duration("PT5H"))
        }
        let confirmed = ItemTimeline(item: pilot, events: [Self.event(Self.pilot, .inForce, on: "2017-01-15")])
        #expect(!confirmed.inForceOnlyFromFile)
        #expect(throws: LifecycleError.self) { try Lifecycle.validate(.inForce, item: pilot, timeline: confirmed, term: nil) }
        #expect(Lifecycle.initialState(of: pilot) == .inForce)
        #expect(Lifecycle.initialState(of: plan.catalog.items[0]) == .open)
    }

    // MARK: the shipped portfolio

    @Test func theShippedPortfolioParsesAndPlansTheWholeHistory() throws {
        let text = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let portfolio = try PortfolioParser.parse(text, file: Self.shippedFile, calendars: ["ca": Shipped.ca, "cn": Shipped.cn])
        #expect(portfolio.dialogue.id == "ca-cn-nsrl")
        #expect(portfolio.dialogue.settings.zone == toronto)
        // Established during the visit of 30 August - 6 September; 12 September was the inaugural meeting.
        #expect(portfolio.dialogue.established == day("2016-08-30"))
        #expect(portfolio.dialogue.establishedUntil == day("2016-09-06"))
        #expect(portfolio.dialogue.inauguralMeeting == day("2016-09-12"))
        #expect(portfolio.dialogue.venue == "Beijing")
        #expect(portfolio.dialogue.coChairs.count == 2)
        // The five short-term objectives and the Dialogue's meetings, yearly (assumed).
        #expect(portfolio.items.filter { $0.kind == .objective }.count == 6)
        let meetings = try #require(portfolio.items.first { $0.localID == "dialogue-meetings" })
        #expect(meetings.recurrence?.description == "every P1Y from 2017-09-12 until 2026-09-12")
        #expect(meetings.provenance(of: "every").basis == .assumed && meetings.provenance(of: "first").basis == .assumed)
        #expect(portfolio.items.filter { $0.kind.isInstrument }.count == 7)
        let pilot = try #require(portfolio.items.first { $0.localID == "cbsa-beea-pilot-mou" })
        #expect(pilot.term == duration("P1Y"))
        #expect(pilot.provenance(of: "term").basis == .statement)
        #expect(pilot.provenance(of: "in-force").basis == .assumed)
        let terms = try #require(portfolio.items.first { $0.localID == "terms-of-reference" })
        #expect(terms.kind == .arrangement && terms.adopted == day("2016-09-12") && terms.provenance(of: "adopted").basis == .statement)
        let talks = try #require(portfolio.items.first { $0.localID == "extradition-treaty-talks" })
        #expect(talks.title.hasSuffix("as well as other related matters"))

        let plan = ReminderPlan(catalog: try Catalog(portfolios: [portfolio]))
        let reminders = plan.all(from: "2016-09-12T00:00:00Z", until: "2018-12-31T00:00:00Z")
        #expect(zip(reminders, reminders.dropFirst()).allSatisfy { $0.fireAt <= $1.fireAt })
        #expect(Set(reminders.keys).count == reminders.count)
        // The pilot's in-force date is assumed: its term is projected and reminds nothing, and it
        // stays "planned" so its sign-by keeps reminding (the issue's contradiction).
        #expect(!reminders.contains { $0.key.hasPrefix("ca-cn-nsrl/cbsa-beea-pilot-mou:expiry") })
        #expect(!reminders.contains { $0.key.hasPrefix("ca-cn-nsrl/cbsa-beea-pilot-mou:renewal-notice") })
        #expect(plan.state(ofItem: catalogIndex(plan, "cbsa-beea-pilot-mou"), at: instant("2017-06-01T00:00:00Z")) == .planned)
        #expect(reminders.keyed("ca-cn-nsrl/cbsa-beea-pilot-mou:sign-by:2016-12-31:P7D") != nil)
        // One commitment reminds once: the objective fulfilled by the pilot's signature is quiet.
        #expect(!reminders.contains { $0.itemID == "ca-cn-nsrl/cbsa-beea-pilot-negotiation" })
        #expect(!reminders.contains { $0.itemID == "ca-cn-nsrl/forfeited-assets-signing" })
        #expect(reminders.keyed("ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:P14D") != nil)
        #expect(reminders.keyed("ca-cn-nsrl/extradition-treaty-talks:due:2017-03-31:+P7D") != nil)
        // The treaties have no dates until something is recorded.
        #expect(!reminders.contains { $0.itemID == "ca-cn-nsrl/extradition-treaty" })
    }

    /// The issue's acceptance test: a fresh install at 2026-12-02 plans no overdue entry for
    /// 30 days, lists every lapsed deadline, and every date has a basis and a source.
    @Test func theShippedPortfolioAtTwentyTwentySixIsQuiet() throws {
        let text = try String(contentsOfFile: Self.shippedFile, encoding: .utf8)
        let portfolio = try PortfolioParser.parse(text, file: Self.shippedFile, calendars: ["ca": Shipped.ca, "cn": Shipped.cn])
        let plan = ReminderPlan(catalog: try Catalog(portfolios: [portfolio]))
        let now = instant("2026-12-02T14:00:00Z")
        let month = plan.reminders(from: now, until: now.adding(seconds: 30 * 86_400))
        #expect(month.filter { $0.isOverdue || $0.tone == .lapsed }.isEmpty)
        #expect(month.isEmpty)
        var lapsed: [String] = []
        for index in plan.catalog.items.indices {
            for deadline in plan.deadlines(ofItem: index, at: now) where deadline.lapsed {
                lapsed.append("\(plan.catalog.items[index].localID):\(deadline.kind.rawValue)")
            }
        }
        #expect(
            Set(lapsed) == [
                "extradition-treaty-talks:due", "cyber-cooperation-talks:due", "forfeited-assets-signing:due",
                "rcmp-mps-mou-renewal:due", "cbsa-beea-pilot-negotiation:due", "forfeited-assets-agreement:sign-by",
                "rcmp-mps-mou-renewed:sign-by", "cbsa-beea-pilot-mou:sign-by", "dialogue-meetings:due"
            ])
        // Every date and duration says what it rests on and where that is said.
        let dialogueKeys = ["established", "established-until", "inaugural-meeting"]
        for key in dialogueKeys {
            let provenance = try #require(portfolio.dialogue.provenance[key], "dialogue \(key)")
            #expect(provenance.basis == .statement)
            #expect(!(provenance.source ?? "").isEmpty)
        }
        for item in portfolio.items {
            let dated: [(String, Bool)] = [
                ("due", item.due != nil), ("sign-by", item.signBy != nil), ("term", item.term != nil),
                ("in-force", item.inForce != nil), ("notice", item.notice != nil),
                ("adopted", item.adopted != nil)
            ]
            for (key, present) in dated where present {
                let provenance = try #require(item.provenance[key], "\(item.localID) \(key)")
                #expect(!(provenance.source ?? "").isEmpty, "\(item.localID) \(key)")
                if provenance.source?.contains("joint statement, 12 September 2016: '") == true {
                    #expect(provenance.basis == .statement, "\(item.localID) \(key)")
                }
            }
        }
        #expect(!text.contains("../shared"))
    }
}

func catalogIndex(_ plan: ReminderPlan, _ local: String) -> Int {
    plan.catalog.items.firstIndex { $0.localID == local }!
}

/// A reminder's words and MESSAGE_ID follow where its firing stands against the deadline, so
/// that a lead fired late (catch-up, the end of a snooze) does not announce a passed deadline as
/// still ahead.
@Suite struct LateReminderWordingTests {
    static let portfolio = """
        [dialogue]
        id = "d"
        title = "Wording"
        time-zone = "UTC"
        reminders = ["P7D", "PT2H", "P0D"]

        [[objective]]
        id = "dated"
        title = "A date"
        due = 2030-03-31

        [[objective]]
        id = "timed"
        title = "An instant"
        due = 2030-03-31T17:00:00Z

        [[instrument]]
        id = "mou"
        kind = "mou"
        title = "A term"
        in-force = { date = 2029-04-01, basis = "confirmed" }
        term = "P1Y"
        """

    @Test func onTimeRemindersReadAsBefore() throws {
        let reminders = try plan(Self.portfolio).all(from: "2030-03-20T00:00:00Z", until: "2030-04-02T00:00:00Z")
        let words = Dictionary(reminders.map { ($0.key, ($0.message, $0.messageID)) }, uniquingKeysWith: { a, _ in a })
        #expect(words["d/dated:due:2030-03-31:P7D"]! == ("d/dated: due in 7 days (2030-03-31)", MessageID.approaching))
        #expect(words["d/dated:due:2030-03-31:P0D"]! == ("d/dated: due today (2030-03-31)", MessageID.reached))
        #expect(words["d/timed:due:2030-03-31T17:00:00Z:PT2H"]! == ("d/timed: due in 2 hours (2030-03-31T17:00:00Z)", MessageID.approaching))
        #expect(words["d/timed:due:2030-03-31T17:00:00Z:P0D"]! == ("d/timed: due today (2030-03-31T17:00:00Z)", MessageID.reached))
        // A sub-day lead on a date deadline fires on the day itself: "today", not "now".
        #expect(words["d/dated:due:2030-03-31:PT2H"]! == ("d/dated: due today (2030-03-31)", MessageID.reached))
    }

    @Test func leadsFiredAfterTheirDeadlineSayItPassed() throws {
        let plan = try plan(Self.portfolio)
        let reminders = plan.all(from: "2030-03-20T00:00:00Z", until: "2030-04-02T00:00:00Z")
        func late(_ key: String, _ at: String) -> Reminder {
            plan.retimed(reminders.first { $0.key == key }!, firingAt: instant(at))
        }
        let dated = late("d/dated:due:2030-03-31:P7D", "2030-04-03T09:00:00Z")
        #expect(dated.message == "d/dated: overdue by 3 days (due 2030-03-31)")
        #expect(dated.messageID == MessageID.overdue && dated.daysLeft == -3 && dated.priority == 3)
        let timed = late("d/timed:due:2030-03-31T17:00:00Z:PT2H", "2030-03-31T17:20:00Z")
        #expect(timed.message == "d/timed: overdue by 20 minutes (due 2030-03-31T17:00:00Z)")
        #expect(timed.messageID == MessageID.overdue)
        let timedLater = late("d/timed:due:2030-03-31T17:00:00Z:P0D", "2030-04-02T18:00:00Z")
        #expect(timedLater.message == "d/timed: overdue by 2 days (due 2030-03-31T17:00:00Z)")
        let expiry = late("d/mou:expiry:2030-04-01:P7D", "2030-04-05T09:00:00Z")
        #expect(expiry.message == "d/mou: term has expired (2030-04-01)" && expiry.messageID == MessageID.reached)
        // Still before its deadline, a late lead keeps counting down.
        let early = late("d/dated:due:2030-03-31:P7D", "2030-03-29T09:00:00Z")
        #expect(early.message == "d/dated: due in 2 days (2030-03-31)" && early.messageID == MessageID.approaching)
    }
}

@Suite struct FarFutureTests {
    @Test func aDeadlineIn9998InTorontoPlans() throws {
        // Issue 16, defect 1: `accordd check` died with SIGILL on this portfolio.
        let plan = try plan(
            """
            [dialogue]
            id = "far"
            title = "Far"
            time-zone = "America/Toronto"
            reminders = ["P30D", "P0D"]

            [[objective]]
            id = "last"
            title = "The last one"
            due = 9998-12-30
            """)
        let reminders = plan.all(from: "9998-01-01T00:00:00Z", until: "9999-12-31T23:59:59Z")
        #expect(reminders.map(\.lead) == ["P30D", "P0D"])
        #expect(reminders.last?.fireAt == instant("9998-12-30T14:00:00Z"))
    }
}
