// The daemon as the control channel sees it (TrackerBackend): reads go to the engine, writes go
// to the engine and then re-arm the one timer, audits go to the store and the journal.
import AccordCalendar
import AccordCore
import AccordStore

extension Daemon: TrackerBackend {
    var now: Instant { engine.now }
    var configuration: LoadedConfiguration { engine.configuration }
    var plan: ReminderPlan { engine.plan }
    var stateFile: String { engine.store.path }
    var ledgerCounts: [LedgerEntry.Outcome: Int] { engine.ledgerCounts }
    var election: (role: Role, activeHost: String?) { (role, activeHost) }
    func peekNext() -> Reminder? { engine.peekNext() }
    var statusFacts: StatusFacts {
        // Each field read where it lies: a `let catalog` here copied the catalog's arrays.
        let counts = engine.ledgerCounts
        return StatusFacts(
            startedAt: startedAt, now: engine.now, configFile: engine.configuration.configFile, stateFile: engine.store.path,
            portfolios: engine.configuration.catalog.portfolioCount, objectives: engine.configuration.catalog.objectiveCount,
            instruments: engine.configuration.catalog.instrumentCount,
            fired: counts[.fired] ?? 0, skipped: counts[.skipped] ?? 0, missed: counts[.missed] ?? 0,
            nextReminder: engine.peekNext(), role: role, activeHost: activeHost)
    }
    var digestAt: Instant? { engine.digestAt }
    func resolve(_ id: String) throws(EngineError) -> Int { try engine.resolve(id) }

    func ledger(item: String) throws(EngineError) -> [LedgerEntry] {
        do { return try engine.store.ledger(item: item) } catch { throw .storage(error) }
    }

    func events(item: String) throws(EngineError) -> [StoredEvent] {
        do { return try engine.store.events(item: item) } catch { throw .storage(error) }
    }

    func auditTrail(item: String?, since: Instant?) throws(EngineError) -> [AuditRecord] {
        do { return try engine.store.auditTrail(item: item, since: since) } catch { throw .storage(error) }
    }

    func missedReasons(item: String) throws(EngineError) -> [String: String] {
        do { return try engine.store.missedReasons(item: item) } catch { throw .storage(error) }
    }

    func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(EngineError) -> AuditPage {
        do { return try engine.store.auditPage(item: item, since: since, after: after, limit: limit) } catch { throw .storage(error) }
    }

    func verifyChains() throws(EngineError) -> [ChainReport] {
        do { return try engine.store.verifyChains() } catch { throw .storage(error) }
    }

    func calendar(_ filter: CalendarExport.Filter) -> String {
        let now = engine.now
        let entries = CalendarExport.entries(engine.plan, at: now, filter: filter)
        return calendar?.calendar(entries, plan: engine.plan, at: now) ?? CalendarExport.calendar(entries, plan: engine.plan, at: now)
    }

    func record(
        id: String, event: String, on: CivilDate?, note: String?, term: ISODuration?, party: String?,
        actor: Actor, request: String?
    ) throws(EngineError) -> (event: StoredEvent, state: ItemState) {
        try requireActive("Record")
        defer { armTimer() }
        return try engine.record(id: id, event: event, on: on, note: note, term: term, party: party, actor: actor, request: request)
    }

    func acknowledge(id: String, deadline: String?, actor: Actor, request: String?) throws(EngineError) -> (item: Item, deadline: DeadlineStatus) {
        try requireActive("Acknowledge")
        defer { armTimer() }
        return try engine.acknowledge(id: id, deadline: deadline, actor: actor, request: request)
    }

    func snooze(id: String, for duration: ISODuration, actor: Actor, request: String?) throws(EngineError) -> (item: Item, until: Instant) {
        try requireActive("Snooze")
        defer { armTimer() }
        return try engine.snooze(id: id, for: duration, actor: actor, request: request)
    }

    func priorReply(request: String, action: String, actor: Actor) throws(EngineError) -> String? {
        try engine.priorReply(request: request, action: action, actor: actor)
    }

    func audit(_ line: AuditLine) {
        let now = engine.now
        let peer = line.peer
        if line.storeToo {
            do {
                try engine.store.audit(
                    at: now, actor: Actor(uid: peer.uid, user: peer.user), action: line.action, item: line.item,
                    detail: line.detail, allowed: line.allowed)
            } catch {
                logger.error("cannot write the audit trail", metadata: ["ERROR": "\(error)"])
            }
        }
        var fields: [(String, String)] = [
            ("ACCORD_ACTION", line.action), ("ACCORD_UID", String(peer.uid)), ("ACCORD_USER", peer.user),
            ("ACCORD_PID", String(peer.pid)), ("ACCORD_ALLOWED", line.allowed ? "1" : "0"),
            ("ACCORD_AT", now.rfc3339)
        ]
        if let item = line.item { fields.append(("ACCORD_ITEM", item)) }
        // The chains' heads once the line is stored (docs/design.md §7): a copy of the history
        // outside the database, which a rewritten trail cannot match.
        if let heads = try? engine.store.chainHeads() {
            if let head = heads.audit, let id = heads.auditID { fields += [("ACCORD_AUDIT_HEAD", head), ("ACCORD_AUDIT_ROW", String(id))] }
            if let head = heads.event, let id = heads.eventID { fields += [("ACCORD_EVENT_HEAD", head), ("ACCORD_EVENT_ROW", String(id))] }
        }
        let subject = line.item.map { " \($0)" } ?? ""
        journal.send(
            JournalEntry(
                message: "\(peer.user) (uid \(peer.uid)) \(line.allowed ? "" : "was refused: ")\(line.action)\(subject): \(line.detail)",
                priority: line.allowed ? 5 : 4, messageID: MessageID.eventRecorded, fields: fields))
    }
}
