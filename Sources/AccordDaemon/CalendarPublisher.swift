// Keeps $STATE_DIRECTORY/accord.ics current for calendar programs and web servers to subscribe
// to: rewritten after every re-plan, atomically (a new file renamed over the old one, so a reader
// sees the old calendar or the new one, never half of one), readable by the state directory's
// group (accord). Beside it, accord.ics.revisions keeps each event's SEQUENCE and LAST-MODIFIED,
// so that a deadline that moves is seen to move.
import AccordCalendar
import AccordCore
import AccordProtocol
import CAccordShim
import Dispatch
import Glibc
import Logging
import Synchronization

final class CalendarPublisher: @unchecked Sendable {
    let path: String
    private let logger: Logger
    /// The file is written here, never on the daemon's queue: at 100,000 items the calendar is
    /// about 250,000 events and 150 MB of text, seconds of work that must not hold up a
    /// reminder, a client or READY=1 (start-up at 100,000 items took 16.4 s with it inline). A
    /// write cut off by a stop leaves the old file (it is renamed into place) and the next start
    /// writes the plan again.
    private let queue = DispatchQueue(label: "accordd.calendar", qos: .utility)
    /// The newest plan not yet written. A newer one replaces it: the file shows the plans in
    /// order but may skip one that was replaced within a write, so SEQUENCE counts the versions
    /// subscribers could have seen, not the re-plans.
    private let pending = Mutex<(plan: ReminderPlan, now: Instant)?>(nil)
    /// What was written last (the writer's queue only): one hash over the events' fingerprints,
    /// not the list of them, which at 100,000 items would be 250,000 values kept for a compare.
    private var published: (events: UInt64, revisions: CalendarRevisions)?
    /// The revisions of the file as last written: the writer sets them, Export reads them.
    private let revisions: Mutex<CalendarRevisions>

    init(stateDirectory: String, logger: Logger) {
        path = stateDirectory + "/accord.ics"
        self.logger = logger
        revisions = Mutex(CalendarRevisions(parsing: CalendarPublisher.read(path + ".revisions") ?? ""))
    }

    /// Has the calendar of `plan` as it stands at `now` written soon, if anything in it changed.
    func publish(_ plan: ReminderPlan, at now: Instant) {
        let idle = pending.withLock { slot in
            defer { slot = (plan, now) }
            return slot == nil
        }
        if idle { queue.async { self.drain() } }
    }

    private func drain() {
        while let job = pending.withLock({ slot in
            defer { slot = nil }
            return slot
        }) {
            writeFile(job.plan, at: job.now)
        }
    }

    private func writeFile(_ plan: ReminderPlan, at now: Instant) {
        defer {
            // What this thread freed stays in its malloc arena unless handed back. Measured at
            // 100,000 items (release build): VmRSS 531 MB while writing, 468 MB after, against
            // 258 MB a second after start; the rest is the revisions and fragmentation (open).
            // It also sorts what trimming left in the unsorted bin: unsorted, the first reminder
            // to fire after a write at 100,000 items sorted it, 14-24 ms late (p99 of the
            // lateness row 19.2 ms -> 4.3 ms, sorted here instead).
            accord_release_free_memory()
            // The write is the last step of a start or a re-plan, so the daemon goes idle next.
            // Idle, with the shipped portfolio, 17 MB of its 24 MB VmRSS were pages of its own
            // text that start-up had touched (parsing, migrations, planning), against 2.5 MB of
            // anonymous memory: those are handed back too (they stay in the page cache). Idle
            // VmRSS 24.3 MB -> 7.3 MB; firing lateness at 100,000 items the same with and
            // without (p50 1.18 / 1.12 ms, p99 19.7 / 19.3 ms, release build, same hour, before
            // the sorting above).
            _ = accord_release_clean_code_pages()
        }
        let entries = CalendarExport.entries(plan, at: now)
        let current = revisions.withLock { $0 }
        let fingerprints = entries.map(\.fingerprint)
        let next = current.updated(with: entries, fingerprints: fingerprints, at: now)
        var hasher = Hasher()
        hasher.combine(entries.count)
        for fingerprint in fingerprints { hasher.combine(fingerprint) }
        let events = UInt64(bitPattern: Int64(hasher.finalize()))
        if let published, published.events == events, published.revisions == next, access(path, F_OK) == 0 { return }
        do {
            if next != current { try CalendarPublisher.replace(path + ".revisions", with: next.serialized) }
            // Streamed a megabyte at a time: held whole, the text (200 MB at 100,000 items) and
            // its copy took the writer's peak to 930 MB.
            try CalendarPublisher.replace(path) { fd in
                var failure: Errno?
                CalendarExport.write(entries, plan: plan, at: now, revisions: next) { bytes in
                    if failure == nil { failure = CalendarPublisher.writeAll(fd, bytes) }
                }
                return failure
            }
            revisions.withLock { $0 = next }
            published = (events, next)
        } catch {
            logger.warning("cannot write the calendar file \(path): \(error)")
        }
    }

    /// The calendar as the daemon serves it (Export): the events of the current plan, with the
    /// revisions the file has or, for an event that changed since it was written, will have.
    func calendar(_ entries: [CalendarExport.Entry], plan: ReminderPlan, at now: Instant) -> String {
        let revisions = revisions.withLock { $0 }.updated(with: entries, at: now)
        return CalendarExport.calendar(entries, plan: plan, at: now, revisions: revisions)
    }

    /// Writes `text` to a new file beside `path`, flushes it to disk and renames it over `path`.
    static func replace(_ path: String, with text: String) throws(Errno) {
        var text = text
        // Written from the string's own storage: a copy into an array doubled the peak.
        try replace(path) { fd in text.withUTF8 { writeAll(fd, $0) } }
    }

    /// Writes what `fill` writes to the descriptor it is given into a new file beside `path`,
    /// flushes it to disk and renames it over `path`; when `fill` fails (returns why), nothing
    /// is renamed and the new file is removed.
    static func replace(_ path: String, filling fill: (Int32) -> Errno?) throws(Errno) {
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw Errno(errno) }
        if let failure = fill(fd) {
            close(fd)
            unlink(temporary)
            throw failure
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            unlink(temporary)
            throw Errno(errno)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Errno(code)
        }
    }

    /// Writes all of `bytes` to `fd`, or says why it could not.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Errno? {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return Errno(errno) }
            offset += n
        }
        return nil
    }

    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[0..<n]
            if n < chunk.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
