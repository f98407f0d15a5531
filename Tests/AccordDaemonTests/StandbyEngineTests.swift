import AccordCalendar
import AccordCore
import AccordStore
import Foundation
import Logging
import Testing

@testable import AccordDaemon

/// The engine's side of two hosts, one reminder (docs/contracts.md §15), on a real SQLite store
/// and a ManualClock: a standby's engine reads and never claims nor fires; an active engine told
/// it lost the lock (the fence) fires nothing more and leaves its claims for the new active one;
/// a takeover's new engine follows the catch-up rules of a restart.
@Suite struct StandbyEngineTests {
    let alphaPT2H = "d/alpha:due:2030-01-01T12:00:00Z:PT2H"
    let alphaPT1H = "d/alpha:due:2030-01-01T12:00:00Z:PT1H"
    let alphaP0D = "d/alpha:due:2030-01-01T12:00:00Z:P0D"

    func engine(_ fixture: Fixture, _ clock: ManualClock, _ journal: CollectingJournal, standby: Bool) throws -> ReminderEngine {
        try ReminderEngine(
            configuration: try fixture.load(), store: try SQLiteStateStore(path: fixture.stateFile), clock: clock, journal: journal,
            lookup: FixedLookup(present: []), logger: Logger(label: "test"), standby: standby)
    }

    @Test func aStandbyPlansButNeverClaimsNorFires() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let active = try engine(fixture, clock, journal, standby: false)
        active.processDue()
        #expect(try active.store.pendingKeys() == [alphaPT2H])  // the active one armed its next batch
        let standby = try engine(fixture, clock, journal, standby: true)
        #expect(standby.standby && standby.plan.catalog.items.count == 2)
        // Starting did not settle the active one's pending claim (it is not the standby's).
        #expect(try standby.store.pendingKeys() == [alphaPT2H])
        #expect(standby.peekNext()?.key == alphaPT2H)
        clock.set(instant("2030-01-01T10:00:00Z"))
        let round = standby.processDue()
        #expect(round.fired.isEmpty && round.catchUp.isEmpty && round.skipped.isEmpty && journal.entries.isEmpty)
        #expect(active.processDue().fired.map(\.key) == [alphaPT2H])
        #expect(journal.reminderKeys == [alphaPT2H])
        // The active one's write reaches the standby's plan at its next look.
        _ = try active.record(id: "alpha", event: "completed", on: nil, note: nil, term: nil, actor: Actor(uid: 0, user: "root"))
        #expect(standby.plan.state(ofItem: 0, at: clock.now()) != .done)
        #expect(try standby.refreshStandby())
        #expect(standby.plan.state(ofItem: 0, at: clock.now()) == .done)
        #expect(try !standby.refreshStandby())  // nothing new: the plan is kept
        #expect(standby.ledgerCounts[.fired] == 1)
    }

    @Test func anEngineThatLostTheLockFiresNothingAndReleasesNothing() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try engine(fixture, clock, journal, standby: false)
        var held = true
        engine.mayFire = { held }
        engine.processDue()
        #expect(try engine.store.pendingKeys() == [alphaPT2H])
        held = false  // e.g. stopped past the takeover, then continued
        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.isEmpty)
        #expect(journal.entries.isEmpty && engine.lostLeadership && engine.standby)
        // The claim stays for the new active daemon to settle; nothing more is armed.
        #expect(try engine.store.pendingKeys() == [alphaPT2H])
        clock.set(instant("2030-01-01T12:00:00Z"))
        #expect(engine.processDue().fired.isEmpty && journal.entries.isEmpty)
        engine.releaseArmedBatch()
        #expect(try engine.store.pendingKeys() == [alphaPT2H])
    }

    /// The new active daemon starts as a restart does (docs/contracts.md §5): the claim the old
    /// one left is released (the journal lookup did not find it) and fires again as catch-up,
    /// the latest per deadline only.
    @Test func aTakeoverCatchesUpAsARestartDoes() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let old = try engine(fixture, clock, journal, standby: false)
        old.processDue()
        old.mayFire = { false }
        clock.set(instant("2030-01-01T11:30:00Z"))  // the old one stopped before 10:00, 11:00 passed too
        old.processDue()
        #expect(journal.entries.isEmpty)
        let new = try engine(fixture, clock, journal, standby: false)
        let round = new.processDue()
        #expect(round.catchUp.map(\.key) == [alphaPT1H])
        #expect(round.skipped.map(\.key) == [alphaPT2H])
        #expect(journal.reminderKeys == [alphaPT1H] && journal.entries.first?["ACCORD_CATCHUP"] == "1")
        #expect(try new.store.pendingKeys() == [alphaP0D])  // armed next, by the new active engine
    }

    /// A claim that fails for another reason (the database went away) is not the full-disk
    /// case on a shared database: a lone daemon fires anyway and keeps the lines for later, a
    /// daemon sharing its state (one with a fence) stands by instead, since another daemon may
    /// take over and fire the same reminders. The failure is real: the ledger table is dropped
    /// under the engine by the sqlite3 program.
    @Test(arguments: [false, true]) func aFailedClaimStandsASharedEngineDown(shared: Bool) throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try engine(fixture, clock, journal, standby: false)
        if shared { engine.mayFire = { true } }
        engine.processDue()  // arms 10:00, claimed
        let drop = Process()
        drop.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        drop.arguments = [fixture.stateFile, "DROP TABLE ledger"]
        try drop.run()
        drop.waitUntilExit()
        #expect(drop.terminationStatus == 0)
        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.map(\.key) == [alphaPT2H])  // claimed before: fires; arming 11:00 fails
        clock.set(instant("2030-01-01T11:00:00Z"))
        let round = engine.processDue()
        if shared {
            #expect(round.fired.isEmpty && engine.lostLeadership && engine.standby)
            #expect(journal.reminderKeys == [alphaPT2H])
        } else {
            #expect(round.fired.map(\.key) == [alphaPT1H] && !engine.lostLeadership)
            #expect(journal.reminderKeys == [alphaPT2H, alphaPT1H])
        }
    }
}
