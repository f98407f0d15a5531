// A Unix socket address from a path, for both ends of the control socket: the daemon binds
// it, accordctl connects to it. The one place that knows how long such a path may be.
import Glibc

public enum UnixSocketAddress {
    /// `sun_path` holds 108 bytes on Linux, the last of them the terminating NUL.
    public static let maximumPathBytes = 107

    /// The address and its length, or the errno that says why the path cannot be one:
    /// EINVAL for an empty path or one with a NUL byte (it would bind an abstract name or
    /// cut the path short), ENAMETOOLONG for one over `maximumPathBytes`.
    public static func make(_ path: String) -> Result<(address: sockaddr_un, length: socklen_t), Errno> {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { return .failure(Errno(EINVAL)) }
        guard bytes.count <= maximumPathBytes else { return .failure(Errno(ENAMETOOLONG)) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + 1)
        return .success((address, length))
    }

    /// Runs `body` with the address as the `sockaddr` that bind and connect take.
    public static func with<T>(_ address: sockaddr_un, length: socklen_t, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The path a bound socket descriptor listens on, if it is a named Unix socket.
    public static func boundPath(of fd: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let ok =
            withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            } == 0
        guard ok else { return nil }
        return withUnsafeBytes(of: address.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// An errno value, as a Swift error.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
    public var description: String { String(cString: strerror(code)) }
}

extension Result {
    /// True for `.success`.
    public var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
