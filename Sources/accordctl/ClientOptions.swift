// The global options as plain values (--socket, --json, --timeout), read by every command: by
// ArgumentParser's GlobalOptions and by QuickCommand's hand parser alike, so that both paths
// reach the daemon the same way.
import AccordProtocol
import Glibc

struct ClientOptions: Equatable {
    /// --socket, when given.
    var socket: String?
    /// --json: print the reply's parameters as JSON.
    var json = false
    /// --timeout in seconds, 1...86400 (GlobalOptions.validate and QuickCommand check it).
    var timeout = 30

    /// The valid range of --timeout.
    static let timeouts = 1...86_400

    var socketPath: String {
        if let socket { return socket }
        if let value = getenv("ACCORD_SOCKET"), value.pointee != 0 { return String(cString: value) }
        if getuid() != 0, let runtime = getenv("XDG_RUNTIME_DIR"), runtime.pointee != 0 {
            let path = String(cString: runtime) + "/accord/io.accord.Tracker"
            if access(path, F_OK) == 0 { return path }
        } else if getuid() != 0 {
            // The daemon's own fallback without XDG_RUNTIME_DIR; used only when it is this
            // user's private directory, since anyone may have made /tmp/accord-UID first.
            let directory = PrivateDirectory.fallback()
            do {
                let path = directory + "/io.accord.Tracker"
                if try PrivateDirectory.check(directory, create: false), access(path, F_OK) == 0 { return path }
            } catch {
                writeError("accordctl: warning: \(error)\n")
            }
        }
        return "/run/accord/io.accord.Tracker"
    }
}
