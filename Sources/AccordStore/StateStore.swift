import AccordCalendar
import AccordCore

/// What the daemon remembers across restarts (docs/design.md §2, §15): when each item was first
/// loaded, the append-only events, the reminder ledger, acknowledgements, snoozes and the audit
/// trail. One protocol, two implementations with the same schema: `SQLiteStateStore` (an embedded
/// file, the default) and `PostgresStateStore` (`[state] url` in accordd.toml, for several hosts
/// sharing one database). Every write returns only once committed.
public protocol StateStore: AnyObject, Sendable {
    /// Where the state lives, for messages and Status: the file, or the URL (never with a password).
    var path: String { get }
    /// The schema version this database is at (`StateSchema.version` once opened).
    func schemaVersion() throws(StoreError) -> Int
    func close() throws(StoreError)

    /// When each item was first loaded; items seen for the first time get `now`.
    func registerItems(_ ids: [String], now: Instant) throws(StoreError) -> [String: Instant]
    /// Everything the planner takes into account.
    func history() throws(StoreError) -> History
    func events(item: String) throws(StoreError) -> [StoredEvent]
    /// Appends an event and its audit line in one transaction; with a request, its id and reply
    /// on the audit line (a second write with the same id fails: the id is unique).
    func append(_ event: NewEvent, actor: Actor, at now: Instant, request: WriteRequest?) throws(StoreError) -> StoredEvent
    func acknowledge(_ ack: Acknowledgement, actor: Actor, request: WriteRequest?) throws(StoreError)
    func snooze(_ snooze: Snooze, actor: Actor, request: WriteRequest?) throws(StoreError)
    /// The write made with this request id, if any: who made it, which, and what it answered.
    func requestOutcome(_ id: String) throws(StoreError) -> RequestOutcome?
    func audit(at now: Instant, actor: Actor, action: String, item: String?, detail: String, allowed: Bool) throws(StoreError)
    func auditTrail(item: String?, since: Instant?) throws(StoreError) -> [AuditRecord]
    /// At most `limit` rows of the audit trail after row `after`, oldest first, and the last
    /// row's id when more follow (History's pages).
    func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(StoreError) -> AuditPage

    /// Claims reminders before they go to the journal: returns the keys not in the ledger
    /// yet, now recorded as pending. A key already present is never fired again.
    func claim(_ entries: [LedgerEntry]) throws(StoreError) -> Set<String>
    /// Marks claimed reminders as written to the journal, and everything before
    /// `processedThrough` as dealt with (the checkpoint never moves backwards).
    func settle(_ keys: [String], processedThrough: Instant?) throws(StoreError)
    /// Reminders claimed whose journal write may not have happened (a crash in between).
    func pendingKeys() throws(StoreError) -> [String]
    /// Forgets a pending claim, so that the reminder can fire again (its journal entry never made it).
    func release(_ keys: [String]) throws(StoreError)
    /// A claimed reminder whose journal write failed every time: recorded missed, with why.
    func markMissed(_ key: String, reason: String, at now: Instant) throws(StoreError)
    func missedReasons(item: String) throws(StoreError) -> [String: String]
    /// Everything up to this instant has been fired, skipped or recorded missed.
    func processedThrough() throws(StoreError) -> Instant?
    func ledger(item: String) throws(StoreError) -> [LedgerEntry]
    func ledgerCounts() throws(StoreError) -> [LedgerEntry.Outcome: Int]
    /// "ok" when the database is sound: SQLite's `PRAGMA integrity_check`; on PostgreSQL (which
    /// checks its own pages) that the server answers and every table of the schema is there.
    func integrityCheck() throws(StoreError) -> String

    /// The newest row of the event and audit hash chains (docs/design.md §7), for the journal.
    func chainHeads() throws(StoreError) -> ChainHeads
    /// Walks both chains in id order, in one consistent snapshot: per table, how many rows
    /// verified, the head, and the first row that does not (docs/design.md §7).
    func verifyChains() throws(StoreError) -> [ChainReport]
}

