import AccordCalendar
import AccordTOML

/// Reads one portfolio file (docs/contracts.md §3) into a `Portfolio`, reporting every problem.
public enum PortfolioParser {
    static let dialogueKeys = [
        "id", "title", "parties", "established", "established-until", "inaugural-meeting", "venue",
        "co-chairs", "description", "owner", "contacts", "default-basis", "time-zone", "remind-at",
        "reminders", "overdue-every", "overdue-for", "business-days", "adjust"
    ]
    static let overrideKeys = [
        "reminders", "time-zone", "remind-at", "overdue-every", "overdue-for", "business-days", "adjust", "owner", "contacts",
        "description"
    ]
    static let objectiveKeys = ["id", "title", "due", "every", "first", "until", "status", "fulfilled-by"] + overrideKeys
    static let instrumentKeys =
        [
            "id", "kind", "title", "parties", "sign-by", "term", "in-force", "notice", "adopted",
            "renews", "supersedes", "auto-renew", "enters-into-force"
        ] + overrideKeys

    /// - Parameters:
    ///   - text: the file's contents.
    ///   - file: the path to name in problems.
    ///   - calendars: the calendar files loaded (§12), by id: what `business-days` may name.
    public static func parse(
        _ text: String, file: String, calendars: [String: BusinessCalendar] = [:]
    ) throws(ConfigProblems) -> Portfolio {
        let context = Context(calendars: calendars)
        let root = try parseTOML(text, file: file)
        let lines = SourceLines(text: text)
        var problems: [ConfigProblem] = []
        let top = TableReader(table: root, file: file, path: "", section: "", lines: lines)

        var dialogue: Dialogue?
        if let value = top.value("dialogue") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "dialogue", section: "dialogue", lines: lines)
                dialogue = readDialogue(reader, file: file, context: context)
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
                let item =
                    kind == "objective"
                    ? readObjective(reader, dialogue: dialogue, file: file, context: context)
                    : readInstrument(reader, dialogue: dialogue, file: file, context: context)
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

    /// What every table of one file is read against.
    struct Context {
        var calendars: [String: BusinessCalendar]
    }

