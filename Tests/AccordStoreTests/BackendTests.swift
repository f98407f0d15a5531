import AccordCalendar
import AccordCore
import Foundation
import Testing

@testable import AccordStore

/// The rest of the store's surface, once per backend, and what only PostgreSQL has: a second
/// host on the same database, schema versions, password files.
@Suite struct BackendTests {
    @Test(arguments: Backend.available) func acknowledgementsSnoozesAndAuditRoundTrip(_ backend: Backend) throws {
        let store = try backend.open().store
        let ana = Actor(uid: 1000, user: "ana")
        try store.acknowledge(Acknowledgement(itemID: "d/a", deadline: .signBy, deadlineTime: "2030-01-01", at: Instant(seconds: 7)), actor: ana)
        try store.snooze(Snooze(itemID: "d/a", from: Instant(seconds: 8), until: Instant(seconds: 9000)), actor: ana)
        try store.audit(
            at: Instant(seconds: 9), actor: Actor(uid: 1001, user: "bo"), action: "record", item: "d/b",
            detail: "refused: \"quoted\" \\ and ünïcode", allowed: false)
        let history = try store.history()
        #expect(history.acknowledgements == [Acknowledgement(itemID: "d/a", deadline: .signBy, deadlineTime: "2030-01-01", at: Instant(seconds: 7))])
        #expect(history.snoozes == [Snooze(itemID: "d/a", from: Instant(seconds: 8), until: Instant(seconds: 9000))])
        let trail = try store.auditTrail(item: nil, since: nil)
        #expect(trail.map(\.action) == ["acknowledge", "snooze", "record"])
        #expect(
            trail[2]
                == AuditRecord(
                    at: Instant(seconds: 9), uid: 1001, user: "bo", action: "record", item: "d/b",
                    detail: "refused: \"quoted\" \\ and ünïcode", allowed: false))
        #expect(try store.auditTrail(item: "d/b", since: nil).count == 1)
        #expect(try store.auditTrail(item: "d/a", since: Instant(seconds: 8)).map(\.action) == ["snooze"])
        #expect(try store.schemaVersion() == StateSchema.version)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test(arguments: Backend.available) func ledgerReleaseCountsAndOrder(_ backend: Backend) throws {
        let store = try backend.open().store
        func entry(_ key: String, _ outcome: LedgerEntry.Outcome, at: Int64, catchUp: Bool = false) -> LedgerEntry {
            LedgerEntry(key: key, itemID: "d/a", outcome: outcome, scheduledAt: Instant(seconds: at - 1), at: Instant(seconds: at), catchUp: catchUp)
        }
        let batch = [
            entry("k\"1", .fired, at: 20), entry("k,2", .skipped, at: 10), entry("k{3}", .missed, at: 10, catchUp: true),
            entry("k\"1", .fired, at: 30)
        ]  // the same key twice in one batch: the first counts
        #expect(try store.claim(batch) == ["k\"1", "k,2", "k{3}"])
        #expect(try store.pendingKeys() == ["k\"1"])  // only fired reminders wait for the journal
        try store.release(["k\"1", "k,2"])  // only a pending claim is forgotten
        #expect(try store.pendingKeys().isEmpty)
        #expect(try store.claim([entry("k\"1", .fired, at: 40)]) == ["k\"1"])
        try store.settle(["k\"1"], processedThrough: nil)
        #expect(try store.processedThrough() == nil)
        #expect(try store.ledger(item: "d/a").map(\.key) == ["k,2", "k{3}", "k\"1"])
        #expect(try store.ledger(item: "d/a")[1].catchUp)
        #expect(try store.ledgerCounts() == [.fired: 1, .skipped: 1, .missed: 1])
        #expect(try store.claim([]).isEmpty)
    }

    /// Two stores on one database (two hosts, or a restart racing the old process): a key is
    /// claimed by exactly one of them, however the batches overlap.
    @Test(arguments: Backend.available) func twoStoresClaimEachKeyOnce(_ backend: Backend) throws {
        let (first, location) = try backend.open()
        let second = try backend.reopen(location)
        let keys = (0..<200).map { "d/a:due:\($0)" }
        let entries = keys.map { LedgerEntry(key: $0, itemID: "d/a", outcome: .fired, scheduledAt: Instant(seconds: 1), at: Instant(seconds: 2)) }
        let results = Mutex2()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            // One walks forwards, the other backwards, in overlapping batches of 20.
            let store: any StateStore = index == 0 ? first : second
            let order: [LedgerEntry] = index == 0 ? entries : entries.reversed()
            var won: Set<String> = []
            for start in stride(from: 0, to: order.count, by: 10) {
                let end = min(start + 20, order.count)
                won.formUnion((try? store.claim(Array(order[start..<end]))) ?? [])
            }
            results.add(won)
        }
        let sets = results.sets
        #expect(sets.count == 2)
        #expect(sets[0].isDisjoint(with: sets[1]))
        #expect(sets[0].union(sets[1]) == Set(keys))
    }

    @Test func postgresRefusesANewerSchema() throws {
        guard Backend.available.contains(.postgresql) else { return }
        let (store, url) = try Backend.postgresql.open()
        let admin = try PostgresConnection(StateConfig(url: url))
        try admin.execute("INSERT INTO schema_version (version, applied_at) VALUES ($1, 0)", [String(StateSchema.version + 1)], operation: "test")
        admin.finish()
        try store.close()
        do {
            _ = try Backend.postgresql.reopen(url)
            Issue.record("a database at a newer schema version was accepted")
        } catch {
            #expect("\(error)".contains("schema version \(StateSchema.version + 1), newer than this accordd's \(StateSchema.version)"))
            #expect("\(error)".contains(url))
        }
    }

    /// scripts/postgres-scratch.sh makes the role accord_password, which must give its password.
    @Test func postgresPasswordFile() throws {
        guard let server = Scratch.serverURL, server.contains("user=accord") else { return }
        let database = try Scratch.newDatabase()
        let url = database.replacingOccurrences(of: "user=accord", with: "user=accord_password")
        let directory = scratchPath("secret")
        let file = directory + ".password"
        try "scratch-password\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let store = try PostgresStateStore(StateConfig(url: url, passwordFile: file))
        #expect(try store.integrityCheck() == "ok")
        try store.close()

        try "wrong-password\n".write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(throws: StoreError.self) { _ = try PostgresStateStore(StateConfig(url: url, passwordFile: file)) }

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        do {
            _ = try PostgresStateStore(StateConfig(url: url, passwordFile: file))
            Issue.record("a world-readable password file was used")
        } catch {
            #expect(error.description.contains("password-file \(file) may be read by any user"))
        }
    }

    @Test func postgresServerDownNamesTheURL() throws {
        let url = "postgresql:///accord?host=/nonexistent-accord-socket-dir&connect_timeout=2"
        do {
            _ = try PostgresStateStore(StateConfig(url: url))
            Issue.record("connected to nothing")
        } catch {
            #expect(error.description.hasPrefix(url + ": connect: "))
            #expect(error.description.contains("No such file or directory"))
        }
    }
}

/// Collects the two claimers' results across threads.
final class Mutex2: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [Set<String>] = []
    func add(_ set: Set<String>) { lock.lock(); collected.append(set); lock.unlock() }
    var sets: [Set<String>] { lock.lock(); defer { lock.unlock() }; return collected }
}
