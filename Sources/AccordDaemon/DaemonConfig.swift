// The daemon's side of its configuration: accordd.toml read into DaemonConfig, with every
// problem named by file, line and key path. The portfolio formats are AccordCore's; this file
// only uses its TOML reading, so the model knows nothing of the daemon that runs it.
import AccordCalendar
import AccordCore
import AccordStore

/// The daemon's own file, `accordd.toml` (docs/contracts.md §3).
public struct DaemonConfig: Sendable {
    /// Files or folders of `*.toml`, as written (relative to the config file's folder).
    public var portfolios: [String]
    /// Calendar files, or folders of `*.toml`, that `business-days` may name (§12), as written.
    public var calendars: [String] = []
    public var catchUp: ISODuration
    public var adminGroup: String
    public var stateDirectory: String?
    public var socket: String?
    public var notify: NotifyHook?
    public var control = Control()
    /// `digest` and `digest-at` (docs/contracts.md §14): nil for no digest.
    public var digest: DigestSchedule?
    /// `escalate-after` (§14): nil for no escalations.
    public var escalateAfter: ISODuration?
    /// `[escalate]`: a program run once per escalation, besides `[notify]`.
    public var escalate: NotifyHook?

    /// `[control]`: the limits that keep one client, or one user, from taking the socket.
    public struct Control: Sendable, Equatable {
        /// Connections open at once, all users together.
        public var maximumConnections = 2048
        /// Connections of one user other than root.
        public var perUser = 1024
        /// Of `maximumConnections`, kept for root and the admin group: a reader flooding the
        /// socket cannot keep an administrator out.
        public var reservedForAdmins = 64
        /// A connection with no call for this long is closed (Watch clients excepted); one that
        /// leaves its replies untaken counts as idle from the last byte it took.
        public var idleTimeout = ISODuration(minutes: 5)
        /// Bytes of replies one connection may leave untaken. A page of History, List or
        /// Upcoming is at most 1,000 rows of under 1 KiB each (TrackerService.pageLimit), and the
        /// daemon stops reading a client's requests once 1 MiB waits for it, so a client that
        /// pipelines calls and reads as it goes never has more than about 2 MiB queued: 8 MiB is
        /// four times that. Past it the connection is closed. 2,048 clients at the cap are 16 GiB,
        /// which the unit's MemoryMax=2G stops first; the idle timeout ends them one by one.
        public var replyBuffer = 8 << 20
        public init() {}
    }

    /// `[state]`: the state in PostgreSQL instead of the embedded SQLite file (docs/design.md §15).
    public var state: StateConfig?

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

    static let keys = [
        "portfolios", "calendars", "catch-up", "admin-group", "state-directory", "socket", "digest", "digest-at", "escalate-after",
        "[notify]", "[escalate]", "[control]", "[state]"
    ]

    public static func parse(_ text: String, file: String) throws(ConfigProblems) -> DaemonConfig {
        let top = try TableReader.document(text, file: file)
        var config = DaemonConfig()
        if let portfolios = top.strings("portfolios") {
            if portfolios.isEmpty { top.problem("portfolios", "names no file or folder") }
            config.portfolios = portfolios
        }
        if let calendars = top.strings("calendars") { config.calendars = calendars }
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
        for name in ["notify", "escalate"] where top.has(name) {
            if let reader = top.subtable(name) {
                let hook = readHook(reader)
                if name == "notify" { config.notify = hook } else { config.escalate = hook }
                problems += reader.problems
            } else {
                top.problem(name, "must be a table: [\(name)]")
            }
        }
        readDigestAndEscalation(top, into: &config)
        if top.has("control") {
            if let reader = top.subtable("control") {
                if let n = reader.integer("max-connections", in: 1...65_536) { config.control.maximumConnections = n }
                if let n = reader.integer("per-user", in: 1...65_536) { config.control.perUser = n }
                if let n = reader.integer("reserved-for-admins", in: 0...65_535) { config.control.reservedForAdmins = n }
                if let timeout = reader.duration("idle-timeout") {
                    if timeout.isZero { reader.problem("idle-timeout", "must be more than zero") } else { config.control.idleTimeout = timeout }
                }
                if let n = reader.integer("reply-buffer", in: 65_536...(1 << 30)) { config.control.replyBuffer = n }
                if config.control.reservedForAdmins >= config.control.maximumConnections {
                    reader.problem("reserved-for-admins", "must be less than max-connections (\(config.control.maximumConnections))")
                }
                reader.rejectUnknownKeys(allowed: ["max-connections", "per-user", "reserved-for-admins", "idle-timeout", "reply-buffer"])
                problems += reader.problems
            } else {
                top.problem("control", "must be a table: [control]")
            }
        }
        if top.has("state") {
            if let reader = top.subtable("state") {
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

    /// `[notify]` or `[escalate]`: `exec` (an absolute program and its arguments) and `timeout`.
    private static func readHook(_ reader: TableReader) -> NotifyHook? {
        let exec = reader.strings("exec")
        if exec == nil, !reader.has("exec") {
            reader.problem("exec", "is required: the command to run, e.g. [\"/usr/local/bin/accord-notify\"]")
        }
        if let exec, exec.isEmpty || exec[0].isEmpty { reader.problem("exec", "must name a program") }
        if let exec, let program = exec.first, !program.isEmpty, !program.hasPrefix("/") {
            reader.problem("exec", "\"\(program)\" must be an absolute path")
        }
        let timeout = reader.duration("timeout") ?? ISODuration(seconds: 10)
        if timeout.isZero { reader.problem("timeout", "must be more than zero") }
        reader.rejectUnknownKeys(allowed: ["exec", "timeout"])
        guard let exec, reader.problems.isEmpty else { return nil }
        return NotifyHook(exec: exec, timeout: timeout)
    }

    /// `digest`, `digest-at` and `escalate-after` (docs/contracts.md §14).
    private static func readDigestAndEscalation(_ top: TableReader, into config: inout DaemonConfig) {
        let period = top.duration("digest")
        let anchor = top.stringOrInstant("digest-at", expected: "a string such as \"monday 09:00\", or an RFC 3339 instant")
        if let period {
            switch DigestSchedule.parse(period: period, at: anchor ?? DigestSchedule.defaultAnchor(for: period)) {
            case let .success(schedule): config.digest = schedule
            case let .failure(error): top.problem(error.key, error.message)
            }
        } else if anchor != nil, !top.has("digest") {
            top.problem("digest-at", "needs digest, the period of the digest (e.g. digest = \"P7D\")")
        }
        if let after = top.duration("escalate-after") {
            if after.isZero { top.problem("escalate-after", "must be longer than zero") } else { config.escalateAfter = after }
        }
    }

    private static func readState(_ reader: TableReader) -> StateConfig? {
        let url = reader.string("url", required: true)
        if let url, !(url.hasPrefix("postgresql://") || url.hasPrefix("postgres://")) {
            reader.problem(
                "url", "\"\(url)\" must be a PostgreSQL URL: postgresql://[user@]host[:port]/database (leave [state] out to keep the state in SQLite)"
            )
        }
        // user:password@ in the authority: the URL shows in Status and the journal.
        if let url, let schemeEnd = url.firstRange(of: "://") {
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
        if let sslMode, !StateConfig.sslModes.contains(sslMode) {
            reader.problem("sslmode", "\"\(sslMode)\" is not one of \(StateConfig.sslModes.joined(separator: ", "))")
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
        return StateConfig(url: url, sslMode: sslMode, passwordFile: passwordFile, takeover: takeover)
    }
}
