// The methods of io.accord.Tracker: each one's parameters and reply, defined once for the
// daemon (which decodes the parameters and encodes the reply) and accordctl (the reverse).
// A method is an enum used only as a name: `Tracker.Show.Parameters`, `Tracker.Show.Reply`.

/// The paging of List, Upcoming and History.
public enum Page {
    /// The most rows one reply carries, whatever `limit` asks: 1,000 History rows are about
    /// 250 KB of JSON and 1,000 List items or Upcoming reminders under 1 MB, built in a few
    /// milliseconds, so one reply stays under the connection's 1 MiB high-water mark and no
    /// call holds the daemon's one queue (and every other client) for long. Before paging,
    /// History sent the whole audit table in one reply.
    public static let maximum = 1_000
}

/// The parameters of a paged call: where the page starts and how many rows it may hold.
public protocol PagedParameters {
    var limit: Int? { get set }
    var after: String? { get set }
}

/// A paged method: its reply says where the next page starts, and the client asks for it.
public protocol PagedMethod: TrackerMethod where Parameters: PagedParameters {
    static func next(of reply: Reply) -> String?
    /// The reply with the rows of `more` after its own.
    static func joined(_ reply: Reply, _ more: Reply) -> Reply
    static func rowCount(of reply: Reply) -> Int
}

extension PagedMethod {
    public static func parameters(_ parameters: Parameters, after: String) -> Parameters {
        var copy = parameters
        copy.after = after
        return copy
    }
    public static func parameters(_ parameters: Parameters, limit: Int) -> Parameters {
        var copy = parameters
        copy.limit = limit
        return copy
    }
}

extension Tracker.List.Parameters: PagedParameters {}
extension Tracker.Upcoming.Parameters: PagedParameters {}
extension Tracker.History.Parameters: PagedParameters {}

extension Tracker.List: PagedMethod {
    public static func rowCount(of reply: Reply) -> Int { reply.items.count }
    public static func next(of reply: Reply) -> String? { reply.next }
    public static func joined(_ reply: Reply, _ more: Reply) -> Reply { Reply(items: reply.items + more.items, next: more.next) }
}

extension Tracker.Upcoming: PagedMethod {
    public static func rowCount(of reply: Reply) -> Int { reply.reminders.count }
    public static func next(of reply: Reply) -> String? { reply.next }
    public static func joined(_ reply: Reply, _ more: Reply) -> Reply {
        Reply(reminders: reply.reminders + more.reminders, next: more.next)
    }
}

extension Tracker.History: PagedMethod {
    public static func rowCount(of reply: Reply) -> Int { reply.entries.count }
    public static func next(of reply: Reply) -> String? { reply.next }
    public static func joined(_ reply: Reply, _ more: Reply) -> Reply { Reply(entries: reply.entries + more.entries, next: more.next) }
}

/// One method of the interface: its name and the shapes of its call and reply.
public protocol TrackerMethod {
    associatedtype Parameters: CallParameters
    associatedtype Reply: WireCodable
    /// The member name, as in the IDL: `Show`.
    static var name: String { get }
}

extension TrackerMethod {
    /// `io.accord.Tracker.Show`.
    public static var qualifiedName: String { Tracker.interfaceName + "." + name }
}

extension Tracker {
    /// The daemon at a glance.
    public enum Status: TrackerMethod {
        public static let name = "Status"
        public typealias Parameters = NoParameters
        public struct Reply: WireCodable {
            public var version: String
            public var startedAt: String
            public var now: String
            public var configFile: String
            public var stateFile: String
            public var portfolios: Int
            public var objectives: Int
            public var instruments: Int
            public var fired: Int
            public var skipped: Int
            public var missed: Int
            public var nextReminder: Reminder?
            /// single, active or standby (docs/contracts.md §15); absent from daemons before issue 14.
            public var role: String?
            /// The active daemon, accordd@HOST (PID), when the state is shared and one is active.
            public var activeHost: String?

            public init(
                version: String, startedAt: String, now: String, configFile: String, stateFile: String, portfolios: Int,
                objectives: Int, instruments: Int, fired: Int, skipped: Int, missed: Int, nextReminder: Reminder?,
                role: String? = nil, activeHost: String? = nil
            ) {
                self.version = version; self.startedAt = startedAt; self.now = now; self.configFile = configFile
                self.stateFile = stateFile; self.portfolios = portfolios; self.objectives = objectives
                self.instruments = instruments; self.fired = fired; self.skipped = skipped; self.missed = missed
                self.nextReminder = nextReminder; self.role = role; self.activeHost = activeHost
            }
        }
    }

