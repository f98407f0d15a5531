import AccordCalendar

/// Something that happened to an item (docs/contracts.md §8 events). Events are append-only.
public enum EventType: String, Sendable, CaseIterable {
    case started, completed, dropped, reopened
    case negotiationStarted = "negotiation-started", concluded, signed
    case inForce = "in-force", renewed, terminated
    /// Notice of non-renewal given, for an instrument with `auto-renew` (§13): the current term
    /// runs out and no other starts.
    case notRenewed = "not-renewed"
    /// One party's notification that its procedures for entry into force are complete (§13):
    /// with `enters-into-force`, the last of them puts the instrument in force `after` later.
    case notified

    public var isForObjectives: Bool { [.started, .completed, .dropped, .reopened].contains(self) }

    public static func forKind(_ kind: ItemKind) -> [EventType] {
        allCases.filter { $0.isForObjectives == (kind == .objective) }
    }
}

public enum ItemState: String, Sendable, CaseIterable {
    // objectives
    case open, inProgress = "in-progress", done, dropped
    // instruments
    case planned, negotiating, concluded, signed, inForce = "in-force", expired, terminated
}

/// A recorded event as the planner needs it.
public struct ItemEvent: Sendable, Hashable {
    public var id: Int64
    public var itemID: String
    public var type: EventType
    /// The day it took effect, in the item's zone.
    public var on: CivilDate
    public var recordedAt: Instant
    /// For `renewed` (and optionally `in-force`): the length of the new term.
    public var term: ISODuration?
    /// Who recorded it (the user name of the socket's peer), for dates that rest on it.
    public var recordedBy: String?
    /// For an objective's completion derived from its instrument's event (§11): that event.
    public var derivedFrom: String?
    /// For `notified`: whose notification it is.
    public var party: String?

    public init(
        id: Int64, itemID: String, type: EventType, on: CivilDate, recordedAt: Instant, term: ISODuration? = nil,
        recordedBy: String? = nil, derivedFrom: String? = nil
    ) {
        self.id = id; self.itemID = itemID; self.type = type; self.on = on; self.recordedAt = recordedAt; self.term = term
        self.recordedBy = recordedBy; self.derivedFrom = derivedFrom
    }
}

/// Why an event cannot be recorded, naming the state and what is allowed from it. The daemon
/// hands it to the client as io.accord.Tracker.InvalidEvent, whose description is the one
/// sentence both the log and accordctl print.
public struct LifecycleError: Error, Sendable, Equatable {
    public var itemID: String
    public var event: String
    public var state: ItemState
    public var allowed: [EventType]
    public var reason: String
}

/// The lifecycle rules of objectives and instruments.
public enum Lifecycle {
    public static func initialState(of item: Item) -> ItemState {
        if item.kind == .objective {
            switch item.status ?? .open {
            case .open: return .open
            case .inProgress: return .inProgress
            case .done: return .done
            case .dropped: return .dropped
            }
        }
        // Only a date that is known (statement, confirmed) puts an instrument in force (§10).
        if let _ = item.inForce, item.provenance(of: "in-force").basis.isFact { return .inForce }
        if let _ = item.adopted, item.provenance(of: "adopted").basis.isFact { return .inForce }
        return .planned
    }

    /// The events that may follow a state.
    public static func allowedEvents(from state: ItemState) -> [EventType] {
        switch state {
        case .open: return [.started, .completed, .dropped]
        case .inProgress: return [.completed, .dropped]
        case .done, .dropped: return [.reopened]
        case .planned: return [.negotiationStarted, .concluded, .signed, .inForce, .terminated]
        case .negotiating: return [.concluded, .signed, .inForce, .terminated]
        case .concluded: return [.signed, .inForce, .terminated]
        case .signed: return [.inForce, .notified, .terminated]
        case .inForce, .expired: return [.renewed, .notRenewed, .terminated]
        case .terminated: return []
        }
    }

    /// The events that may be recorded next for an item with this history. An in-force
    /// date that only the file gives is a plan: recording the real one replaces it.
    public static func allowedEvents(item: Item, timeline: ItemTimeline) -> [EventType] {
        let state = timeline.latestState
        var allowed = allowedEvents(from: state)
        if !item.autoRenew || timeline.renewalDeclined { allowed.removeAll { $0 == .notRenewed } }
        if item.entersIntoForce == nil || timeline.notifiedParties.count == item.notifyingParties.count {
            allowed.removeAll { $0 == .notified }
        }
        if timeline.inForceOnlyFromFile, state == .inForce, !allowed.contains(.inForce) { allowed.insert(.inForce, at: 0) }
        return allowed
    }

