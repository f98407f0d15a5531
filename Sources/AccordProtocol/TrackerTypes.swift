// The types of io.accord.Tracker (io.accord.Tracker.varlink beside this file is the contract),
// one struct each, used by both sides: the daemon encodes its replies from them, `accordd plan
// --json` prints `Tracker.Reminder`, accordctl decodes every reply into them.
//
// Instants are RFC 3339 UTC strings, dates YYYY-MM-DD and durations ISO 8601, as the IDL says:
// the structs keep the wire's text, and each side parses it with AccordCalendar where it needs
// the value. Stored properties are declared in the order the replies have always carried them
// (an optional field the daemon added last comes last), so that replies stay byte for byte the
// same; InterfaceTests checks the field names against the IDL and that every type round-trips.

/// The io.accord.Tracker interface: its types, method parameters, replies and errors.
public enum Tracker {
    public static let interfaceName = "io.accord.Tracker"

    /// One firing of a reminder, `lead` before a deadline.
    public struct Reminder: WireCodable {
        public var key: String
        public var item: String
        public var dialogue: String
        public var deadline: String
        public var deadlineAt: String
        public var lead: String
        public var fireAt: String
        public var daysLeft: Int
        public var priority: Int
        public var message: String
        public var catchUp: Bool?
        /// What the deadline's date rests on: statement, confirmed, planned, assumed or recorded.
        public var basis: String?
        public var source: String?
        public var owner: String?
        public var title: String?

        public init(
            key: String, item: String, dialogue: String, deadline: String, deadlineAt: String, lead: String,
            fireAt: String, daysLeft: Int, priority: Int, message: String, catchUp: Bool? = nil,
            basis: String? = nil, source: String? = nil, owner: String? = nil, title: String? = nil
        ) {
            self.key = key; self.item = item; self.dialogue = dialogue; self.deadline = deadline
            self.deadlineAt = deadlineAt; self.lead = lead; self.fireAt = fireAt; self.daysLeft = daysLeft
            self.priority = priority; self.message = message; self.catchUp = catchUp
            self.basis = basis; self.source = source; self.owner = owner; self.title = title
        }
    }

    /// A deadline of an item as it stands now.
    public struct Deadline: WireCodable {
        public var kind: String
        public var at: String
        public var daysLeft: Int
        public var passed: Bool
        public var acknowledged: Bool
        /// The calendar date when the deadline is a date, nil for an instant.
        public var date: String?
        public var basis: String?
        public var source: String?
        /// Counted from a planned or assumed in-force date: not reminded. Left out when false.
        public var projected: Bool?
        /// Passed longer ago than overdue-for and neither acknowledged nor resolved. Left out when false.
        public var lapsed: Bool?
        /// The date as written, when `adjust` moved the deadline (`date` is then the adjusted one).
        public var written: String?

        public init(
            kind: String, at: String, daysLeft: Int, passed: Bool, acknowledged: Bool, date: String? = nil,
            basis: String? = nil, source: String? = nil, projected: Bool? = nil, lapsed: Bool? = nil,
            written: String? = nil
        ) {
            self.kind = kind; self.at = at; self.daysLeft = daysLeft; self.passed = passed
            self.acknowledged = acknowledged; self.date = date
            self.basis = basis; self.source = source; self.projected = projected; self.lapsed = lapsed
            self.written = written
        }

        /// What a person reads: the date for date deadlines, else the instant.
        public var shown: String { date ?? at }
    }

    /// An objective or an instrument, in summary.
    public struct Item: WireCodable {
        public var id: String
        public var dialogue: String
        public var kind: String
        public var title: String
        public var state: String
        public var nextDeadline: Deadline?
        public var snoozedUntil: String?
        public var owner: String?

        public init(
            id: String, dialogue: String, kind: String, title: String, state: String, nextDeadline: Deadline? = nil,
            snoozedUntil: String? = nil, owner: String? = nil
        ) {
            self.id = id; self.dialogue = dialogue; self.kind = kind; self.title = title; self.state = state
            self.nextDeadline = nextDeadline; self.snoozedUntil = snoozedUntil; self.owner = owner
        }
    }

    /// What the portfolio file says about an item.
    public struct Definition: WireCodable {
        public var file: String
        public var title: String
        public var kind: String
        public var parties: [String]
        public var timeZone: String
        public var remindAt: String
        public var reminders: [String]
        public var overdueEvery: String?
        public var due: String?
        public var status: String?
        public var signBy: String?
        public var term: String?
        public var inForce: String?
        public var notice: String?
        public var overdueFor: String?
        public var adopted: String?
        /// What each date and duration above rests on, in the file's order of keys.
        public var dates: [DatedValue]?
        /// The calendars whose common business days the item keeps (§12); nil when every day is one.
        public var businessDays: [String]?
        /// How a deadline on another day moves: none, following, preceding, modified-following.
        public var adjust: String?
        /// `every P1Y from 2017-09-12 until 2026-12-31`: a recurring objective (§13).
        public var recurrence: String?
        public var description: String?
        public var owner: String?
        public var contacts: [String]?
        /// `ITEM EVENT`: the instrument event that fulfils this objective.
        public var fulfilledBy: String?
        public var renews: String?
        public var supersedes: String?

