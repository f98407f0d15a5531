import AccordCalendar
import AccordCore
import AccordStore
import Foundation
import Logging
import Synchronization
import Testing

@testable import AccordDaemon

/// A clock the test moves by hand.
final class ManualClock: WallClock, @unchecked Sendable {
    private let value: Mutex<Instant>
    init(_ start: Instant) { value = Mutex(start) }
    func now() -> Instant { value.withLock { $0 } }
    func set(_ instant: Instant) { value.withLock { $0 = instant } }
    func advance(_ seconds: Int64) { value.withLock { $0 = $0.adding(seconds: seconds) } }
}

/// Collects what would go to the journal.
final class CollectingJournal: JournalSink, @unchecked Sendable {
    private let store = Mutex<[JournalEntry]>([])
    var entries: [JournalEntry] { store.withLock { $0 } }
    var reminderKeys: [String] { entries.compactMap { $0["ACCORD_REMINDER"] } }
    func send(_ entry: JournalEntry) -> Bool {
        store.withLock { $0.append(entry) }
        return true
    }
}

struct FixedLookup: JournalLookup {
    let present: Set<String>
    func written(among keys: [String]) -> Set<String>? { present.intersection(keys) }
}

func instant(_ text: String) -> Instant { try! Instant(parsingRFC3339: text) }

/// A scratch directory with a config and one portfolio whose deadlines are instants, removed
/// when the test lets go of it.
final class Fixture {
    let directory: String
    var configFile: String { directory + "/accordd.toml" }
    var stateFile: String { directory + "/state.sqlite" }

    /// `extra`: more top-level lines of accordd.toml (digest, escalate-after).
    init(portfolio: String, catchUp: String = "P7D", extra: String = "") throws {
        directory = NSTemporaryDirectory() + "accord-engine-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/portfolios", withIntermediateDirectories: true)
        try "portfolios = [\"portfolios\"]\ncatch-up = \"\(catchUp)\"\n\(extra)".write(toFile: configFile, atomically: false, encoding: .utf8)
        try portfolio.write(toFile: directory + "/portfolios/test.toml", atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// Rewrites the portfolio as `twoDeadlines` with a third item, objective gamma, due `due`:
    /// what a reload then finds new.
    func addGamma(due: String) throws {
        let extended = twoDeadlines + "\n\n[[objective]]\nid = \"gamma\"\ntitle = \"Gamma\"\ndue = \(due)\n"
        try extended.write(toFile: directory + "/portfolios/test.toml", atomically: false, encoding: .utf8)
    }

    func load() throws -> LoadedConfiguration {
        try ConfigurationLoader.load(configFile: configFile).get()
    }

    func engine(clock: ManualClock, journal: CollectingJournal, lookup: (any JournalLookup)? = nil) throws -> ReminderEngine {
        try ReminderEngine(
            configuration: try load(), store: try SQLiteStateStore(path: stateFile), clock: clock, journal: journal,
            lookup: lookup, logger: Logger(label: "test"))
    }
}

let twoDeadlines = """
    [dialogue]
    id = "d"
    title = "Test dialogue"
    time-zone = "UTC"
    reminders = ["PT2H", "PT1H", "P0D"]
    overdue-every = "PT1H"

    [[objective]]
    id = "alpha"
    title = "Alpha"
    due = 2030-01-01T12:00:00Z

    [[instrument]]
    id = "beta"
    kind = "mou"
    title = "Beta"
    sign-by = 2030-01-01T18:00:00+02:00
    """

/// The error a Record call fails with, if any. Kept out of the test body: with `#expect(throws:)`
/// around these calls the test crashed at run time (swift_retain on a bad pointer, under Swift
/// 6.3.1, debug), and an earlier form crashed the compiler ("Found outside of lifetime use").
func recordingError(_ engine: ReminderEngine, id: String, event: String, actor: Actor) -> EngineError? {
    do {
        _ = try engine.record(id: id, event: event, on: nil, note: nil, term: nil, actor: actor)
        return nil
    } catch {
        return error
    }
}

@Suite struct EngineTests {
    @Test func firesEachReminderOnceInOrder() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        #expect(engine.nextFireAt() == instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.isEmpty)
        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:PT2H"])
        #expect(engine.processDue().fired.isEmpty)  // the same instant again fires nothing
        clock.set(instant("2030-01-01T12:00:30Z"))
        let round = engine.processDue()
        // 11:00 is late and superseded by 12:00 of the same deadline, which is on time.
        #expect(round.fired.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:P0D"])
        #expect(round.catchUp.isEmpty)
        #expect(round.skipped.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:PT1H"])
        #expect(Set(journal.reminderKeys).count == journal.reminderKeys.count)
        let entry = try #require(journal.entries.first)
        #expect(entry["ACCORD_ITEM"] == "d/alpha")
        #expect(entry["ACCORD_DIALOGUE"] == "d")
        #expect(entry["ACCORD_DEADLINE"] == "due")
        #expect(entry["ACCORD_DEADLINE_AT"] == "2030-01-01T12:00:00Z")
        #expect(entry["ACCORD_LEAD"] == "PT2H")
        #expect(entry["ACCORD_DAYS_LEFT"] == "0")
        #expect(entry["PRIORITY"] == "3")
        #expect(entry["MESSAGE_ID"] == MessageID.approaching)
        #expect(entry["ACCORD_CATCHUP"] == "0")
        #expect(entry["MESSAGE"] == "d/alpha: due in 2 hours (2030-01-01T12:00:00Z)")
    }

