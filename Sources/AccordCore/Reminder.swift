import AccordCalendar

/// One firing of a reminder, ready for the journal (docs/contracts.md §5, §6).
public struct Reminder: Sendable, Hashable {
    /// `FULL_ITEM_ID:DEADLINE:DEADLINE_DATE_OR_INSTANT:LEAD`; overdue leads are `+P7D`, `+P14D`, …
    public let key: String
    public let itemID: String
    public let dialogueID: String
    public let deadline: DeadlineKind
    public let deadlineTime: DeadlineTime
    /// When the deadline counts as passed (the end of its day for dates; the start of the
    /// expiry day for a term, which is half-open).
    public let deadlineAt: Instant
    /// `P7D`, `P0D` on the day, `+P7D` once overdue.
    public let lead: String
    public let isOverdue: Bool
    public let fireAt: Instant
    public let daysLeft: Int
    public let message: String
    /// Where the firing stands against the deadline; the MESSAGE_ID follows it.
    public let tone: Tone
    /// The zone the item's dates are read in, for showing local times.
    public let zone: Zone
    /// What the deadline's date rests on, and where that is said (§10).
    public let basis: Basis
    public let source: String?
    /// The item's owner (or its dialogue's) and title, for the journal and the hook (§11).
    public let owner: String?
    public let title: String
    /// Which occurrence and which of its firings this is, so the plan can re-time it.
    let occurrence: Int32
    let step: Int32

    /// The deadline occurrence this reminder belongs to: catch-up fires only the latest per
    /// occurrence. An escalation is its own (docs/contracts.md §14): no overdue repeat stands
    /// for it, and it stands for none, as it goes to a hook of its own.
    public var occurrenceKey: Substring { tone == .escalated ? Substring(key) : key[..<key.lastIndex(of: ":")!] }

    /// Journal priority from days left: 5 above 7, 4 from 1 to 7, 3 at 0 or below; 2 for an
    /// escalation (docs/contracts.md §14).
    public var priority: Int { tone == .escalated ? 2 : Reminder.priority(daysLeft: daysLeft) }

    public static func priority(daysLeft: Int) -> Int {
        daysLeft > 7 ? 5 : (daysLeft >= 1 ? 4 : 3)
    }

    public enum Tone: Sendable { case approaching, reached, overdue, lapsed, escalated }

    /// The MESSAGE_ID of docs/contracts.md §6 for this reminder.
    public var messageID: String {
        switch tone {
        case .approaching: return MessageID.approaching
        case .reached: return MessageID.reached
        case .overdue: return MessageID.overdue
        case .lapsed: return MessageID.lapsed
        case .escalated: return MessageID.escalated
        }
    }
}

/// The journal MESSAGE_IDs of docs/contracts.md §6.
public enum MessageID {
    public static let approaching = "db24cfe239bd40298ba9e58943ddbf50"
    public static let reached = "d5617cbd1e784413882d23c8eabc57bd"
    public static let overdue = "ce5134ff8f724784b33bf159f42040f5"
    public static let started = "7542c2242e404e4f9c425c8a0fdab1da"
    public static let stopping = "e3a87e3eb6b945f08382de3e7ef49db5"
    public static let reloaded = "a24e9dbbfa61448d85f3a92f695d8a2c"
    public static let rejected = "9d8a5b038ac74d818278025ffacfe2ab"
    public static let eventRecorded = "eb00b45bd6bb476a92812f474dd38238"
    /// Several daemons on one PostgreSQL database (docs/design.md §15): this one holds the lock.
    public static let becameActive = "6ce0f72c48004232aea157d0736120c1"
    /// … or another one does, or this one lost it.
    public static let standingBy = "d1951274e9cf42dea62af74dc5bec035"
    /// A deadline passed longer ago than overdue-for: its reminders stop (§11).
    public static let lapsed = "17393d58f35b4699a534ca630d2dba94"
    /// A passed deadline neither acknowledged nor resolved `escalate-after` after it (§14).
    public static let escalated = "a2a2a22636c34a54adecacc21ef41639"
    /// The periodic digest: what is overdue, lapsed, unacknowledged and due next (§14).
    public static let digest = "9f66099538b340c88eb38fa1b3a329d9"
}

/// The sentences of reminder entries; the relative wording is AccordCalendar's RelativeTime.
enum ReminderText {
    static func ahead(days: Int, seconds: Int64?) -> String { RelativeTime.ahead(days: days, seconds: seconds) }
    static func behind(days: Int, seconds: Int64?) -> String { RelativeTime.behind(days: days, seconds: seconds) }

    static func message(
        item: String, kind: DeadlineKind, when: String, tone: Reminder.Tone,
        days: Int, secondsLeft: Int64?, overdueFor: ISODuration = ReminderSettings.defaultOverdueFor
    ) -> String {
        if tone == .lapsed {
            let name = kind == .signBy ? "signature (sign-by \(when))" : kind == .due ? "due \(when)" : "renewal decision (due \(when))"
            return "\(item): \(name) has lapsed: overdue for \(overdueFor), no further reminders; acknowledge it or record what happened"
        }
        let overdueBy = "overdue by \(behind(days: days, seconds: secondsLeft))"
        let text: String
        switch (kind, tone) {
        case (.due, .approaching): text = "due \(ahead(days: days, seconds: secondsLeft)) (\(when))"
        case (.due, .reached): text = "due today (\(when))"
        case (.due, .overdue), (.due, .lapsed), (.due, .escalated): text = "\(overdueBy) (due \(when))"
        case (.signBy, .approaching): text = "to be signed \(ahead(days: days, seconds: secondsLeft)) (by \(when))"
        case (.signBy, .reached): text = "to be signed today (by \(when))"
        case (.signBy, .overdue), (.signBy, .lapsed), (.signBy, .escalated): text = "signature \(overdueBy) (sign-by \(when))"
        case (.expiry, .approaching): text = "term expires \(ahead(days: days, seconds: secondsLeft)) (\(when))"
        case (.expiry, _): text = "term has expired (\(when))"
        case (.renewalNotice, .approaching): text = "renewal decision due \(ahead(days: days, seconds: secondsLeft)) (\(when))"
        case (.renewalNotice, .reached): text = "renewal decision due today (\(when))"
        case (.renewalNotice, .overdue), (.renewalNotice, .lapsed), (.renewalNotice, .escalated): text = "renewal decision \(overdueBy) (due \(when))"
        }
        return "\(item): \(text)"
    }
}