/// Opens the store the configuration names: PostgreSQL when `[state] url` is set, else the
/// SQLite file at `sqlitePath` (the state directory's state.sqlite).
public func openStateStore(_ state: StateConfig?, sqlitePath: String) throws(StoreError) -> any StateStore {
    if let state { return try PostgresStateStore(state) }
    return try SQLiteStateStore(path: sqlitePath)
}

/// The schema both backends share. Version 1 is the schema accord has had since its first
/// release; SQLite records it in GRDB's `grdb_migrations` table (identifier "v1"), PostgreSQL
/// in `schema_version` (one row per applied version). A new version appends one migration to
/// both lists below, with the same tables and columns. Version 3 adds the hash chains.
public enum StateSchema {
    /// The version this build writes and expects.
    public static let version = 4

    /// Version 3's statements, the same in both dialects.
    static let replies = """
        ALTER TABLE audit ADD COLUMN request TEXT;
        ALTER TABLE audit ADD COLUMN reply TEXT;
        CREATE UNIQUE INDEX audit_request ON audit(request) WHERE request IS NOT NULL;
        ALTER TABLE ledger ADD COLUMN reason TEXT;
        """

    /// The version that adds the hash chains (a `hash` column on event and audit): the stores
    /// fill in the rows already there, in id order, in the same transaction as the columns,
    /// so that an upgraded database verifies.
    static let chainVersion = 4

    /// The tables of the schema, for PostgreSQL's integrity check.
    static let tables = ["item", "event", "ledger", "acknowledgement", "snooze", "audit", "checkpoint"]

    /// SQLite, by version (GRDB migration identifiers "v1", "v2", …).
    static let sqlite: [Int: String] = [
        1: """
        CREATE TABLE item (
            id TEXT PRIMARY KEY NOT NULL,
            first_loaded_at INTEGER NOT NULL
        );
        CREATE TABLE event (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item TEXT NOT NULL,
            type TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            recorded_at INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            user TEXT NOT NULL,
            note TEXT,
            term TEXT
        );
        CREATE INDEX event_item ON event(item);
        CREATE TABLE ledger (
            key TEXT PRIMARY KEY NOT NULL,
            item TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'skipped', 'missed')),
            scheduled_at INTEGER NOT NULL,
            at INTEGER NOT NULL,
            catch_up INTEGER NOT NULL DEFAULT 0,
            -- 1 from just before the journal write until just after: a crash in
            -- between is settled at the next start by asking the journal.
            pending INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ledger_item ON ledger(item);
        CREATE INDEX ledger_pending ON ledger(pending) WHERE pending = 1;
        CREATE TABLE acknowledgement (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item TEXT NOT NULL,
            deadline TEXT NOT NULL,
            deadline_time TEXT NOT NULL,
            at INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            user TEXT NOT NULL
        );
        CREATE TABLE snooze (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item TEXT NOT NULL,
            from_at INTEGER NOT NULL,
            until_at INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            user TEXT NOT NULL
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            user TEXT NOT NULL,
            action TEXT NOT NULL,
            item TEXT,
            detail TEXT NOT NULL,
            allowed INTEGER NOT NULL
        );
        CREATE INDEX audit_item ON audit(item);
        CREATE TABLE checkpoint (
            name TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL
        );
        """,
        // Version 2: the party of a `notified` event (§13 enters-into-force); NULL for others.
        2: "ALTER TABLE event ADD COLUMN party TEXT;",
        // Version 3 (issue 16, defect 8): what is reported is what is stored. A write's
        // client-supplied request id, unique, on its audit row, so that a retry is answered from
        // the first outcome; and why a reminder was recorded missed (its journal write failed).
        3: StateSchema.replies,
        // The hash chains (HashChain.swift): NULL only between a row's insert and the update, in
        // one transaction, since the hash covers the row's id.
        chainVersion: """
        ALTER TABLE event ADD COLUMN hash TEXT;
        ALTER TABLE audit ADD COLUMN hash TEXT;
        """
    ]

