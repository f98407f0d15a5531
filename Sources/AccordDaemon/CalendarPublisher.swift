// Keeps $STATE_DIRECTORY/accord.ics current for calendar programs and web servers to subscribe
// to: rewritten after every re-plan, atomically (a new file renamed over the old one, so a reader
// sees the old calendar or the new one, never half of one), readable by the state directory's
// group (accord). Beside it, accord.ics.revisions keeps each event's SEQUENCE and LAST-MODIFIED,
// so that a deadline that moves is seen to move.
import AccordCalendar
import AccordCore
import AccordProtocol
import Glibc
import Logging

final class CalendarPublisher {
    let path: String
    private var revisions: CalendarRevisions
    private let logger: Logger
    /// The last text written, so that a re-plan that changes nothing writes nothing.
    private var published: (entries: [String], revisions: CalendarRevisions)?

    init(stateDirectory: String, logger: Logger) {
        path = stateDirectory + "/accord.ics"
        self.logger = logger
        revisions = CalendarRevisions(parsing: CalendarPublisher.read(path + ".revisions") ?? "")
    }

    /// Writes the calendar of `plan` as it stands at `now`, if anything in it changed.
    func publish(_ plan: ReminderPlan, at now: Instant) {
        let entries = CalendarExport.entries(plan, at: now)
        let next = revisions.updated(with: entries, at: now)
        let fingerprints = entries.map(\.fingerprint)
        if let published, published.entries == fingerprints, published.revisions == next, access(path, F_OK) == 0 { return }
        do {
            if next != revisions { try CalendarPublisher.replace(path + ".revisions", with: next.serialized) }
            try CalendarPublisher.replace(path, with: CalendarExport.calendar(entries, plan: plan, at: now, revisions: next))
            revisions = next
            published = (fingerprints, next)
        } catch {
            logger.warning("cannot write the calendar file \(path): \(error)")
        }
    }

    /// The calendar as the daemon serves it (Export): the same events and revisions as the file.
    func calendar(_ entries: [CalendarExport.Entry], plan: ReminderPlan, at now: Instant) -> String {
        CalendarExport.calendar(entries, plan: plan, at: now, revisions: revisions)
    }

    /// Writes `text` to a new file beside `path`, flushes it to disk and renames it over `path`.
    static func replace(_ path: String, with text: String) throws(Errno) {
        let temporary = path + ".new"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw Errno(errno) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw Errno(code)
            }
            offset += n
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
