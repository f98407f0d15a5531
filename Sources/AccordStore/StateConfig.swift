import AccordCalendar

// `[state]` of accordd.toml as the store needs it: where a shared PostgreSQL database is and how
// to reach it. Parsed on the daemon's side (DaemonConfig); defined here, where it is used.

/// Where a shared state database is and how to reach it. The password is never in the URL
/// (which shows in Status and the journal) nor on a command line: it comes from
/// `password-file`, or libpq's own PGPASSFILE / ~/.pgpass.
public struct StateConfig: Sendable, Equatable {
    /// `postgresql://[user@][host][:port]/database[?param=value…]`, as libpq reads it.
    public var url: String
    /// libpq's sslmode (disable, allow, prefer, require, verify-ca, verify-full); nil leaves
    /// the URL's or libpq's default (prefer).
    public var sslMode: String?
    /// A file holding only the password (one line), read at each connection.
    public var passwordFile: String?
    /// How soon a standby takes over from a dead active daemon.
    public var takeover: ISODuration

    public init(
        url: String, sslMode: String? = nil, passwordFile: String? = nil,
        takeover: ISODuration = ISODuration(seconds: 10)
    ) {
        self.url = url; self.sslMode = sslMode; self.passwordFile = passwordFile; self.takeover = takeover
    }

    public static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
}
