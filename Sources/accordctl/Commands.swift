import AccordProtocol
import AccordText
import ArgumentParser
import Glibc

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's state and its next reminder.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = try request(options, "Status")
        if options.json { return printJSON(r) }
        let now = Pretty.epoch(r.text("now")) ?? Pretty.now()
        print("accordd \(r.text("version")), running since \(Pretty.shortTime(r.text("startedAt"))) (\(Pretty.relative(r.text("startedAt"), from: now)))")
        print("config      \(r.text("configFile"))")
        print("state       \(r.text("stateFile"))")
        print("watching    \(r.int("objectives")) objectives and \(r.int("instruments")) instruments in \(Pretty.plural(r.int("portfolios"), "portfolio"))")
        print("reminders   \(r.int("fired")) fired, \(r.int("skipped")) skipped, \(r.int("missed")) missed")
        if let next = r.object("nextReminder") {
            print("next        \(Pretty.relative(next.text("fireAt"), from: now)) (\(Pretty.shortTime(next.text("fireAt")))): "
                  + Pretty.urgency(next.text("message"), daysLeft: next.int("daysLeft")))
        } else {
            print("next        no reminder ahead")
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List items, optionally filtered.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "objective, instrument, treaty, agreement, mou or arrangement.") var kind: String?
    @Option(help: "e.g. open, in-progress, done, dropped, planned, signed, in-force, expired, terminated.") var state: String?
    @Option(help: "A dialogue id.") var dialogue: String?
    @Option(name: .customLong("due-within"), help: ArgumentHelp("Only items with a deadline passed or within this ISO 8601 duration (e.g. P30D).", valueName: "duration"))
    var dueWithin: String?

    func run() throws {
        var p: JSONObject = [:]
        if let kind { p["kind"] = .string(kind) }
        if let state { p["state"] = .string(state) }
        if let dialogue { p["dialogue"] = .string(dialogue) }
        if let dueWithin { p["dueWithin"] = .string(dueWithin) }
        let r = try request(options, "List", p)
        if options.json { return printJSON(r) }
        var table = TextTable(headers: ["ITEM", "KIND", "STATE", "NEXT DEADLINE", "WHEN", "TITLE"])
        for item in r.objects("items") {
            let deadline = item.object("nextDeadline")
            let when = deadline.map { Pretty.deadline(daysLeft: $0.int("daysLeft"), passed: $0.flag("passed")) } ?? "-"
            let what = deadline.map { "\($0.text("kind")) \($0["date"]?.stringValue ?? $0.text("at"))" } ?? "-"
            table.append([item.text("id"), item.text("kind"), item.text("state"), what, when, item.text("title")])
        }
        print(table.render(style: Pretty.bold), terminator: "")
        print("\(Pretty.plural(Int64(table.rows.count), "item"))")
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show everything about one item.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "A full (DIALOGUE/ITEM) or bare item id.") var item: String

    func run() throws {
        let r = try request(options, "Show", ["id": .string(item)])
        if options.json { return printJSON(r) }
        let summary = r.object("item") ?? [:]
        let definition = r.object("definition") ?? [:]
        print(Pretty.bold(summary.text("id")) + "  " + summary.text("title"))
        var facts: [(String, String)] = [("kind", summary.text("kind")), ("state", summary.text("state"))]
        if let until = summary["snoozedUntil"]?.stringValue { facts.append(("snoozed", "until \(Pretty.shortTime(until))")) }
        let parties = definition["parties"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !parties.isEmpty { facts.append(("parties", parties.joined(separator: "; "))) }
        for (key, label) in [("due", "due"), ("status", "status in file"), ("signBy", "sign by"), ("inForce", "in force"),
                             ("term", "term"), ("notice", "notice")] {
            if let value = definition[key]?.stringValue { facts.append((label, value)) }
        }
        let leads = definition["reminders"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        facts.append(("reminders", "\(leads) at \(definition.text("remindAt")) \(definition.text("timeZone"))"
                      + (definition["overdueEvery"]?.stringValue.map { ", then every \($0) while overdue" } ?? "")))
        facts.append(("defined in", definition.text("file")))
        for (key, value) in facts { print("  " + key.padding(10) + "  " + value) }

        section("Deadlines", r.objects("deadlines"), headers: ["DEADLINE", "DATE", "WHEN", "ACKNOWLEDGED"]) { d in
            [d.text("kind"), d["date"]?.stringValue ?? d.text("at"),
             Pretty.urgency(Pretty.deadline(daysLeft: d.int("daysLeft"), passed: d.flag("passed")), daysLeft: d.int("daysLeft"), passed: d.flag("passed")),
             d.flag("acknowledged") ? "yes" : "no"]
        }
        section("Upcoming reminders", r.objects("upcoming"), headers: ["WHEN", "FIRES", "DEADLINE", "LEAD", "MESSAGE"]) { u in
            [Pretty.relative(u.text("fireAt")), Pretty.shortTime(u.text("fireAt")), u.text("deadline"), u.text("lead"), u.text("message")]
        }
        section("Ledger", r.objects("ledger"), headers: ["AT", "OUTCOME", "CATCH-UP", "REMINDER"]) { l in
            [Pretty.shortTime(l.text("at")), l.text("outcome"), l.flag("catchUp") ? "yes" : "", l.text("key")]
        }
        section("Events", r.objects("events"), headers: ["ON", "EVENT", "BY", "RECORDED", "NOTE"]) { e in
            [e.text("on"), e.text("event") + (e["term"]?.stringValue.map { " (\($0))" } ?? ""), e.text("user"),
             Pretty.shortTime(e.text("recordedAt")), e.text("note")]
        }
    }

    private func section(_ title: String, _ rows: [JSONObject], headers: [String], row: (JSONObject) -> [String]) {
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

    func run() throws {
        let r = try request(options, "Upcoming", within.map { ["within": .string($0)] } ?? [:])
        if options.json { return printJSON(r) }
        let reminders = r.objects("reminders")
        printReminders(reminders)
        print("\(Pretty.plural(Int64(reminders.count), "reminder")) within \(within ?? "P30D")")
    }
}

func printReminders(_ reminders: [JSONObject]) {
    var table = TextTable(headers: ["WHEN", "FIRES", "ITEM", "DEADLINE", "LEAD", "MESSAGE"])
    for u in reminders {
        table.append([Pretty.relative(u.text("fireAt")), Pretty.shortTime(u.text("fireAt")), u.text("item"), u.text("deadline"),
                      u.text("lead"), Pretty.urgency(u.text("message"), daysLeft: u.int("daysLeft"))])
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

    func run() throws {
        var p: JSONObject = [:]
        if let item { p["id"] = .string(item) }
        if let since { p["since"] = .string(since) }
        let r = try request(options, "History", p)
        if options.json { return printJSON(r) }
        var table = TextTable(headers: ["AT", "USER", "UID", "ACTION", "ITEM", "RESULT", "DETAIL"])
        for e in r.objects("entries") {
            table.append([Pretty.shortTime(e.text("at")), e.text("user"), String(e.int("uid")), e.text("action"), e.text("item"),
                          e.flag("allowed") ? "done" : Pretty.paint("refused", "31"), e.text("detail")])
        }
        print(table.render(style: Pretty.bold), terminator: "")
    }
}

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record an event.",
        discussion: """
            Objectives: started, completed, dropped, reopened. Instruments: negotiation-started, concluded, \
            signed, in-force, renewed (--term), terminated. Events are append-only.
            """)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Argument(help: "The event.") var event: String
    @Option(help: ArgumentHelp("The day it took effect (YYYY-MM-DD; default today in the item's zone).", valueName: "date")) var on: String?
    @Option(help: ArgumentHelp("A note for the audit trail.", valueName: "text")) var note: String?
    @Option(help: ArgumentHelp("The new term, for renewed or in-force (e.g. P1Y).", valueName: "duration")) var term: String?

    func run() throws {
        var p: JSONObject = ["id": .string(item), "event": .string(event)]
        if let on { p["on"] = .string(on) }
        if let note { p["note"] = .string(note) }
        if let term { p["term"] = .string(term) }
        let r = try request(options, "Record", p)
        if options.json { return printJSON(r) }
        let e = r.object("event") ?? [:]
        print("recorded \(e.text("event")) for \(e.text("item")) on \(e.text("on")) (event #\(e.int("id")) by \(e.text("user"))); state now \(r.text("state"))")
    }
}

struct Ack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ack",
        abstract: "Acknowledge a deadline: silence the rest of its reminders.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Option(help: "due, sign-by, expiry or renewal-notice (default: the most pressing).") var deadline: String?

    func run() throws {
        var p: JSONObject = ["id": .string(item)]
        if let deadline { p["deadline"] = .string(deadline) }
        let r = try request(options, "Acknowledge", p)
        if options.json { return printJSON(r) }
        print("acknowledged \(r.text("deadline")) of \(r.text("item")) (\(Pretty.shortTime(r.text("deadlineAt"))))")
    }
}

