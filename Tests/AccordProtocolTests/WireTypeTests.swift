import Testing

@testable import AccordProtocol

/// What the IDL declares, read from the text GetInterfaceDescription serves: each type's and
/// error's fields, each method's parameters and reply fields (names only; `?` stripped).
struct DeclaredInterface {
    var types: [String: [String]] = [:]
    var errors: [String: [String]] = [:]
    var methods: [String: (parameters: [String], reply: [String])] = [:]

    init(_ idl: String) {
        // Comments run from `#` to the end of the line; what is left is declarations.
        let text = idl.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.firstIndex(of: "#").map { String(line[..<$0]) } ?? String(line) }
            .joined(separator: " ")
        var rest = Substring(text)
        func fields(_ list: Substring) -> [String] {
            list.split(separator: ",").compactMap { field in
                let name = field.split(separator: ":").first?.trimmingSpaces ?? ""
                return name.isEmpty ? nil : name
            }
        }
        /// The text between the next `(` and its matching `)`, and what follows it.
        func group(_ text: Substring) -> (inside: Substring, after: Substring)? {
            guard let open = text.firstIndex(of: "(") else { return nil }
            var depth = 0
            var index = open
            while index < text.endIndex {
                if text[index] == "(" { depth += 1 }
                if text[index] == ")" { depth -= 1; if depth == 0 { break } }
                index = text.index(after: index)
            }
            guard index < text.endIndex else { return nil }
            return (text[text.index(after: open)..<index], text[text.index(after: index)...])
        }
        /// The next declaration keyword at the start of a word, and where its name begins.
        func nextKeyword(_ text: Substring) -> (kind: String, name: Substring.Index)? {
            var index = text.startIndex
            while index < text.endIndex {
                if index == text.startIndex || text[text.index(before: index)] == " " {
                    for kind in ["type", "error", "method"] where text[index...].hasPrefix(kind + " ") {
                        return (kind, text.index(index, offsetBy: kind.count + 1))
                    }
                }
                index = text.index(after: index)
            }
            return nil
        }
        while let (kind, start) = nextKeyword(rest) {
            rest = rest[start...]
            let name = rest.prefix { $0.isLetter || $0.isNumber }
            guard let (inside, after) = group(rest) else { break }
            switch kind {
            case "type": types[String(name)] = fields(inside); rest = after
            case "error": errors[String(name)] = fields(inside); rest = after
            default:
                guard let (reply, afterReply) = group(after) else { return }
                methods[String(name)] = (fields(inside), fields(reply))
                rest = afterReply
            }
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// A value of every type with every optional field set, and text that JSON must escape.
private enum Examples {
    static let tricky = "quote \" backslash \\ newline \n tab \t NUL \u{0} 中文 🇨🇦"
    static let reminder = Tracker.Reminder(
        key: "ca-cn-nsrl/pilot:expiry:2018-01-15:P7D", item: "ca-cn-nsrl/pilot", dialogue: "ca-cn-nsrl", deadline: "expiry",
        deadlineAt: "2018-01-15T05:00:00Z", lead: "P7D", fireAt: "2018-01-08T14:00:00Z", daysLeft: 7, priority: 4, message: tricky,
        catchUp: true, basis: "assumed", source: tricky, owner: "Canada Border Services Agency", title: tricky)
    static let deadline = Tracker.Deadline(
        kind: "due", at: "2017-04-01T04:00:00Z", daysLeft: -3, passed: true, acknowledged: false,
        date: "2017-03-31", basis: "statement", source: "joint statement: 'a one year MOU'",
        projected: true, lapsed: true, written: "2017-03-30")
    static let item = Tracker.Item(
        id: "ca-cn-nsrl/x", dialogue: "ca-cn-nsrl", kind: "mou", title: tricky, state: "in-force",
        nextDeadline: deadline, snoozedUntil: "2017-03-01T00:00:00Z", owner: "RCMP")
    static let definition = Tracker.Definition(
        file: "/etc/accord/portfolios/a.toml:12", title: "t", kind: "objective", parties: ["Canada", "中华人民共和国"], timeZone: "Asia/Shanghai",
        remindAt: "09:00:00", reminders: ["P30D", "P0D"], overdueEvery: "P7D", due: "2017-03-31", status: "open", signBy: "2016-12-31",
        term: "P1Y", inForce: "2017-01-15", notice: "P90D", overdueFor: "P180D", adopted: "2016-09-12",
        dates: [dated, Tracker.DatedValue(key: "term", value: "P1Y", basis: "statement")], description: tricky, owner: "CBSA",
        contacts: ["mailto:desk@example.org"], fulfilledBy: "ca-cn-nsrl/pilot signed", renews: "ca-cn-nsrl/old", supersedes: "ca-cn-nsrl/older",
        businessDays: ["ca", "cn"], adjust: "modified-following",
        recurrence: "every P1Y from 2017-09-12 until 2026-12-31")
    static let dated = Tracker.DatedValue(key: "in-force", value: "2017-01-15", basis: "assumed", source: tricky)
    static let ledger = Tracker.LedgerEntry(key: "k", outcome: "fired", at: "2017-01-01T00:00:00Z", catchUp: true, reason: tricky)
    static let event = Tracker.Event(
        id: 9_007_199_254_740_993, item: "ca-cn-nsrl/x", event: "renewed", on: "2017-01-15",
        recordedAt: "2017-01-15T10:00:00Z", uid: 4_294_967_294, user: "bob", note: tricky, term: "P2Y",
        basis: "recorded", party: "Canada")
    static let audit = Tracker.AuditEntry(
        at: "2017-01-15T10:00:00Z", uid: 0, user: "root", action: "record", detail: "d", allowed: false,
        item: "ca-cn-nsrl/x")
    static let chain = Tracker.AuditChain(
        table: "event", rows: 2, head: String(repeating: "0f", count: 32), headRow: 2, brokenRow: 3, reason: tricky)
    static let problem = Tracker.ConfigProblem(file: "a.toml", key: "objective \"x\" › due", message: tricky, line: 7)
    static let digestLine = Tracker.DigestLine(
        section: "overdue", item: "ca-cn-nsrl/x", title: tricky, owner: "RCMP", deadline: "due", at: "2017-04-01T04:00:00Z", text: tricky)

    static let types: [String: any WireCodable] = [
        "Reminder": reminder, "Deadline": deadline, "Item": item, "Definition": definition, "LedgerEntry": ledger, "Event": event,
        "AuditEntry": audit, "ConfigProblem": problem, "DatedValue": dated, "DigestLine": digestLine, "AuditChain": chain
    ]

    /// Each method's parameter names (from its struct) and a reply with every field set.
    static let methods: [String: (parameters: [String], reply: any WireCodable)] = [
        Tracker.Status.name: (
            Tracker.Status.Parameters.parameterNames,
            Tracker.Status.Reply(
                version: "0.1.0", startedAt: "2026-12-02T00:00:00Z", now: "2026-12-02T00:00:01Z", configFile: "c", stateFile: "s",
                portfolios: 1, objectives: 5, instruments: 6, fired: 1, skipped: 2, missed: 3, nextReminder: reminder,
                role: "standby", activeHost: "accordd@host-a (1234)")
        ),
        Tracker.List.name: (Tracker.List.Parameters.parameterNames, Tracker.List.Reply(items: [item, item], next: "d/x")),
        Tracker.Show.name: (
            Tracker.Show.Parameters.parameterNames,
            Tracker.Show.Reply(
                item: item, definition: definition, deadlines: [deadline], upcoming: [reminder], ledger: [ledger], events: [event])
        ),
        Tracker.Upcoming.name: (
            Tracker.Upcoming.Parameters.parameterNames, Tracker.Upcoming.Reply(reminders: [reminder], next: "2030-01-01T00:00:00Z k")
        ),
        Tracker.History.name: (Tracker.History.Parameters.parameterNames, Tracker.History.Reply(entries: [audit], next: "17")),
        Tracker.Record.name: (Tracker.Record.Parameters.parameterNames, Tracker.Record.Reply(event: event, state: "signed")),
        Tracker.Acknowledge.name: (
            Tracker.Acknowledge.Parameters.parameterNames,
            Tracker.Acknowledge.Reply(
                item: "i", deadline: "due", deadlineAt: "2017-04-01T04:00:00Z")
        ),
        Tracker.Snooze.name: (Tracker.Snooze.Parameters.parameterNames, Tracker.Snooze.Reply(item: "i", until: "2017-04-01T04:00:00Z")),
        Tracker.Reload.name: (Tracker.Reload.Parameters.parameterNames, Tracker.Reload.Reply(portfolios: 1, objectives: 2, instruments: 3)),
        Tracker.Watch.name: (Tracker.Watch.Parameters.parameterNames, Tracker.Watch.Reply(reminder: reminder)),
        Tracker.Export.name: (Tracker.Export.Parameters.parameterNames, Tracker.Export.Reply(calendar: "BEGIN:VCALENDAR\r\n")),
        Tracker.Digest.name: (
            Tracker.Digest.Parameters.parameterNames,
            Tracker.Digest.Reply(
                at: "2026-12-07T09:00:00Z", until: "2026-12-14T09:00:00Z", period: "P7D", overdue: 1, lapsed: 0, unacknowledged: 0, due: 0,
                summary: "s", text: tricky, lines: [digestLine], nextDigest: "2026-12-14T09:00:00Z")
        ),
        Tracker.VerifyAudit.name: (Tracker.VerifyAudit.Parameters.parameterNames, Tracker.VerifyAudit.Reply(ok: false, chains: [chain, chain]))
    ]

    static let errors: [String: any TrackerErrorReply] = [
        "NoSuchItem": Tracker.NoSuchItem(id: "x"), "AmbiguousItem": Tracker.AmbiguousItem(id: "x", candidates: ["a/x", "b/x"]),
        "InvalidEvent": Tracker.InvalidEvent(id: "a/x", event: "signed", state: "planned", allowed: ["concluded"], reason: "r"),
        "InvalidConfig": Tracker.InvalidConfig(problems: [problem]),
        "PermissionDenied": Tracker.PermissionDenied(method: "Record", uid: 1000, user: "carol", requiredGroup: "accord-admin"),
        "InvalidRequest": Tracker.InvalidRequest(reason: "r"), "RequestTooLarge": Tracker.RequestTooLarge(limit: 65536),
        "StateUnavailable": Tracker.StateUnavailable(reason: "disk full"),
        "NotActive": Tracker.NotActive(method: "Record", activeHost: "accordd@host-a (1234)")
    ]
}

/// Encodes, serializes, parses and decodes again: what a reply goes through on the socket.
private func throughTheWire<T: WireCodable>(_ value: T) throws -> T {
    let bytes = value.wireValue().serialized()
    return try T(wire: try JSONValue.parse(bytes))
}

@Suite struct WireTypeTests {
    let idl = DeclaredInterface(TrackerInterface.description)

    @Test func theIDLParserFindsEveryDeclaration() {
        #expect(idl.types.count == 11)
        #expect(idl.methods.count == 13)
        #expect(idl.errors.count == 9)
        #expect(idl.methods["List"]?.parameters == ["kind", "state", "dialogue", "dueWithin", "owner", "basis", "limit", "after"])
        #expect(
            idl.types["Deadline"] == ["kind", "at", "date", "daysLeft", "passed", "acknowledged", "basis", "source", "projected", "lapsed", "written"]
        )
    }

    @Test func everyIDLTypeHasItsStructWithTheSameFields() {
        #expect(Set(idl.types.keys) == Set(Examples.types.keys))
        for (name, fields) in idl.types {
            guard let example = Examples.types[name] else { continue }
            #expect(Set(example.wireObject().keys) == Set(fields), "type \(name)")
            #expect(example.wireObject().count == fields.count, "type \(name): a field twice")
        }
    }

    @Test func everyIDLMethodHasItsParametersAndReply() {
        #expect(Set(idl.methods.keys) == Set(Examples.methods.keys))
        for (name, declared) in idl.methods {
            guard let (parameters, reply) = Examples.methods[name] else { continue }
            #expect(parameters == declared.parameters, "parameters of \(name)")
            #expect(Set(reply.wireObject().keys) == Set(declared.reply), "reply of \(name)")
        }
    }

    @Test func decodingRefusesANameTheMethodDoesNotTake() throws {
        // NoParameters spells its empty Keys as `none`: that is no parameter of Status.
        #expect(throws: VarlinkError.invalidParameter("none")) { try Tracker.Status.Parameters.decode(["none": .null]) }
        #expect(throws: VarlinkError.invalidParameter("limt")) { try Tracker.List.Parameters.decode(["limt": .integer(1)]) }
        _ = try Tracker.Status.Parameters.decode([:])
    }

    @Test func everyIDLErrorHasItsStruct() {
        #expect(Set(idl.errors.keys) == Set(Tracker.errorTypes.map { $0.name }))
        #expect(Set(idl.errors.keys) == Set(Examples.errors.keys))
        for (name, fields) in idl.errors {
            guard let example = Examples.errors[name] else { continue }
            #expect(Set(example.wireObject().keys) == Set(fields), "error \(name)")
            #expect(example.varlinkError.name == "io.accord.Tracker.\(name)")
        }
    }

    @Test func everyStructRoundTrips() throws {
        #expect(try throughTheWire(Examples.reminder) == Examples.reminder)
        #expect(try throughTheWire(Examples.deadline) == Examples.deadline)
        #expect(try throughTheWire(Examples.item) == Examples.item)
        #expect(try throughTheWire(Examples.definition) == Examples.definition)
        #expect(try throughTheWire(Examples.ledger) == Examples.ledger)
        #expect(try throughTheWire(Examples.event) == Examples.event)
        #expect(try throughTheWire(Examples.audit) == Examples.audit)
        #expect(try throughTheWire(Examples.problem) == Examples.problem)
        #expect(try throughTheWire(Examples.dated) == Examples.dated)
        #expect(try throughTheWire(Examples.digestLine) == Examples.digestLine)
        #expect(try throughTheWire(Examples.chain) == Examples.chain)
        for (_, (_, reply)) in Examples.methods { try roundTrips(reply) }
        for (_, error) in Examples.errors { try roundTrips(error) }
        // Optional fields that are nil are left out, not sent as null, and read back as nil.
        let bare = Tracker.Item(id: "a/b", dialogue: "a", kind: "treaty", title: "t", state: "planned")
        #expect(bare.wireValue().jsonText == #"{"id":"a/b","dialogue":"a","kind":"treaty","title":"t","state":"planned"}"#)
        #expect(try throughTheWire(bare) == bare)
    }

    private func roundTrips<T: WireCodable>(_ value: T) throws {
        #expect(try throughTheWire(value) == value, "\(T.self)")
        if let error = value as? any TrackerErrorReply { #expect(type(of: error).init(error.varlinkError) != nil) }
    }

    @Test func repliesKeepTheirFieldOrder() {
        // The order the daemon has always sent: scripts that diff replies see no change.
        #expect(
            Examples.reminder.wireObject().keys == [
                "key", "item", "dialogue", "deadline", "deadlineAt", "lead", "fireAt", "daysLeft",
                "priority", "message", "catchUp", "basis", "source", "owner", "title"
            ])
        #expect(
            Examples.deadline.wireObject().keys == [
                "kind", "at", "daysLeft", "passed", "acknowledged", "date", "basis", "source",
                "projected", "lapsed", "written"
            ])
        // A reply without the new fields reads exactly as before them.
        let old = Tracker.Deadline(kind: "due", at: "2017-04-01T04:00:00Z", daysLeft: -3, passed: true, acknowledged: false, date: "2017-03-31")
        #expect(
            old.wireValue().jsonText
                == #"{"kind":"due","at":"2017-04-01T04:00:00Z","daysLeft":-3,"passed":true,"acknowledged":false,"date":"2017-03-31"}"#)
        // Status's role and activeHost (issue 14) come after what it always had, and a daemon on
        // SQLite before them still ends on nextReminder.
        #expect(Array(Examples.methods["Status"]!.reply.wireObject().keys.suffix(3)) == ["nextReminder", "role", "activeHost"])
    }