        public init(
            file: String, title: String, kind: String, parties: [String], timeZone: String, remindAt: String,
            reminders: [String], overdueEvery: String? = nil, due: String? = nil, status: String? = nil,
            signBy: String? = nil, term: String? = nil, inForce: String? = nil, notice: String? = nil,
            overdueFor: String? = nil, adopted: String? = nil, dates: [DatedValue]? = nil, description: String? = nil,
            owner: String? = nil, contacts: [String]? = nil, fulfilledBy: String? = nil, renews: String? = nil,
            supersedes: String? = nil, businessDays: [String]? = nil, adjust: String? = nil, recurrence: String? = nil
        ) {
            self.file = file; self.title = title; self.kind = kind; self.parties = parties; self.timeZone = timeZone
            self.remindAt = remindAt; self.reminders = reminders; self.overdueEvery = overdueEvery; self.due = due
            self.status = status; self.signBy = signBy; self.term = term; self.inForce = inForce; self.notice = notice
            self.overdueFor = overdueFor; self.adopted = adopted; self.dates = dates; self.description = description
            self.owner = owner; self.contacts = contacts; self.fulfilledBy = fulfilledBy; self.renews = renews
            self.supersedes = supersedes; self.businessDays = businessDays; self.adjust = adjust
            self.recurrence = recurrence
        }
    }

    /// One date or duration of a portfolio and what it rests on.
    public struct DatedValue: WireCodable {
        /// The portfolio key: due, sign-by, term, in-force, notice, adopted.
        public var key: String
        public var value: String
        public var basis: String
        public var source: String?

        public init(key: String, value: String, basis: String, source: String? = nil) {
            self.key = key; self.value = value; self.basis = basis; self.source = source
        }
    }

    /// One line of the reminder ledger: what happened to a reminder.
    public struct LedgerEntry: WireCodable {
        public var key: String
        /// fired, skipped or missed
        public var outcome: String
        public var at: String
        public var catchUp: Bool
        /// missed: why, when the journal refused the entry through every retry.
        public var reason: String?

        public init(key: String, outcome: String, at: String, catchUp: Bool, reason: String? = nil) {
            self.key = key; self.outcome = outcome; self.at = at; self.catchUp = catchUp; self.reason = reason
        }
    }

    /// Something that happened to an item, recorded through Record.
    public struct Event: WireCodable {
        public var id: Int64
        public var item: String
        public var event: String
        public var on: String
        public var recordedAt: String
        public var uid: Int
        public var user: String
        public var note: String?
        public var term: String?
        /// Always `recorded` for events recorded over the socket: the dates they give rest on them.
        public var basis: String?
        /// For `notified`: the party whose notification it is.
        public var party: String?

        public init(
            id: Int64, item: String, event: String, on: String, recordedAt: String, uid: Int, user: String,
            note: String? = nil, term: String? = nil, basis: String? = nil, party: String? = nil
        ) {
            self.id = id; self.item = item; self.event = event; self.on = on; self.recordedAt = recordedAt
            self.uid = uid; self.user = user; self.note = note; self.term = term; self.basis = basis; self.party = party
        }
    }

    /// One audited write or refused write.
    public struct AuditEntry: WireCodable {
        public var at: String
        public var uid: Int
        public var user: String
        public var action: String
        public var detail: String
        public var allowed: Bool
        public var item: String?

        public init(at: String, uid: Int, user: String, action: String, detail: String, allowed: Bool, item: String? = nil) {
            self.at = at; self.uid = uid; self.user = user; self.action = action; self.detail = detail
            self.allowed = allowed; self.item = item
        }
    }

    /// One deadline in a digest (docs/contracts.md §14).
    public struct DigestLine: WireCodable {
        /// overdue, lapsed, unacknowledged or due.
        public var section: String
        public var item: String
        public var title: String
        public var owner: String?
        public var deadline: String
        public var at: String
        public var text: String

        public init(section: String, item: String, title: String, owner: String? = nil, deadline: String, at: String, text: String) {
            self.section = section; self.item = item; self.title = title; self.owner = owner
            self.deadline = deadline; self.at = at; self.text = text
        }
    }

    /// One problem in a configuration or portfolio file.
    public struct ConfigProblem: WireCodable {
        public var file: String
        public var key: String
        public var message: String
        public var line: Int?

        public init(file: String, key: String, message: String, line: Int? = nil) {
            self.file = file; self.key = key; self.message = message; self.line = line
        }

        /// `file:line: key: message`, as every other configuration error reads.
        public var description: String {
            "\(file)\(line.map { ":\($0)" } ?? ""): \(key.isEmpty ? "" : key + ": ")\(message)"
        }
    }
}
