import AccordCalendar
import AccordCore
import GRDB
import Glibc

/// Who asked for a write, from the socket's peer credentials.
public struct Actor: Sendable, Hashable {
    public var uid: UInt32
    public var user: String
    public init(uid: UInt32, user: String) { self.uid = uid; self.user = user }
    /// The daemon acting on its own (e.g. recording a missed reminder).
    public static let daemon = Actor(uid: UInt32(getuid()), user: "accordd")
}

public struct NewEvent: Sendable {
    public var itemID: String
    public var type: EventType
    public var on: CivilDate
    public var note: String?
    public var term: ISODuration?
    /// For `notified`: the party whose notification it is (§13).
    public var party: String?
    public init(itemID: String, type: EventType, on: CivilDate, note: String? = nil, term: ISODuration? = nil, party: String? = nil) {
        self.itemID = itemID; self.type = type; self.on = on; self.note = note; self.term = term; self.party = party
    }
}

public struct StoredEvent: Sendable, Hashable {
    public var id: Int64
    public var itemID: String
    public var type: EventType
    public var on: CivilDate
    public var recordedAt: Instant
    public var uid: UInt32
    public var user: String
    public var note: String?
    public var term: ISODuration?
    public var party: String?

    public var asItemEvent: ItemEvent {
        var event = ItemEvent(id: id, itemID: itemID, type: type, on: on, recordedAt: recordedAt, term: term, recordedBy: user)
        event.party = party
        return event
    }

    /// The columns `eventColumns` selects, in order.
    init?(row: Row) {
        guard let type = EventType(rawValue: row[2]), let on = try? CivilDate(parsing: row[3]) else { return nil }
        id = row[0]; itemID = row[1]; self.type = type; self.on = on; recordedAt = Instant(seconds: row[4])
        uid = UInt32(truncatingIfNeeded: row[5] as Int64); user = row[6]; note = row[7]
        term = (row[8] as String?).flatMap { try? ISODuration(parsing: $0) }
        party = row[9]
    }

    init(
        id: Int64, itemID: String, type: EventType, on: CivilDate, recordedAt: Instant, uid: UInt32, user: String,
        note: String?, term: ISODuration?, party: String? = nil
    ) {
        self.id = id; self.itemID = itemID; self.type = type; self.on = on; self.recordedAt = recordedAt
        self.uid = uid; self.user = user; self.note = note; self.term = term; self.party = party
    }
}

public struct LedgerEntry: Sendable, Hashable {
    public enum Outcome: String, Sendable, CaseIterable { case fired, skipped, missed }
    public var key: String
    public var itemID: String
    public var outcome: Outcome
    /// When the plan had it fire.
    public var scheduledAt: Instant
    /// When it was fired, skipped or found missed.
    public var at: Instant
    public var catchUp: Bool
    public init(key: String, itemID: String, outcome: Outcome, scheduledAt: Instant, at: Instant, catchUp: Bool = false) {
        self.key = key; self.itemID = itemID; self.outcome = outcome; self.scheduledAt = scheduledAt; self.at = at; self.catchUp = catchUp
    }
}

public struct AuditRecord: Sendable, Hashable {
    public var at: Instant
    public var uid: UInt32
    public var user: String
    public var action: String
    public var item: String?
    public var detail: String
    public var allowed: Bool
}

/// A page of the audit trail: its rows, and when more follow, the id of its last row (the rows
/// are in id order, so the next page is the rows after it).
public struct AuditPage: Sendable, Hashable {
    public var records: [AuditRecord]
    public var next: Int64?
    public init(records: [AuditRecord], next: Int64?) { self.records = records; self.next = next }
}

/// A failed database operation, naming the file, what was attempted and why.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var message: String
    /// The write was refused because this daemon is no longer the active one (it lost the
    /// leader lock, docs/design.md §15): it must stop firing, not fire without the ledger.
    public var notActive: Bool

    init(path: String, operation: String, message: String, notActive: Bool = false) {
        self.path = path; self.operation = operation; self.message = message; self.notActive = notActive
    }

    init(path: String, operation: String, underlying: any Error) {
        self.init(path: path, operation: operation, message: describe(underlying))
    }

    public var description: String { "\(path): \(operation): \(message)" }
}

func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError {
        switch error.resultCode {
        case .SQLITE_FULL: return "the file system is full (\(error.message ?? "SQLITE_FULL"))"
        case .SQLITE_READONLY: return "the database is read-only (\(error.message ?? "SQLITE_READONLY"))"
        case .SQLITE_CANTOPEN: return "cannot open the file (\(error.message ?? "SQLITE_CANTOPEN"))"
        case .SQLITE_NOTADB: return "not a database file"
        case .SQLITE_CORRUPT: return "the database is damaged"
        case .SQLITE_IOERR: return "input/output error (\(error.message ?? "SQLITE_IOERR"))"
        default: return error.message ?? "\(error.resultCode)"
        }
    }
    return "\(error)"
}

enum FileCheck {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }
}
