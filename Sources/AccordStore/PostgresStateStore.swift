import AccordCalendar
import AccordCore
import Synchronization

/// The state in PostgreSQL (`[state] url`, docs/design.md §15): the same tables as the SQLite
/// file, so that several hosts can share one database. One libpq session, used under a lock
/// (libpq connections are not safe across threads); every write is one transaction, committed
/// (and, with PostgreSQL's default synchronous_commit, on disk) before the call returns.
public final class PostgresStateStore: StateStore, @unchecked Sendable {
    // @unchecked: the one mutable thing, the session, is only touched under `lock`.
    private let connection: PostgresConnection
    private let lock = Mutex(())
    public let path: String
    /// When set (a daemon sharing the database with others), claims are fenced: committed only
    /// while this lock's session still holds the leader lock, checked in the claim's own
    /// transaction, so that a daemon that lost the lock (stopped, cut off) claims nothing more.
    public var fence: LeaderLock? {
        get { fenceBox.withLock { $0 } }
        set { fenceBox.withLock { $0 = newValue } }
    }
    private let fenceBox = Mutex<LeaderLock?>(nil)

    /// Serializes schema migrations of daemons starting at once on one database: a
    /// transaction-scoped advisory lock, 'accord' in ASCII (0x6163636f7264) plus 0.
    static let migrationLockKey: Int64 = 0x6163_636f_7264
    /// Serializes the writers of the hash chains across sessions and hosts (docs/design.md §7): a
    /// transaction-scoped advisory lock taken before a chained row's id is drawn, so that ids are
    /// drawn, hashed and committed in one order and two daemons cannot fork the chain. +1 is the
    /// leader lock; +16 leaves room for others.
    static let chainLockKey: Int64 = migrationLockKey + 16

    public init(_ state: StateConfig) throws(StoreError) {
        path = state.url
        connection = try PostgresConnection(state)
        try migrate()
    }

