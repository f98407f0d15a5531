import AccordProtocol
import AccordText
import ArgumentParser
import Glibc

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's state and its next reminder.")
    @OptionGroup var options: GlobalOptions

    func run() throws { Status.run(options.client) }

    /// The command itself, for ArgumentParser's run() and for QuickCommand's hand parser.
    static func run(_ options: ClientOptions) {
        let r = request(options, Tracker.Status.self)
        if options.json { return printJSON(r) }
        let now = Pretty.instant(r.now) ?? Pretty.now()
        print("accordd \(r.version), running since \(Pretty.shortTime(r.startedAt)) (\(Pretty.relative(r.startedAt, from: now)))")
        print("config      \(r.configFile)")
        print("state       \(r.stateFile)")
        switch r.role {
        case "active"?: print("role        active: this daemon fires (\(r.activeHost ?? "?"))")
        case "standby"?: print("role        standby: \(r.activeHost.map { "\($0) is active" } ?? "no daemon is active right now")")
        case let other? where other != "single": print("role        \(other)")
        default: break  // SQLite: the only daemon on its state, as before issue 14
        }
        print("watching    \(r.objectives) objectives and \(r.instruments) instruments in \(Pretty.plural(r.portfolios, "portfolio"))")
        print("reminders   \(r.fired) fired, \(r.skipped) skipped, \(r.missed) missed")
        if let next = r.nextReminder {
            print(
                "next        \(Pretty.relative(next.fireAt, from: now)) (\(Pretty.shortTime(next.fireAt))): "
                    + Pretty.urgency(next.message, daysLeft: next.daysLeft))
        } else {
            print("next        no reminder ahead")
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List items, optionally filtered.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "objective, instrument, treaty, agreement, mou or arrangement.") var kind: String?
    @Option(help: "e.g. open, in-progress, done, dropped, planned, signed, in-force, expired, terminated, or lapsed.") var state: String?
    @Option(help: "A dialogue id.") var dialogue: String?
    @Option(
        name: .customLong("due-within"),
        help: ArgumentHelp("Only items with a deadline passed or within this ISO 8601 duration (e.g. P30D).", valueName: "duration"))
    var dueWithin: String?
    @Option(help: ArgumentHelp("Only items whose owner contains this text (case-insensitive).", valueName: "text")) var owner: String?
    @Option(
        help: ArgumentHelp(
            "Only items with a date of this basis: statement, confirmed, planned, assumed or recorded.",
            valueName: "basis")) var basis: String?
    @OptionGroup var paging: PagingOptions

    func run() throws {
        List.run(
            options.client,
            Tracker.List.Parameters(kind: kind, state: state, dialogue: dialogue, dueWithin: dueWithin, owner: owner, basis: basis),
            limit: paging.limit)
    }

    /// The command itself, for ArgumentParser's run() and for QuickCommand's hand parser.
    static func run(_ options: ClientOptions, _ parameters: Tracker.List.Parameters, limit: Int?) {
        let r = requestPages(options, Tracker.List.self, parameters, limit: limit)
        if options.json { return printJSON(r) }
        var table = TextTable(headers: ["ITEM", "KIND", "STATE", "NEXT DEADLINE", "WHEN", "OWNER", "TITLE"])
        var assumed = false
        for item in r.items {
            let deadline = item.nextDeadline
            let when = deadline.map { $0.lapsed == true ? "lapsed" : Pretty.deadline(daysLeft: $0.daysLeft, passed: $0.passed) } ?? "-"
            // `*` marks a date that is an assumption (§10): `list --basis assumed` lists what needs checking.
            let marker = deadline?.basis == "assumed" ? "*" : ""
            if !marker.isEmpty { assumed = true }
            let what = deadline.map { "\($0.kind) \($0.shown)\(marker)\($0.projected == true ? " (projected)" : "")" } ?? "-"
            table.append([item.id, item.kind, item.state, what, when, item.owner ?? "-", item.title])
        }
        print(table.render(style: Pretty.bold), terminator: "")
        print("\(Pretty.plural(table.rows.count, "item"))" + (assumed ? "; * an assumed date (see accordctl show ITEM)" : ""))
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show everything about one item.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A full (DIALOGUE/ITEM) or bare item id.") var item: String

    func run() throws { Show.run(options.client, item: item) }

    /// The command itself, for ArgumentParser's run() and for QuickCommand's hand parser.
    static func run(_ options: ClientOptions, item: String) {
        let r = request(options, Tracker.Show.self, Tracker.Show.Parameters(id: item))
        if options.json { return printJSON(r) }
        let summary = r.item
        let definition = r.definition
        print(Pretty.bold(summary.id) + "  " + summary.title)
        var facts: [(String, String)] = [("kind", summary.kind), ("state", summary.state)]
        if let until = summary.snoozedUntil { facts.append(("snoozed", "until \(Pretty.shortTime(until))")) }
        if !definition.parties.isEmpty { facts.append(("parties", definition.parties.joined(separator: "; "))) }
        if let description = definition.description { facts.append(("about", description)) }
        if let owner = definition.owner { facts.append(("owner", owner)) }
        if let contacts = definition.contacts { facts.append(("contacts", contacts.joined(separator: ", "))) }
        if let status = definition.status { facts.append(("status in file", status)) }
        // Each date with what it rests on and where that is said (§10), so a reader need not open the file.
        let dates = definition.dates ?? []
        for (key, label) in [
            ("due", "due"), ("sign-by", "sign by"), ("adopted", "adopted"), ("in-force", "in force"),
            ("term", "term"), ("notice", "notice")
        ] {
            guard let dated = dates.first(where: { $0.key == key }) else { continue }
            facts.append((label, "\(dated.value)  [\(dated.basis)]" + (dated.source.map { ": \($0)" } ?? "")))
        }
        if let fulfilledBy = definition.fulfilledBy { facts.append(("fulfilled by", fulfilledBy)) }
        if let renews = definition.renews { facts.append(("renews", renews)) }
        if let supersedes = definition.supersedes { facts.append(("supersedes", supersedes)) }
        facts.append(
            (
                "reminders",
                "\(definition.reminders.joined(separator: ", ")) at \(definition.remindAt) \(definition.timeZone)"
                    + (definition.overdueEvery.map { ", then every \($0) while overdue" } ?? "")
                    + (definition.overdueFor.map { ", for at most \($0)" } ?? "")
            ))
        if let recurrence = definition.recurrence { facts.append(("recurs", recurrence)) }
        if let calendars = definition.businessDays {
            facts.append(("calendars", calendars.joined(separator: " and ") + " business days, adjust " + (definition.adjust ?? "none")))
        }
        facts.append(("defined in", definition.file))
        for (key, value) in facts { print("  " + key.padded(to: 10) + "  " + value) }

        section("Deadlines", r.deadlines, headers: ["DEADLINE", "DATE", "WHEN", "ACKNOWLEDGED", "BASIS", "SOURCE"]) { d in
            let when = d.lapsed == true ? "lapsed" : Pretty.deadline(daysLeft: d.daysLeft, passed: d.passed)
            return [
                d.kind,
                d.shown + (d.written.map { " (written \($0), moved off a day that is not a business day)" } ?? "")
                    + (d.projected == true ? " (projected)" : ""),
                Pretty.urgency(when, daysLeft: d.daysLeft, passed: d.passed),
                d.acknowledged ? "yes" : "no", d.basis ?? "-", d.source ?? ""
            ]
        }
        section("Upcoming reminders", r.upcoming, headers: ["WHEN", "FIRES", "DEADLINE", "LEAD", "MESSAGE"]) { u in
            [Pretty.relative(u.fireAt), Pretty.shortTime(u.fireAt), u.deadline, u.lead, u.message]
        }
        section("Ledger", r.ledger, headers: ["AT", "OUTCOME", "CATCH-UP", "REMINDER"]) { l in
            [Pretty.shortTime(l.at), l.outcome + (l.reason.map { " (\($0))" } ?? ""), l.catchUp ? "yes" : "", l.key]
        }
        section("Events", r.events, headers: ["ON", "EVENT", "BY", "RECORDED", "BASIS", "NOTE"]) { e in
            [e.on, e.event + (e.term.map { " (\($0))" } ?? ""), e.user, Pretty.shortTime(e.recordedAt), e.basis ?? "recorded", e.note ?? ""]
        }
    }

    private static func section<Row>(_ title: String, _ rows: [Row], headers: [String], row: (Row) -> [String]) {
        print("\n" + Pretty.bold(title) + (rows.isEmpty ? ": none" : ""))
        guard !rows.isEmpty else { return }
        var table = TextTable(headers: headers)
        for object in rows { table.append(row(object)) }
        print(table.render(), terminator: "")
    }
}

struct Upcoming: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upcoming",
        abstract: "Reminders that will fire within a duration.")
    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("An ISO 8601 duration (default P30D).", valueName: "duration")) var within: String?
    @OptionGroup var paging: PagingOptions

    func run() throws { Upcoming.run(options.client, within: within, limit: paging.limit) }

    /// The command itself, for ArgumentParser's run() and for QuickCommand's hand parser.
    static func run(_ options: ClientOptions, within: String?, limit: Int?) {
        let r = requestPages(options, Tracker.Upcoming.self, Tracker.Upcoming.Parameters(within: within), limit: limit)
        if options.json { return printJSON(r) }
        printReminders(r.reminders)
        print("\(Pretty.plural(r.reminders.count, "reminder")) within \(within ?? "P30D")")
    }
}

