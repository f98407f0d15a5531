// A journal write that fails is not a reminder fired (issue 16, defect 8): the engine retries it
// on its one timer with growing delays, counts and tells it only once written, and after the last
// retry records it missed with the reason. The journal here is a sink that refuses on command.
import AccordCalendar
import AccordCore
import AccordStore
import Logging
import Synchronization
import Testing

@testable import AccordDaemon

/// A journal that refuses every entry while `failing` is set, and counts the attempts.
final class RefusingJournal: JournalSink, @unchecked Sendable {
    private let state = Mutex<(failing: Bool, attempts: Int, taken: [JournalEntry])>((true, 0, []))
    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }
    var attempts: Int { state.withLock { $0.attempts } }
    var taken: [String] { state.withLock { $0.taken.compactMap { $0["ACCORD_REMINDER"] } } }
    func send(_ entry: JournalEntry) -> Bool {
        state.withLock {
            $0.attempts += 1
            if $0.failing { return false }
            $0.taken.append(entry)
            return true
        }
    }
}

private let first = "d/alpha:due:2030-01-01T12:00:00Z:PT2H"

private func engine(
    _ fixture: Fixture, _ clock: ManualClock, _ journal: any JournalSink, lookup: (any JournalLookup)? = nil
) throws
    -> ReminderEngine
{
    try ReminderEngine(
        configuration: try fixture.load(), store: try SQLiteStateStore(path: fixture.stateFile), clock: clock, journal: journal,
        lookup: lookup, logger: Logger(label: "test"))
}

@Suite struct JournalRetryTests {
    @Test func aRefusedWriteIsRetriedOnTheTimerAndFiresOnceWritten() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = RefusingJournal()
        let engine = try engine(fixture, clock, journal)
        var told: [String] = []
        engine.onFired = { reminder, _ in told.append(reminder.key) }
        engine.processDue()
        clock.set(instant("2030-01-01T10:00:00Z"))
        #expect(engine.processDue().fired.isEmpty)
        #expect(engine.ledgerCounts[.fired, default: 0] == 0)
        #expect(told.isEmpty)
        #expect(engine.nextFireAt() == instant("2030-01-01T10:00:01Z"))  // the timer, not a sleep
        clock.set(instant("2030-01-01T10:00:01Z"))
        #expect(engine.processDue().fired.isEmpty)
        #expect(engine.nextFireAt() == instant("2030-01-01T10:00:03Z"))  // then 2 s later
        journal.failing = false
        clock.set(instant("2030-01-01T10:00:03Z"))
        #expect(engine.processDue().fired.map(\.key) == [first])
        #expect(journal.attempts == 3 && journal.taken == [first])
        #expect(told == [first])
        #expect(engine.ledgerCounts[.fired] == 1)
        #expect(try engine.store.ledger(item: "d/alpha").map { "\($0.key) \($0.outcome)" } == ["\(first) fired"])
        #expect(engine.nextFireAt() == instant("2030-01-01T11:00:00Z"))
    }

    @Test func aWriteRefusedEveryTimeIsRecordedMissedWithTheReason() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = RefusingJournal()
        let engine = try engine(fixture, clock, journal)
        var told: [String] = []
        engine.onFired = { reminder, _ in told.append(reminder.key) }
        engine.processDue()
        var tried: [String] = []
        while let next = engine.nextFireAt(), next < instant("2030-01-01T10:30:00Z") {
            clock.set(next)
            engine.processDue()
            tried.append(next.rfc3339)
        }
        #expect(
            tried == [
                "2030-01-01T10:00:00Z", "2030-01-01T10:00:01Z", "2030-01-01T10:00:03Z", "2030-01-01T10:00:07Z",
                "2030-01-01T10:00:15Z", "2030-01-01T10:00:31Z", "2030-01-01T10:01:03Z"
            ])
        #expect(journal.attempts == 7 && journal.taken.isEmpty && told.isEmpty)
        #expect(engine.ledgerCounts[.fired, default: 0] == 0 && engine.ledgerCounts[.missed] == 1)
        let ledger = try engine.store.ledger(item: "d/alpha")
        #expect(ledger.map { "\($0.key) \($0.outcome)" } == ["\(first) missed"])
        let reason = try #require(try engine.store.missedReasons(item: "d/alpha")[first])
        #expect(reason.contains("journal refused the entry 7 times"))
        #expect(try engine.store.ledgerCounts()[.missed] == 1)
        #expect(engine.nextFireAt() == instant("2030-01-01T11:00:00Z"))
    }

    @Test func aStopWhileRetryingLeavesTheReminderToFireAtTheNextStart() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        do {
            let engine = try engine(fixture, clock, RefusingJournal())
            engine.processDue()
            clock.set(instant("2030-01-01T10:00:00Z"))
            engine.processDue()
            clock.set(instant("2030-01-01T10:00:01Z"))
            engine.processDue()
            engine.releaseArmedBatch()
            try engine.store.close()
        }
        clock.set(instant("2030-01-01T10:00:20Z"))
        let journal = CollectingJournal()
        let engine = try engine(fixture, clock, journal, lookup: FixedLookup(present: []))
        let round = engine.processDue()
        #expect(round.catchUp.map(\.key) == [first])
        #expect(journal.reminderKeys == [first])
    }
}