    private func locked<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try lock.withLock { _ throws(StoreError) -> T in try body() }
    }

    private func write<T>(_ operation: String, _ body: (PostgresConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        try locked { () throws(StoreError) -> T in
            try connection.transaction(operation) { () throws(StoreError) -> T in try body(connection) }
        }
    }

    /// A consistent snapshot across the statements of one read, as SQLite's read transactions give.
    private func read<T>(_ operation: String, _ body: (PostgresConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        try locked { () throws(StoreError) -> T in
            try connection.transaction(operation, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { () throws(StoreError) -> T in
                try body(connection)
            }
        }
    }

    /// Applies the missing schema versions, each with its row in schema_version, in one
    /// transaction; refuses a database a newer accordd has migrated past this build.
    private func migrate() throws(StoreError) {
        try write("migrate") { db throws(StoreError) in
            try db.execute("SELECT pg_advisory_xact_lock($1)", [String(PostgresStateStore.migrationLockKey)], operation: "migrate")
            try db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL)",
                operation: "migrate")
            let current =
                try db.execute("SELECT coalesce(max(version), 0) FROM schema_version", operation: "migrate")
                .rows.first?.first??.asInt ?? 0
            if current > StateSchema.version {
                throw StoreError(
                    path: path, operation: "migrate",
                    message:
                        "the database is at schema version \(current), newer than this accordd's \(StateSchema.version): upgrade accordd on this host; nothing was changed"
                )
            }
            for version in StateSchema.postgres.keys.sorted() where version > current {
                try db.executeScript(StateSchema.postgres[version]!, operation: "migrate to schema version \(version)")
                if version == StateSchema.chainVersion { try backfillChains(db) }
                try db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES ($1, extract(epoch FROM now())::bigint)",
                    [String(version)], operation: "migrate")
            }
        }
    }

    public func schemaVersion() throws(StoreError) -> Int {
        try read("read schema version") { db throws(StoreError) in
            try db.execute("SELECT coalesce(max(version), 0) FROM schema_version", operation: "read schema version")
                .rows.first?.first??.asInt ?? 0
        }
    }

    public func close() throws(StoreError) {
        try locked { connection.finish() }
    }

    // MARK: items

    public func registerItems(_ ids: [String], now: Instant) throws(StoreError) -> [String: Instant] {
        try write("register items") { db throws(StoreError) in
            try db.execute(
                "INSERT INTO item (id, first_loaded_at) SELECT unnest($1::text[]), $2 ON CONFLICT (id) DO NOTHING",
                [arrayLiteral(ids), String(now.seconds)], operation: "register items")
            var result: [String: Instant] = [:]
            for row in try db.execute("SELECT id, first_loaded_at FROM item", operation: "register items").rows {
                if let id = row[0], let seconds = row[1]?.asInt64 { result[id] = Instant(seconds: seconds) }
            }
            return result
        }
    }

    // MARK: history

    private static let eventColumns = "SELECT id, item, type, effective_on, recorded_at, uid, \"user\", note, term, party FROM event"

    public func history() throws(StoreError) -> History {
        try read("read history") { db throws(StoreError) in
            let events = try db.execute(PostgresStateStore.eventColumns + " ORDER BY id", operation: "read history")
                .rows.compactMap(StoredEvent.init(text:)).map(\.asItemEvent)
            let acks = try db.execute("SELECT item, deadline, deadline_time, at FROM acknowledgement ORDER BY id", operation: "read history")
                .rows.compactMap { row -> Acknowledgement? in
                    guard let item = row[0], let kind = row[1].flatMap(DeadlineKind.init(rawValue:)), let time = row[2],
                        let at = row[3]?.asInt64
                    else { return nil }
                    return Acknowledgement(itemID: item, deadline: kind, deadlineTime: time, at: Instant(seconds: at))
                }
            let snoozes = try db.execute("SELECT item, from_at, until_at FROM snooze ORDER BY id", operation: "read history")
                .rows.compactMap { row -> Snooze? in
                    guard let item = row[0], let from = row[1]?.asInt64, let until = row[2]?.asInt64 else { return nil }
                    return Snooze(itemID: item, from: Instant(seconds: from), until: Instant(seconds: until))
                }
            return History(events: events, acknowledgements: acks, snoozes: snoozes)
        }
    }

    public func events(item: String) throws(StoreError) -> [StoredEvent] {
        try read("read events") { db throws(StoreError) in
            try db.execute(PostgresStateStore.eventColumns + " WHERE item = $1 ORDER BY id", [item], operation: "read events")
                .rows.compactMap(StoredEvent.init(text:))
        }
    }

    public func append(_ event: NewEvent, actor: Actor, at now: Instant, request: WriteRequest?) throws(StoreError) -> StoredEvent {
        try write("record event") { db throws(StoreError) in
            try PostgresStateStore.lockChains(db)
            let inserted = try db.execute(
                """
                INSERT INTO event (item, type, effective_on, recorded_at, uid, "user", note, term, party)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
                """,
                [
                    event.itemID, event.type.rawValue, event.on.description, String(now.seconds), String(actor.uid), actor.user,
                    event.note, event.term?.description, event.party
                ], operation: "record event")
            guard let id = inserted.rows.first?.first??.asInt64 else {
                throw StoreError(path: path, operation: "record event", message: "the server returned no event id")
            }
            try PostgresStateStore.chain(db, .event, id: id)
            try PostgresStateStore.insertAudit(
                db, at: now, actor: actor, action: "record", item: event.itemID,
                detail: "\(event.type.rawValue) on \(event.on)" + (event.term.map { " term \($0)" } ?? "")
                    + (event.party.map { " by \($0)" } ?? "") + (event.note.map { ": \($0)" } ?? ""), allowed: true)
            try PostgresStateStore.keep(request, db, eventID: id)
            return StoredEvent(
                id: id, itemID: event.itemID, type: event.type, on: event.on, recordedAt: now,
                uid: actor.uid, user: actor.user, note: event.note, term: event.term, party: event.party)
        }
    }

    public func acknowledge(_ ack: Acknowledgement, actor: Actor, request: WriteRequest?) throws(StoreError) {
        try write("acknowledge") { db throws(StoreError) in
            try db.execute(
                "INSERT INTO acknowledgement (item, deadline, deadline_time, at, uid, \"user\") VALUES ($1, $2, $3, $4, $5, $6)",
                [ack.itemID, ack.deadline.rawValue, ack.deadlineTime, String(ack.at.seconds), String(actor.uid), actor.user],
                operation: "acknowledge")
            try PostgresStateStore.insertAudit(
                db, at: ack.at, actor: actor, action: "acknowledge", item: ack.itemID,
                detail: "\(ack.deadline.rawValue) \(ack.deadlineTime)", allowed: true)
            try PostgresStateStore.keep(request, db, eventID: 0)
        }
    }

    public func snooze(_ snooze: Snooze, actor: Actor, request: WriteRequest?) throws(StoreError) {
        try write("snooze") { db throws(StoreError) in
            try db.execute(
                "INSERT INTO snooze (item, from_at, until_at, uid, \"user\") VALUES ($1, $2, $3, $4, $5)",
                [snooze.itemID, String(snooze.from.seconds), String(snooze.until.seconds), String(actor.uid), actor.user],
                operation: "snooze")
            try PostgresStateStore.insertAudit(
                db, at: snooze.from, actor: actor, action: "snooze", item: snooze.itemID,
                detail: "until \(snooze.until.rfc3339)", allowed: true)
            try PostgresStateStore.keep(request, db, eventID: 0)
        }
    }

    // MARK: audit

    public func audit(at now: Instant, actor: Actor, action: String, item: String?, detail: String, allowed: Bool) throws(StoreError) {
        try write("audit") { db throws(StoreError) in
            try PostgresStateStore.insertAudit(db, at: now, actor: actor, action: action, item: item, detail: detail, allowed: allowed)
        }
    }

    private static func insertAudit(
        _ db: PostgresConnection, at: Instant, actor: Actor, action: String, item: String?,
        detail: String, allowed: Bool
    ) throws(StoreError) {
        try lockChains(db)
        let inserted = try db.execute(
            "INSERT INTO audit (at, uid, \"user\", action, item, detail, allowed) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            [String(at.seconds), String(actor.uid), actor.user, action, item, detail, allowed ? "1" : "0"], operation: "audit")
        guard let id = inserted.rows.first?.first??.asInt64 else {
            throw StoreError(path: db.location, operation: "audit", message: "the server returned no audit id")
        }
        try chain(db, .audit, id: id)
    }

    // MARK: the hash chains

    /// Taken before a chained row is inserted; held until the transaction ends. Taking it twice
    /// in one transaction (an event and its audit line) is harmless.
    private static func lockChains(_ db: PostgresConnection) throws(StoreError) {
        try db.execute("SELECT pg_advisory_xact_lock($1)", [String(chainLockKey)], operation: "lock the audit chain")
    }

    /// Sets the hash of a row just inserted, under the chain lock: in READ COMMITTED each
    /// statement sees every row committed before it, so the previous row is the last one. The
    /// row is read back and hashed as verification reads it (libpq's parameters are C strings:
    /// a NUL cuts text short).
    private static func chain(_ db: PostgresConnection, _ table: HashChain.Table, id: Int64) throws(StoreError) {
        guard let row = try chainRows(db, table, after: id - 1, limit: 1).first, row.id == id else {
            throw StoreError(path: db.location, operation: "chain \(table.rawValue)", message: "row \(id) is gone")
        }
        let fields = row.fields
        let previous =
            try db.execute(
                "SELECT hash FROM \(table.rawValue) WHERE id < $1 ORDER BY id DESC LIMIT 1", [String(id)], operation: "chain \(table.rawValue)"
            ).rows.first?.first ?? nil
        let hash = HashChain.hash(previous: previous.flatMap(HashChain.bytes(hex:)) ?? HashChain.genesis, table: table, fields: fields)
        try db.execute(
            "UPDATE \(table.rawValue) SET hash = $1 WHERE id = $2", [HashChain.hex(hash), String(id)], operation: "chain \(table.rawValue)")
    }

    /// Rows as the chain sees them: the integer columns parsed (a value that does not parse stays
    /// text, and fails to verify).
    private static func chainRows(_ db: PostgresConnection, _ table: HashChain.Table, after: Int64, limit: Int) throws(StoreError) -> [HashChain.Row]
    {
        let columns = HashChain.columns(table)
        let integers = HashChain.integerColumns(table)
        let sql =
            "SELECT " + columns.map { $0 == "user" ? "\"user\"" : $0 }.joined(separator: ", ")
            + ", hash FROM \(table.rawValue) WHERE id > $1 ORDER BY id LIMIT \(limit)"
        return try db.execute(sql, [String(after)], operation: "read the \(table.rawValue) chain").rows.map { row in
            let fields = (0..<columns.count).map { index -> HashChain.Field in
                guard let value = row[index] else { return .null }
                if integers.contains(index), let number = Int64(value) { return .integer(number) }
                return .text(value)
            }
            return HashChain.Row(id: row[0].flatMap { Int64($0) } ?? 0, fields: fields, stored: row[columns.count])
        }
    }

    /// Rows read at a time while verifying, so that a long trail is never held whole.
    static let chainBatch = 5_000

    private func backfillChains(_ db: PostgresConnection) throws(StoreError) {
        for table in HashChain.Table.allCases {
            var rows: [HashChain.Row] = []
            while true {
                let batch = try PostgresStateStore.chainRows(db, table, after: rows.last?.id ?? Int64.min, limit: PostgresStateStore.chainBatch)
                rows += batch
                if batch.count < PostgresStateStore.chainBatch { break }
            }
            for (id, hash) in HashChain.backfill(rows, table: table) {
                try db.execute(
                    "UPDATE \(table.rawValue) SET hash = $1 WHERE id = $2", [hash, String(id)], operation: "migrate: chain \(table.rawValue)")
            }
        }
    }

    public func chainHeads() throws(StoreError) -> ChainHeads {
        try read("read the chain heads") { db throws(StoreError) in
            let audit = try db.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", operation: "read the chain heads").rows.first
            let event = try db.execute("SELECT id, hash FROM event ORDER BY id DESC LIMIT 1", operation: "read the chain heads").rows.first
            return ChainHeads(
                auditID: audit?[0].flatMap { Int64($0) }, audit: audit?[1], eventID: event?[0].flatMap { Int64($0) }, event: event?[1])
        }
    }

    public func verifyChains() throws(StoreError) -> [ChainReport] {
        try read("verify the audit trail") { db throws(StoreError) in
            var reports: [ChainReport] = []
            for table in HashChain.Table.allCases {
                var walker = HashChain.Walker(table: table)
                var after = Int64.min
                reading: while true {
                    let batch = try PostgresStateStore.chainRows(db, table, after: after, limit: PostgresStateStore.chainBatch)
                    for row in batch {
                        if !walker.check(row) { break reading }
                    }
                    guard let last = batch.last, batch.count == PostgresStateStore.chainBatch else { break }
                    after = last.id
                }
                reports.append(walker.report)
            }
            return reports
        }
    }

    public func auditTrail(item: String?, since: Instant?) throws(StoreError) -> [AuditRecord] {
        try read("read audit trail") { db throws(StoreError) in
            var conditions: [String] = []
            var arguments: [String?] = []
            if let item { arguments.append(item); conditions.append("item = $\(arguments.count)") }
            if let since { arguments.append(String(since.seconds)); conditions.append("at >= $\(arguments.count)") }
            let sql =
                "SELECT at, uid, \"user\", action, item, detail, allowed FROM audit"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY id"
            return try db.execute(sql, arguments, operation: "read audit trail").rows.compactMap { row -> AuditRecord? in
                guard let at = row[0]?.asInt64, let uid = row[1]?.asInt64, let user = row[2], let action = row[3],
                    let detail = row[5]
                else { return nil }
                return AuditRecord(
                    at: Instant(seconds: at), uid: UInt32(truncatingIfNeeded: uid), user: user, action: action,
                    item: row[4], detail: detail, allowed: row[6] == "1")
            }
        }
    }

    // MARK: the reminder ledger

    /// One statement for the whole batch: the ledger's primary key decides, across hosts too,
    /// which keys are new (ON CONFLICT DO NOTHING skips the rest, duplicates within the batch
    /// included, as SQLite's INSERT OR IGNORE does).
    public func claim(_ entries: [LedgerEntry]) throws(StoreError) -> Set<String> {
        if entries.isEmpty { return [] }
        let fence = self.fence
        return try write("claim reminders") { db throws(StoreError) in
            if let fence {
                // The lock session's pid, as it was when the lock was taken: a new session of
                // the same daemon does not count, nor does the lock held by anyone else.
                let held =
                    try fence.backendPID.map { pid throws(StoreError) in
                        try db.execute(LeaderLock.heldSQL + " AND pid = $1", [String(pid)], operation: "claim reminders").rows
                    } ?? []
                if held.isEmpty {
                    throw StoreError(
                        path: path, operation: "claim reminders",
                        message: "this daemon no longer holds the leader lock: another one is active or will take over; nothing was claimed",
                        notActive: true)
                }
            }
            let claimed = try db.execute(
                """
                INSERT INTO ledger (key, item, outcome, scheduled_at, at, catch_up, pending)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::integer[], $7::integer[])
                ON CONFLICT (key) DO NOTHING RETURNING key
                """,
                [
                    arrayLiteral(entries.map(\.key)), arrayLiteral(entries.map(\.itemID)),
                    arrayLiteral(entries.map(\.outcome.rawValue)), arrayLiteral(entries.map { String($0.scheduledAt.seconds) }),
                    arrayLiteral(entries.map { String($0.at.seconds) }), arrayLiteral(entries.map { $0.catchUp ? "1" : "0" }),
                    arrayLiteral(entries.map { $0.outcome == .fired ? "1" : "0" })
                ], operation: "claim reminders")
            return Set(claimed.rows.compactMap { $0[0] })
        }
    }

    public func settle(_ keys: [String], processedThrough: Instant?) throws(StoreError) {
        if keys.isEmpty && processedThrough == nil { return }
        try write("settle reminders") { db throws(StoreError) in
            if !keys.isEmpty {
                try db.execute("UPDATE ledger SET pending = 0 WHERE key = ANY($1::text[])", [arrayLiteral(keys)], operation: "settle reminders")
            }
            if let processedThrough {
                try db.execute(
                    """
                    INSERT INTO checkpoint (name, value) VALUES ('processed-through', $1)
                    ON CONFLICT (name) DO UPDATE SET value = greatest(checkpoint.value, excluded.value)
                    """, [String(processedThrough.seconds)], operation: "settle reminders")
            }
        }
    }

    public func pendingKeys() throws(StoreError) -> [String] {
        try read("read pending") { db throws(StoreError) in
            try db.execute("SELECT key FROM ledger WHERE pending = 1", operation: "read pending").rows.compactMap { $0[0] }
        }
    }

    public func release(_ keys: [String]) throws(StoreError) {
        if keys.isEmpty { return }
        try write("release") { db throws(StoreError) -> Void in
            try db.execute("DELETE FROM ledger WHERE key = ANY($1::text[]) AND pending = 1", [arrayLiteral(keys)], operation: "release")
        }
    }

    public func processedThrough() throws(StoreError) -> Instant? {
        try read("read checkpoint") { db throws(StoreError) in
            try db.execute("SELECT value FROM checkpoint WHERE name = 'processed-through'", operation: "read checkpoint")
                .rows.first?.first??.asInt64.map(Instant.init(seconds:))
        }
    }

    public func ledger(item: String) throws(StoreError) -> [LedgerEntry] {
        try read("read ledger") { db throws(StoreError) in
            // Pending lines are claims for reminders not yet written (the next batch, armed ahead).
            // COLLATE "C": the same byte order as SQLite's BINARY for the tie-break on key.
            try db.execute(
                """
                SELECT key, item, outcome, scheduled_at, at, catch_up FROM ledger WHERE item = $1 AND pending = 0
                ORDER BY at, key COLLATE "C"
                """, [item], operation: "read ledger"
            ).rows.compactMap { row -> LedgerEntry? in
                guard let key = row[0], let item = row[1], let outcome = row[2].flatMap(LedgerEntry.Outcome.init(rawValue:)),
                    let scheduled = row[3]?.asInt64, let at = row[4]?.asInt64
                else { return nil }
                return LedgerEntry(
                    key: key, itemID: item, outcome: outcome, scheduledAt: Instant(seconds: scheduled),
                    at: Instant(seconds: at), catchUp: row[5] == "1")
            }
        }
    }

    public func ledgerCounts() throws(StoreError) -> [LedgerEntry.Outcome: Int] {
        try read("count ledger") { db throws(StoreError) in
            var counts: [LedgerEntry.Outcome: Int] = [:]
            for row in try db.execute("SELECT outcome, count(*) FROM ledger WHERE pending = 0 GROUP BY outcome", operation: "count ledger").rows {
                if let outcome = row[0].flatMap(LedgerEntry.Outcome.init(rawValue:)), let count = row[1]?.asInt { counts[outcome] = count }
            }
            return counts
        }
    }

    public func integrityCheck() throws(StoreError) -> String {
        try read("integrity check") { db throws(StoreError) in
            let present = try db.execute(
                """
                SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1::text[])
                """, [arrayLiteral(StateSchema.tables)], operation: "integrity check"
            ).rows.compactMap { $0[0] }
            let missing = StateSchema.tables.filter { !present.contains($0) }
            if !missing.isEmpty { return "missing tables: " + missing.joined(separator: ", ") }
            let version =
                try db.execute("SELECT coalesce(max(version), 0) FROM schema_version", operation: "integrity check")
                .rows.first?.first??.asInt ?? 0
            return version == StateSchema.version ? "ok" : "schema version \(version), expected \(StateSchema.version)"
        }
    }
}

