import AccordCalendar
import AccordCore
import Foundation
import Testing

/// docs/contracts.md §10 and §11: what a date rests on, links between items, and the
/// horizon after which an overdue deadline stops reminding.
@Suite("Provenance, links and overdue-for")
struct ProvenanceTests {
    static let head = """
        [dialogue]
        id = "d"
        title = "D"
        time-zone = "America/Toronto"
        reminders = ["P1D", "P0D"]
        overdue-every = "P7D"
        owner = "Public Safety Canada"

        """

    @Test func everyBasisIsReadAndCarriedToTheReminders() throws {
        var text = Self.head
        for (index, basis) in ["statement", "confirmed", "planned", "assumed"].enumerated() {
            text += """
                [[objective]]
                id = "o\(index)"
                title = "O\(index)"
                due = { date = 2030-03-0\(index + 1), basis = "\(basis)", source = "why \(basis)" }

                """
        }
        text += """
            [[objective]]
            id = "bare"
            title = "Bare"
            due = 2030-03-10
            owner = "RCMP"
            """
        let plan = try plan(text)
        let reminders = plan.all(from: "2030-01-01T00:00:00Z", until: "2030-03-12T00:00:00Z")
        for (index, basis) in [Basis.statement, .confirmed, .planned, .assumed].enumerated() {
            let mine = reminders.filter { $0.itemID == "d/o\(index)" }
            #expect(mine.count == 3, "o\(index)")  // P1D, P0D and +P7D
            #expect(mine.allSatisfy { $0.basis == basis && $0.source == "why \(basis.rawValue)" })
            #expect(mine.allSatisfy { $0.owner == "Public Safety Canada" && $0.title == "O\(index)" })
            let deadline = try #require(plan.deadlines(ofItem: index, at: instant("2030-01-01T00:00:00Z")).first)
            #expect(deadline.provenance.basis == basis)
        }
        // Bare: the default basis (planned) and no source; the item's owner overrides the dialogue's.
        let bare = reminders.filter { $0.itemID == "d/bare" }
        #expect(!bare.isEmpty && bare.allSatisfy { $0.basis == .planned && $0.source == nil && $0.owner == "RCMP" })
        // Only an assumed date says so in its message.
        #expect(reminders.filter { $0.message.hasSuffix("[assumed date]") }.allSatisfy { $0.basis == .assumed })
        #expect(reminders.contains { $0.basis == .assumed && $0.message.hasSuffix("[assumed date]") })
    }

    @Test func defaultBasisAppliesToBareValues() throws {
        let text =
            Self.head.replacingOccurrences(of: "owner =", with: "default-basis = \"confirmed\"\nowner =")
            + "[[objective]]\nid = \"o\"\ntitle = \"O\"\ndue = 2030-03-10\n"
        let plan = try plan(text)
        #expect(plan.catalog.items[0].provenance(of: "due").basis == .confirmed)
    }

