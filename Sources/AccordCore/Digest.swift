// The digest (docs/contracts.md §14): what needs attention at one instant, grouped by owner, as
// one text for the journal, the hook's standard input and `accordctl digest`. A pure function of
// the plan (which holds the recorded history) and the instant: no clock, no I/O.
import AccordCalendar

public struct Digest: Sendable, Equatable {
    /// Where a deadline stands in the digest; every listed deadline is in exactly one.
    public enum Section: String, Sendable, CaseIterable {
        /// Passed, neither acknowledged nor resolved, not yet lapsed.
        case overdue
        /// Passed longer ago than overdue-for, neither acknowledged nor resolved (§11).
        case lapsed
        /// A term that has expired and that nobody acknowledged (an expiry is never overdue, §5).
        case unacknowledged
        /// Ahead, before the end of the next period.
        case due
    }

    public struct Line: Sendable, Equatable {
        public var section: Section
        public var itemID: String
        public var title: String
        /// The item's owner, else its dialogue's; nil when neither names one.
        public var owner: String?
        public var deadline: DeadlineKind
        public var time: DeadlineTime
        /// When the deadline counts as passed (§4).
        public var at: Instant
        /// The line as the text shows it, without its indentation.
        public var text: String
    }

    /// The instant the digest describes, and the end of the period it looks ahead to.
    public var at: Instant
    public var until: Instant
    public var period: ISODuration
    /// Ordered by owner (named owners in order, then the lines without one), then section, then deadline.
    public var lines: [Line]
    /// The first line of `text`: the counts in one sentence.
    public var summary: String
    /// The whole digest: the summary, then per owner a heading and its lines, ending in a newline.
    public var text: String

    public func count(_ section: Section) -> Int { lines.reduce(0) { $0 + ($1.section == section ? 1 : 0) } }

    /// The digest of `plan` at `now`, looking `period` ahead (counted in `zone`, the zone the
    /// digest's schedule is written in). A deadline counted from a planned or assumed date
    /// (projected, §10) and one another item reminds for (quiet, §11) are left out, as they
    /// fire no reminders; an acknowledged one is done with.
    public static func make(plan: ReminderPlan, at now: Instant, period: ISODuration, zone: Zone = .utc) -> Digest {
        let until = zone.adding(period, to: now)
        var lines: [Line] = []
        for (index, item) in plan.catalog.items.enumerated() {
            let snoozed = plan.snoozedUntil(ofItem: index, at: now)
            for deadline in plan.deadlines(ofItem: index, at: now) where !deadline.acknowledged && !deadline.projected && !deadline.quiet {
                let section: Section
                if deadline.passed {
                    section = deadline.lapsed ? .lapsed : deadline.kind == .expiry ? .unacknowledged : .overdue
                } else if deadline.at < until {
                    section = .due
                } else {
                    continue
                }
                var text = "\(section.rawValue.padding(to: 14)) \(item.fullID): \(deadline.kind.rawValue) \(deadline.time), "
                text += standing(deadline, now: now) + " — " + item.title
                if let snoozed { text += " (snoozed until \(snoozed.rfc3339))" }
                if deadline.provenance.basis == .assumed { text += " [assumed date]" }
                lines.append(
                    Line(
                        section: section, itemID: item.fullID, title: item.title, owner: item.owner,
                        deadline: deadline.kind, time: deadline.time, at: deadline.at, text: text))
            }
        }
        let order = Dictionary(uniqueKeysWithValues: Section.allCases.enumerated().map { ($1, $0) })
        lines.sort { a, b in
            // Named owners first, in order; the lines without an owner last.
            let ownerA = a.owner.map { "0" + $0 } ?? "1", ownerB = b.owner.map { "0" + $0 } ?? "1"
            return (ownerA, order[a.section]!, a.at.seconds, a.itemID, a.deadline.rawValue)
                < (ownerB, order[b.section]!, b.at.seconds, b.itemID, b.deadline.rawValue)
        }
        var digest = Digest(at: now, until: until, period: period, lines: lines, summary: "", text: "")
        let counts = Section.allCases.map { "\(digest.count($0)) \($0 == .due ? "due by \(until.rfc3339)" : $0.rawValue)" }
        digest.summary = "accord digest \(now.rfc3339): " + counts.joined(separator: ", ")
        var text = digest.summary + "\n"
        var currentOwner: String??
        for line in lines {
            if currentOwner != .some(line.owner) {
                currentOwner = .some(line.owner)
                let count = lines.reduce(0) { $0 + ($1.owner == line.owner ? 1 : 0) }
                text += "\n" + (line.owner.map { "Owner: \($0)" } ?? "No owner") + " (\(count))\n"
            }
            text += "  " + line.text + "\n"
        }
        if lines.isEmpty { text += "\nNothing is overdue, lapsed, unacknowledged or due by \(until.rfc3339).\n" }
        digest.text = text
        return digest
    }

    /// "7 days overdue", "in 3 days", "today" for dates (whole days in the item's zone);
    /// "2 hours ago", "in 5 minutes" for instants.
    static func standing(_ deadline: DeadlineStatus, now: Instant) -> String {
        switch deadline.time {
        case .date: return RelativeTime.deadline(daysLeft: deadline.daysLeft, passed: deadline.passed)
        case .instant: return RelativeTime.between(now, and: deadline.at)
        }
    }
}

extension String {
    /// Padded with spaces to `width` characters (never cut).
    fileprivate func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