/// A PostgreSQL array in text form, every element quoted: {"a","b \"c\""}.
func arrayLiteral(_ values: [String]) -> String {
    "{"
        + values.map { value in
            "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
}

extension String {
    fileprivate var asInt64: Int64? { Int64(self) }
    fileprivate var asInt: Int? { Int(self) }

    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

extension StoredEvent {
    /// From a text row: id, item, type, effective_on, recorded_at, uid, user, note, term, party.
    init?(text row: [String?]) {
        guard row.count == 10, let id = row[0].flatMap(Int64.init), let item = row[1], let type = row[2].flatMap(EventType.init(rawValue:)),
            let on = row[3].flatMap({ try? CivilDate(parsing: $0) }), let recorded = row[4].flatMap(Int64.init),
            let uid = row[5].flatMap(Int64.init), let user = row[6]
        else { return nil }
        self.init(
            id: id, itemID: item, type: type, on: on, recordedAt: Instant(seconds: recorded), uid: UInt32(truncatingIfNeeded: uid),
            user: user, note: row[7], term: row[8].flatMap { try? ISODuration(parsing: $0) }, party: row[9])
    }
}

extension PostgresStateStore {
    /// One page of the audit trail: `limit` + 1 rows are read to know whether more follow.
    public func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(StoreError) -> AuditPage {
        try read("read audit trail") { db throws(StoreError) in
            var conditions: [String] = []
            var arguments: [String?] = []
            if let item { arguments.append(item); conditions.append("item = $\(arguments.count)") }
            if let since { arguments.append(String(since.seconds)); conditions.append("at >= $\(arguments.count)") }
            if let after { arguments.append(String(after)); conditions.append("id > $\(arguments.count)") }
            arguments.append(String(limit + 1))
            let sql =
                "SELECT at, uid, \"user\", action, item, detail, allowed, id FROM audit"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
                + " ORDER BY id LIMIT $\(arguments.count)"
            let rows = try db.execute(sql, arguments, operation: "read audit trail").rows
            let records = rows.prefix(limit).compactMap { row -> AuditRecord? in
                guard let at = row[0]?.asInt64, let uid = row[1]?.asInt64, let user = row[2], let action = row[3],
                    let detail = row[5]
                else { return nil }
                return AuditRecord(
                    at: Instant(seconds: at), uid: UInt32(truncatingIfNeeded: uid), user: user, action: action,
                    item: row[4], detail: detail, allowed: row[6] == "1")
            }
            return AuditPage(records: records, next: rows.count > limit ? rows[limit - 1][7]?.asInt64 : nil)
        }
    }
}

extension PostgresStateStore {
    public func markMissed(_ key: String, reason: String, at now: Instant) throws(StoreError) {
        try write("record missed reminder") { db throws(StoreError) in
            try db.execute(
                "UPDATE ledger SET outcome = 'missed', pending = 0, reason = $1, at = $2 WHERE key = $3 AND pending = 1",
                [reason, String(now.seconds), key], operation: "record missed reminder")
        }
    }

    /// Why the reminders of an item recorded missed were missed, by key (for Show).
    public func missedReasons(item: String) throws(StoreError) -> [String: String] {
        try read("read ledger") { db throws(StoreError) in
            var reasons: [String: String] = [:]
            for row in try db.execute("SELECT key, reason FROM ledger WHERE item = $1 AND reason IS NOT NULL", [item], operation: "read ledger").rows
            {
                if let key = row[0], let reason = row[1] { reasons[key] = reason }
            }
            return reasons
        }
    }
}

extension PostgresStateStore {
    /// The request id and reply on the audit line just inserted, in the write's transaction: the
    /// audit id sequence's value in this session (another host's inserts do not move it).
    fileprivate static func keep(_ request: WriteRequest?, _ db: PostgresConnection, eventID: Int64) throws(StoreError) {
        guard let request else { return }
        try db.execute(
            "UPDATE audit SET request = $1, reply = $2 WHERE id = currval(pg_get_serial_sequence('audit', 'id'))",
            [request.id, request.reply(eventID)], operation: "keep request")
    }

    public func requestOutcome(_ id: String) throws(StoreError) -> RequestOutcome? {
        try read("read request") { db throws(StoreError) in
            guard let row = try db.execute("SELECT action, uid, reply FROM audit WHERE request = $1", [id], operation: "read request").rows.first,
                let action = row[0], let uid = row[1]?.asInt64, let reply = row[2]
            else { return nil }
            return RequestOutcome(action: action, uid: UInt32(truncatingIfNeeded: uid), reply: reply)
        }
    }
}
