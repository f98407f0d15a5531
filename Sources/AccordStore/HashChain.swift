import Crypto

/// The hash chains that make the event and audit tables tamper-evident (docs/design.md §7):
/// each row holds `hash`, SHA-256 over the previous row's hash and the row's own content, so
/// that editing, deleting or reordering a row breaks the chain at that row, and a head hash
/// kept outside the database (the journal's `ACCORD_AUDIT_HEAD`) shows a rewritten history.
///
/// The content is length-prefixed, not text joined with a separator, so that no two different
/// rows encode to the same bytes ("a|b" + "c" and "a" + "b|c" would). The bytes hashed are:
///
///     previous hash (32 bytes; 32 zero bytes, the genesis, for a table's first row)
///     table name    (text field: "event" or "audit", so a row cannot pass for the other table's)
///     each column   (in the order of `eventColumns` / `auditColumns`)
///
/// where a field is 0x00 for NULL; 0x01 and 8 bytes big-endian two's complement for an
/// integer; 0x02, the UTF-8 length as 8 bytes big-endian, then the UTF-8 bytes for text.
/// The hash is stored as 64 lowercase hexadecimal digits. The same rules, written again in
/// Python, check the chain from outside in Tests/e2e/accordtest.py.
public enum HashChain {
    /// The "previous hash" of a table's first row.
    public static let genesis = [UInt8](repeating: 0, count: 32)
    public static var genesisHex: String { hex(genesis) }

    /// The columns hashed, in order; `hash` itself and any column added later are not.
    /// A column added to the hashed set would need a new table tag, or old rows would break.
    /// `party` (schema version 2) came before the chains (version 4), so every chained event row
    /// has it. An audit row's `request` and `reply` (version 3) are not hashed: they are set
    /// after the row (and its hash), and they say how to answer a retry, not what happened.
    static let eventColumns = ["id", "item", "type", "effective_on", "recorded_at", "uid", "user", "note", "term", "party"]
    static let auditColumns = ["id", "at", "uid", "user", "action", "item", "detail", "allowed"]

    /// A column's value as the chain sees it.
    public enum Field: Sendable, Hashable {
        case null
        case integer(Int64)
        case text(String)
        /// A value of a type accord never writes (SQLite's REAL or BLOB, put there by hand):
        /// tag 0xff, which no written row has, so the row cannot verify.
        case foreign(String)

        static func optional(_ text: String?) -> Field { text.map(Field.text) ?? .null }
    }

    /// A table whose rows are chained.
    public enum Table: String, Sendable, CaseIterable {
        case event, audit
    }

    /// An audit row's fields in hashing order (the tests compute expected hashes with it).
    static func auditFields(
        id: Int64, at: Int64, uid: Int64, user: String, action: String, item: String?, detail: String, allowed: Bool
    ) -> [Field] {
        [.integer(id), .integer(at), .integer(uid), .text(user), .text(action), .optional(item), .text(detail), .integer(allowed ? 1 : 0)]
    }

    /// Which columns hold integers, for PostgreSQL's text results (SQLite says so itself).
    static func integerColumns(_ table: Table) -> Set<Int> { table == .event ? [0, 4, 5] : [0, 1, 2, 7] }

    static func columns(_ table: Table) -> [String] { table == .event ? eventColumns : auditColumns }

    /// The hashes of rows written before the chain existed (the migration to
    /// `StateSchema.chainVersion`), in id order from the genesis.
    static func backfill(_ rows: [Row], table: Table) -> [(id: Int64, hash: String)] {
        var previous = genesis
        return rows.sorted { $0.id < $1.id }.map { row in
            previous = hash(previous: previous, table: table, fields: row.fields)
            return (row.id, hex(previous))
        }
    }

    /// SHA-256 of `previous` and the row's encoded fields.
    public static func hash(previous: [UInt8], table: Table, fields: [Field]) -> [UInt8] {
        var bytes = previous
        bytes.reserveCapacity(previous.count + 64 + fields.count * 16)
        encode(.text(table.rawValue), into: &bytes)
        for field in fields { encode(field, into: &bytes) }
        return Array(SHA256.hash(data: bytes))
    }

    static func encode(_ field: Field, into bytes: inout [UInt8]) {
        switch field {
        case .null:
            bytes.append(0)
        case .integer(let value):
            bytes.append(1)
            appendBigEndian(UInt64(bitPattern: value), to: &bytes)
        case .text(let text):
            bytes.append(2)
            appendBigEndian(UInt64(text.utf8.count), to: &bytes)
            bytes += text.utf8
        case .foreign(let description):
            bytes.append(0xff)
            appendBigEndian(UInt64(description.utf8.count), to: &bytes)
            bytes += description.utf8
        }
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// 64 hexadecimal digits (either case) as 32 bytes; nil for anything else.
    public static func bytes(hex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    /// One stored row, as read back for verification.
    public struct Row: Sendable {
        public var id: Int64
        public var fields: [Field]
        /// What the row holds in its `hash` column (nil: none).
        public var stored: String?
        public init(id: Int64, fields: [Field], stored: String?) { self.id = id; self.fields = fields; self.stored = stored }
    }

    /// Walks a table's rows in id order, one at a time, so that a long table is never held whole.
    public struct Walker: Sendable {
        public let table: Table
        public private(set) var previous: [UInt8] = HashChain.genesis
        public private(set) var rows = 0
        public private(set) var headID: Int64?
        public private(set) var broken: ChainReport.Break?

        public init(table: Table) { self.table = table }

        /// Checks the next row; false once the chain is broken (the rest need not be read).
        public mutating func check(_ row: Row) -> Bool {
            guard broken == nil else { return false }
            let expected = HashChain.hash(previous: previous, table: table, fields: row.fields)
            guard let stored = row.stored, let storedBytes = HashChain.bytes(hex: stored), storedBytes == expected else {
                let found = row.stored.map { "it holds \($0)" } ?? "it holds no hash"
                broken = ChainReport.Break(
                    id: row.id,
                    reason:
                        "its content and the previous row's hash give \(HashChain.hex(expected)), \(found): the row or one before it was changed, removed or inserted by hand"
                )
                return false
            }
            previous = expected
            rows += 1
            headID = row.id
            return true
        }

        public var report: ChainReport {
            ChainReport(table: table, rows: rows, head: HashChain.hex(previous), headID: headID, broken: broken)
        }
    }
}

/// What walking one chain found: how many rows verified, the last good hash, and the first row
/// that does not verify.
public struct ChainReport: Sendable, Hashable {
    public struct Break: Sendable, Hashable {
        public var id: Int64
        public var reason: String
    }
    public var table: HashChain.Table
    /// Rows that verified, from the first on (all of them when the chain is not broken).
    public var rows: Int
    /// The hash of the last row that verified (the genesis when none did): the head, when unbroken.
    public var head: String
    public var headID: Int64?
    public var broken: Break?
    public var ok: Bool { broken == nil }
}

/// The newest row of each chain: what the journal's audit entries carry.
public struct ChainHeads: Sendable, Hashable {
    public var auditID: Int64?
    public var audit: String?
    public var eventID: Int64?
    public var event: String?
    public init(auditID: Int64? = nil, audit: String? = nil, eventID: Int64? = nil, event: String? = nil) {
        self.auditID = auditID; self.audit = audit; self.eventID = eventID; self.event = event
    }
}