func printReminders(_ reminders: [Tracker.Reminder]) {
    var table = TextTable(headers: ["WHEN", "FIRES", "ITEM", "DEADLINE", "LEAD", "BASIS", "MESSAGE"])
    for u in reminders {
        table.append([
            Pretty.relative(u.fireAt), Pretty.shortTime(u.fireAt), u.item, u.deadline, u.lead, u.basis ?? "-",
            Pretty.urgency(u.message, daysLeft: u.daysLeft)
        ])
    }
    print(table.render(style: Pretty.bold), terminator: "")
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The audit trail of writes, optionally for one item.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "An item id.") var item: String?
    @Option(help: ArgumentHelp("Only entries from this date on (YYYY-MM-DD).", valueName: "date")) var since: String?
    @OptionGroup var paging: PagingOptions

    func run() throws {
        let r = requestPages(options.client, Tracker.History.self, Tracker.History.Parameters(id: item, since: since), limit: paging.limit)
        if options.json { return printJSON(r) }
        var table = TextTable(headers: ["AT", "USER", "UID", "ACTION", "ITEM", "RESULT", "DETAIL"])
        for e in r.entries {
            table.append([
                Pretty.shortTime(e.at), e.user, String(e.uid), e.action, e.item ?? "",
                e.allowed ? "done" : Pretty.paint("refused", "31"), e.detail
            ])
        }
        print(table.render(style: Pretty.bold), terminator: "")
    }
}

