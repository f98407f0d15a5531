import CSystemd
import Glibc

/// The sd_notify side of the systemd protocol. Without NOTIFY_SOCKET every call is a no-op.
public struct ServiceManager: Sendable {
    public init() {}

    public func notify(_ state: String) {
        _ = sd_notify(0, state)
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func status(_ text: String) { notify("STATUS=\(text)") }
    public func reloading() { notify("RELOADING=1") }
    public func stopping() { notify("STOPPING=1") }
    public func watchdogPing() { notify("WATCHDOG=1") }

    /// The watchdog interval systemd expects pings within, if it watches this process.
    public var watchdogInterval: UInt64? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? usec : nil
    }

    /// A listening socket passed by systemd (LISTEN_FDS), if there is one.
    public func inheritedListener() -> Int32? {
        let count = sd_listen_fds(1)
        guard count >= 1 else { return nil }
        let fd = SD_LISTEN_FDS_START
        return sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 ? fd : nil
    }
}
