// `accordd check --connect` (docs/contracts.md §15): whether the shared database answers, at
// which schema version it is, and which daemon is active, without changing anything in it
// (no migration, no lock taken): the check may run beside the daemons.

/// What the server said about the shared state.
public struct StateProbe: Sendable, Equatable {
    /// PostgreSQL's server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)".
    public var serverVersion: String
    /// The schema version the database is at: 0 when no accordd has started on it yet.
    public var schemaVersion: Int
    /// The active daemon's name, when one holds the leader lock.
    public var active: String?

    /// Connects once with the configuration's URL, sslmode and password, reads, and disconnects.
    public static func probe(_ state: StateConfig) throws(StoreError) -> StateProbe {
        let connection = try PostgresConnection(state, applicationName: "accordd check", reconnects: false)
        defer { connection.finish() }
        let server =
            try connection.execute("SHOW server_version", operation: "read the server version").rows.first?.first ?? nil
        let exists =
            try connection.execute("SELECT to_regclass('schema_version') IS NOT NULL", operation: "read the schema version")
            .rows.first?.first ?? nil
        var version = 0
        if exists == "t" {
            let text =
                try connection.execute("SELECT coalesce(max(version), 0) FROM schema_version", operation: "read the schema version")
                .rows.first?.first ?? nil
            version = text.flatMap { Int($0) } ?? 0
        }
        var active: String?
        if let lock = try? LeaderLock(state, name: "accordd check") {
            active = lock.holder()
            lock.release()
        }
        return StateProbe(serverVersion: server ?? "unknown", schemaVersion: version, active: active)
    }

    /// One sentence on the schema: whether this accordd can use the database as it is.
    public var schemaText: String {
        if schemaVersion == 0 { return "no schema yet: accordd creates it (version \(StateSchema.version)) at its first start" }
        if schemaVersion == StateSchema.version { return "schema version \(schemaVersion), as this accordd expects" }
        if schemaVersion < StateSchema.version {
            return "schema version \(schemaVersion): accordd migrates it to version \(StateSchema.version) at its next start"
        }
        return "schema version \(schemaVersion), newer than this accordd's \(StateSchema.version): upgrade accordd on this host"
    }

    /// True when this accordd can start on the database (its schema is not newer).
    public var usable: Bool { schemaVersion <= StateSchema.version }
}
