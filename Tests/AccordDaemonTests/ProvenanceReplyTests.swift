import AccordCalendar
import AccordCore
import AccordProtocol
import Testing

@testable import AccordDaemon

/// Issue 11: every basis goes from the portfolio through the plan into the replies
/// (Tracker.Reminder, Tracker.Deadline, Tracker.Definition) and the journal entry.
@Suite struct ProvenanceReplyTests {
    static let text = """
        [dialogue]
        id = "d"
        title = "D"
        time-zone = "UTC"
        reminders = ["P0D"]
        owner = "Public Safety Canada"

        [[objective]]
        id = "statement"
        title = "S"
        due = { date = 2030-03-01, basis = "statement", source = "the statement's words" }

        [[objective]]
        id = "confirmed"
        title = "C"
        due = { date = 2030-03-02, basis = "confirmed", source = "the official record" }

        [[objective]]
        id = "planned"
        title = "P"
        due = 2030-03-03

        [[objective]]
        id = "assumed"
        title = "A"
        due = { date = 2030-03-04, basis = "assumed", source = "a guess" }

        [[instrument]]
        id = "mou"
        kind = "mou"
        title = "M"
        term = "P1Y"
        in-force = { date = 2030-01-01, basis = "assumed", source = "a guess" }
        """

    @Test func everyBasisReachesTheRepliesAndTheJournal() throws {
        let portfolio = try PortfolioParser.parse(Self.text, file: "p.toml")
        let signed = ItemEvent(
            id: 1, itemID: "d/mou", type: .inForce, on: CivilDate(year: 2030, month: 2, day: 1)!,
            recordedAt: Instant(seconds: 1_896_000_000), recordedBy: "carol")
        let plan = ReminderPlan(catalog: try Catalog(portfolios: [portfolio]), history: History(events: [signed]))
        let reminders = plan.reminders(
            from: try Instant(parsingRFC3339: "2030-02-02T00:00:00Z"),
            until: try Instant(parsingRFC3339: "2031-03-01T00:00:00Z"))
        let expected: [String: (String, String?)] = [
            "d/statement": ("statement", "the statement's words"), "d/confirmed": ("confirmed", "the official record"),
            "d/planned": ("planned", nil), "d/assumed": ("assumed", "a guess"),
            "d/mou": ("recorded", "in-force on 2030-02-01, recorded by carol")
        ]
        #expect(Set(reminders.map(\.itemID)) == Set(expected.keys))
        for reminder in reminders {
            let (basis, source) = try #require(expected[reminder.itemID])
            let wire = Tracker.Reminder(reminder)
            #expect(wire.basis == basis && wire.source == source, "\(reminder.key)")
            #expect(wire.owner == "Public Safety Canada" && wire.title == plan.catalog.items.first { $0.fullID == reminder.itemID }!.title)
            let keys = wire.wireObject().keys
            // The new fields come after every older one, in the IDL's order; a nil source is left out.
            let tail = source == nil ? ["basis", "owner", "title"] : ["basis", "source", "owner", "title"]
            #expect(Array(keys.suffix(tail.count)) == tail)
            #expect(
                Array(keys.prefix(10)) == [
                    "key", "item", "dialogue", "deadline", "deadlineAt", "lead", "fireAt", "daysLeft",
                    "priority", "message"
                ])
            let entry = JournalEntry.reminder(reminder, catchUp: false)
            #expect(entry["ACCORD_BASIS"] == basis && entry["ACCORD_OWNER"] == "Public Safety Canada" && entry["ACCORD_TITLE"] == wire.title)
        }
        for (index, item) in plan.catalog.items.enumerated() {
            let deadline = try #require(plan.deadlines(ofItem: index, at: try Instant(parsingRFC3339: "2030-02-02T00:00:00Z")).first)
            let wire = Tracker.Deadline(deadline)
            #expect(wire.basis == expected[item.fullID]?.0, "\(item.fullID)")
            #expect(wire.projected == nil && wire.lapsed == nil)
            let definition = Tracker.Definition(item)
            let dates = definition.dates ?? []
            if item.kind == .objective {
                #expect(dates.map(\.key) == ["due"] && dates[0].basis == expected[item.fullID]?.0)
            } else {
                #expect(dates.map(\.key) == ["in-force", "term"] && dates.map(\.basis) == ["assumed", "planned"])
            }
        }
    }
}
