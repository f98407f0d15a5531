// From the model (AccordCore, AccordStore) to the wire types of io.accord.Tracker
// (AccordProtocol): the one place that says which model value fills which field. The control
// socket and `accordd plan --json` both use these, so the two never disagree.
import AccordCalendar
import AccordCore
import AccordProtocol
import AccordStore

extension Tracker.Reminder {
    /// `catchUp` is set for Watch (a firing) and left out for plans and previews.
    public init(_ reminder: Reminder, catchUp: Bool? = nil) {
        self.init(
            key: reminder.key, item: reminder.itemID, dialogue: reminder.dialogueID, deadline: reminder.deadline.rawValue,
            deadlineAt: reminder.deadlineAt.rfc3339, lead: reminder.lead, fireAt: reminder.fireAt.rfc3339,
            daysLeft: reminder.daysLeft, priority: reminder.priority, message: reminder.message, catchUp: catchUp,
            basis: reminder.basis.rawValue, source: reminder.source, owner: reminder.owner, title: reminder.title)
    }
}

extension Tracker.Digest.Reply {
    init(_ digest: Digest, next: Instant?) {
        self.init(
            at: digest.at.rfc3339, until: digest.until.rfc3339, period: digest.period.description,
            overdue: digest.count(.overdue), lapsed: digest.count(.lapsed), unacknowledged: digest.count(.unacknowledged),
            due: digest.count(.due), summary: digest.summary, text: digest.text,
            lines: digest.lines.map {
                Tracker.DigestLine(
                    section: $0.section.rawValue, item: $0.itemID, title: $0.title, owner: $0.owner, deadline: $0.deadline.rawValue,
                    at: $0.at.rfc3339, text: $0.text)
            },
            nextDigest: next?.rfc3339)
    }
}

extension Tracker.Deadline {
    init(_ deadline: DeadlineStatus) {
        var date: String?
        if case let .date(day) = deadline.time { date = day.description }
        self.init(
            kind: deadline.kind.rawValue, at: deadline.at.rfc3339, daysLeft: deadline.daysLeft, passed: deadline.passed,
            acknowledged: deadline.acknowledged, date: date, basis: deadline.provenance.basis.rawValue,
            source: deadline.provenance.source, projected: deadline.projected ? true : nil, lapsed: deadline.lapsed ? true : nil,
            written: deadline.written?.description)
    }
}

extension Tracker.Definition {
    init(_ item: Item) {
        let settings = item.settings
        self.init(
            file: item.source.description, title: item.title, kind: item.kind.rawValue, parties: item.parties,
            timeZone: settings.zone.identifier, remindAt: settings.remindAt.description,
            reminders: settings.leads.map(\.description), overdueEvery: settings.overdueEvery?.description,
            due: item.due?.description, status: item.status?.rawValue, signBy: item.signBy?.description,
            term: item.term?.description, inForce: item.inForce?.description, notice: item.notice?.description,
            overdueFor: settings.overdueFor.description, adopted: item.adopted?.description)
        let values: [(String, String?)] = [
            ("due", item.due?.description), ("first", item.recurrence?.first.description),
            ("every", item.recurrence?.every.description), ("until", item.recurrence?.until?.description),
            ("sign-by", item.signBy?.description),
            ("adopted", item.adopted?.description), ("in-force", item.inForce?.description),
            ("term", item.term?.description), ("notice", item.notice?.description)
        ]
        dates = values.compactMap { key, value in
            value.map {
                Tracker.DatedValue(
                    key: key, value: $0, basis: item.provenance(of: key).basis.rawValue,
                    source: item.provenance(of: key).source)
            }
        }
        description = item.description
        recurrence = item.recurrence?.description
        if !settings.businessDays.isEveryDay {
            businessDays = settings.businessDays.ids
            adjust = settings.adjust.rawValue
        }
        owner = item.owner
        contacts = item.contacts.isEmpty ? nil : item.contacts
        fulfilledBy = item.fulfilledBy.map { "\(item.resolve(link: $0.item)) \($0.event.rawValue)" }
        renews = item.renews.map { item.resolve(link: $0.item) }
        supersedes = item.supersedes.map { item.resolve(link: $0.item) }
    }
}

extension Tracker.LedgerEntry {
    init(_ entry: LedgerEntry, reason: String? = nil) {
        self.init(key: entry.key, outcome: entry.outcome.rawValue, at: entry.at.rfc3339, catchUp: entry.catchUp, reason: reason)
    }
}

extension Tracker.Event {
    /// The event a write is about to store, as `init(_:)` will read it back.
    init(id: Int64, _ event: NewEvent, recordedAt: Instant, actor: Actor) {
        self.init(
            id: id, item: event.itemID, event: event.type.rawValue, on: event.on.description, recordedAt: recordedAt.rfc3339,
            uid: Int(actor.uid), user: actor.user, note: event.note, term: event.term?.description, basis: Basis.recorded.rawValue,
            party: event.party)
    }

    init(_ event: StoredEvent) {
        self.init(
            id: event.id, item: event.itemID, event: event.type.rawValue, on: event.on.description,
            recordedAt: event.recordedAt.rfc3339, uid: Int(event.uid), user: event.user, note: event.note,
            term: event.term?.description, basis: Basis.recorded.rawValue, party: event.party)
    }
}

extension Tracker.AuditEntry {
    init(_ record: AuditRecord) {
        self.init(
            at: record.at.rfc3339, uid: Int(record.uid), user: record.user, action: record.action, detail: record.detail,
            allowed: record.allowed, item: record.item)
    }
}

extension Tracker.AuditChain {
    public init(_ report: ChainReport) {
        self.init(
            table: report.table.rawValue, rows: report.rows, head: report.head, headRow: report.headID, brokenRow: report.broken?.id,
            reason: report.broken?.reason)
    }
}

extension Tracker.ConfigProblem {
    init(_ problem: ConfigProblem) {
        self.init(file: problem.file, key: problem.keyPath, message: problem.message, line: problem.line)
    }
}

extension EngineError {
    /// The Varlink error a client gets for this failure.
    var varlinkError: VarlinkError {
        switch self {
        case let .noSuchItem(id): return Tracker.NoSuchItem(id: id).varlinkError
        case let .ambiguousItem(id, candidates): return Tracker.AmbiguousItem(id: id, candidates: candidates).varlinkError
        case let .invalidEvent(refusal): return refusal.varlinkError
        case let .invalidParameter(name, _): return .invalidParameter(name)
        case let .storage(store): return Tracker.StateUnavailable(reason: store.description).varlinkError
        case let .notActive(method, activeHost): return Tracker.NotActive(method: method, activeHost: activeHost).varlinkError
        }
    }
}
