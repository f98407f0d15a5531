import AccordCalendar
import TOMLKit

/// The daemon's own file, `accordd.toml` (docs/contracts.md §3).
public struct DaemonConfig: Sendable {
    /// Files or folders of `*.toml`, as written (relative to the config file's folder).
    public var portfolios: [String]
    public var catchUp: ISODuration
    public var adminGroup: String
    public var stateDirectory: String?
    public var socket: String?
    public var notify: NotifyHook?
    public var control = Control()

    /// `[control]`: the limits that keep one client, or one user, from taking the socket.
    public struct Control: Sendable, Equatable {
        /// Connections open at once, all users together.
        public var maximumConnections = 2048
        /// Connections of one user other than root.
        public var perUser = 1024
        /// Of `maximumConnections`, kept for root and the admin group: a reader flooding the
        /// socket cannot keep an administrator out.
        public var reservedForAdmins = 64
        /// A connection with no call for this long is closed (Watch clients excepted).
        public var idleTimeout = ISODuration(minutes: 5)
        public init() {}
    }

    /// `[state]`: the state in PostgreSQL instead of the embedded SQLite file (docs/design.md §15).
    public var state: State?

    /// Where a shared state database is and how to reach it. The password is never in the URL
    /// (which shows in Status and the journal) nor on a command line: it comes from
    /// `password-file`, or libpq's own PGPASSFILE / ~/.pgpass.
    public struct State: Sendable, Equatable {
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

    public struct NotifyHook: Sendable, Equatable {
        public var exec: [String]
        public var timeout: ISODuration
    }

    public init(
        portfolios: [String] = ["portfolios"], catchUp: ISODuration = ISODuration(days: 7),
        adminGroup: String = "accord-admin", stateDirectory: String? = nil, socket: String? = nil,
        notify: NotifyHook? = nil
    ) {
        self.portfolios = portfolios; self.catchUp = catchUp; self.adminGroup = adminGroup
        self.stateDirectory = stateDirectory; self.socket = socket; self.notify = notify
    }

    static let keys = ["portfolios", "catch-up", "admin-group", "state-directory", "socket", "[notify]", "[control]", "[state]"]

    public static func parse(_ text: String, file: String) throws(ConfigProblems) -> DaemonConfig {
        let root = try parseTOML(text, file: file)
        let lines = SourceLines(text: text)
        let top = TableReader(table: root, file: file, path: "", section: "", lines: lines)
        var config = DaemonConfig()
        if let portfolios = top.strings("portfolios") {
            if portfolios.isEmpty { top.problem("portfolios", "names no file or folder") }
            config.portfolios = portfolios
        }
        if let catchUp = top.duration("catch-up") { config.catchUp = catchUp }
        if let group = top.string("admin-group") {
            if group.isEmpty { top.problem("admin-group", "must name a group") }
            config.adminGroup = group
        }
        config.stateDirectory = top.string("state-directory")
        config.socket = top.string("socket")
        if let stateDirectory = config.stateDirectory, !stateDirectory.hasPrefix("/") {
            top.problem("state-directory", "must be an absolute path")
        }
        if let socket = config.socket, !socket.hasPrefix("/") {
            top.problem("socket", "must be an absolute path")
        } else if let socket = config.socket, socket.utf8.count > 107 {
            top.problem("socket", "is longer than the 107 bytes a Unix socket path may have")
        }
        var problems: [ConfigProblem] = []
        if let value = top.value("notify") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "notify", section: "notify", lines: lines)
                let exec = reader.strings("exec")
                if exec == nil, table["exec"] == nil {
                    reader.problem("exec", "is required: the command to run, e.g. [\"/usr/local/bin/accord-notify\"]")
                }
                if let exec, exec.isEmpty || exec[0].isEmpty { reader.problem("exec", "must name a program") }
                if let exec, let program = exec.first, !program.isEmpty, !program.hasPrefix("/") {
                    reader.problem("exec", "\"\(program)\" must be an absolute path")
                }
                let timeout = reader.duration("timeout") ?? ISODuration(seconds: 10)
                if timeout.isZero { reader.problem("timeout", "must be more than zero") }
                reader.rejectUnknownKeys(allowed: ["exec", "timeout"])
                if let exec, reader.problems.isEmpty { config.notify = NotifyHook(exec: exec, timeout: timeout) }
                problems += reader.problems
            } else {
                top.problem("notify", "must be a table: [notify]")
            }
        }
        if let value = top.value("control") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "control", section: "control", lines: lines)
                if let n = reader.integer("max-connections", in: 1...65_536) { config.control.maximumConnections = n }
                if let n = reader.integer("per-user", in: 1...65_536) { config.control.perUser = n }
                if let n = reader.integer("reserved-for-admins", in: 0...65_535) { config.control.reservedForAdmins = n }
                if let timeout = reader.duration("idle-timeout") {
                    if timeout.isZero { reader.problem("idle-timeout", "must be more than zero") } else { config.control.idleTimeout = timeout }
                }
                if config.control.reservedForAdmins >= config.control.maximumConnections {
                    reader.problem("reserved-for-admins", "must be less than max-connections (\(config.control.maximumConnections))")
                }
                reader.rejectUnknownKeys(allowed: ["max-connections", "per-user", "reserved-for-admins", "idle-timeout"])
                problems += reader.problems
            } else {
                top.problem("control", "must be a table: [control]")
            }
        }
        if let value = top.value("state") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "state", section: "state", lines: lines)
                config.state = readState(reader)
                problems += reader.problems
            } else {
                top.problem("state", "must be a table: [state]")
            }
        }
        top.rejectUnknownKeys(allowed: keys)
        problems = top.problems + problems
        if !problems.isEmpty { throw ConfigProblems(problems) }
        return config
    }

    private static func readState(_ reader: TableReader) -> State? {
        let url = reader.string("url", required: true)
        if let url, !(url.hasPrefix("postgresql://") || url.hasPrefix("postgres://")) {
            reader.problem(
                "url", "\"\(url)\" must be a PostgreSQL URL: postgresql://[user@]host[:port]/database (leave [state] out to keep the state in SQLite)"
            )
        }
        // user:password@ in the authority: the URL shows in Status and the journal.
        if let url, let schemeEnd = url.range(of: "://") {
            let rest = url[schemeEnd.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") {
                reader.problem("url", "must not contain a password: put it in the file named by password-file, or in PGPASSFILE")
            }
        }
        if let url, url.contains("password=") {
            reader.problem("url", "must not contain a password: put it in the file named by password-file, or in PGPASSFILE")
        }
        let sslMode = reader.string("sslmode")
        if let sslMode, !State.sslModes.contains(sslMode) {
            reader.problem("sslmode", "\"\(sslMode)\" is not one of \(State.sslModes.joined(separator: ", "))")
        }
        let passwordFile = reader.string("password-file")
        if let passwordFile, !passwordFile.hasPrefix("/") {
            reader.problem("password-file", "must be an absolute path")
        }
        let takeover = reader.duration("takeover") ?? ISODuration(seconds: 10)
        if takeover.approximateSeconds < 3 || takeover.years != 0 || takeover.months != 0 {
            reader.problem(
                "takeover", "\(takeover) must be at least PT3S (standbys retry every third of it) and given in days, hours, minutes or seconds")
        }
        reader.rejectUnknownKeys(allowed: ["url", "sslmode", "password-file", "takeover"])
        guard let url, reader.problems.isEmpty else { return nil }
        return State(url: url, sslMode: sslMode, passwordFile: passwordFile, takeover: takeover)
    }
}
