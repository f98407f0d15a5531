// What a write reports is what it stored (issue 16, defect 8): the write is planned before it is
// committed, so a failure to read the history back cannot turn a stored write into a reported
// failure; and a write carries the client's request id, whose first reply answers a retry.
import AccordCalendar
import AccordCore
import AccordProtocol
import Logging
import Synchronization
import Testing

@testable import AccordDaemon
@testable import AccordStore

/// The SQLite store, with reading the history made to fail on command (a disk error, a dropped
/// PostgreSQL connection): everything else goes to the real store.
final class HistoryFailingStore: StateStore, @unchecked Sendable {
    let real: SQLiteStateStore
    private let failing = Mutex(false)
    init(_ real: SQLiteStateStore) { self.real = real }
    func failHistory(_ on: Bool) { failing.withLock { $0 = on } }

    var path: String { real.path }
    func schemaVersion() throws(StoreError) -> Int { try real.schemaVersion() }
    func close() throws(StoreError) { try real.close() }
    func registerItems(_ ids: [String], now: Instant) throws(StoreError) -> [String: Instant] { try real.registerItems(ids, now: now) }
    func history() throws(StoreError) -> History {
        if failing.withLock({ $0 }) { throw StoreError(path: path, operation: "read history", message: "input/output error (injected)") }
        return try real.history()
    }
    func events(item: String) throws(StoreError) -> [StoredEvent] { try real.events(item: item) }
    func append(_ event: NewEvent, actor: Actor, at now: Instant, request: WriteRequest?) throws(StoreError) -> StoredEvent {
        try real.append(event, actor: actor, at: now, request: request)
    }
    func acknowledge(_ ack: Acknowledgement, actor: Actor, request: WriteRequest?) throws(StoreError) {
        try real.acknowledge(ack, actor: actor, request: request)
    }
    func snooze(_ snooze: Snooze, actor: Actor, request: WriteRequest?) throws(StoreError) { try real.snooze(snooze, actor: actor, request: request) }
    func requestOutcome(_ id: String) throws(StoreError) -> RequestOutcome? { try real.requestOutcome(id) }
    func audit(at now: Instant, actor: Actor, action: String, item: String?, detail: String, allowed: Bool) throws(StoreError) {
        try real.audit(at: now, actor: actor, action: action, item: item, detail: detail, allowed: allowed)
    }
    func auditTrail(item: String?, since: Instant?) throws(StoreError) -> [AuditRecord] { try real.auditTrail(item: item, since: since) }
    func auditPage(item: String?, since: Instant?, after: Int64?, limit: Int) throws(StoreError) -> AuditPage {
        try real.auditPage(item: item, since: since, after: after, limit: limit)
    }
    func claim(_ entries: [LedgerEntry]) throws(StoreError) -> Set<String> { try real.claim(entries) }
    func settle(_ keys: [String], processedThrough: Instant?) throws(StoreError) { try real.settle(keys, processedThrough: processedThrough) }
    func pendingKeys() throws(StoreError) -> [String] { try real.pendingKeys() }
    func release(_ keys: [String]) throws(StoreError) { try real.release(keys) }
    func markMissed(_ key: String, reason: String, at now: Instant) throws(StoreError) { try real.markMissed(key, reason: reason, at: now) }
    func missedReasons(item: String) throws(StoreError) -> [String: String] { try real.missedReasons(item: item) }
    func processedThrough() throws(StoreError) -> Instant? { try real.processedThrough() }
    func ledger(item: String) throws(StoreError) -> [LedgerEntry] { try real.ledger(item: item) }
    func ledgerCounts() throws(StoreError) -> [LedgerEntry.Outcome: Int] { try real.ledgerCounts() }
    func integrityCheck() throws(StoreError) -> String { try real.integrityCheck() }
    func chainHeads() throws(StoreError) -> ChainHeads { try real.chainHeads() }
    func verifyChains() throws(StoreError) -> [ChainReport] { try real.verifyChains() }
}

private let ana = Actor(uid: 1000, user: "ana")

/// The error a call fails with, if any (outside the test body, as EngineTests' recordingError).
private func failure(_ body: () throws(EngineError) -> Void) -> EngineError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

