// How many refused writes of one user get an audit line and a journal entry of their own. Each
// costs a FULL-sync database write and a journal entry, so a member of `accord` looping on
// Record could otherwise fill the disk and the journal. Refusals past the budget are still
// refused, only counted; the next audited one says how many went unlisted.
import AccordCalendar
import AccordCore

struct RefusalLimiter {
    /// Audited refusals per user and window: enough for a person who mistypes, far below a loop.
    var perWindow = 10
    var windowSeconds: Int64 = 60

    private struct Window {
        var start: Instant
        var audited: Int
        var unlisted: Int
    }
    private var windows: [UInt32: Window] = [:]

    /// Whether this refusal gets its own audit line, and how many before it went unlisted.
    mutating func admit(uid: UInt32, at now: Instant) -> (audit: Bool, unlisted: Int) {
        var window = windows[uid] ?? Window(start: now, audited: 0, unlisted: 0)
        if now.seconds - window.start.seconds >= windowSeconds {
            window = Window(start: now, audited: 0, unlisted: window.unlisted)
        }
        defer { windows[uid] = window }
        guard window.audited < perWindow else {
            window.unlisted += 1
            return (false, 0)
        }
        window.audited += 1
        let unlisted = window.unlisted
        window.unlisted = 0
        return (true, unlisted)
    }
}
