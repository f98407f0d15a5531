import AccordCore
import AccordProtocol
import CAccordShim
import Dispatch
import Glibc
import Logging

/// The control socket from bind to dispatch: accepts Varlink clients, frames their
/// messages, enforces the limits that keep one bad client from hurting the others, and
/// hands each call to `TrackerService`. Runs on the daemon's queue.
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
    }

    let path: String
    let limits: Limits
    private let queue: DispatchQueue
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

    init(daemon: Daemon, inherited: Int32?, path: String, limits: Limits = Limits()) throws(ControlServerError) {
        self.queue = daemon.queue
        self.logger = daemon.logger
        self.limits = limits
        self.service = TrackerService(daemon: daemon)
        if let inherited {
            listenFD = inherited
            ownsSocketFile = false
            self.path = ControlServer.boundPath(of: inherited) ?? path
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
        guard path.utf8.count < 108 else { throw .init(path: path, message: "the path is longer than 107 bytes") }
        let parent = ConfigurationLoader.directory(of: path)
        let made = makeDirectories(parent, mode: 0o755)
        if made != 0 { throw .init(path: parent, message: "cannot create the directory: \(String(cString: strerror(made)))") }
        if ControlServer.someoneListens(path) {
            throw .init(path: path, message: "another daemon is already listening there")
        }
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .init(path: path, message: "socket: \(String(cString: strerror(errno)))") }
        var address = ControlServer.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .init(path: path, message: "bind: \(reason)")
        }
        if let group = getgrnam("accord") { _ = chown(path, uid_t.max, group.pointee.gr_gid) }
        chmod(path, 0o660)
        guard listen(fd, 512) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .init(path: path, message: "listen: \(reason)")
        }
        return fd
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(107).enumerated() { raw[index] = byte }
        }
        return address
    }

    private static func someoneListens(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        var address = address(path)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    private static func boundPath(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        } == 0
        guard ok else { return nil }
        return withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
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
        let reply = VarlinkReply(parameters: ["reminder": .object(TrackerService.reminderJSON(reminder, catchUp: catchUp))],
                                 continues: true).encode()
        for watcher in watchers.values { watcher.sendWatch(reply) }
    }

    var connectionCount: Int { connections.count }

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

/// Who is on the other end, from SO_PEERCRED.
struct Peer: Sendable {
    var pid: pid_t
    var uid: uid_t
    var gid: gid_t
    var user: String

    static func of(_ fd: Int32) -> Peer {
        var pid: pid_t = 0, uid: uid_t = uid_t.max, gid: gid_t = gid_t.max
        _ = accord_peer_credentials(fd, &pid, &uid, &gid)
        return Peer(pid: pid, uid: uid, gid: gid, user: Peer.userName(uid))
    }

    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let result {
            return String(cString: result.pointee.pw_name)
        }
        return "uid \(uid)"
    }

    /// uid 0, or a member of `group` (primary or supplementary, as the user database says).
    func belongs(to group: String) -> Bool {
        if uid == 0 { return true }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(group, &entry, &buffer, buffer.count, &result) == 0, let result else { return false }
        let target = result.pointee.gr_gid
        if gid == target { return true }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, gid, &groups, &count)
        }
        return groups.prefix(Int(max(0, count))).contains(target)
    }
}

/// One client: its frames in, its replies out, in order.
final class Connection: @unchecked Sendable {
    let fd: Int32
    unowned let server: ControlServer
    let peer: Peer
    private var reader: VarlinkFrameReader
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var partialTimer: DispatchSourceTimer?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var readingSuspended = false
    private var closeAfterFlush = false
    private(set) var isClosed = false
    var watching = false

    init(fd: Int32, server: ControlServer) {
        self.fd = fd
        self.server = server
        self.peer = Peer.of(fd)
        self.reader = VarlinkFrameReader(maximumMessageSize: server.limits.maximumMessageSize)
    }

    func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: server.service.queue)
        source.setEventHandler { [unowned self] in self.readAvailable() }
        source.resume()
        readSource = source
    }

    private func readAvailable() {
        while !isClosed, !readingSuspended {
            let n = server.readBuffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()
                return
            }
            if n == 0 {
                // The client is gone; a Watch client or one mid-reply leaves nothing behind.
                close()
                return
            }
            server.readBuffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            drainMessages()
        }
        updatePartialTimer()
    }

    private func drainMessages() {
        while !isClosed, !readingSuspended, !closeAfterFlush {
            let message: [UInt8]?
            do {
                message = try reader.next()
            } catch {
                send(VarlinkReply(error: "io.accord.Tracker.RequestTooLarge",
                                  parameters: ["limit": .integer(Int64(server.limits.maximumMessageSize))]).encode())
                server.logger.notice("closing a client (uid \(peer.uid), pid \(peer.pid)) that sent a message over \(server.limits.maximumMessageSize) bytes")
                closeAfterFlush = true
                flush()
                return
            }
            guard let message else { return }
            server.service.handle(message, from: self)
            if output.count - outputStart > server.limits.outputHighWater {
                readingSuspended = true  // back-pressure: answer no more until it reads
            }
        }
    }

    /// Closes a client that started a message and did not finish it in time.
    private func updatePartialTimer() {
        if reader.hasPartialMessage, partialTimer == nil, !isClosed {
            let timer = DispatchSource.makeTimerSource(queue: server.service.queue)
            timer.schedule(deadline: .now() + .seconds(server.limits.partialMessageTimeout))
            timer.setEventHandler { [unowned self] in
                self.server.logger.notice("closing a client (uid \(self.peer.uid), pid \(self.peer.pid)) that left a message unfinished for \(self.server.limits.partialMessageTimeout) s")
                self.close()
            }
            timer.resume()
            partialTimer = timer
        } else if !reader.hasPartialMessage, let timer = partialTimer {
            timer.cancel()
            partialTimer = nil
        }
    }

    func send(_ bytes: [UInt8]) {
        guard !isClosed else { return }
        output += bytes
        flush()
    }

    func sendWatch(_ bytes: [UInt8]) {
        if output.count - outputStart > server.limits.outputHardLimit {
            server.logger.warning("dropping a Watch client (uid \(peer.uid), pid \(peer.pid)) that stopped reading")
            close()
            return
        }
        send(bytes)
    }

    private func flush() {
        while outputStart < output.count {
            let n = output.withUnsafeBytes { raw in
                accord_send(fd, raw.baseAddress! + outputStart, raw.count - outputStart)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()  // EPIPE, ECONNRESET: the client vanished
                return
            }
            outputStart += n
        }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.count < 65536)
            outputStart = 0
            writeSource?.cancel()
            writeSource = nil
            if closeAfterFlush { close(); return }
            if readingSuspended {
                readingSuspended = false
                drainMessages()
                server.service.queue.async { [weak self] in self?.readAvailable() }
            }
        } else if writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: server.service.queue)
            source.setEventHandler { [unowned self] in self.flush() }
            source.resume()
            writeSource = source
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        partialTimer?.cancel()
        writeSource?.cancel()
        // The descriptor is closed once the read source has let go of it.
        let fd = self.fd
        if let readSource {
            readSource.setCancelHandler { Glibc.close(fd) }
            readSource.cancel()
        } else {
            Glibc.close(fd)
        }
        server.closed(self)
    }
}
