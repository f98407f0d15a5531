import AccordCalendar
import AccordCore
import Glibc

/// Which of several daemons sharing one PostgreSQL database is the active one (docs/contracts.md
/// §15): the one whose dedicated session holds a session-level advisory lock. PostgreSQL
/// releases it the moment that session ends (the daemon died, pg_terminate_backend, or it
/// stayed silent past `silenceLimitMilliseconds`), and a standby's next `tryAcquire()` (every
/// takeover/3) gets it.
/// The session is never silently re-opened: a new session would not hold the lock.
public final class LeaderLock: @unchecked Sendable {
    // @unchecked: used from the daemon's one queue; the session is touched under `lock`.
    private let connection: PostgresConnection
    private let lock = NSLockLite()
    public let location: String
    /// How this daemon names itself to the others: accordd@HOST (pid), PostgreSQL's
    /// application_name of the lock session (at most 63 bytes).
    public let name: String
    /// The lock session's server process while it holds the lock, for the claim's fence.
    public private(set) var backendPID: Int32?

    /// 'accord' in ASCII plus 1 (the migration lock is plus 0): one election per database.
    public static let key: Int64 = PostgresStateStore.migrationLockKey + 1

    /// How long the server lets the lock session sit silent before it ends it (PostgreSQL's
    /// idle_session_timeout, set on the session once it holds the lock): half of `takeover`.
    /// The active daemon speaks on it every sixth (`isHeld()`), so only a daemon that stopped
    /// running (SIGSTOP, a hung host, a network gone without a reset) or whose queue stalled
    /// for a third of `takeover` goes silent that long; its lock is then freed, and a standby
    /// trying every third has it within 1/2 + 1/3 = 5/6 of `takeover` after the last word.
    /// Without it a stopped process would hold the lock for as long as its socket stays open.
    public let silenceLimitMilliseconds: Int
    /// Why the silence limit could not be set (a server before PostgreSQL 14), once the lock is held.
    public private(set) var silenceLimitProblem: String?
    /// The daemon that held the lock before this one took it, as its row in accord_leader named it.
    public private(set) var previousHolder: String?

    public init(_ state: StateConfig, name: String = LeaderLock.defaultName()) throws(StoreError) {
        location = state.url
        self.name = String(name.utf8.prefix(63)) ?? "accordd"
        silenceLimitMilliseconds = max(1000, Int(state.takeover.approximateSeconds) * 1000 / 2)
        // A standby re-connects on the daemon's queue every third of takeover while the server
        // is away: a third of takeover (at least libpq's 2 s) bounds how long a database that
        // does not answer holds up the daemon's replies, rather than the store's 10 s.
        connection = try PostgresConnection(
            state, applicationName: self.name, reconnects: false,
            connectTimeout: max(2, Int(state.takeover.approximateSeconds) / 3))
    }

