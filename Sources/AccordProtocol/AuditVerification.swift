// VerifyAudit and its reply (docs/design.md §7): the hash chains of the state database's event
// and audit tables, walked by the daemon and printed by `accordctl audit verify`. Kept apart
// from TrackerMethods.swift and TrackerTypes.swift, which other changes touch at the same time.

extension Tracker {
    /// One hash chain (the event or the audit table) as VerifyAudit walked it.
    public struct AuditChain: WireCodable {
        /// event or audit
        public var table: String
        /// Rows that verified, from the first on (all of them when the chain is not broken).
        public var rows: Int
        /// The hash of the last row that verified (64 zeros when none did): the head when unbroken.
        public var head: String
        /// The id of that row.
        public var headRow: Int64?
        /// The first row that does not verify, and why.
        public var brokenRow: Int64?
        public var reason: String?

        public init(table: String, rows: Int, head: String, headRow: Int64? = nil, brokenRow: Int64? = nil, reason: String? = nil) {
            self.table = table; self.rows = rows; self.head = head; self.headRow = headRow; self.brokenRow = brokenRow
            self.reason = reason
        }

        /// One line for a terminal, the same from accordctl and accordd: `event: ok, 3 row(s),
        /// row 3, head …` or `event: broken at row 2 (1 row(s) before it verified): why`.
        /// `mark` dresses the word "broken" (accordctl paints it red on a terminal).
        public func summary(mark: (String) -> String = { $0 }) -> String {
            if let brokenRow {
                return "\(table): \(mark("broken")) at row \(brokenRow) (\(rows) row(s) before it verified): \(reason ?? "")"
            }
            return "\(table): ok, \(rows) row(s), " + (headRow.map { "row \($0), head \(head)" } ?? "empty")
        }
    }

    /// Checks the hash chains of the event and audit tables; ok when every row of both verifies.
    public enum VerifyAudit: TrackerMethod {
        public static let name = "VerifyAudit"
        public typealias Parameters = NoParameters
        public struct Reply: WireCodable {
            public var ok: Bool
            public var chains: [AuditChain]
            public init(ok: Bool, chains: [AuditChain]) { self.ok = ok; self.chains = chains }

            /// "event row 2", the first broken row, for the message of a failed verification.
            public var firstBroken: String? {
                chains.first { $0.brokenRow != nil }.map { "\($0.table) row \($0.brokenRow!)" }
            }
        }
    }
}
