import AccordCalendar
import AccordCore
import Foundation
import GRDB
import Testing

@testable import AccordStore

/// The hash chains of the event and audit tables (docs/design.md §7), on both backends: the
/// encoding against hashes computed apart from this code (Python's hashlib over the documented
/// bytes), an edit made with the real `sqlite3` shell (or psql's SQL) named by its row, an
/// upgraded database that verifies, and concurrent writers that do not fork the chain.
@Suite struct HashChainTests {
    /// Two audit rows and the heads Python computed for them from the documented encoding:
    /// hashlib.sha256(prev + f('audit') + f(id) + f(at) + …), f = 0x00 / 0x01+>q / 0x02+>Q+utf8.
    static let detail = "signed on 2030-01-01: ünï"
    static let firstHead = "465c7a9140c53ce27caab95bac0955c32745e2d243d5cdbe270466fc5beacc63"
    static let secondHead = "6dae4e5700fb29be34a203bad344c3ffd5d29a6a92893c6a1aa35f3b74279809"

    static func writeTheTwoRows(_ store: any StateStore) throws {
        try store.audit(
            at: Instant(seconds: 1_700_000_000), actor: Actor(uid: 1000, user: "ana"), action: "record", item: "d/mou", detail: detail,
            allowed: true)
        try store.audit(at: Instant(seconds: -5), actor: Actor(uid: 0, user: "root"), action: "reload", item: nil, detail: "", allowed: false)
    }

