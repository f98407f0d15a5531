// The control socket's listener: binds the socket (or takes the one systemd passed), accepts
// clients within the connection limit, and keeps the list of Watch clients to tell of each
// firing. Each client is a `Connection`; each call goes to `TrackerService`. Runs on the
// daemon's queue.
import AccordCalendar
import AccordCore
import AccordProtocol
import CAccordShim
import Dispatch
import Glibc
import Logging

final class ControlServer: @unchecked Sendable {
    struct Limits {
        var maximumMessageSize = 64 * 1024
        var maximumConnections = 2048
        /// A message begun but not finished within this many seconds closes the connection.
        var partialMessageTimeout = 10
        /// Replies queued for a client that does not read: past this, stop reading its requests.
        var outputHighWater = 1 << 20
        /// A Watch client this far behind is dropped rather than buffered without end.
        var outputHardLimit = 8 << 20
        /// Messages one connection may have handled before the queue runs something else. A
        /// Status call takes about 20 µs, so a turn is under a millisecond: the timer waits at
        /// most that long behind a client that streams oneway calls.
        var messagesPerTurn = 32
    }

    let path: String
    let limits: Limits
    let queue: DispatchQueue
    private let listenFD: Int32
    private let ownsSocketFile: Bool
    private var acceptSource: DispatchSourceRead?
    private var connections: [ObjectIdentifier: Connection] = [:]
    private var watchers: [ObjectIdentifier: Connection] = [:]
    let service: TrackerService
    let logger: Logger
    private var refusedSinceLastLog = 0
    /// One buffer for every client's reads: all of them run on the same serial queue.
    var readBuffer = [UInt8](repeating: 0, count: 65536)

    init(service: TrackerService, queue: DispatchQueue, logger: Logger, inherited: Int32?, path: String,
         limits: Limits = Limits()) throws(ControlServerError) {
        self.queue = queue
        self.logger = logger
        self.limits = limits
        self.service = service
        if let inherited {
            listenFD = inherited
            ownsSocketFile = false
            self.path = UnixSocketAddress.boundPath(of: inherited) ?? path
            _ = fcntl(inherited, F_SETFL, fcntl(inherited, F_GETFL) | O_NONBLOCK)
        } else {
            listenFD = try ControlServer.bind(path: path)
            ownsSocketFile = true
            self.path = path
        }
        ControlServer.raiseFileLimit()
        let source = DispatchSource.makeReadSource(fileDescriptor: listenFD, queue: queue)
        source.setEventHandler { [unowned self] in self.acceptAll() }
        source.resume()
        acceptSource = source
    }

    /// Binds the socket itself: parent directory 0755, socket 0660, group `accord` if it exists.
    private static func bind(path: String) throws(ControlServerError) -> Int32 {
        let address: sockaddr_un, length: socklen_t
        switch UnixSocketAddress.make(path) {
        case let .success(made): (address, length) = made
        case let .failure(error):
            throw .init(path: path, message: error.code == ENAMETOOLONG
                ? "the path is longer than the \(UnixSocketAddress.maximumPathBytes) bytes a Unix socket path may have" : "\(error)")
        }
        let parent = ConfigurationLoader.directory(of: path)
        let made = makeDirectories(parent, mode: 0o755)
        if made != 0 { throw .init(path: parent, message: "cannot create the directory: \(String(cString: strerror(made)))") }
        if ControlServer.someoneListens(address, length) {
            throw .init(path: path, message: "another daemon is already listening there")
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .init(path: path, message: "socket: \(String(cString: strerror(errno)))") }
        let bound = UnixSocketAddress.with(address, length: length) { Glibc.bind(fd, $0, $1) }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .init(path: path, message: "bind: \(reason)")
        }
        // A socket that cannot get its group would shut out every reader, or be loosened by hand.
        if let group = Peer.groupID(TrackerService.socketGroup), chown(path, uid_t.max, group) != 0 {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            unlink(path)
            throw .init(path: path, message: "cannot give the socket to group \(TrackerService.socketGroup): \(reason)")
        }
        chmod(path, 0o660)
        guard listen(fd, 512) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .init(path: path, message: "listen: \(reason)")
        }
        return fd
    }

    private static func someoneListens(_ address: sockaddr_un, _ length: socklen_t) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        return UnixSocketAddress.with(address, length: length) { connect(fd, $0, $1) } == 0
    }

    /// Idle clients each hold a descriptor: lift the soft limit to the hard one.
    private static func raiseFileLimit() {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = min(limit.rlim_max, 65536)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    private func acceptAll() {
        while true {
            let fd = accord_accept_nonblocking(listenFD)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno == EMFILE || errno == ENFILE { logger.warning("out of file descriptors: cannot accept clients") }
                return
            }
            if connections.count >= limits.maximumConnections {
                // A clean refusal: closed at once, never left hanging in the backlog.
                Glibc.close(fd)
                refusedSinceLastLog += 1
                if refusedSinceLastLog == 1 || refusedSinceLastLog % 1000 == 0 {
                    logger.warning("refused \(refusedSinceLastLog) client(s): \(limits.maximumConnections) connections are open")
                }
                continue
            }
            let connection = Connection(fd: fd, server: self)
            connections[ObjectIdentifier(connection)] = connection
            connection.start()
        }
    }

    func closed(_ connection: Connection) {
        connections[ObjectIdentifier(connection)] = nil
        watchers[ObjectIdentifier(connection)] = nil
        if connections.count < limits.maximumConnections { refusedSinceLastLog = 0 }
    }

    func subscribe(_ connection: Connection) { watchers[ObjectIdentifier(connection)] = connection }

    /// Sends a fired reminder to every Watch client.
    func broadcast(_ reminder: Reminder, catchUp: Bool) {
        guard !watchers.isEmpty else { return }
        let reply = VarlinkReply(parameters: Tracker.Watch.Reply(reminder: Tracker.Reminder(reminder, catchUp: catchUp)).wireObject(),
                                 continues: true).encode()
        for watcher in watchers.values { watcher.sendWatch(reply) }
    }

    func close() {
        acceptSource?.cancel()
        for connection in connections.values { connection.close() }
        if ownsSocketFile { unlink(path) }
        Glibc.close(listenFD)
    }
}

struct ControlServerError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "\(path): \(message)" }
}

