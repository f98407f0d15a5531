import AccordCalendar
import AccordCore
import Glibc

/// Which of several daemons sharing one PostgreSQL database is the active one (docs/design.md
/// §15): the one whose dedicated session holds a session-level advisory lock. PostgreSQL
/// releases it the moment that session ends (the daemon died, its host or network went away,
/// pg_terminate_backend), and a standby's next `tryAcquire()` (every takeover/3) gets it.
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

    public init(_ state: StateConfig, name: String = LeaderLock.defaultName()) throws(StoreError) {
        location = state.url
        self.name = String(name.utf8.prefix(63)) ?? "accordd"
        connection = try PostgresConnection(state, applicationName: self.name, reconnects: false)
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

    /// The application_name of the session holding the lock (the active daemon), if any.
    public func holder() -> String? {
        lock.lock(); defer { lock.unlock() }
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
