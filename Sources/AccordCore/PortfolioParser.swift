import AccordCalendar
import TOMLKit

/// Reads one portfolio file (DESIGN §3) into a `Portfolio`, reporting every problem.
public enum PortfolioParser {
    static let dialogueKeys = ["id", "title", "parties", "established", "time-zone", "remind-at", "reminders", "overdue-every"]
    static let overrideKeys = ["reminders", "time-zone", "remind-at", "overdue-every"]
    static let objectiveKeys = ["id", "title", "due", "status"] + overrideKeys
    static let instrumentKeys = ["id", "kind", "title", "parties", "sign-by", "term", "in-force", "notice"] + overrideKeys

    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the path to name in problems.
    public static func parse(_ text: String, file: String) throws(ConfigProblems) -> Portfolio {
        let root = try parseTOML(text, file: file)
        let lines = SourceLines(text: text)
        var problems: [ConfigProblem] = []
        let top = TableReader(table: root, file: file, path: "", section: "", lines: lines)

        var dialogue: Dialogue?
        if let value = top.value("dialogue") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "dialogue", section: "dialogue", lines: lines)
                dialogue = readDialogue(reader, file: file)
                problems += reader.problems
            } else {
                top.problem("dialogue", "must be a table: [dialogue]")
            }
        } else {
            top.problem(nil, "the [dialogue] table is missing; it needs at least id, title and time-zone")
        }

        var items: [Item] = []
        var seen: [String: Int?] = [:]
        for kind in ["objective", "instrument"] {
            guard let value = top.value(kind) else { continue }
            guard let array = value.array else {
                top.problem(kind, "must be an array of tables: [[\(kind)]]")
                continue
            }
            for (index, element) in array.enumerated() {
                let section = "\(kind)#\(index)"
                guard let table = element.table else {
                    top.problem(kind, "entry \(index + 1) must be a table: [[\(kind)]]")
                    continue
                }
                let name = table["id"]?.string.map { "\(kind) \"\($0)\"" } ?? "\(kind) #\(index + 1)"
                let reader = TableReader(table: table, file: file, path: name, section: section, lines: lines)
                let item = kind == "objective"
                    ? readObjective(reader, dialogue: dialogue, file: file)
                    : readInstrument(reader, dialogue: dialogue, file: file)
                if let item {
                    if let first = seen[item.localID] {
                        reader.problem("id", "id \"\(item.localID)\" is used twice in this file (first at line \(first.map(String.init) ?? "?"))")
                    } else {
                        seen[item.localID] = item.source.line
                        items.append(item)
                    }
                }
                problems += reader.problems
            }
        }
        top.rejectUnknownKeys(allowed: ["[dialogue]", "[[objective]]", "[[instrument]]"])
        problems = top.problems + problems
        guard problems.isEmpty, let dialogue else {
            throw ConfigProblems(problems.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        return Portfolio(dialogue: dialogue, items: items, file: file)
    }

    private static func readDialogue(_ reader: TableReader, file: String) -> Dialogue? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        let parties = reader.strings("parties") ?? []
        let established = reader.date("established")
        let zone: Zone?
        if reader.table["time-zone"] == nil {
            reader.problem("time-zone", "is required: the IANA zone in which dates are read, e.g. \"America/Toronto\"")
            _ = reader.value("time-zone")
            zone = nil
        } else {
            zone = reader.zone("time-zone")
        }
        let remindAt = reader.time("remind-at") ?? .nineAM
        let leads = reader.durations("reminders") ?? ReminderSettings.defaultLeads
        let overdue = checkedOverdue(reader)
        reader.rejectUnknownKeys(allowed: dialogueKeys)
        guard let id, let title, let zone, reader.problems.isEmpty else { return nil }
        return Dialogue(id: id, title: title, parties: parties, established: established,
                        settings: ReminderSettings(zone: zone, remindAt: remindAt, leads: leads, overdueEvery: overdue),
                        source: SourceLocation(file: file, line: reader.lines.line(section: "dialogue")))
    }

    private static func checkedOverdue(_ reader: TableReader) -> ISODuration? {
        guard let every = reader.duration("overdue-every") else { return nil }
        if every.isZero {
            reader.problem("overdue-every", "must be longer than zero (e.g. P7D)")
            return nil
        }
        return every
    }

    /// The dialogue's settings with the item's overrides applied.
    private static func settings(_ reader: TableReader, dialogue: Dialogue?) -> ReminderSettings? {
        let zone = reader.zone("time-zone") ?? dialogue?.settings.zone
        let remindAt = reader.time("remind-at") ?? dialogue?.settings.remindAt ?? .nineAM
        let leads = reader.durations("reminders") ?? dialogue?.settings.leads ?? ReminderSettings.defaultLeads
        let overdue = reader.table["overdue-every"] != nil ? checkedOverdue(reader) : dialogue?.settings.overdueEvery
        guard let zone else { return nil }
        return ReminderSettings(zone: zone, remindAt: remindAt, leads: leads, overdueEvery: overdue)
    }

    private static func readObjective(_ reader: TableReader, dialogue: Dialogue?, file: String) -> Item? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        let settings = settings(reader, dialogue: dialogue)
        let due = reader.deadline("due", zone: settings?.zone)
        var status: ObjectiveStatus = .open
        if let text = reader.string("status") {
            if let parsed = ObjectiveStatus(rawValue: text) {
                status = parsed
            } else {
                reader.problem("status", "\"\(text)\" is not a status; allowed: open, in-progress, done, dropped")
            }
        }
        reader.rejectUnknownKeys(allowed: objectiveKeys)
        guard let id, let title, let settings, let dialogue, reader.problems.isEmpty else { return nil }
        return Item(dialogueID: dialogue.id, localID: id, kind: .objective, title: title, settings: settings,
                    source: SourceLocation(file: file, line: reader.lines.line(section: reader.section)),
                    due: due, status: status)
    }

    private static func readInstrument(_ reader: TableReader, dialogue: Dialogue?, file: String) -> Item? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        var kind: ItemKind?
        if let text = reader.string("kind", required: true) {
            kind = ItemKind(rawValue: text).flatMap { $0.isInstrument ? $0 : nil }
            if kind == nil { reader.problem("kind", "\"\(text)\" is not an instrument kind; allowed: treaty, agreement, mou, arrangement") }
        }
        let parties = reader.strings("parties") ?? []
        let settings = settings(reader, dialogue: dialogue)
        let signBy = reader.deadline("sign-by", zone: settings?.zone)
        let term = reader.duration("term")
        let inForce = reader.date("in-force")
        let notice = reader.duration("notice")
        if let term {
            if term.hasTimePart || term.isZero {
                reader.problem("term", "must be a whole number of years, months, weeks or days (e.g. P1Y)")
            }
        }
        if inForce != nil, term == nil, reader.table["term"] == nil {
            reader.problem("in-force", "is set but term is missing: without a term there is no expiry to watch (add e.g. term = \"P1Y\")")
        }
        if let notice {
            if notice.hasTimePart || notice.isZero {
                reader.problem("notice", "must be a whole number of years, months, weeks or days (e.g. P90D)")
            } else if let term {
                if reader.table["term"] != nil, notice.approximateSeconds >= term.approximateSeconds {
                    reader.problem("notice", "\(notice) is not shorter than the term \(term)")
                }
            } else if reader.table["term"] == nil {
                reader.problem("notice", "is set but term is missing: the renewal notice is counted back from the expiry")
            }
        }
        reader.rejectUnknownKeys(allowed: instrumentKeys)
        guard let id, let title, let kind, let settings, let dialogue, reader.problems.isEmpty else { return nil }
        return Item(dialogueID: dialogue.id, localID: id, kind: kind, title: title, parties: parties,
                    settings: settings, source: SourceLocation(file: file, line: reader.lines.line(section: reader.section)),
                    signBy: signBy, term: term, inForce: inForce, notice: notice)
    }
}