@Suite struct WriteRequestTests {
    /// Before: the event was committed, then the history read back for the re-plan failed, and the
    /// client was told StateUnavailable about an event that was stored (its retry stored a second).
    @Test func aWriteWhoseHistoryCannotBeReadStoresNothingAndSaysSo() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let store = HistoryFailingStore(try SQLiteStateStore(path: fixture.stateFile))
        let engine = try ReminderEngine(
            configuration: try fixture.load(), store: store, clock: ManualClock(instant("2030-01-01T09:00:00Z")),
            journal: CollectingJournal(), logger: Logger(label: "test"))
        store.failHistory(true)
        let recorded = failure { () throws(EngineError) in
            _ = try engine.record(id: "alpha", event: "started", on: nil, note: nil, term: nil, actor: ana)
        }
        let acknowledged = failure { () throws(EngineError) in _ = try engine.acknowledge(id: "alpha", deadline: nil, actor: ana) }
        let snoozed = failure { () throws(EngineError) in _ = try engine.snooze(id: "alpha", for: ISODuration(hours: 1), actor: ana) }
        for error in [recorded, acknowledged, snoozed] {
            guard case .storage? = error else {
                Issue.record("expected a storage error, got \(String(describing: error))")
                continue
            }
        }
        #expect(try store.real.events(item: "d/alpha").isEmpty)
        let history = try store.real.history()
        #expect(history.acknowledgements.isEmpty && history.snoozes.isEmpty)
        #expect(try store.real.auditTrail(item: nil, since: nil).isEmpty)
        // Readable again: the write goes through, and the plan is the one read back would give.
        store.failHistory(false)
        let (stored, state) = try engine.record(id: "alpha", event: "started", on: nil, note: nil, term: nil, actor: ana)
        #expect(state == .inProgress && stored.id == 1)
        #expect(
            engine.plan.timelines[0].latestState == ReminderPlan(catalog: engine.plan.catalog, history: try store.history()).timelines[0].latestState)
    }

    @Test func aRequestKeepsItsFirstReplyAndCannotBeStoredTwice() throws {
        let fixture = try Fixture(portfolio: twoDeadlines)
        let engine = try fixture.engine(clock: ManualClock(instant("2030-01-01T09:00:00Z")), journal: CollectingJournal())
        #expect(try engine.priorReply(request: "r1", action: "record", actor: ana) == nil)
        let (stored, state) = try engine.record(
            id: "alpha", event: "started", on: nil, note: "kick-off", term: nil, actor: ana, request: "r1")
        let json = try #require(try engine.priorReply(request: "r1", action: "record", actor: ana))
        let reply = try Tracker.Record.Reply(wire: try JSONValue.parse(json))
        #expect(reply == Tracker.Record.Reply(event: Tracker.Event(stored), state: state.rawValue))
        // The same id again cannot add a second event: the database refuses it, whole.
        let again = failure { () throws(EngineError) in
            _ = try engine.record(id: "alpha", event: "completed", on: nil, note: nil, term: nil, actor: ana, request: "r1")
        }
        guard case .storage? = again else { throw Expected("a storage error, got \(String(describing: again))") }
        #expect(try engine.store.events(item: "d/alpha").count == 1)
        #expect(try engine.store.auditTrail(item: "d/alpha", since: nil).count == 1)
        // Another method's or another user's id is refused, not answered.
        for (action, actor) in [("snooze", ana), ("record", Actor(uid: 1001, user: "bo"))] {
            let refused = failure { () throws(EngineError) in _ = try engine.priorReply(request: "r1", action: action, actor: actor) }
            guard case .invalidParameter(name: "request", _)? = refused else { throw Expected("request refused, got \(String(describing: refused))") }
        }
        // Acknowledge and Snooze keep theirs too.
        let (item, until) = try engine.snooze(id: "beta", for: ISODuration(hours: 2), actor: ana, request: "r2")
        let snoozed = try Tracker.Snooze.Reply(
            wire: try JSONValue.parse(try #require(try engine.priorReply(request: "r2", action: "snooze", actor: ana))))
        #expect(snoozed == Tracker.Snooze.Reply(item: item.fullID, until: until.rfc3339))
        let (acked, status) = try engine.acknowledge(id: "alpha", deadline: nil, actor: ana, request: "r3")
        let ack = try Tracker.Acknowledge.Reply(
            wire: try JSONValue.parse(try #require(try engine.priorReply(request: "r3", action: "acknowledge", actor: ana))))
        #expect(ack == Tracker.Acknowledge.Reply(item: acked.fullID, deadline: status.kind.rawValue, deadlineAt: status.at.rfc3339))
    }

    @Test func requestIDsAreShortAndPlain() throws {
        #expect(try TrackerService.requestID(nil) == nil)
        #expect(try TrackerService.requestID("0123abcdefABCDEF-_") == "0123abcdefABCDEF-_")
        #expect(try TrackerService.requestID(String(repeating: "a", count: 128)) != nil)
        for bad in ["", String(repeating: "a", count: 129), "a b", "a\nb", "é", "a/b"] {
            #expect(throws: VarlinkError.self) { try TrackerService.requestID(bad) }
        }
    }
}

struct Expected: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