    /// PostgreSQL, by version: the same tables, columns and indexes. Seconds are BIGINT (SQLite's
    /// INTEGER is 64-bit), flags stay INTEGER 0/1 as in SQLite, AUTOINCREMENT becomes an identity
    /// column, and `user`, a reserved word in PostgreSQL, is quoted.
    static let postgres: [Int: String] = [
        1: """
        CREATE TABLE item (
            id TEXT PRIMARY KEY NOT NULL,
            first_loaded_at BIGINT NOT NULL
        );
        CREATE TABLE event (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            item TEXT NOT NULL,
            type TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            recorded_at BIGINT NOT NULL,
            uid BIGINT NOT NULL,
            "user" TEXT NOT NULL,
            note TEXT,
            term TEXT
        );
        CREATE INDEX event_item ON event(item);
        CREATE TABLE ledger (
            key TEXT PRIMARY KEY NOT NULL,
            item TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('fired', 'skipped', 'missed')),
            scheduled_at BIGINT NOT NULL,
            at BIGINT NOT NULL,
            catch_up INTEGER NOT NULL DEFAULT 0,
            pending INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX ledger_item ON ledger(item);
        CREATE INDEX ledger_pending ON ledger(pending) WHERE pending = 1;
        CREATE TABLE acknowledgement (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            item TEXT NOT NULL,
            deadline TEXT NOT NULL,
            deadline_time TEXT NOT NULL,
            at BIGINT NOT NULL,
            uid BIGINT NOT NULL,
            "user" TEXT NOT NULL
        );
        CREATE TABLE snooze (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            item TEXT NOT NULL,
            from_at BIGINT NOT NULL,
            until_at BIGINT NOT NULL,
            uid BIGINT NOT NULL,
            "user" TEXT NOT NULL
        );
        CREATE TABLE audit (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            at BIGINT NOT NULL,
            uid BIGINT NOT NULL,
            "user" TEXT NOT NULL,
            action TEXT NOT NULL,
            item TEXT,
            detail TEXT NOT NULL,
            allowed INTEGER NOT NULL
        );
        CREATE INDEX audit_item ON audit(item);
        CREATE TABLE checkpoint (
            name TEXT PRIMARY KEY NOT NULL,
            value BIGINT NOT NULL
        );
        """,
        2: "ALTER TABLE event ADD COLUMN party TEXT;",
        3: StateSchema.replies,
        chainVersion: """
        ALTER TABLE event ADD COLUMN hash TEXT;
        ALTER TABLE audit ADD COLUMN hash TEXT;
        """
    ]
}

extension StateStore {
    /// Appends an event and its audit line in one transaction.
    public func append(_ event: NewEvent, actor: Actor, at now: Instant) throws(StoreError) -> StoredEvent {
        try append(event, actor: actor, at: now, request: nil)
    }
    public func acknowledge(_ ack: Acknowledgement, actor: Actor) throws(StoreError) { try acknowledge(ack, actor: actor, request: nil) }
    public func snooze(_ snooze: Snooze, actor: Actor) throws(StoreError) { try self.snooze(snooze, actor: actor, request: nil) }
}

/// A write's client-supplied request id (Record, Acknowledge, Snooze; issue 16, defect 8) and the
/// reply to keep with it, so that a retry of the same request is answered from the first outcome.
public struct WriteRequest: Sendable {
    public var id: String
    /// The reply as the client gets it (JSON), given the id of the event the write added (Record)
    /// or 0.
    public var reply: @Sendable (Int64) -> String
    public init(id: String, reply: @escaping @Sendable (Int64) -> String) { self.id = id; self.reply = reply }
}

/// What a write made with a request id answered.
public struct RequestOutcome: Sendable, Hashable {
    /// record, acknowledge or snooze.
    public var action: String
    public var uid: UInt32
    public var reply: String
    public init(action: String, uid: UInt32, reply: String) { self.action = action; self.uid = uid; self.reply = reply }
}