    @Test func theEncodingIsTheDocumentedOne() {
        let first = HashChain.hash(
            previous: HashChain.genesis, table: .audit,
            fields: HashChain.auditFields(
                id: 1, at: 1_700_000_000, uid: 1000, user: "ana", action: "record", item: "d/mou", detail: HashChainTests.detail, allowed: true))
        #expect(HashChain.hex(first) == HashChainTests.firstHead)
        let second = HashChain.hash(
            previous: first, table: .audit,
            fields: HashChain.auditFields(id: 2, at: -5, uid: 0, user: "root", action: "reload", item: nil, detail: "", allowed: false))
        #expect(HashChain.hex(second) == HashChainTests.secondHead)
        // Length prefixes: moving a character from one field to the next changes the hash.
        #expect(
            HashChain.hash(previous: HashChain.genesis, table: .event, fields: [.text("ab"), .text("c")])
                != HashChain.hash(previous: HashChain.genesis, table: .event, fields: [.text("a"), .text("bc")]))
        // NULL is not the empty text, and the table is part of the hash.
        #expect(
            HashChain.hash(previous: HashChain.genesis, table: .event, fields: [.null])
                != HashChain.hash(previous: HashChain.genesis, table: .event, fields: [.text("")]))
        #expect(
            HashChain.hash(previous: HashChain.genesis, table: .event, fields: [.integer(1)])
                != HashChain.hash(previous: HashChain.genesis, table: .audit, fields: [.integer(1)]))
        #expect(HashChain.bytes(hex: HashChainTests.firstHead) == first)
        #expect(HashChain.bytes(hex: String(HashChainTests.firstHead.dropLast())) == nil)
        #expect(HashChain.bytes(hex: "g" + String(HashChainTests.firstHead.dropFirst())) == nil)
    }

    @Test(arguments: Backend.available) func writesChainAndVerify(_ backend: Backend) throws {
        let (store, location) = try backend.open()
        // Empty tables verify, with the genesis as their head.
        let empty = try store.verifyChains()
        #expect(empty.map(\.ok) == [true, true])
        #expect(empty.map(\.head) == [HashChain.genesisHex, HashChain.genesisHex])
        #expect(try store.chainHeads() == ChainHeads())

        try HashChainTests.writeTheTwoRows(store)
        #expect(try store.chainHeads() == ChainHeads(auditID: 2, audit: HashChainTests.secondHead))
        let ana = Actor(uid: 1000, user: "ana")
        let day = CivilDate(year: 2030, month: 3, day: 1)!
        for index in 0..<5 {
            _ = try store.append(
                NewEvent(
                    itemID: "d/mou", type: .signed, on: day, note: index == 2 ? "with\u{0}NUL and \"quotes\"" : nil, term: ISODuration(years: 1)),
                actor: ana, at: Instant(seconds: 100 + Int64(index)))
        }
        try store.acknowledge(Acknowledgement(itemID: "d/mou", deadline: .signBy, deadlineTime: "2030-01-31", at: Instant(seconds: 200)), actor: ana)
        try store.snooze(Snooze(itemID: "d/mou", from: Instant(seconds: 201), until: Instant(seconds: 9000)), actor: ana)

        let reports = try store.verifyChains()
        #expect(reports.map(\.table) == [.event, .audit])
        #expect(reports.map(\.ok) == [true, true])
        #expect(reports.map(\.rows) == [5, 9])  // 2 + 5 record lines + acknowledge + snooze
        let heads = try store.chainHeads()
        #expect(reports[0].head == heads.event && reports[0].headID == heads.eventID && heads.eventID == 5)
        #expect(reports[1].head == heads.audit && reports[1].headID == heads.auditID && heads.auditID == 9)
        // Reopening changes nothing.
        try store.close()
        let again = try backend.reopen(location)
        #expect(try again.verifyChains() == reports)
    }

    /// The test: a row edited with the sqlite3 shell, and verify names that row.
    @Test func anEditWithTheSQLiteShellIsNamedByItsRow() throws {
        let (store, path) = try Backend.sqlite.open()
        let ana = Actor(uid: 1000, user: "ana")
        for index in 0..<4 {
            _ = try store.append(
                NewEvent(itemID: "d/mou", type: .signed, on: CivilDate(year: 2030, month: 3, day: 1)!, note: "note \(index)"),
                actor: ana, at: Instant(seconds: 100 + Int64(index)))
        }
        #expect(try store.verifyChains().allSatisfy(\.ok))
        let (status, output) = Scratch.run(["/usr/bin/sqlite3", path, "UPDATE event SET note = 'rewritten' WHERE id = 3"])
        #expect(status == 0, "sqlite3: \(output)")
        let reports = try store.verifyChains()
        #expect(reports[0].broken?.id == 3)
        #expect(reports[0].rows == 2)
        #expect(reports[0].broken?.reason.contains("changed, removed or inserted") == true)
        #expect(reports[1].ok)  // the audit lines were not touched

        // Putting the note back restores the chain; removing an audit row breaks it at the next.
        _ = Scratch.run(["/usr/bin/sqlite3", path, "UPDATE event SET note = 'note 2' WHERE id = 3"])
        #expect(try store.verifyChains()[0].ok)
        _ = Scratch.run(["/usr/bin/sqlite3", path, "DELETE FROM audit WHERE id = 2"])
        #expect(try store.verifyChains()[1].broken?.id == 3)
        // A hash removed, or a number stored as text, is named too.
        _ = Scratch.run(["/usr/bin/sqlite3", path, "UPDATE event SET hash = NULL WHERE id = 4"])
        #expect(try store.verifyChains()[0].broken?.id == 4)
        // Removing the newest rows leaves a chain that verifies, only shorter, with another head:
        // what the journal's ACCORD_EVENT_HEAD and ACCORD_AUDIT_HEAD are there to show.
        let head = try store.chainHeads()
        _ = Scratch.run(["/usr/bin/sqlite3", path, "DELETE FROM event WHERE id = 4"])
        let shorter = try store.verifyChains()[0]
        #expect(shorter.ok && shorter.rows == 3 && shorter.head != head.event)
    }

    @Test func anEditOnPostgreSQLIsNamedByItsRow() throws {
        guard Backend.available.contains(.postgresql) else { return }
        let (store, url) = try Backend.postgresql.open()
        try HashChainTests.writeTheTwoRows(store)
        for index in 0..<3 {
            try store.audit(at: Instant(seconds: Int64(index)), actor: .daemon, action: "reload", item: nil, detail: "accepted", allowed: true)
        }
        #expect(try store.verifyChains()[1].rows == 5)
        let admin = try PostgresConnection(StateConfig(url: url))
        defer { admin.finish() }
        try admin.execute("UPDATE audit SET detail = 'rejected' WHERE id = 4", operation: "test")
        let report = try store.verifyChains()[1]
        #expect(report.broken?.id == 4)
        #expect(report.rows == 3)
    }

    /// A database written before the chain existed gets its hashes in the migration, in id
    /// order, the same as the live writes give: the heads are Python's.
    @Test func aDatabaseOfSchemaVersionOneIsChainedWhenUpgraded() throws {
        let path = scratchPath("state.sqlite")
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: StateSchema.sqlite[1]!)
                try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY); INSERT INTO grdb_migrations VALUES ('v1')")
                try db.execute(
                    sql:
                        "INSERT INTO audit (id, at, uid, user, action, item, detail, allowed) VALUES (1, 1700000000, 1000, 'ana', 'record', 'd/mou', ?, 1)",
                    arguments: [HashChainTests.detail])
                try db.execute(
                    sql: "INSERT INTO audit (id, at, uid, user, action, item, detail, allowed) VALUES (2, -5, 0, 'root', 'reload', NULL, '', 0)")
                try db.execute(
                    sql:
                        "INSERT INTO event (item, type, effective_on, recorded_at, uid, user, note, term) VALUES ('d/mou', 'signed', '2030-03-01', 5, 1000, 'ana', NULL, NULL)"
                )
            }
            try queue.close()
        }
        let store = try SQLiteStateStore(path: path)
        #expect(try store.schemaVersion() == StateSchema.version)
        let reports = try store.verifyChains()
        #expect(reports.map(\.ok) == [true, true])
        #expect(reports[1].head == HashChainTests.secondHead)
        #expect(reports[0].rows == 1)
        // The live writes go on from the migrated head.
        try store.audit(at: Instant(seconds: 9), actor: .daemon, action: "reload", item: nil, detail: "accepted", allowed: true)
        #expect(try store.verifyChains()[1].rows == 3)
    }

    @Test func aPostgreSQLDatabaseOfSchemaVersionOneIsChainedWhenUpgraded() throws {
        guard Backend.available.contains(.postgresql) else { return }
        let url = try Scratch.newDatabase()
        do {
            let admin = try PostgresConnection(StateConfig(url: url))
            defer { admin.finish() }
            try admin.executeScript(StateSchema.postgres[1]!, operation: "test")
            try admin.executeScript(
                """
                CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied_at BIGINT NOT NULL);
                INSERT INTO schema_version VALUES (1, 0);
                INSERT INTO audit (at, uid, "user", action, item, detail, allowed) VALUES (-5, 0, 'root', 'reload', NULL, '', 0);
                """, operation: "test")
            // Ids 1 and 7: a gap (a rolled-back insert) is no break.
            try admin.execute(
                "INSERT INTO audit (id, at, uid, \"user\", action, item, detail, allowed) VALUES (7, 1700000000, 1000, 'ana', 'record', 'd/mou', $1, 1)",
                [HashChainTests.detail], operation: "test")
        }
        let store = try PostgresStateStore(StateConfig(url: url))
        #expect(try store.schemaVersion() == StateSchema.version)
        let report = try store.verifyChains()[1]
        #expect(report.ok && report.rows == 2 && report.headID == 7)
        #expect(
            report.head
                == HashChain.hex(
                    HashChain.hash(
                        previous: HashChain.hash(
                            previous: HashChain.genesis, table: .audit,
                            fields: HashChain.auditFields(
                                id: 1, at: -5, uid: 0, user: "root", action: "reload", item: nil, detail: "", allowed: false)),
                        table: .audit,
                        fields: HashChain.auditFields(
                            id: 7, at: 1_700_000_000, uid: 1000, user: "ana", action: "record", item: "d/mou", detail: HashChainTests.detail,
                            allowed: true))))
    }

    /// Both backends hash live writes as Python does.
    @Test(arguments: Backend.available) func liveWritesGiveThePythonHeads(_ backend: Backend) throws {
        let store = try backend.open().store
        try HashChainTests.writeTheTwoRows(store)
        #expect(try store.verifyChains()[1].head == HashChainTests.secondHead)
    }

    /// Two stores on one database (two daemons on one PostgreSQL, or a restart racing the old
    /// process on SQLite) writing at once: one chain, never a fork.
    @Test(arguments: Backend.available) func concurrentWritersDoNotForkTheChain(_ backend: Backend) throws {
        let (first, location) = try backend.open()
        let second = try backend.reopen(location)
        let failures = Mutex2()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let store: any StateStore = index == 0 ? first : second
            for n in 0..<40 {
                do {
                    if n % 4 == 0 {
                        _ = try store.append(
                            NewEvent(itemID: "d/x\(index)", type: .signed, on: CivilDate(year: 2030, month: 1, day: 1)!),
                            actor: .daemon, at: Instant(seconds: Int64(n)))
                    } else {
                        try store.audit(
                            at: Instant(seconds: Int64(n)), actor: .daemon, action: "reload", item: nil, detail: "\(index)", allowed: true)
                    }
                } catch {
                    failures.add(["\(error)"])
                }
            }
        }
        #expect(failures.sets.isEmpty)
        let reports = try first.verifyChains()
        #expect(reports.map(\.ok) == [true, true])
        #expect(reports.map(\.rows) == [20, 80])
    }
}
