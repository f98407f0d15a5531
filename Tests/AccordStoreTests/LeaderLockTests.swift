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
}
