// What the control channel may ask of the daemon, and nothing more: read the plan and the
// ledger, make the three writes, reload, and write the audit trail. The daemon implements it;
// TrackerService sees only this protocol, so the service cannot reach the timer, the store or
// the socket behind the engine's back, and a test can stand in for the daemon.
import AccordCalendar
import AccordCore
import AccordStore

/// Everything a Status reply reports, read in one call: equal facts make the same reply, so
/// TrackerService encodes it again only when one of these changed (each second, at least, for
/// `now`).
struct StatusFacts: Equatable {
    var startedAt: Instant
    var now: Instant
    var configFile: String
    var stateFile: String
    var portfolios: Int
    var objectives: Int
    var instruments: Int
    var fired: Int
    var skipped: Int
    var missed: Int
    var nextReminder: Reminder?
    var role: Role
    var activeHost: String?
}

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
    /// One read for Status: through this protocol each property read copies what it returns
    /// (the whole configuration, for one file name), which Status, called thousands of times a
    /// second by pollers, should not pay eight times a call.
    var statusFacts: StatusFacts { get }
    /// When the next digest is written; nil without `digest` (docs/contracts.md §14).
    var digestAt: Instant? { get }
    func resolve(_ id: String) throws(EngineError) -> Int

    func ledger(item: String) throws(EngineError) -> [LedgerEntry]
    func events(item: String) throws(EngineError) -> [StoredEvent]
    /// Why the item's missed reminders were missed, where the daemon knows (by key).
    func missedReasons(item: String) throws(EngineError) -> [String: String]
    func auditTrail(item: String?, since: Instant?) throws(EngineError) -> [AuditRecord]
    /// One page of it (History): at most `limit` rows after audit row `after`.
    func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(EngineError) -> AuditPage
    /// The event and audit hash chains, walked (docs/design.md §7).
    func verifyChains() throws(EngineError) -> [ChainReport]
    /// The deadlines as iCalendar text, with the revisions of the subscription file.
    func calendar(_ filter: CalendarExport.Filter) -> String

    /// The writes re-plan and re-arm the timer before they return.
    /// `request`: the client's id for the write, kept with it (see `priorReply`).
    func record(
        id: String, event: String, on: CivilDate?, note: String?, term: ISODuration?, party: String?,
        actor: Actor, request: String?
    ) throws(EngineError) -> (event: StoredEvent, state: ItemState)
    func acknowledge(id: String, deadline: String?, actor: Actor, request: String?) throws(EngineError) -> (item: Item, deadline: DeadlineStatus)
    func snooze(id: String, for duration: ISODuration, actor: Actor, request: String?) throws(EngineError) -> (item: Item, until: Instant)
    /// The reply (JSON) of the write made with this request id, if any.
    func priorReply(request: String, action: String, actor: Actor) throws(EngineError) -> String?
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
