// Schema version 2 (issue 16, defect 8): a write's request id and reply on its audit line,
// unique, and the reason a reminder was recorded missed; on both backends, and a version-1
// database migrated with everything in it kept.
import AccordCalendar
import AccordCore
import GRDB
import Testing

@testable import AccordStore

@Suite struct RequestStoreTests {
    @Test(arguments: Backend.available) func aRequestIDIsKeptWithItsReplyAndTakenOnce(_ backend: Backend) throws {
        let store = try backend.open().store
        let ana = Actor(uid: 1000, user: "ana")
        let event = NewEvent(itemID: "d/a", type: .started, on: CivilDate(year: 2030, month: 1, day: 2)!)
        let stored = try store.append(event, actor: ana, at: Instant(seconds: 5), request: WriteRequest(id: "r1") { "{\"event\":\($0)}" })
        #expect(try store.requestOutcome("r1") == RequestOutcome(action: "record", uid: 1000, reply: "{\"event\":\(stored.id)}"))
        #expect(try store.requestOutcome("r2") == nil)
        // The same id on a second write: refused, and nothing of that write is left behind.
        #expect(throws: StoreError.self) {
            try store.append(event, actor: ana, at: Instant(seconds: 6), request: WriteRequest(id: "r1") { _ in "{}" })
        }
        #expect(throws: StoreError.self) {
            try store.snooze(
                Snooze(itemID: "d/a", from: Instant(seconds: 6), until: Instant(seconds: 60)), actor: ana,
                request: WriteRequest(id: "r1") { _ in "{}" })
        }
        #expect(try store.events(item: "d/a").count == 1)
        #expect(try store.history().snoozes.isEmpty)
        #expect(try store.auditTrail(item: nil, since: nil).count == 1)
        // Writes without an id, as many as wanted.
        try store.acknowledge(Acknowledgement(itemID: "d/a", deadline: .due, deadlineTime: "2030-01-31", at: Instant(seconds: 7)), actor: ana)
        try store.acknowledge(Acknowledgement(itemID: "d/a", deadline: .due, deadlineTime: "2030-02-28", at: Instant(seconds: 8)), actor: ana)
        #expect(try store.auditTrail(item: nil, since: nil).count == 3)
        // A pending claim recorded missed, with its reason; a settled one is left as it is.
        _ = try store.claim([
            LedgerEntry(key: "k1", itemID: "d/a", outcome: .fired, scheduledAt: Instant(seconds: 9), at: Instant(seconds: 9)),
            LedgerEntry(key: "k2", itemID: "d/a", outcome: .fired, scheduledAt: Instant(seconds: 9), at: Instant(seconds: 9))
        ])
        try store.settle(["k2"], processedThrough: nil)
        try store.markMissed("k1", reason: "the journal refused it", at: Instant(seconds: 70))
        try store.markMissed("k2", reason: "not this one", at: Instant(seconds: 70))
        #expect(try store.ledger(item: "d/a").map { "\($0.key) \($0.outcome) \($0.at.seconds)" } == ["k2 fired 9", "k1 missed 70"])
        #expect(try store.missedReasons(item: "d/a") == ["k1": "the journal refused it"])
        #expect(try store.schemaVersion() == StateSchema.version)
    }

    @Test func aVersionOneDatabaseIsMigratedWithEverythingKept() throws {
        let path = scratchPath("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: StateSchema.sqlite[1]!)
                try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v1')")
                try db.execute(
                    sql: "INSERT INTO audit (at, uid, user, action, item, detail, allowed) VALUES (1, 1000, 'ana', 'snooze', 'd/a', 'old', 1)")
                try db.execute(
                    sql: "INSERT INTO ledger (key, item, outcome, scheduled_at, at, pending) VALUES ('k', 'd/a', 'fired', 1, 1, 1)")
            }
            try queue.close()
        }
        let store = try SQLiteStateStore(path: path)
        #expect(try store.schemaVersion() == StateSchema.version)
        #expect(try store.auditTrail(item: nil, since: nil).map(\.detail) == ["old"])
        #expect(try store.pendingKeys() == ["k"])
        try store.markMissed("k", reason: "why", at: Instant(seconds: 2))
        #expect(try store.missedReasons(item: "d/a") == ["k": "why"])
        try store.snooze(
            Snooze(itemID: "d/a", from: Instant(seconds: 3), until: Instant(seconds: 4)), actor: Actor(uid: 1, user: "b"),
            request: WriteRequest(id: "x") { _ in "{}" })
        #expect(try store.requestOutcome("x")?.action == "snooze")
        #expect(try store.integrityCheck() == "ok")
    }
}
