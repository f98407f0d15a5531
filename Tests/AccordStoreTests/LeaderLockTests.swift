import AccordCalendar
import AccordCore
import Foundation
import Testing

@testable import AccordStore

/// The leader lock and the fenced claim on a real PostgreSQL (docs/design.md §15): one active
/// daemon per database, and a daemon that lost its lock session claims nothing more.
@Suite(.enabled(if: Backend.available.contains(.postgresql), "needs PostgreSQL (see Backends.swift)"))
struct LeaderLockTests {
    func entry(_ key: String) -> LedgerEntry {
        LedgerEntry(key: key, itemID: "d/a", outcome: .fired, scheduledAt: Instant(seconds: 1), at: Instant(seconds: 2))
    }

    @Test func oneActiveAtATimeAndTheOthersKnowWho() throws {
        let url = try Scratch.newDatabase()
        let state = StateConfig(url: url)
        let first = try LeaderLock(state, name: "accordd@host-a (1)")
        let second = try LeaderLock(state, name: "accordd@host-b (2)")
        #expect(try first.tryAcquire())
        #expect(try first.tryAcquire())  // asking again while holding it: still ours
        #expect(try !second.tryAcquire())
        #expect(first.isHeld() && !second.isHeld())
        #expect(second.holder() == "accordd@host-a (1)")
        first.release()
        #expect(!first.isHeld())
        #expect(try second.tryAcquire())
        #expect(second.holder() == "accordd@host-b (2)")
        second.release()
    }

    /// pg_terminate_backend on the active daemon's lock session (what a lost network or a
    /// restarted server does): its lock is gone at once, its next claim is refused with
    /// notActive, and a standby takes over and claims.
    @Test func aCutSessionStopsClaimsAndAStandbyTakesOver() throws {
        let url = try Scratch.newDatabase()
        let state = StateConfig(url: url)
        let storeA = try PostgresStateStore(state), storeB = try PostgresStateStore(state)
        let lockA = try LeaderLock(state, name: "a"), lockB = try LeaderLock(state, name: "b")
        storeA.fence = lockA
        storeB.fence = lockB
        #expect(try lockA.tryAcquire())
        #expect(try !lockB.tryAcquire())
        #expect(try storeA.claim([entry("k1")]) == ["k1"])
        do {
            _ = try storeB.claim([entry("k2")])
            Issue.record("a standby claimed")
        } catch {
            #expect(error.notActive)
        }

        let admin = try PostgresConnection(state)
        try admin.execute("SELECT pg_terminate_backend($1)", [String(lockA.backendPID!)], operation: "test")
        admin.finish()
        // The server ends the session asynchronously: within a second in practice.
        var released = false
        for _ in 0..<100 where !released {
            released = try lockB.tryAcquire()
            if !released { usleep(20_000) }
        }
        #expect(released, "the standby did not get the lock within 2 s of the cut")
        #expect(!lockA.isHeld())
        do {
            _ = try storeA.claim([entry("k3")])
            Issue.record("a daemon whose lock session was cut claimed")
        } catch {
            #expect(error.notActive)
            #expect(error.description.contains("no longer holds the leader lock"))
        }
        #expect(try storeB.claim([entry("k1"), entry("k3")]) == ["k3"])  // k1 stays A's: claimed once
        // A takes the lock again only once B lets it go, on a new session.
        #expect(try !lockA.tryAcquire())
        lockB.release()
        #expect(try lockA.tryAcquire())
        #expect(try storeA.claim([entry("k4")]) == ["k4"])
    }

    /// The holder's name is in accord_leader while its session holds the lock, and the next
    /// holder learns who was active before it.
    @Test func theHolderIsRecordedAndTheNextOneKnowsItsPredecessor() throws {
        let state = StateConfig(url: try Scratch.newDatabase())
        let first = try LeaderLock(state, name: "accordd@host-a (1)")
        let second = try LeaderLock(state, name: "accordd@host-b (2)")
        let observer = try LeaderLock(state, name: "observer")
        defer { observer.release() }
        #expect(second.holder() == nil)
        #expect(try first.tryAcquire())
        #expect(first.previousHolder == nil)
        let admin = try PostgresConnection(state)
        defer { admin.finish() }
        #expect(try admin.execute("SELECT name FROM accord_leader", operation: "test").rows == [["accordd@host-a (1)"]])
        #expect(second.holder() == "accordd@host-a (1)")
        first.release()
        #expect(second.holder() == nil)  // the row stays, but its session holds nothing
        #expect(try second.tryAcquire())
        #expect(second.previousHolder == "accordd@host-a (1)")
        #expect(observer.holder() == "accordd@host-b (2)")
        second.release()
    }

    /// A holder that stops speaking on its lock session (SIGSTOP, a hung host) loses the lock
    /// once the server's silence limit, half of takeover, has passed: a standby gets it. The
    /// limit is PostgreSQL's own timer, so the test waits for it (1.5 s for PT3S).
    @Test func aSilentHolderLosesTheLockAfterHalfTheTakeover() throws {
        let state = StateConfig(url: try Scratch.newDatabase(), takeover: ISODuration(seconds: 3))
        let silent = try LeaderLock(state, name: "silent")
        let standby = try LeaderLock(state, name: "standby")
        #expect(silent.silenceLimitMilliseconds == 1500)
        #expect(try silent.tryAcquire())
        #expect(silent.silenceLimitProblem == nil)
        let start = Date()
        var acquired = false
        while !acquired && Date().timeIntervalSince(start) < 5 {
            acquired = try standby.tryAcquire()
            if !acquired { usleep(100_000) }
        }
        let waited = Date().timeIntervalSince(start)
        #expect(acquired, "the standby did not get the lock of a silent holder within 5 s")
        #expect(waited >= 1.4 && waited < 2.5, "the lock changed hands after \(waited) s; the limit is 1.5 s")
        #expect(!silent.isHeld())
        standby.release()
    }

    /// `accordd check --connect`: what the server says, changing nothing.
    @Test func theProbeReadsTheSchemaVersionAndTheActiveDaemonAndChangesNothing() throws {
        let state = StateConfig(url: try Scratch.newDatabase())
        let fresh = try StateProbe.probe(state)
        #expect(fresh.schemaVersion == 0 && fresh.active == nil && fresh.usable)
        #expect(fresh.serverVersion.hasPrefix("1"))
        #expect(fresh.schemaText.contains("no schema yet"))
        #expect(try StateProbe.probe(state).schemaVersion == 0)  // probing created nothing
        let store = try PostgresStateStore(state)
        let lock = try LeaderLock(state, name: "accordd@host-a (1)")
        #expect(try lock.tryAcquire())
        let running = try StateProbe.probe(state)
        #expect(running.schemaVersion == StateSchema.version && running.active == "accordd@host-a (1)")
        #expect(running.schemaText == "schema version \(StateSchema.version), as this accordd expects")
        #expect(lock.isHeld())  // the probe took no lock
        let admin = try PostgresConnection(state)
        try admin.execute("INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)", [String(StateSchema.version + 1)], operation: "test")
        admin.finish()
        let newer = try StateProbe.probe(state)
        #expect(!newer.usable && newer.schemaText.contains("newer than this accordd's"))
        lock.release()
        try store.close()
        do {
            _ = try StateProbe.probe(StateConfig(url: Scratch.url(state.url, database: "no_such_database_here")))
            Issue.record("a database that does not exist answered")
        } catch {
            #expect(error.message.contains("no_such_database_here"))
        }
    }
}
