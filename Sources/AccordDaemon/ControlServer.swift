import AccordCore
import Glibc

/// The control socket (issue 4). Placeholder: binds nothing yet.
final class ControlServer {
    let path: String
    init(daemon: Daemon, inherited: Int32?, path: String) throws {
        self.path = path
    }
    func broadcast(_ reminder: Reminder, catchUp: Bool) {}
    func close() {}
}