    /// Checks that an event may be recorded next and returns the state it leads to.
    public static func validate(_ type: EventType, item: Item, timeline: ItemTimeline, term: ISODuration?) throws(LifecycleError) -> ItemState {
        if type == .completed, item.recurrence != nil, !timeline.occurrenceOpen.contains(true) {
            throw LifecycleError(
                itemID: item.fullID, event: type.rawValue, state: timeline.latestState,
                allowed: allowedEvents(item: item, timeline: timeline).filter { $0 != .completed },
                reason: "every occurrence of this recurring objective is completed already")
        }
        return try apply(
            type, to: timeline.latestState, item: item, term: term,
            allowed: allowedEvents(item: item, timeline: timeline))
    }

    /// The in-force an instrument with `enters-into-force` derives from its parties'
    /// notifications (§13): `after` the last one, once every party notified, and only when no
    /// in-force was recorded by hand. Its `derivedFrom` names the notifications, for the history.
    public static func derivedEntryIntoForce(of item: Item, events: [ItemEvent]) -> ItemEvent? {
        guard let after = item.entersIntoForce, !events.contains(where: { $0.type == .inForce }) else { return nil }
        var first: [String: ItemEvent] = [:]
        for event in events.sorted(by: { $0.id < $1.id }) where event.type == .notified {
            if let party = event.party, item.notifyingParties.contains(party), first[party] == nil { first[party] = event }
        }
        guard first.count == item.notifyingParties.count, !first.isEmpty,
            let last = first.values.max(by: { ($0.on, $0.id) < ($1.on, $1.id) })
        else { return nil }
        let notes = item.notifyingParties.compactMap { party in first[party].map { "\(party) on \($0.on)" } }
        return ItemEvent(
            id: last.id, itemID: item.fullID, type: .inForce, on: last.on.adding(after), recordedAt: last.recordedAt,
            recordedBy: last.recordedBy,
            derivedFrom: "enters into force \(after) after the last notification: notified by " + notes.joined(separator: ", "))
    }

    /// Checks the party of a `notified` event: one of the instrument's parties, once each.
    public static func validate(party: String?, for type: EventType, item: Item, timeline: ItemTimeline) throws(LifecycleError) {
        func fail(_ reason: String) -> LifecycleError {
            LifecycleError(
                itemID: item.fullID, event: type.rawValue, state: timeline.latestState,
                allowed: allowedEvents(item: item, timeline: timeline), reason: reason)
        }
        guard type == .notified else {
            if party != nil { throw fail("only notified takes a party") }
            return
        }
        let parties = item.notifyingParties
        guard let party else { throw fail("notified needs --party: one of \(parties.joined(separator: ", "))") }
        guard parties.contains(party) else {
            throw fail("\"\(party)\" is not a party of this instrument; its parties are \(parties.joined(separator: ", "))")
        }
        if let on = timeline.notifiedParties[party] { throw fail("\(party) notified already, on \(on)") }
    }

    /// The state an event leads to, or why it cannot happen.
    public static func apply(
        _ type: EventType, to state: ItemState, item: Item, term: ISODuration?,
        allowed: [EventType]? = nil
    ) throws(LifecycleError) -> ItemState {
        let allowed = allowed ?? allowedEvents(from: state)
        func fail(_ reason: String) -> LifecycleError {
            LifecycleError(itemID: item.fullID, event: type.rawValue, state: state, allowed: allowed, reason: reason)
        }
        if type.isForObjectives != (item.kind == .objective) {
            throw fail(
                "\(type.rawValue) is an event for \(type.isForObjectives ? "objectives" : "instruments"), and this is \(item.kind == .objective ? "an objective" : "an instrument")"
            )
        }
        if type == .notified, item.entersIntoForce == nil {
            throw fail("notified is for an instrument with enters-into-force; record in-force for this one")
        }
        if type == .notRenewed, !item.autoRenew {
            throw fail("not-renewed is for an instrument with auto-renew = true; this one ends at its expiry anyway")
        }
        guard allowed.contains(type) else { throw fail("not allowed from this state") }
        if type == .renewed, term == nil, item.term == nil {
            throw fail("a renewal needs a term (the instrument defines none; give one, e.g. P1Y)")
        }
        if let term, type != .renewed, type != .inForce {
            throw fail("only renewed and in-force take a term (got \(term))")
        }
        if let term, term.hasTimePart || term.isZero {
            throw fail("a term must be a whole number of years, months, weeks or days")
        }
        switch type {
        case .started: return .inProgress
        // A recurring objective's completion closes one occurrence (§13); the objective stays.
        case .completed: return item.recurrence == nil ? .done : state
        case .dropped: return .dropped
        case .reopened: return .open
        case .negotiationStarted: return .negotiating
        case .concluded: return .concluded
        case .signed: return .signed
        case .inForce, .renewed: return .inForce
        case .notRenewed, .notified: return state
        case .terminated: return .terminated
        }
    }
}

