// The control socket's listener: binds the socket (or takes the one systemd passed), accepts
// clients within the connection limit, and keeps the list of Watch clients to tell of each
// firing. Each client is a `Connection`, woken by the `ReadinessLoop`; each call goes to
// `TrackerService`. Runs on the daemon's queue.
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
        /// A client this far behind (any reply, Watch or not) is closed rather than buffered
        /// without end: `[control] reply-buffer`, whose default gives its reason.
        var outputHardLimit = 8 << 20
        /// Messages one connection may have handled before the queue runs something else. A
        /// Status call takes about 20 µs, so a turn is under a millisecond: the timer waits at
        /// most that long behind a client that streams oneway calls.
        var messagesPerTurn = 32
        /// Connections of one user other than root; of `maximumConnections`, the ones only root
        /// and the admin group may take; and how long a connection may stay without a call.
        var perUser = 1024
        var reservedForAdmins = 64
        var idleTimeout = 300

        init() {}

        /// The limits `[control]` of accordd.toml sets, the others as they are.
        init(_ control: DaemonConfig.Control) {
            maximumConnections = control.maximumConnections
            perUser = control.perUser
            reservedForAdmins = control.reservedForAdmins
            idleTimeout = Int(max(1, control.idleTimeout.approximateSeconds))
            outputHardLimit = control.replyBuffer
            outputHighWater = min(outputHighWater, control.replyBuffer / 2)
        }
    }

    let path: String
    /// Re-read at a reload; what is open stays open.
    var limits: Limits
    let queue: DispatchQueue
    private let listenFD: Int32
    private var acceptSource: DispatchSourceRead?
    /// By descriptor, the token the readiness loop reports: a descriptor is closed before its
    /// connection leaves this table, and both happen in one turn of the queue, so no new client
    /// gets the number while an old one still holds it here.
    private var connections: [Int32: Connection] = [:]
    /// Created in init, before any client is accepted.
    private(set) var loop: ReadinessLoop!
    /// Open connections per user, for the per-user share.
    private var perUID: [uid_t: Int] = [:]
    private var watchers: [ObjectIdentifier: Connection] = [:]
    let service: TrackerService
    let logger: Logger
    private var refusedSinceLastLog = 0
    /// Clients closed for leaving replies untaken: the first of each minute is logged with its
    /// uid and pid, the rest counted into the next line, so a loop of them cannot flood the journal.
    private var overrunLog = (minute: Int64(-1), unlogged: 0)
    /// One buffer for every client's reads: all of them run on the same serial queue. Raw memory,
    /// not an array: an array in a class costs an exclusivity check and a uniqueness check a read.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)

    init(
        service: TrackerService, queue: DispatchQueue, logger: Logger, inherited: Int32?, path: String,
        limits: Limits = Limits()
    ) throws(ControlServerError) {
        self.queue = queue
        self.logger = logger
        self.limits = limits
        self.service = service
        if let inherited {
            listenFD = inherited
            self.path = UnixSocketAddress.boundPath(of: inherited) ?? path
            _ = fcntl(inherited, F_SETFL, fcntl(inherited, F_GETFL) | O_NONBLOCK)
        } else {
            let made = try ControlServer.bind(path: path)
            listenFD = made.fd
            bound = made.socket
            self.path = path
        }
        ControlServer.raiseFileLimit()
        loop = try ReadinessLoop(
            queue: queue,
            ready: { [weak self] tokens in
                // A descriptor closed (and even reused) since the report was made reads nothing
                // or reads early: the read is non-blocking.
                guard let self else { return }
                for token in tokens { self.connections[Int32(truncatingIfNeeded: token)]?.readAvailable() }
            },
            failed: { [logger] error in
                logger.critical("epoll_wait failed (\(String(cString: strerror(error)))): control clients are no longer read")
            })
        let source = DispatchSource.makeReadSource(fileDescriptor: listenFD, queue: queue)
        source.setEventHandler { [unowned self] in self.acceptAll() }
        source.resume()
        acceptSource = source
    }

    /// The socket this daemon bound: its directory (held open, checked once) and its name in it.
    private struct BoundSocket {
        var directory: Int32
        var name: String
    }
    private var bound: BoundSocket?

    /// Binds the socket itself: in a directory owned by this user or root that nobody else may
    /// write to (or sticky), never following a link or removing anything but an old socket,
    /// mode 0660 from the moment it exists, group `accord` if that group exists.
    private static func bind(path: String) throws(ControlServerError) -> (fd: Int32, socket: BoundSocket) {
        guard UnixSocketAddress.make(path).isSuccess else {
            throw .init(
                path: path,
                message:
                    "the path is empty, holds a NUL or is longer than the \(UnixSocketAddress.maximumPathBytes) bytes a Unix socket path may have")
        }
        let parent = ConfigurationLoader.directory(of: path)
        let name = String(path.dropFirst(parent == "/" ? 1 : parent.utf8.count + 1))
        let made = makeDirectories(parent, mode: 0o755)
        if made != 0 { throw .init(path: parent, message: "cannot create the directory: \(String(cString: strerror(made)))") }
        let directory = open(parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { throw .init(path: parent, message: "cannot open the directory: \(String(cString: strerror(errno)))") }
        do throws(ControlServerError) {
            var info = stat()
            guard fstat(directory, &info) == 0 else { throw .init(path: parent, message: "fstat: \(String(cString: strerror(errno)))") }
            if info.st_uid != geteuid() && info.st_uid != 0 {
                throw .init(path: parent, message: "belongs to uid \(info.st_uid) (\(Peer.userName(info.st_uid))), not to this user or root")
            }
            if info.st_mode & 0o022 != 0 && info.st_mode & S_ISVTX == 0 {
                throw .init(
                    path: parent,
                    message: "others may write to it (mode \(String(info.st_mode & 0o7777, radix: 8))): another user could replace the socket")
            }
            let address = UnixSocketAddress.make("/proc/self/fd/\(directory)/\(name)")
            guard case let .success((socketAddress, length)) = address else {
                throw .init(path: path, message: "the socket name is too long")
            }
            if ControlServer.someoneListens(socketAddress, length) {
                throw .init(path: path, message: "another daemon is already listening there")
            }
            var existing = stat()
            if fstatat(directory, name, &existing, AT_SYMLINK_NOFOLLOW) == 0 {
                guard existing.st_mode & S_IFMT == S_IFSOCK else {
                    throw .init(path: path, message: "exists and is not a socket (owned by uid \(existing.st_uid)): refusing to remove it")
                }
                unlinkat(directory, name, 0)
            }
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw .init(path: path, message: "socket: \(String(cString: strerror(errno)))") }
            // 0660 from the start: bind creates the node with the umask's mode.
            let previous = umask(0o117)
            let result = UnixSocketAddress.with(socketAddress, length: length) { Glibc.bind(fd, $0, $1) }
            let bindError = errno
            umask(previous)
            guard result == 0 else {
                Glibc.close(fd)
                throw .init(path: path, message: "bind: \(String(cString: strerror(bindError)))")
            }
            // A socket that cannot get its group would shut out every reader, or be loosened by hand.
            if let group = Peer.groupID(TrackerService.socketGroup),
                fchownat(directory, name, uid_t.max, group, AT_SYMLINK_NOFOLLOW) != 0
            {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                unlinkat(directory, name, 0)
                throw .init(path: path, message: "cannot give the socket to group \(TrackerService.socketGroup): \(reason)")
            }
            guard listen(fd, 512) == 0 else {
                let reason = String(cString: strerror(errno))
                Glibc.close(fd)
                throw .init(path: path, message: "listen: \(reason)")
            }
            return (fd, BoundSocket(directory: directory, name: name))
        } catch {
            Glibc.close(directory)
            throw error
        }
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
            let peer = Peer.of(fd)
            if let refusal = refusal(of: peer) {
                // A clean refusal: closed at once, never left hanging in the backlog.
                Glibc.close(fd)
                refusedSinceLastLog += 1
                if refusedSinceLastLog == 1 || refusedSinceLastLog % 1000 == 0 {
                    logger.warning("refused \(refusedSinceLastLog) client(s), the last of uid \(peer.uid) (\(peer.user)): \(refusal)")
                }
                continue
            }
            let connection = Connection(fd: fd, peer: peer, server: self)
            connections[fd] = connection
            perUID[peer.uid, default: 0] += 1
            connection.start()
        }
    }

    /// Why a new client may not have a connection now, or nil when it may.
    private func refusal(of peer: Peer) -> String? {
        let open = connections.count
        if open >= limits.maximumConnections { return "\(open) connections are open, the most allowed" }
        if peer.uid != 0, perUID[peer.uid, default: 0] >= limits.perUser {
            return "the user has \(limits.perUser) connections open, the most one user may"
        }
        if open >= limits.maximumConnections - limits.reservedForAdmins, !service.isAdmin(peer) {
            return "the last \(limits.reservedForAdmins) connections are kept for root and the admin group"
        }
        return nil
    }

    func closed(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        connections[connection.fd] = nil
        let uid = connection.peer.uid
        perUID[uid] = perUID[uid, default: 1] > 1 ? perUID[uid]! - 1 : nil
        watchers[ObjectIdentifier(connection)] = nil
        if connections.count < limits.maximumConnections { refusedSinceLastLog = 0 }
    }

    /// Logs the closing of a client that left more than `outputHardLimit` bytes untaken.
    func logOverrun(_ peer: Peer, queued: Int) {
        let minute = Int64(DispatchTime.now().uptimeNanoseconds / 60_000_000_000)
        guard minute != overrunLog.minute else {
            overrunLog.unlogged += 1
            return
        }
        let more = overrunLog.unlogged > 0 ? "; \(overrunLog.unlogged) more since the last such line" : ""
        overrunLog = (minute, 0)
        logger.warning(
            "closing a client (uid \(peer.uid) (\(peer.user)), pid \(peer.pid)) that left \(queued) bytes of replies untaken, over the \(limits.outputHardLimit) of [control] reply-buffer\(more)"
        )
    }

    func subscribe(_ connection: Connection) { watchers[ObjectIdentifier(connection)] = connection }

    func isWatching(_ connection: Connection) -> Bool { watchers[ObjectIdentifier(connection)] != nil }

    /// Sends a fired reminder to every Watch client.
    func broadcast(_ reminder: Reminder, catchUp: Bool) {
        guard !watchers.isEmpty else { return }
        let reply = VarlinkReply(
            parameters: Tracker.Watch.Reply(reminder: Tracker.Reminder(reminder, catchUp: catchUp)).wireObject(),
            continues: true
        ).encode()
        for watcher in watchers.values { watcher.sendWatch(reply) }
    }

    deinit { readBuffer.deallocate() }

    func close() {
        acceptSource?.cancel()
        for connection in connections.values { connection.close() }
        loop.stop()
        // Removes the socket only if what is there is still a socket (not something put in its place).
        if let bound {
            var info = stat()
            if fstatat(bound.directory, bound.name, &info, AT_SYMLINK_NOFOLLOW) == 0, info.st_mode & S_IFMT == S_IFSOCK {
                unlinkat(bound.directory, bound.name, 0)
            }
            Glibc.close(bound.directory)
        }
        Glibc.close(listenFD)
    }
}

struct ControlServerError: Error, CustomStringConvertible {
    var path: String
    var message: String
    var description: String { "\(path): \(message)" }
}
