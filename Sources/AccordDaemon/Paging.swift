// The pages of List, Upcoming and History (issue 16, defect 5): what `limit` and `after` mean,
// and how one page is cut from rows in order. Pure: the handlers in TrackerService give it the
// rows (catalog positions, reminders in firing order, audit rows) and it gives back one page and
// where the next one starts. A client that sends no limit still gets at most `Page.maximum`.
import AccordCalendar
import AccordCore
import AccordProtocol

enum Paging {
    /// The rows one reply may carry: `limit` when given (1 or more), never over `Page.maximum`.
    static func size(_ limit: Int?) throws(VarlinkError) -> Int {
        guard let limit else { return Page.maximum }
        guard limit >= 1 else { throw .invalidParameter("limit") }
        return min(limit, Page.maximum)
    }

    /// The first `size` rows of `rows` (in order, those after the cursor already), and whether
    /// any row follows them: one row more is looked at, never the rest.
    static func cut<Rows: Sequence>(_ rows: Rows, size: Int) -> (rows: [Rows.Element], more: Bool) {
        var page: [Rows.Element] = []
        page.reserveCapacity(min(size, 64))
        for row in rows {
            if page.count == size { return (page, true) }
            page.append(row)
        }
        return (page, false)
    }

    /// List's cursor: the full id of the last item of the page. The next page is the matching
    /// items after that one's place in the catalog; an id the catalog no longer has (a reload
    /// removed it) is refused rather than guessed at.
    static func listStart(after: String?, in catalog: Catalog) throws(VarlinkError) -> Int {
        guard let after else { return 0 }
        guard let index = catalog.items.firstIndex(where: { $0.fullID == after }) else { throw .invalidParameter("after") }
        return index + 1
    }

    /// History's cursor: the id of the page's last audit row, a positive integer in decimal.
    static func historyAfter(_ after: String?) throws(VarlinkError) -> Int64? {
        guard let after else { return nil }
        guard let id = Int64(after), id > 0 else { throw .invalidParameter("after") }
        return id
    }

    /// Upcoming's cursor: the last reminder of the page, as its firing instant and key. The
    /// reminders come in firing order, and those of one second in key order, so (instant, key)
    /// orders them all and a page resumes exactly after its predecessor, even when the plan
    /// changed in between.
    struct ReminderPosition: Equatable, Comparable {
        var fireAt: Instant
        var key: String

        init(fireAt: Instant, key: String) { self.fireAt = fireAt; self.key = key }

        /// "2030-01-01T09:00:00Z d/alpha:due:2030-01-31:P30D": the instant, a space, the key.
        init(parsing text: String) throws(VarlinkError) {
            guard let space = text.firstIndex(of: " "), let at = try? Instant(parsingRFC3339: String(text[..<space])) else {
                throw .invalidParameter("after")
            }
            let key = String(text[text.index(after: space)...])
            guard !key.isEmpty else { throw .invalidParameter("after") }
            fireAt = at
            self.key = key
        }

        var text: String { fireAt.rfc3339 + " " + key }

        static func < (a: ReminderPosition, b: ReminderPosition) -> Bool {
            a.fireAt != b.fireAt ? a.fireAt < b.fireAt : a.key < b.key
        }
    }

    /// The reminders firing from `start` until before `until`, in firing order and, within one
    /// second, in key order, strictly after `after`; lazily, one second's reminders at a time.
    static func reminders(
        _ plan: ReminderPlan, from start: Instant, until: Instant, after: ReminderPosition?
    ) -> some Sequence<Reminder> {
        var cursor = plan.cursor(from: max(start, after?.fireAt ?? start))
        var group: [Reminder] = []
        var index = 0
        return AnySequence {
            AnyIterator { () -> Reminder? in
                while true {
                    if index < group.count {
                        let reminder = group[index]
                        index += 1
                        if let after, ReminderPosition(fireAt: reminder.fireAt, key: reminder.key) <= after { continue }
                        return reminder
                    }
                    guard let fireAt = cursor.peekFireAt(), fireAt < until else { return nil }
                    group.removeAll(keepingCapacity: true)
                    index = 0
                    while cursor.peekFireAt() == fireAt, let reminder = cursor.next() { group.append(reminder) }
                    group.sort { $0.key < $1.key }
                }
            }
        }
    }
}
