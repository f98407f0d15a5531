import AccordCalendar
import AccordCore
import GRDB
import Glibc

/// The state in an embedded SQLite file (the default, docs/design.md §2): WAL mode; every write
/// returns only once committed.
public final class SQLiteStateStore: StateStore, @unchecked Sendable {
    // @unchecked: DatabasePool is thread-safe; the store holds nothing else mutable.
    private let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) and migrates the database. A file that is not a
    /// healthy SQLite database is refused before anything is written to it.
    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            try SQLiteStateStore.checkWritable(path)
            try SQLiteStateStore.checkExisting(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                // NORMAL in WAL mode: a committed transaction survives the daemon's crash (the chaos
                // test kills it at random); only a power cut may lose the last ones. Writes a client
                // is told are done (events, acknowledgements, snoozes) ask for FULL themselves.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteStateStore.migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: path, operation: "open", underlying: error)
        }
    }

    /// Every reminder is recorded here: a directory that cannot be written stops the daemon,
    /// with the reason (a read-only file system, permissions) rather than a database error.
    private static func checkWritable(_ path: String) throws {
        let slash = path.lastIndex(of: "/").map { path[..<$0] } ?? "."
        let directory = slash.isEmpty ? "/" : String(slash)
        if access(directory, W_OK) != 0 {
            throw StoreError(
                path: path, operation: "open",
                message: "the state directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
    }

    /// A corrupt or foreign file must stop the daemon with a clear message and stay untouched.
    private static func checkExisting(_ path: String) throws {
        guard FileCheck.exists(path) else { return }
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            let result = try queue.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") }
            try queue.close()
            if result != "ok" {
                throw StoreError(
                    path: path, operation: "check",
                    message:
                        "the database is damaged (quick_check: \(result ?? "no answer")); nothing was changed — restore it from a backup or move it aside"
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                path: path, operation: "check",
                message: "is not a usable SQLite database (\(describe(error))); nothing was changed — restore it from a backup or move it aside")
        }
    }

    /// One GRDB migration per schema version, identified "v1", "v2", … (as since version 1).
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for version in StateSchema.sqlite.keys.sorted() {
            let sql = StateSchema.sqlite[version]!
            migrator.registerMigration("v\(version)") { db in
                try db.execute(sql: sql)
                if version == StateSchema.chainVersion { try SQLiteStateStore.backfillChains(db) }
            }
        }
        return migrator
    }

    public func schemaVersion() throws(StoreError) -> Int {
        try read("read schema version") { db in
            let applied = try SQLiteStateStore.migrator.appliedIdentifiers(db)
            return StateSchema.sqlite.keys.filter { applied.contains("v\($0)") }.max() ?? 0
        }
    }

    /// Checkpoints and closes, so that a stopped daemon leaves one self-contained state.sqlite:
    /// the readers go first, since only the last connection to close removes the write-ahead
    /// log, and a read-only one cannot.
    public func close() throws(StoreError) {
        do {
            _ = try pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            pool.releaseMemory()
            try pool.close()
        } catch {
            throw StoreError(path: path, operation: "close", underlying: error)
        }
    }

    private func write<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw StoreError(path: path, operation: operation, underlying: error) }
    }

    /// A write a client is told is done: synced to disk before it returns, power cut or not.
    private func durableWrite<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw StoreError(path: path, operation: operation, underlying: error)
        }
    }

    private func read<T>(_ operation: String, _ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw StoreError(path: path, operation: operation, underlying: error) }
    }

    // MARK: items

    /// When each item was first loaded; items seen for the first time get `now`.
    public func registerItems(_ ids: [String], now: Instant) throws(StoreError) -> [String: Instant] {
        try write("register items") { db in
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO item (id, first_loaded_at) VALUES (?, ?)")
            for id in ids { try statement.execute(arguments: [id, now.seconds]) }
            var result: [String: Instant] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, first_loaded_at FROM item") {
                result[row[0]] = Instant(seconds: row[1])
            }
            return result
        }
    }

    // MARK: history

    /// Everything the planner takes into account.
    public func history() throws(StoreError) -> History {
        try read("read history") { db in
            let events = try SQLiteStateStore.fetchEvents(db, item: nil).map(\.asItemEvent)
            let acks = try Row.fetchAll(db, sql: "SELECT item, deadline, deadline_time, at FROM acknowledgement").compactMap {
                row -> Acknowledgement? in
                guard let kind = DeadlineKind(rawValue: row[1]) else { return nil }
                return Acknowledgement(itemID: row[0], deadline: kind, deadlineTime: row[2], at: Instant(seconds: row[3]))
            }
            let snoozes = try Row.fetchAll(db, sql: "SELECT item, from_at, until_at FROM snooze").map { row in
                Snooze(itemID: row[0], from: Instant(seconds: row[1]), until: Instant(seconds: row[2]))
            }
            return History(events: events, acknowledgements: acks, snoozes: snoozes)
        }
    }

    static func fetchEvents(_ db: Database, item: String?) throws -> [StoredEvent] {
        let sql =
            "SELECT id, item, type, effective_on, recorded_at, uid, user, note, term, party FROM event"
            + (item == nil ? "" : " WHERE item = ?") + " ORDER BY id"
        return try Row.fetchAll(db, sql: sql, arguments: item.map { [$0] } ?? []).compactMap(StoredEvent.init(row:))
    }

    public func events(item: String) throws(StoreError) -> [StoredEvent] {
        try read("read events") { db in try SQLiteStateStore.fetchEvents(db, item: item) }
    }

    /// Appends an event and its audit line in one transaction.
    public func append(_ event: NewEvent, actor: Actor, at now: Instant, request: WriteRequest?) throws(StoreError) -> StoredEvent {
        try durableWrite("record event") { db in
            try db.execute(
                sql: """
                    INSERT INTO event (item, type, effective_on, recorded_at, uid, user, note, term, party)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.itemID, event.type.rawValue, event.on.description, now.seconds,
                    Int64(actor.uid), actor.user, event.note, event.term?.description, event.party
                ])
            let id = db.lastInsertedRowID
            try SQLiteStateStore.chain(db, .event, id: id)
            try SQLiteStateStore.insertAudit(
                db, at: now, actor: actor, action: "record", item: event.itemID,
                detail: "\(event.type.rawValue) on \(event.on)" + (event.term.map { " term \($0)" } ?? "")
                    + (event.party.map { " by \($0)" } ?? "") + (event.note.map { ": \($0)" } ?? ""), allowed: true)
            try SQLiteStateStore.keep(request, db, eventID: id)
            return StoredEvent(
                id: id, itemID: event.itemID, type: event.type, on: event.on, recordedAt: now,
                uid: actor.uid, user: actor.user, note: event.note, term: event.term, party: event.party)
        }
    }

    public func acknowledge(_ ack: Acknowledgement, actor: Actor, request: WriteRequest?) throws(StoreError) {
        try durableWrite("acknowledge") { db in
            try db.execute(
                sql: "INSERT INTO acknowledgement (item, deadline, deadline_time, at, uid, user) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [ack.itemID, ack.deadline.rawValue, ack.deadlineTime, ack.at.seconds, Int64(actor.uid), actor.user])
            try SQLiteStateStore.insertAudit(
                db, at: ack.at, actor: actor, action: "acknowledge", item: ack.itemID,
                detail: "\(ack.deadline.rawValue) \(ack.deadlineTime)", allowed: true)
            try SQLiteStateStore.keep(request, db, eventID: 0)
        }
    }

    public func snooze(_ snooze: Snooze, actor: Actor, request: WriteRequest?) throws(StoreError) {
        try durableWrite("snooze") { db in
            try db.execute(
                sql: "INSERT INTO snooze (item, from_at, until_at, uid, user) VALUES (?, ?, ?, ?, ?)",
                arguments: [snooze.itemID, snooze.from.seconds, snooze.until.seconds, Int64(actor.uid), actor.user])
            try SQLiteStateStore.insertAudit(
                db, at: snooze.from, actor: actor, action: "snooze", item: snooze.itemID,
                detail: "until \(snooze.until.rfc3339)", allowed: true)
            try SQLiteStateStore.keep(request, db, eventID: 0)
        }
    }

    // MARK: audit

    public func audit(at now: Instant, actor: Actor, action: String, item: String?, detail: String, allowed: Bool) throws(StoreError) {
        try durableWrite("audit") { db in
            try SQLiteStateStore.insertAudit(db, at: now, actor: actor, action: action, item: item, detail: detail, allowed: allowed)
        }
    }

    private static func insertAudit(
        _ db: Database, at: Instant, actor: Actor, action: String, item: String?,
        detail: String, allowed: Bool
    ) throws {
        try db.execute(
            sql: "INSERT INTO audit (at, uid, user, action, item, detail, allowed) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [at.seconds, Int64(actor.uid), actor.user, action, item, detail, allowed])
        let id = db.lastInsertedRowID
        try chain(db, .audit, id: id)
    }

    // MARK: the hash chains

    /// Sets the hash of a row just inserted, in its transaction: after the insert, which holds
    /// SQLite's write lock, no other writer can slip a row in between (docs/design.md §7). The
    /// row is read back and hashed as verification will read it, so that what SQLite did to a
    /// value on the way in (a NUL cuts text short) cannot make a sound row fail.
    private static func chain(_ db: Database, _ table: HashChain.Table, id: Int64) throws {
        // One cached statement reads the row and the previous row's hash: a Snooze over the socket
        // took 3.4 ms before the chain and 3.9 ms with it (debug build, medians of 6 x 300), against
        // 4.2 ms with the three statements compiled anew each time.
        let columns = HashChain.columns(table)
        let read = try db.cachedStatement(
            sql: "SELECT " + columns.joined(separator: ", ")
                + ", hash, (SELECT hash FROM \(table.rawValue) WHERE id < ?1 ORDER BY id DESC LIMIT 1) FROM \(table.rawValue) WHERE id = ?1")
        guard let row = try GRDB.Row.fetchOne(read, arguments: [id]) else {
            throw StoreError(path: "", operation: "chain \(table.rawValue)", message: "row \(id) is gone")
        }
        let fields = chainRow(row, columns: columns.count).fields
        // A previous row without a readable hash fails verification itself; this one chains on.
        var previous: [UInt8]?
        if case .string(let text) = (row[columns.count + 1] as DatabaseValue).storage { previous = HashChain.bytes(hex: text) }
        let hash = HashChain.hash(previous: previous ?? HashChain.genesis, table: table, fields: fields)
        try db.cachedStatement(sql: "UPDATE \(table.rawValue) SET hash = ? WHERE id = ?").execute(arguments: [HashChain.hex(hash), id])
    }

    /// The rows of a table in id order, as the chain sees them: each value by its storage class,
    /// so that a value retyped by hand (text in an integer column) fails to verify.
    private static func chainRows(_ db: Database, _ table: HashChain.Table) throws -> RowCursor {
        try GRDB.Row.fetchCursor(
            db, sql: "SELECT " + HashChain.columns(table).joined(separator: ", ") + ", hash FROM \(table.rawValue) ORDER BY id")
    }

    private static func chainRow(_ row: GRDB.Row, columns: Int) -> HashChain.Row {
        let fields = (0..<columns).map { index -> HashChain.Field in
            switch (row[index] as DatabaseValue).storage {
            case .null: return .null
            case .int64(let value): return .integer(value)
            case .string(let text): return .text(text)
            case .double(let value): return .foreign("real \(value)")
            case .blob(let data): return .foreign("blob of \(data.count) bytes")
            }
        }
        // Read through DatabaseValue: GRDB's typed subscripts trap on a value of another type,
        // and a hand-edited row may hold anything.
        guard case .integer(let id) = fields[0] else { return HashChain.Row(id: 0, fields: fields, stored: nil) }
        if case .string(let stored) = (row[columns] as DatabaseValue).storage { return HashChain.Row(id: id, fields: fields, stored: stored) }
        return HashChain.Row(id: id, fields: fields, stored: nil)
    }

    /// The migration's step: hashes for the rows already there, in id order.
    private static func backfillChains(_ db: Database) throws {
        for table in HashChain.Table.allCases {
            let columns = HashChain.columns(table).count
            // Converted one by one: a cursor's Row is reused from step to step.
            var rows: [HashChain.Row] = []
            let cursor = try chainRows(db, table)
            while let row = try cursor.next() { rows.append(chainRow(row, columns: columns)) }
            let statement = try db.makeStatement(sql: "UPDATE \(table.rawValue) SET hash = ? WHERE id = ?")
            for (id, hash) in HashChain.backfill(rows, table: table) { try statement.execute(arguments: [hash, id]) }
        }
    }

    public func chainHeads() throws(StoreError) -> ChainHeads {
        try read("read the chain heads") { db in
            let audit = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"))
            let event = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM event ORDER BY id DESC LIMIT 1"))
            func text(_ row: GRDB.Row?, _ index: Int) -> String? {
                guard let row, case .string(let text) = (row[index] as DatabaseValue).storage else { return nil }
                return text
            }
            return ChainHeads(
                auditID: audit.map { $0[0] }, audit: text(audit, 1), eventID: event.map { $0[0] }, event: text(event, 1))
        }
    }

    public func verifyChains() throws(StoreError) -> [ChainReport] {
        try read("verify the audit trail") { db in
            try HashChain.Table.allCases.map { table in
                var walker = HashChain.Walker(table: table)
                let columns = HashChain.columns(table).count
                let cursor = try SQLiteStateStore.chainRows(db, table)
                while let row = try cursor.next(), walker.check(SQLiteStateStore.chainRow(row, columns: columns)) {}
                return walker.report
            }
        }
    }

    public func auditTrail(item: String?, since: Instant?) throws(StoreError) -> [AuditRecord] {
        try read("read audit trail") { db in
            var conditions: [String] = []
            var arguments: [DatabaseValueConvertible?] = []
            if let item { conditions.append("item = ?"); arguments.append(item) }
            if let since { conditions.append("at >= ?"); arguments.append(since.seconds) }
            let sql =
                "SELECT at, uid, user, action, item, detail, allowed FROM audit"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                AuditRecord(
                    at: Instant(seconds: row[0]), uid: UInt32(truncatingIfNeeded: row[1] as Int64), user: row[2],
                    action: row[3], item: row[4], detail: row[5], allowed: row[6])
            }
        }
    }

    // MARK: the reminder ledger

    /// Claims reminders before they go to the journal: returns the keys not in the ledger
    /// yet, now recorded as pending. A key already present is never fired again.
    public func claim(_ entries: [LedgerEntry]) throws(StoreError) -> Set<String> {
        try write("claim reminders") { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO ledger (key, item, outcome, scheduled_at, at, catch_up, pending)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            var claimed: Set<String> = []
            for entry in entries {
                try statement.execute(arguments: [
                    entry.key, entry.itemID, entry.outcome.rawValue, entry.scheduledAt.seconds,
                    entry.at.seconds, entry.catchUp, entry.outcome == .fired
                ])
                if db.changesCount > 0 { claimed.insert(entry.key) }
            }
            return claimed
        }
    }

    /// Marks claimed reminders as written to the journal, and everything before
    /// `processedThrough` as dealt with.
    public func settle(_ keys: [String], processedThrough: Instant?) throws(StoreError) {
        try write("settle reminders") { db in
            let statement = try db.cachedStatement(sql: "UPDATE ledger SET pending = 0 WHERE key = ?")
            for key in keys { try statement.execute(arguments: [key]) }
            if let processedThrough {
                try db.execute(
                    sql: """
                        INSERT INTO checkpoint (name, value) VALUES ('processed-through', ?)
                        ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)
                        """, arguments: [processedThrough.seconds])
            }
        }
    }

    /// Reminders claimed whose journal write may not have happened (a crash in between).
    public func pendingKeys() throws(StoreError) -> [String] {
        try read("read pending") { db in try String.fetchAll(db, sql: "SELECT key FROM ledger WHERE pending = 1") }
    }

    /// Forgets a pending claim, so that the reminder can fire again (its journal entry never made it).
    public func release(_ keys: [String]) throws(StoreError) {
        try write("release") { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM ledger WHERE key = ? AND pending = 1")
            for key in keys { try statement.execute(arguments: [key]) }
        }
    }

    /// Everything up to this instant has been fired, skipped or recorded missed.
    public func processedThrough() throws(StoreError) -> Instant? {
        try read("read checkpoint") { db in
            try Int64.fetchOne(db, sql: "SELECT value FROM checkpoint WHERE name = 'processed-through'").map(Instant.init(seconds:))
        }
    }

    public func ledger(item: String) throws(StoreError) -> [LedgerEntry] {
        try read("read ledger") { db in
            // Pending lines are claims for reminders not yet written (the next batch, armed ahead).
            try Row.fetchAll(
                db,
                sql: """
                    SELECT key, item, outcome, scheduled_at, at, catch_up FROM ledger WHERE item = ? AND pending = 0 ORDER BY at, key
                    """,
                arguments: [item]
            ).compactMap { row in
                guard let outcome = LedgerEntry.Outcome(rawValue: row[2]) else { return nil }
                return LedgerEntry(
                    key: row[0], itemID: row[1], outcome: outcome, scheduledAt: Instant(seconds: row[3]),
                    at: Instant(seconds: row[4]), catchUp: row[5])
            }
        }
    }

    public func ledgerCounts() throws(StoreError) -> [LedgerEntry.Outcome: Int] {
        try read("count ledger") { db in
            var counts: [LedgerEntry.Outcome: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT outcome, count(*) FROM ledger WHERE pending = 0 GROUP BY outcome") {
                if let outcome = LedgerEntry.Outcome(rawValue: row[0]) { counts[outcome] = row[1] }
            }
            return counts
        }
    }

    /// `PRAGMA integrity_check`, for tests and operators.
    public func integrityCheck() throws(StoreError) -> String {
        try read("integrity check") { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }
}

extension SQLiteStateStore {
    /// One page of the audit trail: `limit` + 1 rows are read to know whether more follow.
    public func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(StoreError) -> AuditPage {
        try read("read audit trail") { db in
            var conditions: [String] = []
            var arguments: [DatabaseValueConvertible?] = []
            if let item { conditions.append("item = ?"); arguments.append(item) }
            if let since { conditions.append("at >= ?"); arguments.append(since.seconds) }
            if let after { conditions.append("id > ?"); arguments.append(after) }
            arguments.append(limit + 1)
            let sql =
                "SELECT at, uid, user, action, item, detail, allowed, id FROM audit"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY id LIMIT ?"
            let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            let records = rows.prefix(limit).map { row in
                AuditRecord(
                    at: Instant(seconds: row[0]), uid: UInt32(truncatingIfNeeded: row[1] as Int64), user: row[2],
                    action: row[3], item: row[4], detail: row[5], allowed: row[6])
            }
            return AuditPage(records: Array(records), next: rows.count > limit ? rows[limit - 1][7] as Int64 : nil)
        }
    }
}

extension SQLiteStateStore {
    public func markMissed(_ key: String, reason: String, at now: Instant) throws(StoreError) {
        try write("record missed reminder") { db in
            try db.execute(
                sql: "UPDATE ledger SET outcome = 'missed', pending = 0, reason = ?, at = ? WHERE key = ? AND pending = 1",
                arguments: [reason, now.seconds, key])
        }
    }

    /// Why the reminders of an item recorded missed were missed, by key (for Show).
    public func missedReasons(item: String) throws(StoreError) -> [String: String] {
        try read("read ledger") { db in
            var reasons: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, reason FROM ledger WHERE item = ? AND reason IS NOT NULL", arguments: [item]) {
                reasons[row[0]] = row[1]
            }
            return reasons
        }
    }
}

extension SQLiteStateStore {
    /// The request id and reply on the audit line just inserted, in the write's transaction.
    fileprivate static func keep(_ request: WriteRequest?, _ db: Database, eventID: Int64) throws {
        guard let request else { return }
        try db.execute(
            sql: "UPDATE audit SET request = ?, reply = ? WHERE id = last_insert_rowid()", arguments: [request.id, request.reply(eventID)])
    }

    public func requestOutcome(_ id: String) throws(StoreError) -> RequestOutcome? {
        try read("read request") { db in
            try Row.fetchOne(db, sql: "SELECT action, uid, reply FROM audit WHERE request = ?", arguments: [id]).map { row in
                RequestOutcome(action: row[0], uid: UInt32(truncatingIfNeeded: row[1] as Int64), reply: row[2])
            }
        }
    }
}
