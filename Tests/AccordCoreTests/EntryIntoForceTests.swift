import AccordCalendar
import AccordCore
import Testing

// `enters-into-force` (docs/design.md §13): an instrument in force a set time after the last of
// its parties' `notified` events, derived, with the notifications named; the party checks.

private func treaty(_ extra: String = "term = \"P5Y\"\nnotice = \"P180D\"") -> String {
    """
    [dialogue]
    id = "d"
    title = "T"
    time-zone = "UTC"
    parties = ["Canada", "China"]
    reminders = ["P0D"]

    [[instrument]]
    id = "t"
    kind = "treaty"
    title = "A treaty"
    enters-into-force = { after = "P30D", from = "last-notification", basis = "assumed", source = "a usual clause" }
    \(extra)
    """
}

private func event(_ type: EventType, _ on: String, party: String? = nil, id: Int64) -> ItemEvent {
    var event = ItemEvent(id: id, itemID: "d/t", type: type, on: day(on), recordedAt: instant("\(on)T12:00:00Z"), recordedBy: "desk")
    event.party = party
    return event
}

private let signedAndNotified = [
    event(.signed, "2018-01-10", id: 1), event(.notified, "2018-03-01", party: "Canada", id: 2),
    event(.notified, "2018-05-15", party: "China", id: 3)
]

@Suite("Entry into force after notifications")
struct EntryIntoForceTests {
    @Test func inForceThirtyDaysAfterTheLastNotification() throws {
        let plan = try plan(treaty(), history: History(events: signedAndNotified))
        #expect(plan.state(ofItem: 0, at: instant("2018-06-13T12:00:00Z")) == .signed)
        #expect(plan.state(ofItem: 0, at: instant("2018-06-14T00:00:00Z")) == .inForce, "2018-05-15 + P30D")
        let expiry = try #require(plan.deadlines(ofItem: 0, at: instant("2019-01-01T00:00:00Z")).first { $0.kind == .expiry })
        #expect(expiry.time == .date(day("2023-06-14")))
        // The term rests on the notifications and on the assumed clause: the weaker, assumed.
        #expect(expiry.provenance.basis == .assumed)
        #expect(expiry.provenance.source?.contains("notified by Canada on 2018-03-01, China on 2018-05-15") == true)
        #expect(expiry.provenance.source?.contains("a usual clause") == true)
    }

    @Test func oneNotificationIsNotEnough() throws {
        let plan = try plan(treaty(), history: History(events: Array(signedAndNotified.prefix(2))))
        #expect(plan.state(ofItem: 0, at: instant("2030-01-01T00:00:00Z")) == .signed)
        #expect(plan.timelines[0].notifiedParties == ["Canada": day("2018-03-01")])
        let item = plan.catalog.items[0]
        #expect(Lifecycle.allowedEvents(item: item, timeline: plan.timelines[0]).contains(.notified))
        #expect(Lifecycle.derivedEntryIntoForce(of: item, events: Array(signedAndNotified.prefix(2))) == nil)
    }

    @Test func anInForceRecordedByHandWins() throws {
        let events = signedAndNotified + [event(.inForce, "2018-04-01", id: 4)]
        let plan = try plan(treaty(), history: History(events: events))
        #expect(plan.state(ofItem: 0, at: instant("2018-04-02T00:00:00Z")) == .inForce)
        #expect(Lifecycle.derivedEntryIntoForce(of: plan.catalog.items[0], events: events) == nil)
    }

    @Test func thePartyIsChecked() throws {
        let catalog = try catalog(treaty())
        let item = catalog.items[0]
        #expect(item.notifyingParties == ["Canada", "China"], "the dialogue's parties when the instrument names none")
        let signed = ItemTimeline(item: item, events: [signedAndNotified[0]])
        func reason(_ party: String?, _ timeline: ItemTimeline, _ type: EventType = .notified) -> String? {
            do throws(LifecycleError) {
                try Lifecycle.validate(party: party, for: type, item: item, timeline: timeline)
                return nil
            } catch { return error.reason }
        }
        #expect(reason("Canada", signed) == nil)
        #expect(reason(nil, signed)?.contains("needs --party: one of Canada, China") == true)
        #expect(reason("Mexico", signed)?.contains("is not a party of this instrument") == true)
        #expect(reason("Canada", signed, .signed) == "only notified takes a party")
        let once = ItemTimeline(item: item, events: Array(signedAndNotified.prefix(2)))
        #expect(reason("Canada", once) == "Canada notified already, on 2018-03-01")
        // Not before signature, and not for an instrument without the clause.
        let planned = ItemTimeline(item: item, events: [])
        #expect(throws: LifecycleError.self) { try Lifecycle.validate(.notified, item: item, timeline: planned, term: nil) }
        let plain = try AccordCoreTests.catalog(treaty().replacingOccurrences(of: "enters-into-force", with: "# enters-into-force")).items[0]
        let plainSigned = ItemTimeline(item: plain, events: [signedAndNotified[0]])
        #expect(throws: LifecycleError.self) { try Lifecycle.validate(.notified, item: plain, timeline: plainSigned, term: nil) }
    }

    @Test func theParserSaysWhatIsWrong() {
        func messages(_ clause: String) -> [String] {
            problems(
                treaty("").replacingOccurrences(
                    of: "enters-into-force = { after = \"P30D\", from = \"last-notification\", basis = \"assumed\", source = \"a usual clause\" }",
                    with: clause)
            ).map(\.message)
        }
        #expect(messages("enters-into-force = \"P30D\"").first?.contains("must be a table") == true)
        #expect(messages("enters-into-force = { from = \"last-notification\" }").first?.contains("is required") == true)
        #expect(messages("enters-into-force = { after = \"P30D\", from = \"signature\" }").first?.contains("last-notification") == true)
        #expect(messages("enters-into-force = { after = \"PT30H\" }").first?.contains("whole days") == true)
        #expect(messages("enters-into-force = { after = \"P30D\", when = 1 }").first?.contains("unknown key") == true)
        let noParties = problems(treaty().replacingOccurrences(of: "parties = [\"Canada\", \"China\"]\n", with: ""))
        #expect(noParties.map(\.message).contains { $0.hasPrefix("needs parties") })
    }
}