struct SnoozeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snooze",
        abstract: "Hold an item's reminders for a while.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The item id.") var item: String
    @Argument(help: "An ISO 8601 duration, e.g. P3D or PT4H.") var duration: String

    func run() throws {
        let r = try request(options, "Snooze", ["id": .string(item), "for": .string(duration)])
        if options.json { return printJSON(r) }
        print("snoozed \(r.text("item")) until \(Pretty.shortTime(r.text("until"))) (\(Pretty.relative(r.text("until"))))")
    }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the daemon re-read its configuration (nothing changes on an error).")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = try request(options, "Reload")
        if options.json { return printJSON(r) }
        print("reloaded: \(Pretty.plural(r.int("portfolios"), "portfolio")), \(r.int("objectives")) objectives, \(r.int("instruments")) instruments")
    }
}

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print each reminder as it fires, until interrupted.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let connection: VarlinkConnection
        do { connection = try VarlinkConnection(path: options.socketPath, timeout: options.timeout) } catch {
            fail(error.description, exitCode: isPermission(error) ? 77 : 69)
        }
        do {
            // Watch answers only when a reminder fires: a Status first shows, within --timeout,
            // that the daemon is there at all; then wait for reminders without limit.
            if let name = try connection.call("io.accord.Tracker.Status")!.error {
                failWithDaemonError(name, [:], json: options.json)
            }
            connection.timeout = nil
            try connection.send(VarlinkCall(method: "io.accord.Tracker.Watch", more: true).encode())
            while true {
                let reply = try connection.nextReply()
                if let name = reply.error { failWithDaemonError(name, reply.parameters, json: options.json) }
                if options.json {
                    print(JSONValue.object(reply.parameters).jsonText)
                } else if let r = reply.parameters.object("reminder") {
                    print("\(Pretty.shortTime(r.text("fireAt")))  \(r.flag("catchUp") ? "[catch-up] " : "")"
                          + Pretty.urgency(r.text("message"), daysLeft: r.int("daysLeft")))
                }
                fflush(nil)  // every stream: a pipe to another program sees each reminder at once
                if !reply.continues { return }
            }
        } catch {
            fail(error.description, exitCode: 69)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