/// One term of an instrument: the half-open interval [start, expiry).
public struct Term: Sendable, Hashable {
    public var start: CivilDate
    public var length: ISODuration
    public var expiry: CivilDate { start.adding(length) }
    /// From when its reminders may fire: always for a term the file defines, from the
    /// effective day of the event otherwise.
    public var knownFrom: Instant
    /// When a renewal or a termination took over.
    public var endedAt: Instant
    /// Counted from a planned or assumed in-force date: shown, never reminded (§10).
    public var projected = false
    /// What the term's dates rest on.
    public var provenance = Provenance(basis: .planned)
    /// Another term starts at this one's expiry by itself (`auto-renew`, §13), unless notice of
    /// non-renewal is recorded first: its renewal-notice is the last day to give that notice.
    public var autoRenews = false
    /// When `not-renewed` was recorded for this term: its renewal-notice stops there.
    public var noticeGivenAt = Instant.distantFuture
}

enum Timeline {
    /// The provenance of a date that comes from a recorded event: basis recorded, and who.
    static func recorded(_ event: ItemEvent) -> Provenance {
        let source = "\(event.type.rawValue) on \(event.on), " + (event.derivedFrom.map { "derived: \($0), the last recorded by " } ?? "recorded by ")
        return Provenance(basis: .recorded, source: source + (event.recordedBy ?? "an unknown user"))
    }
}

/// An item's history folded into what the planner and the queries need.
public struct ItemTimeline: Sendable {
    /// State changes in effect order; the first at `distantPast`.
    public private(set) var states: [(at: Instant, state: ItemState)]
    public private(set) var terms: [Term]
    /// The instrument's in-force date comes from its file, and no event has confirmed it.
    public private(set) var inForceOnlyFromFile = false
    /// The file's in-force date is planned or assumed: its term is projected, the state untouched.
    public private(set) var inForceProjected = false
    /// A recurring objective's occurrences (§13), and per occurrence whether it is still open
    /// and from when a completion closed it.
    public private(set) var occurrences: [DeadlineTime] = []
    public private(set) var occurrenceOpen: [Bool] = []
    public private(set) var occurrenceClosedAt: [Instant] = []
    /// `not-renewed` was recorded: an auto-renewing instrument's terms stop rolling over.
    public private(set) var renewalDeclined = false
    /// The parties whose `notified` event is recorded, with its day (§13), first one each.
    public private(set) var notifiedParties: [String: CivilDate] = [:]

    /// At most this many terms roll over by themselves: two centuries of yearly terms, and a
    /// bound on the plan of an instrument nobody ends.
    public static let maximumAutomaticTerms = 200