    @Test func restartNeverFiresTwice() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            clock.set(instant("2030-01-01T10:00:00Z"))
            engine.processDue()
            try engine.store.close()
        }
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        clock.set(instant("2030-01-01T10:00:10Z"))
        engine.processDue()
        #expect(journal.reminderKeys == ["d/alpha:due:2030-01-01T12:00:00Z:PT2H"])
    }

    @Test func downtimeFiresOnlyTheLatestPerDeadlineAsCatchUp() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            engine.processDue()
            try engine.store.close()
        }
        // Down from 09:00 to 12:30: alpha's PT2H, PT1H and P0D (10, 11, 12) came due; beta's PT2H (14) did not.
        clock.set(instant("2030-01-01T12:30:00Z"))
        let engine = try fixture.engine(clock: clock, journal: journal)
        let round = engine.processDue()
        #expect(round.catchUp.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:P0D"])
        #expect(Set(round.skipped.map(\.key)) == ["d/alpha:due:2030-01-01T12:00:00Z:PT2H", "d/alpha:due:2030-01-01T12:00:00Z:PT1H"])
        #expect(journal.entries.last?["ACCORD_CATCHUP"] == "1")
        #expect(journal.entries.last?["ACCORD_DAYS_LEFT"] == "0")
        let counts = try engine.store.ledgerCounts()
        #expect(counts[.fired] == 1 && counts[.skipped] == 2)
    }

    @Test func olderThanCatchUpIsRecordedMissed() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, catchUp: "PT3H")
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            engine.processDue()
            try engine.store.close()
        }
        clock.set(instant("2030-01-01T13:30:00Z"))
        let engine = try fixture.engine(clock: clock, journal: journal)
        let round = engine.processDue()
        // 10:00 is 3.5 h old: missed. 11:00, 12:00 and the 13:00 overdue repeat are within PT3H: only 13:00 fires.
        #expect(round.missed.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:PT2H"])
        #expect(round.catchUp.map(\.key) == ["d/alpha:due:2030-01-01T12:00:00Z:+PT1H"])
        #expect(journal.reminderKeys == ["d/alpha:due:2030-01-01T12:00:00Z:+PT1H"])
        #expect(try engine.store.ledgerCounts()[.missed] == 1)
    }

    @Test func remindersBeforeFirstLoadAreSkippedNotFired() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        #expect(engine.processDue().skipped.isEmpty)
        // A second item appears on reload at 13:30, after some of its reminders' times.
        try fixture.addGamma(due: "2030-01-01T14:00:00Z")
        clock.set(instant("2030-01-01T12:59:30Z"))
        try engine.reload(try fixture.load())
        clock.set(instant("2030-01-01T13:00:00Z"))
        engine.processDue()
        // gamma's PT1H reminder at 13:00 comes after its first load: it fires; PT2H (12:00) came before: never.
        #expect(journal.reminderKeys.contains("d/gamma:due:2030-01-01T14:00:00Z:PT1H"))
        #expect(!journal.reminderKeys.contains("d/gamma:due:2030-01-01T14:00:00Z:PT2H"))
    }

    /// A reload that takes minutes (1,000,000 items take 20 s): what the new files add for the
    /// time the reload took fires once it is done, and what the old plan fired meanwhile does
    /// not fire again.
    @Test func remindersDueWhileAReloadRunsFireAfterIt() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T10:30:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        try fixture.addGamma(due: "2030-01-01T11:05:00Z")
        // Asked for at 10:59:50; the files are read and the plan is built by 11:07.
        let requested = instant("2030-01-01T10:59:50Z")
        clock.set(instant("2030-01-01T11:07:00Z"))
        try engine.reload(try fixture.load(), requestedAt: requested)
        engine.processDue()
        let alpha = journal.reminderKeys.filter { $0 == "d/alpha:due:2030-01-01T12:00:00Z:PT1H" }
        let gamma = journal.reminderKeys.filter { $0.hasPrefix("d/gamma:due:2030-01-01T11:05:00Z:") }
        #expect(alpha.count == 1, "\(journal.reminderKeys)")
        #expect(gamma.count == 1, "\(journal.reminderKeys)")
        // gamma's PT1H at 10:05 came before the reload was asked for: never fired.
        #expect(!journal.reminderKeys.contains("d/gamma:due:2030-01-01T11:05:00Z:PT1H"))
        clock.set(instant("2030-01-01T11:10:00Z"))
        engine.processDue()
        #expect(journal.reminderKeys.filter { $0.hasPrefix("d/gamma:") || $0.hasPrefix("d/alpha:due:2030-01-01T12:00:00Z:PT1H") }.count == 2)
    }

    @Test func clockSetBackwardsDoesNotRefire() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T10:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        clock.set(instant("2030-01-01T11:00:00Z"))
        engine.processDue()
        #expect(journal.reminderKeys.count == 2)
        clock.set(instant("2030-01-01T09:30:00Z"))
        try engine.replan()
        clock.set(instant("2030-01-01T11:00:00Z"))
        engine.processDue()
        #expect(journal.reminderKeys.count == 2)
        #expect(engine.nextFireAt() == instant("2030-01-01T12:00:00Z"))
    }

    @Test func pendingClaimsAreSettledFromTheJournal() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:59:00Z"))
        let journal = CollectingJournal()
        do {
            let store = try SQLiteStateStore(path: fixture.stateFile)
            _ = try store.registerItems(["d/alpha", "d/beta"], now: instant("2030-01-01T09:00:00Z"))
            try store.settle([], processedThrough: instant("2030-01-01T09:00:00Z"))
            // A crash between the claim and the journal write left these pending.
            _ = try store.claim([
                LedgerEntry(
                    key: "d/alpha:due:2030-01-01T12:00:00Z:PT2H", itemID: "d/alpha", outcome: .fired,
                    scheduledAt: instant("2030-01-01T10:00:00Z"), at: instant("2030-01-01T10:00:00Z")),
                LedgerEntry(
                    key: "d/beta:sign-by:2030-01-01T16:00:00Z:PT2H", itemID: "d/beta", outcome: .fired,
                    scheduledAt: instant("2030-01-01T14:00:00Z"), at: instant("2030-01-01T14:00:00Z"))
            ])
            try store.close()
        }
        let lookup = FixedLookup(present: ["d/alpha:due:2030-01-01T12:00:00Z:PT2H"])
        let engine = try fixture.engine(clock: clock, journal: journal, lookup: lookup)
        #expect(try engine.store.pendingKeys().isEmpty)
        clock.set(instant("2030-01-01T14:00:00Z"))
        engine.processDue()
        // alpha's was in the journal already: not again. beta's never made it: it fires now.
        #expect(!journal.reminderKeys.contains("d/alpha:due:2030-01-01T12:00:00Z:PT2H"))
        #expect(journal.reminderKeys.contains("d/beta:sign-by:2030-01-01T16:00:00Z:PT2H"))
    }

    @Test func aFarTermOrAFarDateRecordedDoesNotBreakTheNextStart() throws {
        // Issue 16, defect 1: an instrument in force from 9999-12-31 for a million years in
        // Toronto crashed the re-plan, and every start after it, since the event was committed.
        let fixture = try Fixture(
            portfolio: """
                [dialogue]
                id = "d"
                title = "Far"
                time-zone = "America/Toronto"
                reminders = ["P30D", "P0D"]

                [[instrument]]
                id = "pact"
                kind = "mou"
                title = "Pact"
                term = "P1Y"
                """)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        let root = Actor(uid: 0, user: "root")
        _ = try engine.record(id: "pact", event: "in-force", on: day("9999-12-31"), note: nil, term: duration("P1000000Y"), actor: root)
        _ = try engine.record(id: "pact", event: "renewed", on: day("9999-12-31"), note: nil, term: duration("P1000000Y"), actor: root)
        let restarted = try fixture.engine(clock: clock, journal: journal)
        let deadlines = restarted.plan.deadlines(ofItem: 0, at: clock.now())
        #expect(deadlines.contains { $0.kind == .expiry && $0.at > instant("9999-12-31T00:00:00Z") })
        #expect(restarted.nextFireAt().map { $0 > clock.now() } ?? true)
    }

    @Test func recordValidatesTheLifecycle() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let engine = try fixture.engine(clock: clock, journal: CollectingJournal())
        let actor = Actor(uid: 1000, user: "tester")
        _ = try engine.record(id: "beta", event: "terminated", on: nil, note: "ended", term: nil, actor: actor)
        let refused = recordingError(engine, id: "beta", event: "in-force", actor: actor)
        #expect(refused?.description == "d/beta: cannot record in-force: not allowed from this state (state terminated; allowed: none)")
        // Terminated: beta's sign-by reminders are gone from the plan.
        #expect(engine.plan.reminders(from: clock.now(), until: instant("2030-01-02T00:00:00Z")).allSatisfy { $0.itemID != "d/beta" })
        #expect(recordingError(engine, id: "nope", event: "started", actor: actor)?.description == "no item \"nope\"")
        let (event, state) = try engine.record(id: "alpha", event: "completed", on: nil, note: nil, term: nil, actor: actor)
        #expect(event.type == .completed && state == .done)
        let trail = try engine.store.auditTrail(item: "d/alpha", since: nil)
        #expect(trail.map(\.action) == ["record"])
    }

    @Test func acknowledgeSilencesOverdueRepeats() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T12:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        clock.set(instant("2030-01-01T13:00:00Z"))
        engine.processDue()  // +PT1H fires
        let (_, deadline) = try engine.acknowledge(id: "d/alpha", deadline: "due", actor: Actor(uid: 0, user: "root"))
        #expect(deadline.kind == .due && deadline.passed)
        clock.set(instant("2030-01-01T15:30:00Z"))
        engine.processDue()
        #expect(!journal.reminderKeys.contains("d/alpha:due:2030-01-01T12:00:00Z:+PT2H"))
    }
}

