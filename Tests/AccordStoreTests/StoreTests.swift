import AccordCalendar
import AccordCore
import Foundation
import GRDB
import Testing

@testable import AccordStore

func scratchPath(_ name: String) -> String {
    let directory = NSTemporaryDirectory() + "accord-store-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory + "/" + name
}

/// Each test runs once per backend (Backend.available): the same behaviour from both.
@Suite struct StoreTests {
    @Test(arguments: Backend.available) func ledgerClaimsEachKeyOnce(_ backend: Backend) throws {
        let store = try backend.open().store
        let entry = LedgerEntry(
            key: "d/a:due:2030-01-01:P7D", itemID: "d/a", outcome: .fired,
            scheduledAt: Instant(seconds: 100), at: Instant(seconds: 101))
        #expect(try store.claim([entry]) == [entry.key])
        #expect(try store.claim([entry]).isEmpty)
        #expect(try store.pendingKeys() == [entry.key])
        try store.settle([entry.key], processedThrough: Instant(seconds: 101))
        #expect(try store.pendingKeys().isEmpty)
        #expect(try store.processedThrough() == Instant(seconds: 101))
        try store.settle([], processedThrough: Instant(seconds: 50))  // never moves backwards
        #expect(try store.processedThrough() == Instant(seconds: 101))
        #expect(try store.integrityCheck() == "ok")
    }

    @Test(arguments: Backend.available) func firstLoadedIsKeptAcrossRegistrations(_ backend: Backend) throws {
        let store = try backend.open().store
        _ = try store.registerItems(["d/a"], now: Instant(seconds: 10))
        let loaded = try store.registerItems(["d/a", "d/b"], now: Instant(seconds: 20))
        #expect(loaded["d/a"] == Instant(seconds: 10))
        #expect(loaded["d/b"] == Instant(seconds: 20))
    }

    @Test(arguments: Backend.available) func eventsSurviveReopening(_ backend: Backend) throws {
        let (first, path) = try backend.open()
        do {
            let store = first
            _ = try store.append(
                NewEvent(
                    itemID: "d/a", type: .inForce, on: CivilDate(year: 2017, month: 1, day: 15)!,
                    note: "signed in Ottawa", term: ISODuration(years: 1)),
                actor: Actor(uid: 1000, user: "ana"), at: Instant(seconds: 5))
            try store.close()
        }
        let store = try backend.reopen(path)
        let events = try store.events(item: "d/a")
        #expect(events.count == 1)
        #expect(events[0].type == .inForce && events[0].user == "ana" && events[0].term == ISODuration(years: 1))
        #expect(events[0].note == "signed in Ottawa")
        #expect(try store.history().events.count == 1)
        #expect(try store.auditTrail(item: nil, since: nil).first?.detail.contains("in-force on 2017-01-15") == true)
    }

    /// A database at schema version 1, as the releases before the `party` column (§13) made
    /// it, with an event and a ledger row written the way they wrote them: it opens, migrates
    /// to the current version with nothing lost, and its event gives a date that rests on
    /// `recorded` and names the recorder.
    @Test func aDatabaseOfThePreviousSchemaGivesRecordedDates() throws {
        let path = scratchPath("state.sqlite")
        do {
            let old = try DatabaseQueue(path: path)
            try old.write { db in
                try db.execute(sql: StateSchema.sqlite[1]!)
                try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v1')")
                try db.execute(
                    sql: """
                        INSERT INTO event (item, type, effective_on, recorded_at, uid, user, note, term)
                        VALUES ('d/mou', 'in-force', '2030-03-01', 5, 1000, 'ana', NULL, NULL)
                        """)
                try db.execute(
                    sql: """
                        INSERT INTO ledger (key, item, outcome, scheduled_at, at) VALUES
                        ('d/mou:sign-by:2030-01-31:P0D', 'd/mou', 'fired', 1, 2)
                        """)
            }
            try old.close()
        }
        let store = try SQLiteStateStore(path: path)
        #expect(try store.schemaVersion() == StateSchema.version)
        #expect(try store.events(item: "d/mou").map(\.party) == [nil])
        let migrations = try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        // v1 as before, then the later versions (3: the hash chains, HashChainTests).
        #expect(migrations == StateSchema.sqlite.keys.sorted().map { "v\($0)" })
        let portfolio = try PortfolioParser.parse(
            """
            [dialogue]
            id = "d"
            title = "D"
            time-zone = "UTC"

            [[instrument]]
            id = "mou"
            kind = "mou"
            title = "MOU"
            sign-by = 2030-01-31
            term = "P1Y"
            in-force = { date = 2030-02-15, basis = "assumed", source = "guess" }
            """, file: "p.toml")
        let plan = ReminderPlan(catalog: try Catalog(portfolios: [portfolio]), history: try store.history())
        let expiry = try #require(plan.deadlines(ofItem: 0, at: Instant(seconds: 1_900_000_000)).first { $0.kind == .expiry })
        #expect(expiry.time == .date(CivilDate(year: 2031, month: 3, day: 1)!))
        #expect(expiry.provenance == Provenance(basis: .recorded, source: "in-force on 2030-03-01, recorded by ana"))
        // The ledger row of the previous release still claims its key: it does not fire again.
        #expect(
            try store.claim([
                LedgerEntry(
                    key: "d/mou:sign-by:2030-01-31:P0D", itemID: "d/mou", outcome: .fired,
                    scheduledAt: Instant(seconds: 1), at: Instant(seconds: 3))
            ]).isEmpty)
    }

    @Test func damagedFileIsRefusedAndLeftUntouched() throws {
        let path = scratchPath("state.sqlite")
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: path))
        do {
            _ = try SQLiteStateStore(path: path)
            Issue.record("a damaged file was accepted")
        } catch {
            #expect(error.description.contains(path))
            #expect(error.description.contains("nothing was changed"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }
}
