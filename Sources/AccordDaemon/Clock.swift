import AccordCalendar
import AccordCore
import Glibc

/// Where the daemon learns the time. Tests substitute their own, so that no rule
/// is tested by waiting.
public protocol WallClock: Sendable {
    func now() -> Instant
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Instant {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Instant(seconds: Int64(spec.tv_sec))
    }
}