    public init(item: Item, events: [ItemEvent]) {
        let zone = item.settings.zone
        let ordered = events.sorted { ($0.on, $0.id) < ($1.on, $1.id) }
        var states: [(at: Instant, state: ItemState)] = []
        var terms: [Term] = []
        var state: ItemState = item.kind == .objective ? Lifecycle.initialState(of: item) : .planned
        states.append((Instant.distantPast, state))
        if item.kind.isInstrument, let inForce = item.inForce, let length = item.term {
            let provenance = Provenance.combined([("in-force", item.provenance(of: "in-force")), ("term", item.provenance(of: "term"))])
            if item.provenance(of: "in-force").basis.isFact {
                states.append((zone.startOfDay(inForce), .inForce))
                state = .inForce
                inForceOnlyFromFile = true
                terms.append(
                    Term(
                        start: inForce, length: length, knownFrom: .distantPast, endedAt: .distantFuture,
                        provenance: provenance))
            } else {
                inForceProjected = true
                terms.append(
                    Term(
                        start: inForce, length: length, knownFrom: .distantFuture, endedAt: .distantFuture,
                        projected: true, provenance: provenance))
            }
        } else if item.kind.isInstrument, let adopted = item.adopted, item.provenance(of: "adopted").basis.isFact {
            states.append((zone.startOfDay(adopted), .inForce))
            state = .inForce
        }
        if let recurrence = item.recurrence {
            occurrences = recurrence.occurrences(in: zone)
            occurrenceOpen = Array(repeating: true, count: occurrences.count)
            occurrenceClosedAt = Array(repeating: .distantFuture, count: occurrences.count)
        }
        var rolling = item.autoRenew
        /// Starts the terms an auto-renewing instrument rolls into, up to those that begin by
        /// `date` (nil: up to the bound): the term an event falls in must exist when it is applied.
        func roll(through date: CivilDate?) {
            var added = 0
            while rolling, let last = terms.last, last.endedAt == .distantFuture, added < ItemTimeline.maximumAutomaticTerms,
                last.expiry.year <= 9999, date.map({ last.expiry <= $0 }) ?? true
            {
                terms[terms.count - 1].autoRenews = true
                terms.append(
                    Term(
                        start: last.expiry, length: item.term ?? last.length, knownFrom: last.knownFrom, endedAt: .distantFuture,
                        projected: last.projected,
                        provenance: Provenance(
                            basis: last.provenance.basis,
                            source: "rolled over by auto-renew at \(last.expiry)" + (last.provenance.source.map { "; \($0)" } ?? ""))))
                added += 1
            }
            if rolling, let last = terms.last, last.endedAt == .distantFuture { terms[terms.count - 1].autoRenews = true }
        }
        for event in ordered {
            let effective = zone.startOfDay(event.on)
            roll(through: event.on)
            if event.type == .completed, item.recurrence != nil, state == .open || state == .inProgress {
                let open = occurrenceOpen
                if let index = Recurrence.nearest(to: event.on, among: occurrences, open: { open[$0] }, zone: zone) {
                    occurrenceOpen[index] = false
                    // Closed once recorded, even for a date ahead: a meeting held early (or
                    // recorded ahead) stops its reminders now, not on the day it names.
                    occurrenceClosedAt[index] = min(effective, event.recordedAt)
                }
            }
            // Events were validated when recorded; an unexpected one still shapes the history.
            let allowed = inForceOnlyFromFile && state == .inForce ? Lifecycle.allowedEvents(from: state) + [.inForce] : nil
            let next = (try? Lifecycle.apply(event.type, to: state, item: item, term: event.term, allowed: allowed)) ?? state
            switch event.type {
            case .inForce:
                if inForceProjected {  // the recorded date replaces the projection
                    terms.removeAll()
                    inForceProjected = false
                }
                if inForceOnlyFromFile {  // the recorded date replaces the planned one
                    terms.removeAll()
                    states.removeAll { $0.state == .inForce }
                    state = states.last!.state
                    inForceOnlyFromFile = false
                }
                if let length = event.term ?? item.term {
                    for index in terms.indices where terms[index].endedAt > effective { terms[index].endedAt = effective }
                    terms.append(
                        Term(
                            start: event.on, length: length, knownFrom: effective, endedAt: .distantFuture,
                            provenance: event.derivedFrom != nil && item.entersIntoForce != nil
                                ? Provenance.combined([
                                    ("notifications", Timeline.recorded(event)),
                                    ("enters-into-force", item.provenance(of: "enters-into-force"))
                                ]) : Timeline.recorded(event)))
                }
            case .renewed:
                if let last = terms.last {
                    let length = event.term ?? item.term ?? last.length
                    terms[terms.count - 1].endedAt = min(last.endedAt, effective)
                    terms.append(
                        Term(
                            start: last.expiry, length: length, knownFrom: effective, endedAt: .distantFuture,
                            provenance: Timeline.recorded(event)))
                }
            case .notified:
                if let party = event.party, notifiedParties[party] == nil { notifiedParties[party] = event.on }
            case .notRenewed where item.autoRenew && !renewalDeclined:
                // The term the notice falls in is the last: it runs out at its expiry.
                if let index = terms.lastIndex(where: { $0.start <= event.on }) {
                    terms.removeSubrange((index + 1)...)
                    terms[index].autoRenews = false
                    terms[index].noticeGivenAt = min(effective, event.recordedAt)
                }
                rolling = false
                renewalDeclined = true
            case .terminated:
                rolling = false
                if inForceProjected { terms.removeAll(); inForceProjected = false }
                for index in terms.indices where terms[index].endedAt > effective { terms[index].endedAt = effective }
            default:
                break
            }
            if next != state {
                state = next
                states.append((effective, state))
            }
        }
        roll(through: nil)
        self.states = states
        self.terms = terms
    }

    /// The lifecycle state in effect at an instant (`expired` once the last term ran out).
    public func state(at instant: Instant, zone: Zone) -> ItemState {
        var current = states[0].state
        for change in states where change.at <= instant { current = change.state }
        if current == .inForce, let last = terms.last, instant >= zone.startOfDay(last.expiry) { return .expired }
        return current
    }

    /// The state after every event, whatever its date: what the next event must follow.
    public var latestState: ItemState { states.last!.state }

    /// The first instant after `instant` at which the state changes, if any.
    func nextStateChange(after instant: Instant) -> Instant? {
        states.first { $0.at > instant }?.at
    }
}