    /// Items, optionally filtered; dueWithin keeps items with a deadline passed or within it.
    public enum List: TrackerMethod {
        public static let name = "List"
        public struct Parameters: CallParameters {
            public var kind: String?
            public var state: String?
            public var dialogue: String?
            public var dueWithin: String?
            /// Items whose owner contains this text (case-insensitive).
            public var owner: String?
            /// Items with a date of this basis (statement, confirmed, planned, assumed, recorded).
            public var basis: String?
            /// A page: at most `limit` items (the server's page is at most `Page.maximum`), after
            /// the page whose reply said `next`.
            public var limit: Int?
            public var after: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case kind, state, dialogue, dueWithin, owner, basis, limit, after }
            public typealias Keys = CodingKeys

            public init(
                kind: String? = nil, state: String? = nil, dialogue: String? = nil, dueWithin: String? = nil,
                owner: String? = nil, basis: String? = nil, limit: Int? = nil, after: String? = nil
            ) {
                self.kind = kind; self.state = state; self.dialogue = dialogue; self.dueWithin = dueWithin
                self.owner = owner; self.basis = basis; self.limit = limit; self.after = after
            }
        }
        public struct Reply: WireCodable {
            public var items: [Item]
            /// Set when more items follow: pass it as `after` for the next page.
            public var next: String?
            public init(items: [Item], next: String? = nil) { self.items = items; self.next = next }
        }
    }

    /// Everything about one item.
    public enum Show: TrackerMethod {
        public static let name = "Show"
        public struct Parameters: CallParameters {
            /// A full or bare item id.
            public var id: String
            public enum CodingKeys: String, CodingKey, CaseIterable { case id }
            public typealias Keys = CodingKeys
            public init(id: String) { self.id = id }
        }
        public struct Reply: WireCodable {
            public var item: Item
            public var definition: Definition
            public var deadlines: [Deadline]
            public var upcoming: [Reminder]
            public var ledger: [LedgerEntry]
            public var events: [Event]

            public init(
                item: Item, definition: Definition, deadlines: [Deadline], upcoming: [Reminder], ledger: [LedgerEntry],
                events: [Event]
            ) {
                self.item = item; self.definition = definition; self.deadlines = deadlines; self.upcoming = upcoming
                self.ledger = ledger; self.events = events
            }
        }
    }

    /// Reminders that will fire within a duration (default P30D).
    public enum Upcoming: TrackerMethod {
        public static let name = "Upcoming"
        public struct Parameters: CallParameters {
            public var within: String?
            public var limit: Int?
            public var after: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case within, limit, after }
            public typealias Keys = CodingKeys
            public init(within: String? = nil, limit: Int? = nil, after: String? = nil) {
                self.within = within; self.limit = limit; self.after = after
            }
        }
        public struct Reply: WireCodable {
            public var reminders: [Reminder]
            public var next: String?
            public init(reminders: [Reminder], next: String? = nil) { self.reminders = reminders; self.next = next }
        }
    }

    /// The audit trail, optionally for one item and since a date.
    public enum History: TrackerMethod {
        public static let name = "History"
        public struct Parameters: CallParameters {
            public var id: String?
            public var since: String?
            public var limit: Int?
            public var after: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case id, since, limit, after }
            public typealias Keys = CodingKeys
            public init(id: String? = nil, since: String? = nil, limit: Int? = nil, after: String? = nil) {
                self.id = id; self.since = since; self.limit = limit; self.after = after
            }
        }
        public struct Reply: WireCodable {
            public var entries: [AuditEntry]
            public var next: String?
            public init(entries: [AuditEntry], next: String? = nil) { self.entries = entries; self.next = next }
        }
    }

    /// Records an event; `on` defaults to today in the item's zone.
    public enum Record: TrackerMethod {
        public static let name = "Record"
        public struct Parameters: CallParameters {
            public var id: String
            public var event: String
            public var on: String?
            public var note: String?
            public var term: String?
            /// For `notified`: which of the instrument's parties notified.
            public var party: String?
            /// The client's id for this write: a retry with the same id gets the first reply and
            /// records nothing more (1 to 128 letters, digits, - or _).
            public var request: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case id, event, on, note, term, party, request }
            public typealias Keys = CodingKeys

            public init(
                id: String, event: String, on: String? = nil, note: String? = nil, term: String? = nil, party: String? = nil,
                request: String? = nil
            ) {
                self.id = id; self.event = event; self.on = on; self.note = note; self.term = term; self.party = party
                self.request = request
            }
        }
        public struct Reply: WireCodable {
            public var event: Event
            public var state: String
            public init(event: Event, state: String) { self.event = event; self.state = state }
        }
    }

    /// Silences the remaining reminders of a deadline (default: the item's most pressing one).
    public enum Acknowledge: TrackerMethod {
        public static let name = "Acknowledge"
        public struct Parameters: CallParameters {
            public var id: String
            public var deadline: String?
            /// As Record's.
            public var request: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case id, deadline, request }
            public typealias Keys = CodingKeys
            public init(id: String, deadline: String? = nil, request: String? = nil) {
                self.id = id; self.deadline = deadline; self.request = request
            }
        }
        public struct Reply: WireCodable {
            public var item: String
            public var deadline: String
            public var deadlineAt: String
            public init(item: String, deadline: String, deadlineAt: String) {
                self.item = item; self.deadline = deadline; self.deadlineAt = deadlineAt
            }
        }
    }

    /// Holds an item's reminders for a duration.
    public enum Snooze: TrackerMethod {
        public static let name = "Snooze"
        public struct Parameters: CallParameters {
            public var id: String
            public var `for`: String
            /// As Record's.
            public var request: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case id, `for`, request }
            public typealias Keys = CodingKeys
            public init(id: String, for duration: String, request: String? = nil) { self.id = id; self.for = duration; self.request = request }
        }
        public struct Reply: WireCodable {
            public var item: String
            public var until: String
            public init(item: String, until: String) { self.item = item; self.until = until }
        }
    }

    /// Re-reads the configuration and portfolios; nothing changes on an error.
    public enum Reload: TrackerMethod {
        public static let name = "Reload"
        public typealias Parameters = NoParameters
        public struct Reply: WireCodable {
            public var portfolios: Int
            public var objectives: Int
            public var instruments: Int
            public init(portfolios: Int, objectives: Int, instruments: Int) {
                self.portfolios = portfolios; self.objectives = objectives; self.instruments = instruments
            }
        }
    }

    /// With `more`: one reply per reminder as it fires.
    public enum Watch: TrackerMethod {
        public static let name = "Watch"
        public typealias Parameters = NoParameters
        public struct Reply: WireCodable {
            public var reminder: Reminder
            public init(reminder: Reminder) { self.reminder = reminder }
        }
    }
}

