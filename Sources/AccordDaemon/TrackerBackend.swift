// What the control channel may ask of the daemon, and nothing more: read the plan and the
// ledger, make the three writes, reload, and write the audit trail. The daemon implements it;
// TrackerService sees only this protocol, so the service cannot reach the timer, the store or
// the socket behind the engine's back, and a test can stand in for the daemon.
import AccordCalendar
import AccordCore
import AccordStore

protocol TrackerBackend: AnyObject {
    /// The engine's clock.
    var now: Instant { get }
    var startedAt: Instant { get }
    var configuration: LoadedConfiguration { get }
    var plan: ReminderPlan { get }
    var stateFile: String { get }
    var ledgerCounts: [LedgerEntry.Outcome: Int] { get }
    /// single, active or standby, and the active daemon's name (docs/contracts.md §15).
    var election: (role: Role, activeHost: String?) { get }
    func peekNext() -> Reminder?
    func resolve(_ id: String) throws(EngineError) -> Int

    func ledger(item: String) throws(EngineError) -> [LedgerEntry]
    func events(item: String) throws(EngineError) -> [StoredEvent]
    func auditTrail(item: String?, since: Instant?) throws(EngineError) -> [AuditRecord]
    /// The deadlines as iCalendar text, with the revisions of the subscription file.
    func calendar(_ filter: CalendarExport.Filter) -> String

    /// The writes re-plan and re-arm the timer before they return.
    func record(
        id: String, event: String, on: CivilDate?, note: String?, term: ISODuration?,
        actor: Actor
    ) throws(EngineError) -> (event: StoredEvent, state: ItemState)
    func acknowledge(id: String, deadline: String?, actor: Actor) throws(EngineError) -> (item: Item, deadline: DeadlineStatus)
    func snooze(id: String, for duration: ISODuration, actor: Actor) throws(EngineError) -> (item: Item, until: Instant)
    /// Re-reads the configuration; the problems, none when it was taken.
    func reload() -> [ConfigProblem]

    /// A line in the audit table (unless the engine wrote it with the change) and an entry in the journal.
    func audit(_ entry: AuditLine)
}

/// One audited write or refused write, as the service describes it.
struct AuditLine {
    var action: String
    var item: String?
    var detail: String
    var allowed: Bool
    var peer: Peer
    /// False when the engine already stored the line in the same transaction as the change.
    var storeToo = true
}
