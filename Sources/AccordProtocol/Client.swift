import Glibc

/// Why a client could not talk to the daemon.
public enum VarlinkClientError: Error, Sendable, CustomStringConvertible {
    /// No socket, nobody listening, or the path is unusable.
    case unreachable(path: String, reason: String)
    /// The socket exists but this user may not open it.
    case permissionDenied(path: String)
    /// The connection broke or the daemon sent something that is not Varlink.
    case broken(String)

    public var description: String {
        switch self {
        case let .unreachable(path, reason): return "cannot reach accordd at \(path): \(reason)"
        case let .permissionDenied(path): return "permission denied opening \(path) (are you in the accord group?)"
        case let .broken(reason): return "connection to accordd broke: \(reason)"
        }
    }
}

/// A blocking Varlink connection over a Unix socket, for command-line clients: connect,
/// call, read the reply (or a stream of them), close.
public final class VarlinkConnection {
    private let fd: Int32
    private var reader = VarlinkFrameReader(maximumMessageSize: 64 << 20)
    public let path: String

    public init(path: String) throws(VarlinkClientError) {
        self.path = path
        guard path.utf8.count < 108 else { throw .unreachable(path: path, reason: "the path is too long") }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if result != 0 {
            let code = errno
            close(fd)
            if code == EACCES || code == EPERM { throw .permissionDenied(path: path) }
            throw .unreachable(path: path, reason: String(cString: strerror(code)))
        }
    }

    deinit { close(fd) }

    /// Sends a call; with `oneway` returns nil at once, otherwise the first reply.
    @discardableResult
    public func call(_ method: String, _ parameters: JSONObject = [:], more: Bool = false,
                     oneway: Bool = false) throws(VarlinkClientError) -> VarlinkReply? {
        try send(VarlinkCall(method: method, parameters: parameters, oneway: oneway, more: more).encode())
        return oneway ? nil : try nextReply()
    }

    /// The next reply of a `more` call (or of a pipelined one).
    public func nextReply() throws(VarlinkClientError) -> VarlinkReply {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            do {
                if let message = try reader.next() {
                    do { return try VarlinkReply.decode(message) } catch { throw VarlinkClientError.broken(error.description) }
                }
            } catch let error as VarlinkClientError {
                throw error
            } catch {
                throw .broken("reply too large")
            }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .broken(String(cString: strerror(errno)))
            }
            if n == 0 { throw .broken("the daemon closed the connection") }
            buffer.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    public func send(_ bytes: [UInt8]) throws(VarlinkClientError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .broken(String(cString: strerror(errno)))
            }
            offset += n
        }
    }
}
