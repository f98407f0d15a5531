import AccordCalendar
import AccordCore
import AccordProtocol
import Glibc

/// Where the daemon keeps its state and its socket (docs/contracts.md §2).
public struct DaemonPaths: Sendable, Equatable {
    public var stateDirectory: String
    public var socket: String
    /// `/tmp/accord-UID` when the socket falls back to it (no RUNTIME_DIRECTORY, not root, no
    /// XDG_RUNTIME_DIR): made or accepted only by `checkPrivateDirectory()`.
    public var privateDirectory: String?
    public var stateFile: String { stateDirectory + "/state.sqlite" }

    public init(stateDirectory: String, socket: String, privateDirectory: String? = nil) {
        self.stateDirectory = stateDirectory
        self.socket = socket
        self.privateDirectory = privateDirectory
    }

    /// Makes the fallback directory (mode 0700), or refuses one that another user owns or can
    /// write to (PrivateDirectory). Nothing to do for every other location.
    public func checkPrivateDirectory(uid: uid_t = getuid()) throws(PrivateDirectory.Refusal) {
        guard let privateDirectory else { return }
        try PrivateDirectory.check(privateDirectory, uid: uid, create: true)
    }

    /// The configuration's overrides first, then systemd's directories, then the places for
    /// root, then the user's XDG directories.
    public static func resolve(config: DaemonConfig, environment: [String: String], isRoot: Bool) -> DaemonPaths {
        func first(_ list: String?) -> String? {
            list?.split(separator: ":").first.map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        // Without HOME, the user database's home: never a guessable directory under /tmp.
        let home = environment["HOME"] ?? getpwuid(getuid()).flatMap { $0.pointee.pw_dir.map { String(cString: $0) } } ?? "/"
        let state =
            config.stateDirectory
            ?? first(environment["STATE_DIRECTORY"])
            ?? (isRoot ? "/var/lib/accord" : (environment["XDG_STATE_HOME"].map { $0 + "/accord" } ?? home + "/.local/state/accord"))
        var fallback: String?
        let runtime =
            first(environment["RUNTIME_DIRECTORY"])
            ?? (isRoot
                ? "/run/accord"
                : (environment["XDG_RUNTIME_DIR"].map { $0 + "/accord" }
                    ?? {
                        fallback = PrivateDirectory.fallback()
                        return fallback!
                    }()))
        return DaemonPaths(
            stateDirectory: state, socket: config.socket ?? runtime + "/io.accord.Tracker",
            privateDirectory: config.socket == nil ? fallback : nil)
    }

    public static var processEnvironment: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// `mkdir -p` with a mode for the directories created.
func makeDirectories(_ path: String, mode: mode_t) -> Int32 {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        if mkdir(current, mode) != 0 && errno != EEXIST { return errno }
    }
    return 0
}