extension Tracker {
    /// The deadlines as an iCalendar (RFC 5545) text.
    public enum Export: TrackerMethod {
        public static let name = "Export"
        public struct Parameters: CallParameters {
            public var within: String?
            public var dialogue: String?
            public var owner: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case within, dialogue, owner }
            public typealias Keys = CodingKeys
            public init(within: String? = nil, dialogue: String? = nil, owner: String? = nil) {
                self.within = within; self.dialogue = dialogue; self.owner = owner
            }
        }
        public struct Reply: WireCodable {
            public var calendar: String
            public init(calendar: String) { self.calendar = calendar }
        }
    }
}

extension Tracker {
    /// What is overdue, lapsed, unacknowledged and due next, grouped by owner (docs/contracts.md §14).
    public enum Digest: TrackerMethod {
        public static let name = "Digest"
        public struct Parameters: CallParameters {
            public var within: String?
            public enum CodingKeys: String, CodingKey, CaseIterable { case within }
            public typealias Keys = CodingKeys
            public init(within: String? = nil) { self.within = within }
        }
        public struct Reply: WireCodable {
            public var at: String
            public var until: String
            public var period: String
            public var overdue: Int
            public var lapsed: Int
            public var unacknowledged: Int
            public var due: Int
            public var summary: String
            public var text: String
            public var lines: [DigestLine]
            public var nextDigest: String?
            public init(
                at: String, until: String, period: String, overdue: Int, lapsed: Int, unacknowledged: Int, due: Int,
                summary: String, text: String, lines: [DigestLine], nextDigest: String? = nil
            ) {
                self.at = at; self.until = until; self.period = period; self.overdue = overdue; self.lapsed = lapsed
                self.unacknowledged = unacknowledged; self.due = due; self.summary = summary; self.text = text
                self.lines = lines; self.nextDigest = nextDigest
            }
        }
    }
}

/// org.varlink.service, which every Varlink service implements.
public enum VarlinkService {
    public static let interfaceName = "org.varlink.service"

    public enum GetInfo {
        public static let name = "GetInfo"
        public struct Reply: WireCodable {
            public var vendor: String
            public var product: String
            public var version: String
            public var url: String
            public var interfaces: [String]
            public init(vendor: String, product: String, version: String, url: String, interfaces: [String]) {
                self.vendor = vendor; self.product = product; self.version = version; self.url = url; self.interfaces = interfaces
            }
        }
    }

    public enum GetInterfaceDescription {
        public static let name = "GetInterfaceDescription"
        public struct Parameters: CallParameters {
            public var interface: String
            public enum CodingKeys: String, CodingKey, CaseIterable { case interface }
            public typealias Keys = CodingKeys
            public init(interface: String) { self.interface = interface }
        }
        public struct Reply: WireCodable {
            public var description: String
            public init(description: String) { self.description = description }
        }
    }
}