    @Test func aBadBasisNamesTheFileTheLineAndTheKeyPath() {
        let found = problems(
            Self.head + """
                [[objective]]
                id = "o"
                title = "O"
                due = { date = 2030-03-10, basis = "rumour" }
                """, file: "p.toml")
        #expect(
            found.map(\.description) == [
                "p.toml:11: objective \"o\" › due › basis: \"rumour\" is not a basis; allowed: statement, confirmed, planned, assumed (recorded is for recorded events)"
            ])
        let missing = problems(Self.head + "[[objective]]\nid = \"o\"\ntitle = \"O\"\ndue = { basis = \"assumed\" }\n", file: "p.toml")
        #expect(missing.first?.line == 11 && missing.first?.keyPath == "objective \"o\" › due › date")
        let unknown = problems(
            Self.head + "[[objective]]\nid = \"o\"\ntitle = \"O\"\ndue = { date = 2030-03-10, why = \"x\" }\n",
            file: "p.toml")
        #expect(unknown.first?.keyPath == "objective \"o\" › due › why")
    }

    static func mou(inForce basis: String) -> String {
        Self.head + """
            [[instrument]]
            id = "mou"
            kind = "mou"
            title = "MOU"
            sign-by = 2030-01-31
            term = { duration = "P1Y", basis = "statement", source = "a one year MOU" }
            in-force = { date = 2030-02-15, basis = "\(basis)", source = "guess" }
            notice = "P30D"
            """
    }

    @Test(arguments: ["assumed", "planned"])
    func anAssumedOrPlannedInForceLeavesTheStateAlone(basis: String) throws {
        let plan = try plan(Self.mou(inForce: basis))
        #expect(plan.state(ofItem: 0, at: instant("2030-06-01T00:00:00Z")) == .planned)
        #expect(plan.state(ofItem: 0, at: instant("2031-06-01T00:00:00Z")) == .planned)
        let reminders = plan.all(from: "2029-01-01T00:00:00Z", until: "2032-01-01T00:00:00Z")
        // Sign-by still reminds (the MOU is not signed); the projected term reminds nothing.
        #expect(reminders.contains { $0.key == "d/mou:sign-by:2030-01-31:P1D" })
        #expect(!reminders.contains { $0.deadline == .expiry || $0.deadline == .renewalNotice })
        let deadlines = plan.deadlines(ofItem: 0, at: instant("2030-06-01T00:00:00Z"))
        let expiry = try #require(deadlines.first { $0.kind == .expiry })
        #expect(expiry.projected && expiry.time == .date(day("2031-02-15")))
        #expect(expiry.provenance.basis == Basis(rawValue: basis))
        #expect(expiry.provenance.source?.contains("in-force (\(basis)): guess") == true)
    }

    @Test(arguments: ["statement", "confirmed"])
    func aStatedOrConfirmedInForceStartsTheTerm(basis: String) throws {
        let plan = try plan(Self.mou(inForce: basis))
        #expect(plan.state(ofItem: 0, at: instant("2030-06-01T00:00:00Z")) == .inForce)
        let reminders = plan.all(from: "2029-01-01T00:00:00Z", until: "2032-01-01T00:00:00Z")
        #expect(reminders.contains { $0.key == "d/mou:expiry:2031-02-15:P0D" && $0.basis == Basis(rawValue: basis) })
    }

    @Test func aRecordedInForceReplacesTheProjectionAndRestsOnTheRecorder() throws {
        let event = ItemEvent(
            id: 1, itemID: "d/mou", type: .inForce, on: day("2030-03-01"),
            recordedAt: instant("2030-03-01T15:00:00Z"), recordedBy: "alice")
        let plan = try plan(Self.mou(inForce: "assumed"), history: History(events: [event]))
        #expect(plan.state(ofItem: 0, at: instant("2030-06-01T00:00:00Z")) == .inForce)
        let reminders = plan.all(from: "2030-03-02T00:00:00Z", until: "2032-01-01T00:00:00Z")
        let expiry = try #require(reminders.keyed("d/mou:expiry:2031-03-01:P0D"))
        #expect(expiry.basis == .recorded && expiry.source == "in-force on 2030-03-01, recorded by alice")
        #expect(!reminders.contains { $0.key.contains("2031-02-15") })
    }

    static let linked =
        head + """
            [[objective]]
            id = "sign-it"
            title = "Complete work related to the signing"
            due = 2030-03-31
            fulfilled-by = { item = "agreement", event = "signed" }

            [[instrument]]
            id = "agreement"
            kind = "agreement"
            title = "Agreement"
            sign-by = 2030-03-31
            """

    @Test func fulfilledByRemindsOnceNamingBoth() throws {
        let plan = try plan(Self.linked)
        let reminders = plan.all(from: "2030-01-01T00:00:00Z", until: "2030-05-01T00:00:00Z")
        #expect(!reminders.isEmpty)
        #expect(reminders.allSatisfy { $0.itemID == "d/agreement" })
        #expect(reminders.allSatisfy { $0.message.contains("fulfils objective d/sign-it") })
        // The objective's deadline is still shown.
        #expect(plan.deadlines(ofItem: 0, at: instant("2030-01-01T00:00:00Z")).map(\.kind) == [.due])
    }

    @Test func recordingTheInstrumentEventCompletesTheObjectiveAndStopsBothStreams() throws {
        let signed = ItemEvent(
            id: 1, itemID: "d/agreement", type: .signed, on: day("2030-04-10"),
            recordedAt: instant("2030-04-10T15:00:00Z"), recordedBy: "bob")
        let plan = try plan(Self.linked, history: History(events: [signed]))
        #expect(plan.state(ofItem: 0, at: instant("2030-04-11T00:00:00Z")) == .done)
        #expect(plan.state(ofItem: 1, at: instant("2030-04-11T00:00:00Z")) == .signed)
        #expect(plan.all(from: "2030-04-10T05:00:00Z", until: "2031-01-01T00:00:00Z").isEmpty)
        #expect(plan.timelines[0].latestState == .done)
        // Before the signature both were open and the pair reminded (overdue) through the instrument.
        let before = plan.all(from: "2030-04-01T00:00:00Z", until: "2030-04-10T05:00:00Z")
        #expect(before.keys == ["d/agreement:sign-by:2030-03-31:+P7D"])
        // Without a sign-by on the instrument, the objective reminds itself, naming the instrument.
        let alone = try planOf(
            Self.linked.replacingOccurrences(of: "sign-by = 2030-03-31\n", with: "")
                .replacingOccurrences(of: "sign-by = 2030-03-31", with: ""))
        let own = alone.all(from: "2030-01-01T00:00:00Z", until: "2030-04-02T00:00:00Z")
        #expect(!own.isEmpty && own.allSatisfy { $0.itemID == "d/sign-it" && $0.message.contains("fulfilled when d/agreement is signed") })
    }

    @Test func linksToUnknownItemsAndCyclesAreRejectedWithFileAndLine() throws {
        let text =
            Self.head + """
                [[instrument]]
                id = "a"
                kind = "mou"
                title = "A"
                renews = "b"

                [[instrument]]
                id = "b"
                kind = "mou"
                title = "B"
                supersedes = "a"

                [[instrument]]
                id = "c"
                kind = "mou"
                title = "C"
                renews = "nowhere"
                """
        let parsed = try portfolio(text, file: "links.toml")
        do {
            _ = try Catalog(portfolios: [parsed])
            Issue.record("a cycle was accepted")
        } catch {
            let descriptions = error.problems.map(\.description).sorted()
            #expect(
                descriptions == [
                    "links.toml:12: instrument \"a\" › renews: renews/supersedes go round in a circle: a → b → a",
                    "links.toml:24: instrument \"c\" › renews: \"nowhere\" is not an item of dialogue \"d\""
                ])
        }
        let fulfilledByNothing = Self.head + "[[objective]]\nid = \"o\"\ntitle = \"O\"\nfulfilled-by = { item = \"x\", event = \"signed\" }\n"
        #expect(throws: ConfigProblems.self) { try Catalog(portfolios: [try portfolio(fulfilledByNothing)]) }
        let badEvent = problems(Self.head + "[[objective]]\nid = \"o\"\ntitle = \"O\"\nfulfilled-by = { item = \"x\", event = \"completed\" }\n")
        #expect(badEvent.first?.line == 11 && badEvent.first?.message.contains("not an instrument event") == true)
    }

    /// The cut-off is deadline + overdue-for at remind-at in the item's zone: a repeat that comes
    /// round exactly then is replaced by the one lapsed entry, and nothing follows it.
    @Test func overdueForCutsOffExactlyAtDeadlinePlusOverdueForInTheItemsZone() throws {
        let text = """
            [dialogue]
            id = "d"
            title = "D"
            time-zone = "UTC"
            reminders = ["P0D"]
            overdue-every = "P1D"

            [[objective]]
            id = "o"
            title = "O"
            due = 2030-03-01
            time-zone = "Asia/Shanghai"
            overdue-for = "P10D"
            owner = "CBSA"
            """
        let plan = try plan(text)
        let reminders = plan.all(from: "2030-01-01T00:00:00Z", until: "2031-01-01T00:00:00Z")
        #expect(reminders.map(\.lead) == ["P0D"] + (1...9).map { "+P\($0)D" } + ["+P10D"])
        let last = try #require(reminders.last)
        // 2030-03-11 09:00 in Shanghai (UTC+8) = 01:00Z.
        #expect(last.fireAt == instant("2030-03-11T01:00:00Z"))
        #expect(last.tone == .lapsed && last.messageID == MessageID.lapsed && last.messageID == "17393d58f35b4699a534ca630d2dba94")
        #expect(last.key == "d/o:due:2030-03-01:+P10D")
        #expect(last.message.contains("has lapsed"))
        #expect(reminders[reminders.count - 2].fireAt == instant("2030-03-10T01:00:00Z"))
        // The deadline reads lapsed from that instant on, not one second before.
        #expect(plan.deadlines(ofItem: 0, at: instant("2030-03-11T00:59:59Z")).first?.lapsed == false)
        #expect(plan.deadlines(ofItem: 0, at: instant("2030-03-11T01:00:00Z")).first?.lapsed == true)
        // Acknowledged, it is no longer lapsed.
        let ack = Acknowledgement(itemID: "d/o", deadline: .due, deadlineTime: "2030-03-01", at: instant("2030-04-01T00:00:00Z"))
        let acked = try planOf(text, history: History(acknowledgements: [ack]))
        #expect(acked.deadlines(ofItem: 0, at: instant("2030-03-20T00:00:00Z")).first?.lapsed == true)
        #expect(acked.deadlines(ofItem: 0, at: instant("2030-04-01T00:00:00Z")).first?.lapsed != true)
        #expect(acked.all(from: "2030-04-01T00:00:00Z", until: "2031-01-01T00:00:00Z").isEmpty)
    }

    @Test func withoutKeysOverdueForDefaultsTo180Days() throws {
        let plan = try plan(Self.head + "[[objective]]\nid = \"o\"\ntitle = \"O\"\ndue = 2030-03-01\n")
        let reminders = plan.all(from: "2030-01-01T00:00:00Z", until: "2032-01-01T00:00:00Z")
        let last = try #require(reminders.last)
        #expect(last.tone == .lapsed && last.lead == "+P180D")
        #expect(last.fireAt == toronto.adding(duration("P180D"), to: day("2030-03-01"), at: .nineAM, sign: 1))
        #expect(reminders.filter(\.isOverdue).count == 25 + 1)  // +P7D ... +P175D, then the lapsed entry
    }
}

/// `plan(_:)` under another name, for tests whose local `plan` hides it.
func planOf(_ text: String, history: History = .empty) throws -> ReminderPlan { try plan(text, history: history) }