/// --limit of list, upcoming and history: the daemon answers in pages of at most 1000 rows,
/// which accordctl follows to the end unless told to stop.
struct PagingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Show at most this many rows (default: all; the daemon sends pages of at most 1000, which accordctl follows).",
            valueName: "n"))
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more, not \(limit)") }
    }
}

/// --request of record, ack and snooze: the write's id, which the daemon keeps with it, so that
/// the same write sent again (a retry after a lost reply) is answered from the first outcome and
/// recorded once. Each invocation makes its own: 128 random bits in hex.
struct RequestOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "An id for this write (default: 128 random bits in hex); run again with the same id, the daemon answers with the first outcome and records nothing more.",
            valueName: "id"))
    var request: String?

    var id: String {
        if let request { return request }
        var random = SystemRandomNumberGenerator()
        return [random.next(), random.next()].map { (value: UInt64) in
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }
}

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record an event.",
        discussion: """
            Objectives: started, completed, dropped, reopened (a recurring objective's completed closes the \
            occurrence due nearest --on). Instruments: negotiation-started, concluded, signed, in-force, \
            renewed (--term), terminated, not-renewed (notice of non-renewal, for auto-renew ones), and \
            notified --party NAME (for enters-into-force: in force a set time after the last party's). \
            Events are append-only.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Argument(help: "The event.") var event: String
    @Option(help: ArgumentHelp("The day it took effect (YYYY-MM-DD; default today in the item's zone).", valueName: "date")) var on: String?
    @Option(help: ArgumentHelp("A note for the audit trail.", valueName: "text")) var note: String?
    @Option(help: ArgumentHelp("The new term, for renewed or in-force (e.g. P1Y).", valueName: "duration")) var term: String?
    @Option(
        help: ArgumentHelp(
            "For notified: the party whose notification it is (one of the instrument's parties; the last one puts it in force).",
            valueName: "name")) var party: String?
    @OptionGroup var write: RequestOptions

    func run() throws {
        let r = request(
            options.client, Tracker.Record.self,
            Tracker.Record.Parameters(id: item, event: event, on: on, note: note, term: term, party: party, request: write.id))
        if options.json { return printJSON(r) }
        let e = r.event
        print("recorded \(e.event) for \(e.item) on \(e.on) (event #\(e.id) by \(e.user)); state now \(r.state)")
    }
}

struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge a deadline: silence the rest of its reminders.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Option(help: "due, sign-by, expiry or renewal-notice (default: the most pressing).") var deadline: String?
    @OptionGroup var write: RequestOptions

    func run() throws {
        let r = request(options.client, Tracker.Acknowledge.self, Tracker.Acknowledge.Parameters(id: item, deadline: deadline, request: write.id))
        if options.json { return printJSON(r) }
        print("acknowledged \(r.deadline) of \(r.item) (\(Pretty.shortTime(r.deadlineAt)))")
    }
}

struct SnoozeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snooze",
        abstract: "Hold an item's reminders for a while.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Argument(help: "An ISO 8601 duration, e.g. P3D or PT4H.") var duration: String
    @OptionGroup var write: RequestOptions

    func run() throws {
        let r = request(options.client, Tracker.Snooze.self, Tracker.Snooze.Parameters(id: item, for: duration, request: write.id))
        if options.json { return printJSON(r) }
        print("snoozed \(r.item) until \(Pretty.shortTime(r.until)) (\(Pretty.relative(r.until)))")
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the daemon re-read its configuration (nothing changes on an error).")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = request(options.client, Tracker.Reload.self)
        if options.json { return printJSON(r) }
        print("reloaded: \(Pretty.plural(r.portfolios, "portfolio")), \(r.objectives) objectives, \(r.instruments) instruments")
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print the deadlines as an iCalendar (RFC 5545) calendar.",
        discussion: """
            The same events as the daemon's subscription file (accord.ics in its state directory): \
            one per deadline, with an alarm per lead, stable UIDs and a SEQUENCE that grows when a \
            deadline moves. Import it into a calendar program, e.g. khal import --batch FILE.
            """)
    @OptionGroup var options: GlobalOptions
    @Flag(help: "iCalendar output (the only format today; required so that others can come).") var ics = false
    @Option(help: ArgumentHelp("Only deadlines up to this ISO 8601 duration from now (passed ones included).", valueName: "duration"))
    var within: String?
    @Option(help: "Only this dialogue's deadlines.") var dialogue: String?
    @Option(help: "Only items whose owner contains this text (case-insensitive), e.g. CBSA.") var owner: String?

    func validate() throws {
        guard ics else { throw ValidationError("say which format: --ics") }
    }

    func run() throws {
        let r = request(
            options.client, Tracker.Export.self, Tracker.Export.Parameters(within: within, dialogue: dialogue, owner: owner), forTerminals: false)
        if options.json { return printJSON(r) }
        print(r.calendar, terminator: "")
    }
}

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "Print the digest: what is overdue, lapsed, unacknowledged and due next, by owner.",
        discussion: """
            The same text the daemon writes to the journal each period when accordd.toml sets \
            digest (and hands the notify hook on its standard input), as it stands now. \
            Unacknowledged: a term that has expired and that nobody acknowledged.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(
        help: ArgumentHelp(
            "Look this ISO 8601 duration ahead for what is due (default: the configured digest period, else P7D).", valueName: "duration"))
    var within: String?

    func run() throws {
        let r = request(options.client, Tracker.Digest.self, Tracker.Digest.Parameters(within: within))
        if options.json { return printJSON(r) }
        print(r.text, terminator: "")
        if let next = r.nextDigest { print("\nnext digest \(Pretty.relative(next)) (\(Pretty.shortTime(next)))") }
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print each reminder as it fires, until interrupted.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let connection: VarlinkConnection
        do { connection = try VarlinkConnection(path: options.client.socketPath, timeout: options.timeout) } catch {
            fail(error.description, exitCode: isPermission(error) ? 77 : 69)
        }
        do {
            // Watch answers only when a reminder fires: a Status first shows, within --timeout,
            // that the daemon is there at all; then wait for reminders without limit.
            _ = try connection.call(Tracker.Status.self, NoParameters())
            connection.timeout = nil
            try connection.send(VarlinkCall(method: Tracker.Watch.qualifiedName, more: true).encode())
            while true {
                let reply = try connection.nextReply()
                let watched = try VarlinkConnection.decodeReply(Tracker.Watch.self, options.json ? reply : reply.forTerminals)
                if options.json {
                    print(JSONValue.object(reply.parameters).jsonText)
                } else {
                    let r = watched.reminder
                    print(
                        "\(Pretty.shortTime(r.fireAt))  \(r.catchUp == true ? "[catch-up] " : "")" + Pretty.urgency(r.message, daysLeft: r.daysLeft))
                }
                fflush(nil)  // every stream: a pipe to another program sees each reminder at once
                if !reply.continues { return }
            }
        } catch let failure as CallFailure {
            failed(failure, json: options.json)
        } catch {
            fail("\(error)", exitCode: 69)
        }
    }
}