    @Test func parametersAreCheckedByName() throws {
        #expect(throws: VarlinkError.invalidParameter("verbose")) {
            try Tracker.Show.Parameters.decode(["id": "x", "verbose": true])
        }
        #expect(throws: VarlinkError.invalidParameter("id")) { try Tracker.Show.Parameters.decode([:]) }
        #expect(throws: VarlinkError.invalidParameter("id")) { try Tracker.Show.Parameters.decode(["id": 5]) }
        #expect(throws: VarlinkError.invalidParameter("within")) { try Tracker.Upcoming.Parameters.decode(["within": .array(["P1D"])]) }
        // null counts as absent, as Varlink's optional fields allow.
        #expect(try Tracker.Upcoming.Parameters.decode(["within": .null]) == Tracker.Upcoming.Parameters())
        #expect(try Tracker.Snooze.Parameters.decode(["id": "x", "for": "P1D"]) == Tracker.Snooze.Parameters(id: "x", for: "P1D"))
        #expect(throws: VarlinkError.invalidParameter("x")) { try NoParameters.decode(["x": 1]) }
        // NoParameters sends without encoding itself: the same empty object.
        #expect(NoParameters().wireParameters() == NoParameters().wireObject())
        #expect(Tracker.Show.Parameters(id: "x").wireParameters() == ["id": "x"])
        // An integer past Int's range is refused by name, not trapped.
        #expect(throws: VarlinkError.invalidParameter("limit")) { try Tracker.RequestTooLarge(wire: ["limit": .double(1e300)]) }
    }

    @Test func nestedFieldsAreNamedByTheirPath() {
        var reply = Examples.methods["Show"]!.reply.wireObject()
        var events = reply["events"]!.arrayValue!
        var first = events[0].objectValue!
        first["uid"] = "root"
        events[0] = .object(first)
        reply["events"] = .array(events)
        #expect(throws: VarlinkError.invalidParameter("events.0.uid")) { try Tracker.Show.Reply(wire: reply) }
    }
}