    public static func defaultName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        return "accordd@\(String(cString: host)) (\(getpid()))"
    }

    /// Takes the lock if no session holds it; true when this daemon is (now) the active one.
    /// A lost session is replaced first (the lock went with it).
    public func tryAcquire() throws(StoreError) -> Bool {
        lock.lock(); defer { lock.unlock() }
        // Already held: asking again would stack a second level of the session lock, which
        // one pg_advisory_unlock would not release.
        if backendPID != nil {
            let held = try? connection.execute(LeaderLock.heldSQL + " AND pid = pg_backend_pid()", operation: "check the leader lock")
            if held?.rows.isEmpty == false { return true }
            backendPID = nil
        }
        if backendPID == nil {
            do { _ = try connection.execute("SELECT 1", operation: "check the leader session") } catch {
                try connection.reconnect()
            }
        }
        let row = try connection.execute(
            "SELECT pg_try_advisory_lock($1), pg_backend_pid()", [String(LeaderLock.key)],
            operation: "take the leader lock"
        ).rows.first
        if row?[0] == "t", let pid = row?[1].flatMap({ Int32($0) }) {
            backendPID = pid
            tookLock()
            return true
        }
        backendPID = nil
        return false
    }

    /// Whether this daemon still holds the lock: asked of the server, on the lock's own session
    /// (a session that cannot answer holds nothing this daemon may rely on).
    public func isHeld() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard backendPID != nil else { return false }
        let held = try? connection.execute(LeaderLock.heldSQL + " AND pid = pg_backend_pid()", [], operation: "check the leader lock")
        if held?.rows.isEmpty == false { return true }
        backendPID = nil
        return false
    }

    /// Just after taking the lock, on its session: the silence limit, and this daemon's name in
    /// accord_leader (with the previous holder's, kept in `previousHolder`). Neither is needed
    /// for the lock to work, so a failure leaves the lock held: `holder()` then falls back on
    /// the session's application_name, and `silenceLimitProblem` says why.
    private func tookLock() {
        silenceLimitProblem = nil
        do {
            try connection.execute(
                "SELECT set_config('idle_session_timeout', $1, false)", [String(silenceLimitMilliseconds)],
                operation: "limit the leader session's silence")
        } catch {
            silenceLimitProblem = error.message
        }
        // The table belongs to the election, not to the versioned state schema (it holds no
        // state: its row counts only while its backend_pid holds the lock). Only the lock's
        // holder creates or writes it, so two daemons never race to create it.
        _ = try? connection.execute(LeaderLock.createLeaderTable, operation: "record the leader")
        let previous = try? connection.execute(
            """
            WITH previous AS (SELECT name FROM accord_leader WHERE id = 1)
            INSERT INTO accord_leader (id, name, backend_pid, since)
            VALUES (1, $1, pg_backend_pid(), extract(epoch FROM now())::bigint)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, backend_pid = excluded.backend_pid, since = excluded.since
            RETURNING (SELECT name FROM previous)
            """, [name], operation: "record the leader")
        previousHolder = previous?.rows.first?.first ?? nil
    }

    static let createLeaderTable = """
        CREATE TABLE IF NOT EXISTS accord_leader (
            id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
            name TEXT NOT NULL,
            backend_pid INTEGER NOT NULL,
            since BIGINT NOT NULL
        )
        """

    /// The active daemon's name, if one holds the lock: from accord_leader when its row is the
    /// holder's (its backend_pid holds the lock), else the holding session's application_name
    /// (a holder that could not write the table).
    public func holder() -> String? {
        lock.lock(); defer { lock.unlock() }
        if let recorded = try? connection.execute(
            "SELECT name FROM accord_leader WHERE id = 1 AND EXISTS (" + LeaderLock.heldSQL + " AND pid = accord_leader.backend_pid)",
            operation: "find the active daemon"
        ).rows.first?.first, let recorded {
            return recorded
        }
        let rows = try? connection.execute(
            """
            SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.classid = \(LeaderLock.key >> 32) AND l.objid = \(LeaderLock.key & 0xffff_ffff)
              AND l.objsubid = 1 AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """, operation: "find the active daemon"
        ).rows
        return rows?.first?.first ?? nil
    }

    /// Gives the lock up (a clean stop), so that a standby takes over at its next try.
    public func release() {
        lock.lock(); defer { lock.unlock() }
        if backendPID != nil { _ = try? connection.execute("SELECT pg_advisory_unlock_all()", operation: "release") }
        backendPID = nil
        connection.finish()
    }

    /// The granted advisory lock (bigint form: classid the high, objid the low 32 bits, objsubid 1).
    static let heldSQL = """
        SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = \(key >> 32) AND objid = \(key & 0xffff_ffff)
          AND objsubid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
}

/// A pthread mutex, without Foundation.
final class NSLockLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func lock() { pthread_mutex_lock(&mutex) }
    func unlock() { pthread_mutex_unlock(&mutex) }
}
