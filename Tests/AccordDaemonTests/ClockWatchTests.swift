// The clock-change watch (issue 16, defect 9): armed past 2038, and re-armed after an expiry.
import CAccordShim
import Glibc
import Testing

@Suite struct ClockWatchTests {
    /// 2038-01-19T03:14:07Z, where the watch used to be armed.
    static let int32Max: Int64 = 2_147_483_647

    @Test func armedFarBeyond2038() throws {
        let fd = accord_clock_change_fd()
        try #require(fd >= 0, "timerfd: \(String(cString: strerror(-fd)))")
        defer { close(fd) }
        let now = Int64(time(nil))
        let remaining = accord_clock_change_remaining(fd)
        // KTIME_MAX is 2262-04-11: about 7.3e9 s after the epoch. Anything past 2100 proves the
        // expiry is no longer INT_MAX (which is under 4e8 s away now).
        #expect(now + remaining > 4_102_444_800, "expires at \(now + remaining), not after 2100")
        #expect(now + remaining > ClockWatchTests.int32Max + 1)
    }

    @Test func reArmedAfterAnExpiry() throws {
        let fd = accord_clock_change_fd()
        try #require(fd >= 0)
        defer { close(fd) }
        // As after 2038 with the old expiry: an absolute expiry already past fires at once.
        #expect(accord_clock_change_arm_at(fd, time(nil) - 1) == 0)
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 2000) == 1, "the past expiry did not fire")
        #expect(accord_clock_change_read(fd) == 2, "an expiry is not a clock change")
        let remaining = accord_clock_change_remaining(fd)
        #expect(remaining > 4_102_444_800 - Int64(time(nil)), "not re-armed after the expiry: \(remaining) s left")
        // and nothing more to read: the watch waits again
        #expect(accord_clock_change_read(fd) == 0)
    }
}