    private static func readDialogue(_ reader: TableReader, file: String, context: Context) -> Dialogue? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        let parties = reader.strings("parties") ?? []
        var defaultBasis = Basis.planned
        if let text = reader.string("default-basis") {
            if let parsed = Basis(rawValue: text), Basis.inFiles.contains(parsed) {
                defaultBasis = parsed
            } else {
                reader.problem("default-basis", "\"\(text)\" is not a basis; allowed: statement, confirmed, planned, assumed")
            }
        }
        var provenance: [String: Provenance] = [:]
        func dated(_ key: String) -> CivilDate? {
            guard let found = reader.provenanced(key, valueKey: "date", defaultBasis: defaultBasis, { $0.date($1) }) else { return nil }
            provenance[key] = found.provenance
            return found.value
        }
        let established = dated("established")
        let establishedUntil = dated("established-until")
        if let established, let establishedUntil, establishedUntil < established {
            reader.problem("established-until", "\(establishedUntil) is before established (\(established))")
        }
        let inaugural = dated("inaugural-meeting")
        let venue = reader.string("venue")
        let coChairs = reader.strings("co-chairs") ?? []
        let description = reader.string("description")
        let owner = reader.string("owner")
        let contacts = reader.strings("contacts") ?? []
        let zone: Zone?
        if reader.table["time-zone"] == nil {
            reader.problem("time-zone", "is required: the IANA zone in which dates are read, e.g. \"America/Toronto\"")
            _ = reader.value("time-zone")
            zone = nil
        } else {
            zone = reader.zone("time-zone")
        }
        let remindAt = reader.time("remind-at") ?? .nineAM
        let leads = self.leads(reader) ?? ReminderSettings.defaultLeads
        let overdue = checkedOverdue(reader)
        let overdueFor = checkedOverdueFor(reader) ?? ReminderSettings.defaultOverdueFor
        let businessDays = self.businessDays(reader, context) ?? BusinessDays([])
        let adjust = self.adjustment(reader) ?? .none
        reader.rejectUnknownKeys(allowed: dialogueKeys)
        guard let id, let title, let zone, reader.problems.isEmpty else { return nil }
        var dialogue = Dialogue(
            id: id, title: title, parties: parties, established: established,
            settings: ReminderSettings(
                zone: zone, remindAt: remindAt, leads: leads, overdueEvery: overdue,
                overdueFor: overdueFor, businessDays: businessDays, adjust: adjust),
            source: SourceLocation(file: file, line: reader.lines.line(section: "dialogue")))
        dialogue.defaultBasis = defaultBasis
        dialogue.provenance = provenance
        dialogue.establishedUntil = establishedUntil
        dialogue.inauguralMeeting = inaugural
        dialogue.venue = venue
        dialogue.coChairs = coChairs
        dialogue.description = description
        dialogue.owner = owner
        dialogue.contacts = contacts
        return dialogue
    }

    private static func checkedOverdueFor(_ reader: TableReader) -> ISODuration? {
        guard let length = reader.duration("overdue-for") else { return nil }
        if length.isZero {
            reader.problem("overdue-for", "must be longer than zero (e.g. P180D)")
            return nil
        }
        return length
    }

    /// Owner, contacts and description, which every item may set and inherits from its dialogue.
    private static func apply(common reader: TableReader, dialogue: Dialogue, to item: inout Item) {
        item.owner = reader.string("owner") ?? dialogue.owner
        item.contacts = reader.strings("contacts") ?? dialogue.contacts
        item.description = reader.string("description")
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
    private static func settings(_ reader: TableReader, dialogue: Dialogue?, context: Context) -> ReminderSettings? {
        let zone = reader.zone("time-zone") ?? dialogue?.settings.zone
        let remindAt = reader.time("remind-at") ?? dialogue?.settings.remindAt ?? .nineAM
        let leads = self.leads(reader) ?? dialogue?.settings.leads ?? ReminderSettings.defaultLeads
        let overdue = reader.table["overdue-every"] != nil ? checkedOverdue(reader) : dialogue?.settings.overdueEvery
        let overdueFor = checkedOverdueFor(reader) ?? dialogue?.settings.overdueFor ?? ReminderSettings.defaultOverdueFor
        let businessDays = self.businessDays(reader, context) ?? dialogue?.settings.businessDays ?? BusinessDays([])
        let adjust = adjustment(reader) ?? dialogue?.settings.adjust ?? .none
        guard let zone else { return nil }
        return ReminderSettings(
            zone: zone, remindAt: remindAt, leads: leads, overdueEvery: overdue, overdueFor: overdueFor,
            businessDays: businessDays, adjust: adjust)
    }

    /// `enters-into-force = { after = "P30D", from = "last-notification" }` (§13), which may say
    /// what it rests on (`basis`, `source`) like any dated value.
    private static func readEntryIntoForce(_ reader: TableReader, file: String, basis: Basis) -> (after: ISODuration, provenance: Provenance)? {
        guard let value = reader.value("enters-into-force") else { return nil }
        guard let table = value.table else {
            reader.problem("enters-into-force", "must be a table: { after = \"P30D\", from = \"last-notification\" }")
            return nil
        }
        let sub = TableReader(
            table: table, file: file, path: reader.path + " › enters-into-force", section: reader.section,
            lines: reader.lines, fixedLine: reader.location("enters-into-force").line)
        let after = sub.duration("after")
        if sub.table["after"] == nil { sub.problem("after", "is required: how long after the last notification, e.g. \"P30D\"") }
        if let after, after.hasTimePart { sub.problem("after", "must be whole days, weeks, months or years (e.g. P30D)") }
        if let from = sub.string("from"), from != "last-notification" {
            sub.problem("from", "\"\(from)\" is not allowed; the only one is \"last-notification\"")
        }
        var provenance = Provenance(basis: basis)
        if let text = sub.string("basis") {
            if let parsed = Basis(rawValue: text), Basis.inFiles.contains(parsed) {
                provenance.basis = parsed
            } else {
                sub.problem("basis", "\"\(text)\" is not a basis; allowed: statement, confirmed, planned, assumed")
            }
        }
        provenance.source = sub.string("source")
        sub.rejectUnknownKeys(allowed: ["after", "from", "basis", "source"])
        let ok = sub.problems.isEmpty
        reader.absorb(sub)
        guard ok, let after else { return nil }
        return (after, provenance)
    }

    /// `every`, `first` and optional `until` (§13), with what each rests on.
    private static func readRecurrence(
        _ reader: TableReader, basis: Basis, zone: Zone?, hasDue: Bool
    ) -> (value: Recurrence, provenance: [String: Provenance])? {
        let has = ["every", "first", "until"].filter { reader.table[$0] != nil }
        guard !has.isEmpty else { return nil }
        var provenance: [String: Provenance] = [:]
        func read<T>(_ key: String, _ valueKey: String, _ body: (TableReader, String) -> T?) -> T? {
            guard let found = reader.provenanced(key, valueKey: valueKey, defaultBasis: basis, body) else { return nil }
            provenance[key] = found.provenance
            return found.value
        }
        let every = read("every", "duration") { $0.duration($1) }
        let first = read("first", "date") { $0.deadline($1, zone: zone) }
        let until = read("until", "date") { $0.deadline($1, zone: zone) }
        if hasDue {
            reader.problem("every", "a recurring objective has no due: its occurrences are counted from first (remove due, or every/first/until)")
            return nil
        }
        if reader.table["every"] == nil {
            reader.problem(has[0], "needs every: how often the objective recurs, e.g. every = \"P1Y\"")
            return nil
        }
        if reader.table["first"] == nil {
            reader.problem("every", "needs first: the date (or date-time) of the first occurrence")
            return nil
        }
        guard let every, let first else { return nil }
        if every.approximateSeconds < 86_400 {
            reader.problem("every", "must be at least a day (P1D); \(every) would be more reminders than anyone reads")
            return nil
        }
        if let until, let zone, Recurrence.compare(until, first, zone) < 0 {
            reader.problem("until", "\(until) is before first (\(first))")
            return nil
        }
        return (Recurrence(every: every, first: first, until: until), provenance)
    }

    /// `reminders`: ISO 8601 durations or business days (`"5BD"`), none twice.
    private static func leads(_ reader: TableReader) -> [Lead]? {
        guard let texts = reader.strings("reminders") else { return nil }
        var result: [Lead] = []
        var ok = true
        for text in texts {
            do throws(CalendarError) {
                let lead = try Lead(parsing: text)
                if result.contains(lead) {
                    reader.problem("reminders", "\"\(text)\" is listed twice")
                    ok = false
                }
                result.append(lead)
            } catch {
                reader.problem("reminders", error.description)
                ok = false
            }
        }
        return ok ? result : nil
    }

    /// `business-days = ["ca", "cn"]`: ids of loaded calendar files (§12), none twice.
    private static func businessDays(_ reader: TableReader, _ context: Context) -> BusinessDays? {
        guard let ids = reader.strings("business-days") else { return nil }
        var calendars: [BusinessCalendar] = []
        for id in ids {
            guard let calendar = context.calendars[id] else {
                let known = context.calendars.keys.sorted()
                reader.problem(
                    "business-days",
                    "no calendar file defines \"\(id)\" ("
                        + (known.isEmpty
                            ? "no calendar is loaded: list the files or folders in accordd.toml's calendars"
                            : "loaded: \(known.joined(separator: ", "))") + ")")
                return nil
            }
            if calendars.contains(where: { $0.id == id }) {
                reader.problem("business-days", "\"\(id)\" is listed twice")
                return nil
            }
            calendars.append(calendar)
        }
        return BusinessDays(calendars)
    }

    private static func adjustment(_ reader: TableReader) -> Adjustment? {
        guard let text = reader.string("adjust") else { return nil }
        guard let rule = Adjustment(rawValue: text) else {
            reader.problem(
                "adjust", "\"\(text)\" is not an adjustment; allowed: \(Adjustment.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return rule
    }

    /// §12: a deadline date outside a listed calendar's years is an error at `check`, at the
    /// line of the key that gives it (a date counted from others, at the first of them).
    private static func checkCoverage(_ date: CivilDate, key: String, subject: String, _ settings: ReminderSettings?, _ reader: TableReader) {
        guard let settings, !settings.businessDays.isEveryDay else { return }
        do throws(CoverageError) {
            _ = try settings.businessDays.adjust(date, settings.adjust)
        } catch {
            if error.date == date {
                reader.problem(key, error.describing(subject))
            } else {
                reader.problem(
                    key,
                    "calendar \(error.calendar) covers \(error.yearsText); \(subject) \(date) moves \(settings.adjust.rawValue) past \(error.date), outside"
                )
            }
        }
    }

    private static func readObjective(_ reader: TableReader, dialogue: Dialogue?, file: String, context: Context) -> Item? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        let settings = settings(reader, dialogue: dialogue, context: context)
        let basis = dialogue?.defaultBasis ?? .planned
        let due = reader.provenanced("due", valueKey: "date", defaultBasis: basis) { $0.deadline($1, zone: settings?.zone) }
        let recurrence = readRecurrence(reader, basis: basis, zone: settings?.zone, hasDue: due != nil || reader.table["due"] != nil)
        var fulfilledBy: FulfilledBy?
        if let value = reader.value("fulfilled-by") {
            if let table = value.table {
                let sub = TableReader(
                    table: table, file: file, path: reader.path + " › fulfilled-by", section: reader.section,
                    lines: reader.lines, fixedLine: reader.location("fulfilled-by").line)
                let target = sub.string("item", required: true)
                var event: EventType?
                if let text = sub.string("event", required: true) {
                    event = EventType(rawValue: text).flatMap { $0.isForObjectives ? nil : $0 }
                    if event == nil {
                        sub.problem(
                            "event",
                            "\"\(text)\" is not an instrument event; allowed: \(EventType.forKind(.mou).map(\.rawValue).joined(separator: ", "))")
                    }
                }
                sub.rejectUnknownKeys(allowed: ["item", "event"])
                reader.absorb(sub)
                if let target, let event { fulfilledBy = FulfilledBy(item: target, event: event, source: reader.location("fulfilled-by")) }
            } else {
                reader.problem("fulfilled-by", "must be a table: { item = \"ITEM\", event = \"signed\" }")
            }
        }
        var status: ObjectiveStatus = .open
        if let text = reader.string("status") {
            if let parsed = ObjectiveStatus(rawValue: text) {
                status = parsed
            } else {
                reader.problem("status", "\"\(text)\" is not a status; allowed: open, in-progress, done, dropped")
            }
        }
        var item = Item(
            dialogueID: dialogue?.id ?? "", localID: id ?? "", kind: .objective, title: title ?? "",
            settings: settings ?? ReminderSettings(zone: .utc, leads: [], overdueEvery: nil),
            source: SourceLocation(file: file, line: reader.lines.line(section: reader.section)),
            due: due?.value, status: status)
        if let dialogue { apply(common: reader, dialogue: dialogue, to: &item) }
        reader.rejectUnknownKeys(allowed: objectiveKeys)
        guard id != nil, title != nil, settings != nil, dialogue != nil, reader.problems.isEmpty else { return nil }
        if let due { item.provenance["due"] = due.provenance }
        if let recurrence {
            item.recurrence = recurrence.value
            item.provenance.merge(recurrence.provenance) { $1 }
            if fulfilledBy != nil { reader.problem("fulfilled-by", "a recurring objective (every) is not fulfilled by one instrument event") }
            // The first occurrence outside a calendar's years is reported, not the thousand after it.
            let before = reader.problems.count
            for occurrence in recurrence.value.occurrences(in: item.settings.zone) where reader.problems.count == before {
                if case let .date(date) = occurrence { checkCoverage(date, key: "every", subject: "\(item.fullID) due", settings, reader) }
            }
        }
        if case let .date(date)? = due?.value { checkCoverage(date, key: "due", subject: "\(item.fullID) due", settings, reader) }
        item.fulfilledBy = fulfilledBy
        return item
    }

    private static func readInstrument(_ reader: TableReader, dialogue: Dialogue?, file: String, context: Context) -> Item? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        var kind: ItemKind?
        if let text = reader.string("kind", required: true) {
            kind = ItemKind(rawValue: text).flatMap { $0.isInstrument ? $0 : nil }
            if kind == nil { reader.problem("kind", "\"\(text)\" is not an instrument kind; allowed: treaty, agreement, mou, arrangement") }
        }
        let parties = reader.strings("parties") ?? []
        let settings = settings(reader, dialogue: dialogue, context: context)
        let basis = dialogue?.defaultBasis ?? .planned
        var provenance: [String: Provenance] = [:]
        func read<T>(_ key: String, _ valueKey: String, _ body: (TableReader, String) -> T?) -> T? {
            guard let found = reader.provenanced(key, valueKey: valueKey, defaultBasis: basis, body) else { return nil }
            provenance[key] = found.provenance
            return found.value
        }
        let signBy = read("sign-by", "date") { $0.deadline($1, zone: settings?.zone) }
        let term = read("term", "duration") { $0.duration($1) }
        let inForce = read("in-force", "date") { $0.date($1) }
        let notice = read("notice", "duration") { $0.duration($1) }
        let adopted = read("adopted", "date") { $0.date($1) }
        if adopted != nil, inForce != nil {
            reader.problem("adopted", "is for an instrument without a term (terms of reference); this one has in-force")
        }
        let entry = readEntryIntoForce(reader, file: file, basis: basis)
        if entry != nil, parties.isEmpty, dialogue?.parties.isEmpty ?? true {
            reader.problem("enters-into-force", "needs parties (the instrument's or its dialogue's): one notification is awaited from each")
        }
        let autoRenew = reader.bool("auto-renew") ?? false
        if autoRenew, reader.table["term"] == nil {
            reader.problem("auto-renew", "needs a term: the length of each term that starts at an expiry (e.g. term = \"P1Y\")")
        }
        let renews = reader.string("renews").map { ItemLink(item: $0, source: reader.location("renews")) }
        let supersedes = reader.string("supersedes").map { ItemLink(item: $0, source: reader.location("supersedes")) }
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
        var item = Item(
            dialogueID: dialogue?.id ?? "", localID: id ?? "", kind: kind ?? .mou, title: title ?? "", parties: parties,
            settings: settings ?? ReminderSettings(zone: .utc, leads: [], overdueEvery: nil),
            source: SourceLocation(file: file, line: reader.lines.line(section: reader.section)),
            signBy: signBy, term: term, inForce: inForce, notice: notice)
        if let dialogue { apply(common: reader, dialogue: dialogue, to: &item) }
        reader.rejectUnknownKeys(allowed: instrumentKeys)
        guard id != nil, title != nil, kind != nil, settings != nil, dialogue != nil, reader.problems.isEmpty else { return nil }
        if case let .date(date)? = signBy { checkCoverage(date, key: "sign-by", subject: "\(item.fullID) sign-by", settings, reader) }
        if let inForce, let term {
            let expiry = inForce.adding(term)
            checkCoverage(expiry, key: "in-force", subject: "\(item.fullID) expiry", settings, reader)
            if let notice {
                checkCoverage(expiry.adding(notice, sign: -1), key: "notice", subject: "\(item.fullID) renewal-notice", settings, reader)
            }
        }
        item.adopted = adopted
        item.autoRenew = autoRenew
        item.provenance = provenance
        if let entry {
            item.entersIntoForce = entry.after
            item.notifyingParties = parties.isEmpty ? dialogue?.parties ?? [] : parties
            item.provenance["enters-into-force"] = entry.provenance
        }
        item.renews = renews
        item.supersedes = supersedes
        return item
    }
}
