import Glibc

/// Why a client could not talk to the daemon. The cases a command-line tool maps to
/// different exit codes are separate (69 for the unreachable ones, 77 for
/// `permissionDenied`); `errorNumber` keeps the errno for anything finer.
public enum VarlinkClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing at the path (ENOENT, ENOTDIR): the daemon is not running or uses another socket.
    case socketMissing(path: String)
    /// A socket file with nobody listening (ECONNREFUSED): the daemon stopped or is starting.
    case connectionRefused(path: String)
    /// The socket exists but this user may not open it (EACCES, EPERM).
    case permissionDenied(path: String)
    /// Any other failure to connect, with its errno (ENAMETOOLONG for a path that does not
    /// fit a socket address, EINVAL for an empty one or one with a NUL byte).
    case unreachable(path: String, errno: Int32)
    /// The daemon took the connection but did not answer in time (a hung or stopped daemon).
    case timedOut(path: String, seconds: Int)
    /// The connection broke or the daemon sent something that is not Varlink.
    case broken(String)

    public var errorNumber: Int32? {
        switch self {
        case .socketMissing: return ENOENT
        case .connectionRefused: return ECONNREFUSED
        case .permissionDenied: return EACCES
        case let .unreachable(_, code): return code
        case .timedOut: return ETIMEDOUT
        case .broken: return nil
        }
    }

    public var description: String {
        switch self {
        case let .socketMissing(path): return "cannot reach accordd: no socket at \(path) (is accordd running?)"
        case let .connectionRefused(path): return "cannot reach accordd at \(path): connection refused (is accordd running?)"
        case let .permissionDenied(path): return "permission denied opening \(path) (are you in the accord group?)"
        case let .unreachable(path, code): return "cannot reach accordd at \(path): \(String(cString: strerror(code)))"
        case let .timedOut(path, seconds):
            return "accordd at \(path) did not answer within \(seconds) s (is it stopped or overloaded? see --timeout)"
        case let .broken(reason): return "connection to accordd broke: \(reason)"
        }
    }
}

/// A blocking Varlink connection over a Unix socket, for command-line clients: connect,
/// call, read the reply (or a stream of them), close. One thread at a time.
public final class VarlinkConnection {
    private let fd: Int32
    private var reader = VarlinkFrameReader(maximumMessageSize: 64 << 20)
    private var readBuffer = [UInt8](repeating: 0, count: 65536)
    public let path: String
    /// Seconds a read or write may block before the call fails with `timedOut`; nil waits forever
    /// (what `watch` needs between reminders).
    public var timeout: Int? {
        didSet { applyTimeout() }
    }

    public init(path: String, timeout: Int? = nil) throws(VarlinkClientError) {
        self.path = path
        let address: sockaddr_un, length: socklen_t
        switch UnixSocketAddress.make(path) {
        case let .success(made): (address, length) = made
        case let .failure(error): throw .unreachable(path: path, errno: error.code)
        }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: path, errno: errno) }
        let result = UnixSocketAddress.with(address, length: length) { connect(fd, $0, $1) }
        if result != 0 {
            let code = errno
            close(fd)
            switch code {
            case ENOENT, ENOTDIR: throw .socketMissing(path: path)
            case ECONNREFUSED: throw .connectionRefused(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            default: throw .unreachable(path: path, errno: code)
            }
        }
        self.timeout = timeout
        applyTimeout()
    }

    private func applyTimeout() {
        var limit = timeval(tv_sec: timeout ?? 0, tv_usec: 0)  // zero: no limit
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(fd, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// An errno from a blocked read or write, as the error a caller reports.
    private func failure(_ code: Int32) -> VarlinkClientError {
        if code == EAGAIN || code == EWOULDBLOCK, let timeout { return .timedOut(path: path, seconds: timeout) }
        return .broken(String(cString: strerror(code)))
    }

    deinit { close(fd) }

    /// Sends a call; with `oneway` returns nil at once, otherwise the first reply. With
    /// `more`, read the rest with `nextReply()` while the last reply `continues`.
    @discardableResult
    public func call(
        _ method: String, _ parameters: JSONObject = [:], more: Bool = false,
        oneway: Bool = false
    ) throws(VarlinkClientError) -> VarlinkReply? {
        try send(VarlinkCall(method: method, parameters: parameters, oneway: oneway, more: more).encode())
        return oneway ? nil : try nextReply()
    }

    /// Calls a method of io.accord.Tracker and reads its reply into the shared struct: the
    /// daemon's error comes back as `.daemon`, everything else as `.transport`.
    public func call<Method: TrackerMethod>(_ method: Method.Type, _ parameters: Method.Parameters) throws(CallFailure) -> Method.Reply {
        let reply: VarlinkReply
        do {
            reply = try call(Method.qualifiedName, parameters.wireParameters())!
        } catch {
            throw .transport(error)
        }
        return try Self.decodeReply(Method.self, reply)
    }

    /// A reply of `Method` as its struct, or the error it carries.
    public static func decodeReply<Method: TrackerMethod>(_ method: Method.Type, _ reply: VarlinkReply) throws(CallFailure) -> Method.Reply {
        if let name = reply.error { throw .daemon(VarlinkError(name, reply.parameters)) }
        do {
            return try Method.Reply(wire: reply.parameters)
        } catch {
            throw .transport(.broken("the reply to \(Method.name) has no valid \"\(error.parameters.stringValue("parameter") ?? "?")\""))
        }
    }

    /// The next reply of a `more` call (or of a pipelined one); blocks until it arrives.
    public func nextReply() throws(VarlinkClientError) -> VarlinkReply {
        while true {
            let message: [UInt8]?
            do { message = try reader.next() } catch { throw .broken("a reply longer than \(reader.maximumMessageSize) bytes") }
            if let message {
                do { return try VarlinkReply.decode(message) } catch { throw .broken(error.description) }
            }
            let n = readBuffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            if n == 0 {
                throw .broken(reader.hasPartialMessage ? "the daemon closed the connection mid-reply" : "the daemon closed the connection")
            }
            readBuffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Writes raw bytes (one or more encoded calls), all of them. MSG_NOSIGNAL: a daemon
    /// that hangs up must give an error here, not kill the client with SIGPIPE.
    public func send(_ bytes: [UInt8]) throws(VarlinkClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            offset += n
        }
    }
}

/// Why a typed call failed: the daemon answered with an error, or it could not be asked.
public enum CallFailure: Error, Sendable {
    case transport(VarlinkClientError)
    case daemon(VarlinkError)
}

/// A connection holds a read buffer and a file descriptor used by one thread at a time.
@available(*, unavailable)
extension VarlinkConnection: Sendable {}