/// The next batch is claimed and built ahead of its second, so that firing is only the
/// journal writes; these check that the claim never shows as a firing and never outlives a change.
@Suite struct ArmedBatchTests {
    let alphaPT2H = "d/alpha:due:2030-01-01T12:00:00Z:PT2H"
    let alphaPT1H = "d/alpha:due:2030-01-01T12:00:00Z:PT1H"

    @Test func theNextBatchIsClaimedAheadAndFiredFromTheClaim() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        #expect(engine.processDue().fired.isEmpty)
        // Claimed, but not fired: pending in the ledger, nowhere in what Show and Status report.
        #expect(try engine.store.pendingKeys() == [alphaPT2H])
        #expect(try engine.store.ledger(item: "d/alpha").isEmpty)
        #expect(engine.ledgerCounts[.fired] == nil)
        #expect(engine.peekNext()?.key == alphaPT2H && engine.nextFireAt() == instant("2030-01-01T10:00:00Z"))
        #expect(journal.entries.isEmpty)

        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.map(\.key) == [alphaPT2H])
        #expect(journal.reminderKeys == [alphaPT2H])
        #expect(journal.entries.first?["ACCORD_CATCHUP"] == "0")
        let ledger = try engine.store.ledger(item: "d/alpha")
        #expect(ledger.map(\.key) == [alphaPT2H] && ledger.first?.outcome == .fired)
        #expect(engine.ledgerCounts[.fired] == 1)
        #expect(try engine.store.pendingKeys() == [alphaPT1H])  // the batch after it, armed in turn
        #expect(engine.processDue().fired.isEmpty)  // the same second again: nothing twice
        #expect(journal.reminderKeys == [alphaPT2H])
    }

    @Test func aChangeThatDropsTheArmedReminderReleasesItsClaim() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T10:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        #expect(try engine.store.pendingKeys().contains(alphaPT1H))
        _ = try engine.record(id: "alpha", event: "completed", on: nil, note: nil, term: nil, actor: Actor(uid: 0, user: "root"))
        let pending = try engine.store.pendingKeys()
        #expect(!pending.contains(alphaPT1H))
        #expect(pending == ["d/beta:sign-by:2030-01-01T16:00:00Z:PT2H"])  // what is next now
        clock.set(instant("2030-01-01T12:30:00Z"))
        engine.processDue()
        #expect(!journal.reminderKeys.contains { $0.hasPrefix("d/alpha:") && $0 != alphaPT2H })
    }

    @Test func anArmedBatchThatComesDueLateFollowsTheCatchUpRules() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        #expect(try engine.store.pendingKeys() == [alphaPT2H])
        clock.set(instant("2030-01-01T10:30:00Z"))  // a suspended machine wakes half an hour late
        let round = engine.processDue()
        #expect(round.fired.isEmpty && round.catchUp.map(\.key) == [alphaPT2H])
        #expect(journal.entries.map { $0["ACCORD_CATCHUP"] } == ["1"])
        #expect(try engine.store.ledger(item: "d/alpha").first?.catchUp == true)
        #expect(try engine.store.pendingKeys() == [alphaPT1H])
    }

    @Test func aCleanStopReleasesTheClaimAndACrashLeavesItToTheNextStart() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        do {
            let engine = try fixture.engine(clock: clock, journal: CollectingJournal())
            engine.processDue()
            #expect(try engine.store.pendingKeys() == [alphaPT2H])
            engine.releaseArmedBatch()
            #expect(try engine.store.pendingKeys().isEmpty)
            try engine.store.close()
        }
        do {
            let engine = try fixture.engine(clock: clock, journal: CollectingJournal())
            engine.processDue()  // armed again, and then the process "dies" without a stop
            #expect(try engine.store.pendingKeys() == [alphaPT2H])
            try engine.store.close()
        }
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal, lookup: FixedLookup(present: []))
        #expect(try engine.store.pendingKeys().isEmpty)  // not in the journal: released at start
        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.map(\.key) == [alphaPT2H])
        #expect(journal.reminderKeys == [alphaPT2H])
    }
}

func day(_ text: String) -> CivilDate { try! CivilDate(parsing: text) }
func duration(_ text: String) -> ISODuration { try! ISODuration(parsing: text) }
