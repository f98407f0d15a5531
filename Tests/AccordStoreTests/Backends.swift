import AccordCalendar
import AccordCore
import Foundation

@testable import AccordStore

/// The store tests run against both backends. PostgreSQL is a real server: ACCORD_TEST_POSTGRES
/// names one (a URL, as scripts/postgres-scratch.sh prints it), or else, when Debian's
/// postgresql package is installed (/usr/lib/postgresql/15/bin/initdb), this process starts one
/// of its own with scripts/postgres-scratch.sh (about 1 s) and stops and removes it at exit.
/// ACCORD_TEST_POSTGRES=off leaves PostgreSQL out. Each store gets a fresh database.
enum Backend: String, CaseIterable, CustomStringConvertible, Sendable {
    case sqlite, postgresql

    var description: String { rawValue }

    /// sqlite always; postgresql when a server is at hand (see above).
    static let available: [Backend] = Scratch.serverURL == nil ? [.sqlite] : [.sqlite, .postgresql]

    /// A store on a new, empty database; `location` reopens the same one.
    func open() throws -> (store: any StateStore, location: String) {
        switch self {
        case .sqlite:
            let path = scratchPath("state.sqlite")
            return (try SQLiteStateStore(path: path), path)
        case .postgresql:
            let url = try Scratch.newDatabase()
            return (try PostgresStateStore(StateConfig(url: url)), url)
        }
    }

    func reopen(_ location: String) throws -> any StateStore {
        switch self {
        case .sqlite: return try SQLiteStateStore(path: location)
        case .postgresql: return try PostgresStateStore(StateConfig(url: location))
        }
    }
}

enum Scratch {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-scratch.sh").path

    /// The server's URL (its maintenance database), or nil when PostgreSQL is left out.
    static let serverURL: String? = {
        let environment = ProcessInfo.processInfo.environment["ACCORD_TEST_POSTGRES"]
        if environment == "off" { return nil }
        if let environment, !environment.isEmpty { return environment }
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/15/bin/initdb") else { return nil }
        let directory = "/tmp/accord-pg-swift-\(getpid())"
        let (status, output) = run([script, "start", directory])
        guard status == 0 else { fatalError("scripts/postgres-scratch.sh start failed (\(status)): \(output)") }
        startedDirectory = directory
        atexit {
            if let directory = Scratch.startedDirectory { _ = Scratch.run([Scratch.script, "stop", directory]) }
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    nonisolated(unsafe) static var startedDirectory: String?

    /// Creates a database of its own for one store, and returns the URL naming it.
    static func newDatabase() throws -> String {
        guard let serverURL else { fatalError("no PostgreSQL server") }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try PostgresConnection(StateConfig(url: serverURL))
        defer { admin.finish() }
        try admin.execute("CREATE DATABASE \(name)", operation: "create test database")
        return url(serverURL, database: name)
    }

    /// The URL with its database (the path after the authority) replaced.
    static func url(_ url: String, database: String) -> String {
        let scheme = url.range(of: "://")!
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let query = rest[authorityEnd...].firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return String(url[..<authorityEnd]) + "/" + database + query
    }

    /// posix_spawn and waitpid rather than Foundation's Process, whose exit monitoring never
    /// reaped the script here (it stayed a zombie and waitUntilExit never returned); output goes
    /// through a file, so that the server `start` leaves running holds no pipe of ours.
    static func run(_ arguments: [String]) -> (Int32, String) {
        let outputPath = NSTemporaryDirectory() + "accord-pg-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { return (127, "posix_spawn \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exited, text)
    }
}
