import AccordCalendar
import HeapModule

/// An acknowledgement silences what remains of one deadline occurrence.
public struct Acknowledgement: Sendable, Hashable {
    public var itemID: String
    public var deadline: DeadlineKind
    /// The occurrence's date or instant, as in reminder keys.
    public var deadlineTime: String
    public var at: Instant
    public init(itemID: String, deadline: DeadlineKind, deadlineTime: String, at: Instant) {
        self.itemID = itemID; self.deadline = deadline; self.deadlineTime = deadlineTime; self.at = at
    }
}

/// A snooze holds an item's reminders in [from, until); the latest held one per deadline fires at `until`.
public struct Snooze: Sendable, Hashable {
    public var itemID: String
    public var from: Instant
    public var until: Instant
    public init(itemID: String, from: Instant, until: Instant) { self.itemID = itemID; self.from = from; self.until = until }
}

/// What happened so far, as far as planning cares.
public struct History: Sendable {
    public var events: [ItemEvent]
    public var acknowledgements: [Acknowledgement]
    public var snoozes: [Snooze]
    public init(events: [ItemEvent] = [], acknowledgements: [Acknowledgement] = [], snoozes: [Snooze] = []) {
        self.events = events; self.acknowledgements = acknowledgements; self.snoozes = snoozes
    }
    public static let empty = History()
}

/// A deadline of an item as it stands at some instant, for queries.
public struct DeadlineStatus: Sendable, Hashable {
    public var kind: DeadlineKind
    public var time: DeadlineTime
    public var at: Instant
    public var daysLeft: Int
    public var passed: Bool
    public var acknowledged: Bool
    /// What the deadline's date rests on (§10).
    public var provenance = Provenance(basis: .planned)
    /// Counted from a planned or assumed in-force date: shown, not reminded.
    public var projected = false
    /// Passed longer ago than overdue-for, neither acknowledged nor resolved (§11).
    public var lapsed = false
    /// The date as written, when `adjust` moved it off a day that is not a business day (§12):
    /// `time` is then the adjusted date.
    public var written: CivilDate?
    /// Another item's reminders stand for this deadline (§11, fulfilled-by): a digest lists
    /// the commitment once, under that item.
    public var quiet = false
}

/// One deadline of one item, with the firings it may produce.
struct Occurrence: Sendable {
    enum Relevance: Sendable {
        /// Fires while the item's state is one of these.
        case whileState([ItemState])
        /// Fires while a term is current: known and not yet renewed or terminated.
        case term(knownFrom: Instant, endedAt: Instant)
        /// One occurrence of a recurring objective (§13): while the objective is in one of these
        /// states, until a completion closed this occurrence.
        case occurrence(whileState: [ItemState], closedFrom: Instant)
    }

    let item: Int32
    let kind: DeadlineKind
    let time: DeadlineTime
    let passesAt: Instant
    /// The written date, when `adjust` moved the deadline to `time`.
    let written: CivilDate?
    /// Lead firings in time order.
    let leadFires: [LeadFire]
    let overdueEvery: ISODuration?
    /// Overdue repeats stop here (exclusive): a renewal notice stops when the term expires.
    let overdueUntil: Instant
    let relevance: Relevance
    /// The earliest acknowledgement: nothing fires from then on.
    let silencedFrom: Instant
    let provenance: Provenance
    let projected: Bool
    /// deadline + overdue-for: no overdue repeat from then on, and the deadline reads as lapsed.
    let lapseAt: Instant?
    /// The one "lapsed" entry of a deadline: a firing of its own, at `lapseAt`.
    let isLapse: Bool
    /// The one escalation of a deadline (docs/contracts.md §14, `escalate-after`): a firing of
    /// its own, silenced like the deadline's other reminders by an acknowledgement or a resolution.
    var isEscalation = false
    /// Another item's reminders stand for this deadline (an objective fulfilled by an
    /// instrument's signature reminds once, through the instrument's sign-by).
    let quiet: Bool
    /// Appended to the message: the other item of a fulfilled-by pair.
    let note: String?
}

/// When one lead of an occurrence fires, and which of the item's `settings.leads` it is (-1 for
/// a lapse's or an escalation's one firing, whose lead is overdue-for or escalate-after): 16
/// bytes, where the firing with its `Lead` (a 56-byte ISODuration inside) took 72. At 100,000
/// items and about 10 lead firings each that is 5.6 MB a plan instead of 25 MB.
struct LeadFire: Sendable {
    let fireAt: Instant
    let leadIndex: Int32
}

/// The reminders that portfolios and history call for (docs/contracts.md §5), as a merge of
/// per-deadline sequences: finding the next reminder is a heap operation, never a rescan.
public final class ReminderPlan: Sendable {
    public let catalog: Catalog
    public let timelines: [ItemTimeline]
    let occurrences: [Occurrence]
    /// Occurrence indices per item, for queries.
    let occurrencesByItem: [[Int32]]
    let snoozesByItem: [Int32: [Snooze]]
    /// The daemon's `escalate-after` (docs/contracts.md §14): nil for no escalations.
    public let escalateAfter: ISODuration?

    public init(catalog: Catalog, history: History = .empty, escalateAfter: ISODuration? = nil) {
        self.catalog = catalog
        self.escalateAfter = escalateAfter
        var eventsByItem: [String: [ItemEvent]] = [:]
        for event in history.events { eventsByItem[event.itemID, default: []].append(event) }
        // §11: an instrument's event completes the objectives it fulfils, as a derived event.
        var fulfils: [String: [(objective: String, event: EventType)]] = [:]
        for item in catalog.items {
            guard let link = item.fulfilledBy else { continue }
            let instrument = item.resolve(link: link.item)
            fulfils[instrument, default: []].append((item.fullID, link.event))
            for event in eventsByItem[instrument] ?? [] where event.type == link.event {
                eventsByItem[item.fullID, default: []].append(
                    ItemEvent(
                        id: event.id, itemID: item.fullID, type: .completed, on: event.on, recordedAt: event.recordedAt,
                        recordedBy: event.recordedBy, derivedFrom: "\(instrument) \(event.type.rawValue)"))
            }
        }
        // §13: the in-force that the parties' notifications bring, as a derived event.
        for item in catalog.items where item.entersIntoForce != nil {
            if let derived = Lifecycle.derivedEntryIntoForce(of: item, events: eventsByItem[item.fullID] ?? []) {
                eventsByItem[item.fullID, default: []].append(derived)
            }
        }
        var acknowledged: [String: Instant] = [:]
        for ack in history.acknowledgements {
            let key = "\(ack.itemID):\(ack.deadline.rawValue):\(ack.deadlineTime)"
            acknowledged[key] = min(acknowledged[key] ?? .distantFuture, ack.at)
        }
        var snoozes: [Int32: [Snooze]] = [:]
        var timelines: [ItemTimeline] = []
        var occurrences: [Occurrence] = []
        var byItem: [[Int32]] = []
        timelines.reserveCapacity(catalog.items.count)
        for (index, item) in catalog.items.enumerated() {
            let timeline = ItemTimeline(item: item, events: eventsByItem[item.fullID] ?? [])
            timelines.append(timeline)
            let first = occurrences.count
            ReminderPlan.addOccurrences(
                of: item, index: Int32(index), timeline: timeline, catalog: catalog,
                fulfils: fulfils[item.fullID] ?? [], acknowledged: acknowledged, escalateAfter: escalateAfter,
                to: &occurrences)
            byItem.append((first..<occurrences.count).map { Int32($0) })
        }
        for snooze in history.snoozes {
            if case let .found(index) = catalog.lookup(snooze.itemID), snooze.until > snooze.from {
                snoozes[Int32(index), default: []].append(snooze)
            }
        }
        self.timelines = timelines
        self.occurrences = occurrences
        self.occurrencesByItem = byItem
        self.snoozesByItem = snoozes.mapValues { $0.sorted { $0.from < $1.from } }
    }

    /// The instrument deadline an event answers, when the instrument has it: the objective it
    /// fulfils then reminds through that deadline alone.
    static func answeredDeadline(of event: EventType, instrument: Item) -> DeadlineKind? {
        event == .signed && instrument.signBy != nil ? .signBy : nil
    }

    private static func addOccurrences(
        of item: Item, index: Int32, timeline: ItemTimeline, catalog: Catalog,
        fulfils: [(objective: String, event: EventType)],
        acknowledged: [String: Instant], escalateAfter: ISODuration?, to occurrences: inout [Occurrence]
    ) {
        let settings = item.settings
        var quiet = false
        var dueNote: String?
        if let link = item.fulfilledBy {
            let instrumentID = item.resolve(link: link.item)
            dueNote = "fulfilled when \(instrumentID) is \(link.event.rawValue)"
            if let instrument = catalog.item(fullID: instrumentID), answeredDeadline(of: link.event, instrument: instrument) != nil {
                quiet = true
            }
        }
        func note(for kind: DeadlineKind) -> String? {
            if kind == .due { return dueNote }
            let objectives = fulfils.filter { answeredDeadline(of: $0.event, instrument: item) == kind }.map(\.objective)
            return objectives.isEmpty ? nil : "fulfils objective " + objectives.joined(separator: ", ")
        }
        func add(
            _ kind: DeadlineKind, _ time: DeadlineTime, overdue: Bool, until: Instant = .distantFuture,
            relevance: Occurrence.Relevance, provenance: Provenance, projected: Bool = false, clause: String? = nil
        ) {
            let notes = [note(for: kind), clause].compactMap { $0 }
            let note = notes.isEmpty ? nil : notes.joined(separator: "; ")
            // §12: a date deadline on a day off moves as `adjust` says; its key, leads and
            // overdue repeats all count from the adjusted date.
            var time = time
            var written: CivilDate?
            if case let .date(date) = time, let moved = adjusted(date, settings), moved != date {
                written = date
                time = .date(moved)
            }
            let prefix = ReminderPlan.keyPrefix(item, kind, time)
            let passesAt: Instant
            switch time {
            case let .date(date):
                passesAt = kind == .expiry ? settings.zone.startOfDay(date) : settings.zone.startOfDay(date.adding(days: 1))
            case let .instant(instant):
                passesAt = instant
            }
            var fires = settings.leads.indices
                .map { LeadFire(fireAt: ReminderPlan.fireTime(of: time, lead: settings.leads[$0], settings: settings), leadIndex: Int32($0)) }
                .sorted {
                    ($0.fireAt, settings.leads[Int($1.leadIndex)].approximateSeconds)
                        < ($1.fireAt, settings.leads[Int($0.leadIndex)].approximateSeconds)
                }
            // Leads that land on one instant (P1D and P0D both moved off a Saturday to Friday)
            // fire once, as the shortest of them: the same words twice in a minute help nobody.
            if fires.count > 1 {
                fires = fires.indices.filter { $0 == fires.count - 1 || fires[$0].fireAt != fires[$0 + 1].fireAt }.map { fires[$0] }
            }
            // §11: overdue repeats stop at deadline + overdue-for, counted like the repeats (at
            // remind-at in the item's zone for dates); a lapse after `until` never comes.
            var lapseAt: Instant?
            if overdue {
                let at = onBusinessDay(shifted(time, by: settings.overdueFor, sign: 1, settings: settings), time, settings.overdueFor, settings)
                if at < until { lapseAt = at }
            }
            let silenced = acknowledged[prefix] ?? .distantFuture
            let isQuiet = kind == .due && quiet
            occurrences.append(
                Occurrence(
                    item: index, kind: kind, time: time, passesAt: passesAt, written: written, leadFires: fires,
                    overdueEvery: overdue ? settings.overdueEvery : nil, overdueUntil: min(until, lapseAt ?? until),
                    relevance: relevance, silencedFrom: silenced,
                    provenance: provenance, projected: projected, lapseAt: lapseAt, isLapse: false,
                    quiet: isQuiet, note: note))
            // The last entry stops overdue repeats: without repeats there is nothing to stop.
            if let lapseAt, settings.overdueEvery != nil {
                occurrences.append(
                    Occurrence(
                        item: index, kind: kind, time: time, passesAt: passesAt, written: written,
                        leadFires: [LeadFire(fireAt: lapseAt, leadIndex: -1)], overdueEvery: nil,
                        overdueUntil: until, relevance: relevance, silencedFrom: silenced,
                        provenance: provenance, projected: projected, lapseAt: lapseAt, isLapse: true,
                        quiet: isQuiet, note: note))
            }
            // §14: one escalation of a deadline that can be overdue (an expiry cannot), counted
            // like an overdue repeat (at remind-at in the item's zone for dates) but never before
            // the deadline has passed: a shorter escalate-after counts from its passing. Like a
            // lapse, one that would come when the deadline no longer matters (`until`) never comes.
            if overdue, let escalateAfter {
                var at = shifted(time, by: escalateAfter, sign: 1, settings: settings)
                if at <= passesAt { at = settings.zone.adding(escalateAfter, to: passesAt) }
                if at < until {
                    var escalation = Occurrence(
                        item: index, kind: kind, time: time, passesAt: passesAt, written: written,
                        leadFires: [LeadFire(fireAt: at, leadIndex: -1)], overdueEvery: nil,
                        overdueUntil: until, relevance: relevance, silencedFrom: silenced,
                        provenance: provenance, projected: projected, lapseAt: lapseAt, isLapse: false,
                        quiet: isQuiet, note: note)
                    escalation.isEscalation = true
                    occurrences.append(escalation)
                }
            }
        }
        if item.kind == .objective {
            if item.recurrence != nil {
                let provenance = Provenance.combined([("first", item.provenance(of: "first")), ("every", item.provenance(of: "every"))])
                for (n, time) in timeline.occurrences.enumerated() {
                    add(
                        .due, time, overdue: true,
                        relevance: .occurrence(whileState: ReminderPlan.openStates, closedFrom: timeline.occurrenceClosedAt[n]),
                        provenance: provenance)
                }
                return
            }
            if let due = item.due {
                add(.due, due, overdue: true, relevance: .whileState(ReminderPlan.openStates), provenance: item.provenance(of: "due"))
            }
            return
        }
        if let signBy = item.signBy {
            add(
                .signBy, signBy, overdue: true, relevance: .whileState(ReminderPlan.beforeSignatureStates),
                provenance: item.provenance(of: "sign-by"))
        }
        for term in timeline.terms {
            let relevance = Occurrence.Relevance.term(knownFrom: term.knownFrom, endedAt: term.endedAt)
            let expiry = term.expiry
            if let notice = item.notice {
                let provenance =
                    term.provenance.basis == .recorded
                    ? term.provenance
                    : Provenance.combined([("term dates", term.provenance), ("notice", item.provenance(of: "notice"))])
                // §13: with auto-renew, the last day to give notice of non-renewal; given, it stops.
                add(
                    .renewalNotice, .date(expiry.adding(notice, sign: -1)), overdue: true,
                    until: settings.zone.startOfDay(adjusted(expiry, settings) ?? expiry),
                    relevance: .term(knownFrom: term.knownFrom, endedAt: min(term.endedAt, term.noticeGivenAt)),
                    provenance: provenance, projected: term.projected,
                    clause: term.autoRenews ? "last day to give notice of non-renewal; the term renews by itself otherwise" : nil)
            }
            add(
                .expiry, .date(expiry), overdue: false, relevance: relevance, provenance: term.provenance, projected: term.projected,
                clause: term.autoRenews ? "renews by itself for \(item.term ?? term.length) unless not-renewed or terminated is recorded" : nil)
        }
    }

    /// The states in which an objective's due reminds, and an instrument's sign-by: one array
    /// each, shared by every occurrence (a literal in each would be an allocation per deadline).
    static let openStates: [ItemState] = [.open, .inProgress]
    static let beforeSignatureStates: [ItemState] = [.planned, .negotiating, .concluded]

    /// The start of every key of an occurrence's reminders (docs/contracts.md §5): built when a
    /// reminder is, not kept per occurrence (40 to 80 bytes each, a third of a plan's strings).
    static func keyPrefix(_ item: Item, _ kind: DeadlineKind, _ time: DeadlineTime) -> String {
        "\(item.fullID):\(kind.rawValue):\(time)"
    }

    /// When a reminder `lead` before a deadline fires (docs/contracts.md §4): at `remind-at` on
    /// (date − lead) for dates, at (instant − lead) for instants. Date parts are counted
    /// on the calendar in the item's zone, time parts as elapsed time.
    ///
    /// With business days (§12): a lead in business days counts them back from the (adjusted)
    /// date, at `remind-at` (at the instant's wall time for instants); a date deadline's
    /// reminder whose day is not a business day fires at `remind-at` on the business day before:
    /// never later than written.
    static func fireTime(of time: DeadlineTime, lead: Lead, settings: ReminderSettings) -> Instant {
        switch lead {
        case let .duration(duration):
            return onBusinessDay(shifted(time, by: duration, sign: -1, settings: settings), time, duration, settings)
        case let .businessDays(count):
            let days = settings.businessDays.forPlanning
            switch time {
            case let .date(date):
                let day = (try? days.businessDays(count, before: date)) ?? date
                return settings.zone.instant(for: LocalDateTime(date: day, time: settings.remindAt))
            case let .instant(instant):
                let local = settings.zone.local(at: instant)
                let day = (try? days.businessDays(count, before: local.date)) ?? local.date
                return settings.zone.instant(for: LocalDateTime(date: day, time: local.time))
            }
        }
    }

    /// The date a deadline moves to under the item's `adjust` (§12), nil when it stays.
    static func adjusted(_ date: CivilDate, _ settings: ReminderSettings) -> CivilDate? {
        guard settings.adjust != .none, !settings.businessDays.isEveryDay else { return nil }
        return try? settings.businessDays.forPlanning.adjust(date, settings.adjust)
    }

    /// A date deadline's firing `by` away from it, moved to `remind-at` on the business day
    /// before when its own day is not one (§12). Instants are exact and never move.
    static func onBusinessDay(_ fire: Instant, _ time: DeadlineTime, _ by: ISODuration, _ settings: ReminderSettings) -> Instant {
        guard case .date = time, !settings.businessDays.isEveryDay else { return fire }
        let local = settings.zone.local(at: fire)
        let days = settings.businessDays.forPlanning
        guard let day = try? days.onOrBefore(local.date), day != local.date else { return fire }
        return settings.zone.instant(for: LocalDateTime(date: day, time: settings.remindAt))
    }

    static func shifted(_ time: DeadlineTime, by duration: ISODuration, sign: Int, settings: ReminderSettings) -> Instant {
        switch time {
        case let .date(date): return settings.zone.adding(duration, to: date, at: settings.remindAt, sign: sign)
        case let .instant(instant): return settings.zone.adding(duration, to: instant, sign: sign)
        }
    }

    // MARK: firings of one occurrence

    /// Fire time of a step: leads first, then overdue repeats n = 1, 2, … (nil when there are no more).
    func fireAt(_ occurrence: Occurrence, step: Int) -> Instant? {
        if step < occurrence.leadFires.count { return occurrence.leadFires[step].fireAt }
        guard let every = occurrence.overdueEvery else { return nil }
        let n = step - occurrence.leadFires.count + 1
        let settings = catalog.items[Int(occurrence.item)].settings
        let offset = every.times(n)
        var fire = ReminderPlan.shifted(occurrence.time, by: offset, sign: 1, settings: settings)
        // Only whole-day repeats move, so that they stay in time order: a repeat every PT6H
        // moved off a Saturday would come before Friday afternoon's.
        if !every.hasTimePart { fire = ReminderPlan.onBusinessDay(fire, occurrence.time, offset, settings) }
        return fire < occurrence.overdueUntil ? fire : nil
    }

    /// The first step firing at or after `instant`.
    func firstStep(_ occurrence: Occurrence, notBefore instant: Instant) -> Int? {
        for (index, fire) in occurrence.leadFires.enumerated() where fire.fireAt >= instant { return index }
        guard let every = occurrence.overdueEvery else { return nil }
        let leads = occurrence.leadFires.count
        // Jump close to the answer instead of walking years of weekly repeats.
        let span = instant.seconds - occurrence.passesAt.seconds
        var n = max(1, Int(span / max(60, every.approximateSeconds)) - 2)
        while let fire = fireAt(occurrence, step: leads + n - 1) {
            if fire >= instant { return leads + n - 1 }
            n += 1
        }
        return nil
    }

    enum Verdict { case fires, suppressed, finished }

    /// Whether a firing at `instant` still matters (docs/contracts.md §5).
    func verdict(_ occurrence: Occurrence, at instant: Instant, overdue: Bool) -> Verdict {
        if instant >= occurrence.silencedFrom { return .finished }
        if overdue, instant >= occurrence.overdueUntil { return .finished }
        // A repeat shorter than a day can come round before a date deadline has passed (at the
        // end of its day): it is not overdue yet.
        if overdue, instant < occurrence.passesAt { return .suppressed }
        switch occurrence.relevance {
        case let .term(knownFrom, endedAt):
            if instant >= endedAt { return .finished }
            return instant >= knownFrom ? .fires : .suppressed
        case let .occurrence(states, closedFrom):
            if instant >= closedFrom { return .finished }
            return stateVerdict(Int(occurrence.item), states, at: instant)
        case let .whileState(states):
            return stateVerdict(Int(occurrence.item), states, at: instant)
        }
    }

    /// Fires while the item is in one of `states`; finished once its state can change no more.
    /// The timeline is read in place, not copied out of the array (a retain and a release per
    /// firing otherwise).
    private func stateVerdict(_ item: Int, _ states: [ItemState], at instant: Instant) -> Verdict {
        if states.contains(timelines[item].state(at: instant, zone: catalog.items[item].settings.zone)) { return .fires }
        return timelines[item].nextStateChange(after: instant) == nil ? .finished : .suppressed
    }

    /// The reminder for a step, as it reads when it fires at `fireAt`.
    func reminder(occurrence index: Int32, step: Int, firingAt fireAt: Instant) -> Reminder {
        // Passed as borrowing parameters; the array subscripts still copy both (OccurrenceVwcp
        // and ItemVwcp stay in the profile): see PlanCursor.consider.
        reminder(occurrences[Int(index)], index, of: catalog.items[Int(occurrences[Int(index)].item)], step: step, firingAt: fireAt)
    }

    private func reminder(
        _ occurrence: borrowing Occurrence, _ index: Int32, of item: borrowing Item, step: Int, firingAt fireAt: Instant
    ) -> Reminder {
        let overdue = step >= occurrence.leadFires.count || occurrence.isLapse || occurrence.isEscalation
        let label: String
        if occurrence.isEscalation {
            label = ReminderPlan.escalationLabel(escalateAfter ?? .zero)
        } else if occurrence.isLapse {
            label = "+" + item.settings.overdueFor.description
        } else if overdue {
            label = "+" + occurrence.overdueEvery!.times(step - occurrence.leadFires.count + 1).description
        } else {
            label = item.settings.leads[Int(occurrence.leadFires[step].leadIndex)].description
        }
        let daysLeft: Int
        let secondsLeft: Int64?
        let when: String
        switch occurrence.time {
        case let .date(date):
            daysLeft = item.settings.zone.local(at: fireAt).date.days(until: date)
            secondsLeft = nil
            when = date.description
        case let .instant(instant):
            secondsLeft = instant.seconds - fireAt.seconds
            daysLeft = Int(secondsLeft! / 86_400)
            when = instant.rfc3339
        }
        // The tone follows where the firing stands, not the lead's name: a lead that fires late
        // (catch-up, the end of a snooze) after its deadline reads as reached or overdue.
        let ahead = secondsLeft.map { $0 > 0 } ?? (daysLeft > 0)
        let onTheDeadline = secondsLeft.map { $0 == 0 } ?? (daysLeft == 0)
        let tone: Reminder.Tone
        if occurrence.isEscalation {
            tone = .escalated
        } else if occurrence.isLapse {
            tone = .lapsed
        } else if ahead && !overdue {
            tone = .approaching
        } else if (onTheDeadline && !overdue) || occurrence.kind == .expiry {
            tone = .reached  // docs/contracts.md §6: "a deadline is reached today / a term expired"
        } else {
            tone = .overdue
        }
        var message = ReminderText.message(
            item: item.fullID, kind: occurrence.kind, when: when, tone: tone == .escalated ? .overdue : tone,
            days: daysLeft, secondsLeft: secondsLeft, overdueFor: item.settings.overdueFor)
        if tone == .escalated {
            message += ", neither acknowledged nor resolved \(escalateAfter ?? .zero) after it: escalated"
        }
        if let note = occurrence.note { message += " (\(note))" }
        if occurrence.provenance.basis == .assumed { message += " [assumed date]" }
        return Reminder(
            key: ReminderPlan.keyPrefix(item, occurrence.kind, occurrence.time) + ":" + label, itemID: item.fullID,
            dialogueID: item.dialogueID,
            deadline: occurrence.kind, deadlineTime: occurrence.time, deadlineAt: occurrence.passesAt,
            lead: label, isOverdue: overdue, fireAt: fireAt, daysLeft: daysLeft,
            message: message, tone: tone, zone: item.settings.zone, basis: occurrence.provenance.basis,
            source: occurrence.provenance.source, owner: item.owner, title: item.title,
            occurrence: index, step: Int32(step))
    }

    /// The lead of an escalation in its key and `ACCORD_LEAD`: `escalate+P3D`, distinct from the
    /// overdue repeats (`+P3D`) so that neither stands for the other.
    public static func escalationLabel(_ escalateAfter: ISODuration) -> String { "escalate+\(escalateAfter)" }

    /// The same reminder (same key) as it reads when it fires late, e.g. on catch-up.
    public func retimed(_ reminder: Reminder, firingAt instant: Instant) -> Reminder {
        self.reminder(occurrence: reminder.occurrence, step: Int(reminder.step), firingAt: instant)
    }

    // MARK: the whole plan

    /// The reminders firing in [from, until), in firing order.
    public func reminders(from: Instant, until: Instant) -> [Reminder] {
        var cursor = self.cursor(from: from)
        var result: [Reminder] = []
        while let next = cursor.peekFireAt(), next < until, let reminder = cursor.next() { result.append(reminder) }
        return result
    }

    /// How many reminders fire in [from, until), without building them.
    public func count(from: Instant, until: Instant) -> Int {
        count(from: from, until: until, part: 0, of: 1)
    }

    /// The count of `count(from:until:)` over one of `parts` slices of the deadlines: the
    /// slices' counts add up to the whole, because each deadline's reminders depend on that
    /// deadline alone, so callers may count the slices at once on several cores.
    public func count(from: Instant, until: Instant, part: Int, of parts: Int) -> Int {
        let total = occurrences.count
        let slice = Int32(total * part / parts)..<Int32(total * (part + 1) / parts)
        var cursor = PlanCursor(plan: self, from: from, occurrences: slice)
        var count = 0
        while let next = cursor.peekFireAt(), next < until, cursor.skip() { count += 1 }
        return count
    }

    /// A cursor over every reminder firing at or after `instant`.
    public func cursor(from instant: Instant) -> PlanCursor {
        PlanCursor(plan: self, from: instant, occurrences: 0..<Int32(occurrences.count))
    }

    /// One item's reminders firing in [from, until), at most `limit` of them.
    public func reminders(ofItem index: Int, from: Instant, until: Instant, limit: Int = .max) -> [Reminder] {
        var cursor = PlanCursor(plan: self, from: from, occurrences: occurrencesByItem[index])
        var result: [Reminder] = []
        while result.count < limit, let next = cursor.peekFireAt(), next < until, let reminder = cursor.next() {
            result.append(reminder)
        }
        return result
    }

    /// Number of deadline occurrences: the size of the cursor's heap.
    public var occurrenceCount: Int { occurrences.count }

    // MARK: queries

    /// The item's deadlines that still matter at `now`, in time order.
    public func deadlines(ofItem index: Int, at now: Instant) -> [DeadlineStatus] {
        occurrencesByItem[index].compactMap { occurrenceIndex -> DeadlineStatus? in
            let occurrence = occurrences[Int(occurrenceIndex)]
            if occurrence.isLapse || occurrence.isEscalation { return nil }
            let acknowledged = now >= occurrence.silencedFrom
            switch verdict(occurrence, at: now, overdue: false) {
            case .fires: break
            case .suppressed where now < occurrence.passesAt: break  // not yet known, still ahead
            default: if !acknowledged { return nil }
            }
            if acknowledged, now >= occurrence.passesAt.adding(seconds: 30 * 86_400) { return nil }
            let item = catalog.items[index]
            let days: Int
            switch occurrence.time {
            case let .date(date): days = item.settings.zone.local(at: now).date.days(until: date)
            case let .instant(instant): days = Int((instant.seconds - now.seconds) / 86_400)
            }
            let lapsed = !acknowledged && occurrence.lapseAt.map { now >= $0 } == true
            return DeadlineStatus(
                kind: occurrence.kind, time: occurrence.time, at: occurrence.passesAt,
                daysLeft: days, passed: now >= occurrence.passesAt, acknowledged: acknowledged,
                provenance: occurrence.provenance, projected: occurrence.projected, lapsed: lapsed,
                written: occurrence.written, quiet: occurrence.quiet)
        }
        .sorted { $0.at < $1.at }
    }

    /// The deadline to act on first: the earliest passed and unacknowledged one, else the next ahead.
    public func mostPressingDeadline(ofItem index: Int, at now: Instant) -> DeadlineStatus? {
        let all = deadlines(ofItem: index, at: now).filter { !$0.acknowledged }
        return all.first { $0.passed } ?? all.first
    }

    /// When a snooze running at `now` ends, if one is.
    public func snoozedUntil(ofItem index: Int, at now: Instant) -> Instant? {
        snoozesByItem[Int32(index)]?.filter { $0.from <= now && now < $0.until }.map(\.until).max()
    }

    /// Every basis the item's dates rest on: its file's, and `recorded` once an event gave one.
    public func bases(ofItem index: Int) -> Set<Basis> {
        var result = Set(catalog.items[index].provenance.values.map(\.basis))
        for occurrence in occurrencesByItem[index] { result.insert(occurrences[Int(occurrence)].provenance.basis) }
        return result
    }

    public func state(ofItem index: Int, at now: Instant) -> ItemState {
        timelines[index].state(at: now, zone: catalog.items[index].settings.zone)
    }
}

/// Walks a plan in firing order. Cheap: one heap entry per deadline occurrence.
public struct PlanCursor: Sendable {
    struct Entry: Comparable {
        var fireAt: Int64
        var occurrence: Int32
        var step: Int32
        /// A snoozed reminder released at the end of its snooze.
        var released: Bool
        static func < (a: Entry, b: Entry) -> Bool {
            (a.fireAt, a.occurrence, a.step) < (b.fireAt, b.occurrence, b.step)
        }
    }

    let plan: ReminderPlan
    /// Nothing firing before this is returned: the cursor may start earlier, inside a snooze.
    private let notBefore: Instant
    private var heap: Heap<Entry>
    /// The next firing, found but not yet consumed: occurrence, step and when.
    private var ready: (occurrence: Int32, step: Int, fireAt: Instant)?
    /// Per occurrence: the latest step held by a snooze, released at the snooze's end.
    private var held: [Int32: Int32] = [:]

    init(plan: ReminderPlan, from instant: Instant, occurrences: some Collection<Int32>) {
        self.plan = plan
        self.notBefore = instant
        var entries: [Entry] = []
        entries.reserveCapacity(occurrences.count)
        for index in occurrences {
            let occurrence = plan.occurrences[Int(index)]
            if occurrence.quiet { continue }
            // A snooze running at `instant` may hold reminders from before it, to release at its
            // end: start where it began so that they are seen, as in the plan walked from the start.
            var start = instant
            if !plan.snoozesByItem.isEmpty, let snoozes = plan.snoozesByItem[occurrence.item] {
                for snooze in snoozes where snooze.from < instant && instant <= snooze.until {
                    start = min(start, snooze.from)
                }
            }
            if let step = plan.firstStep(occurrence, notBefore: start), let fire = plan.fireAt(occurrence, step: step) {
                entries.append(Entry(fireAt: fire.seconds, occurrence: index, step: Int32(step), released: false))
            }
        }
        heap = Heap(entries)
    }

    /// When the next reminder fires, without consuming it.
    public mutating func peekFireAt() -> Instant? {
        if ready == nil { ready = advance() }
        return ready?.fireAt
    }

    /// The next reminder, not consumed. Cheap: it does not copy the heap, as copying the cursor would.
    public mutating func peek() -> Reminder? {
        if ready == nil { ready = advance() }
        guard let found = ready else { return nil }
        return plan.reminder(occurrence: found.occurrence, step: found.step, firingAt: found.fireAt)
    }

    /// The next reminder, consumed.
    public mutating func next() -> Reminder? {
        guard let found = ready ?? advance() else { return nil }
        ready = nil
        return plan.reminder(occurrence: found.occurrence, step: found.step, firingAt: found.fireAt)
    }

    /// Skips the next reminder without building its key and message.
    public mutating func skip() -> Bool {
        guard ready ?? advance() != nil else { return false }
        ready = nil
        return true
    }

    private mutating func advance() -> (occurrence: Int32, step: Int, fireAt: Instant)? {
        let plan = self.plan
        while let entry = heap.popMin() {
            if let found = consider(entry, plan.occurrences[Int(entry.occurrence)]) { return found }
        }
        return nil
    }

    /// What one entry taken off the heap gives: a reminder to return, or nil (and perhaps the
    /// entry's next step on the heap). The occurrence is a borrowing parameter, but the array
    /// subscript in `advance` still copies it for every firing (the struct moved with memmove, a
    /// retain per reference inside: with the Item copy in `reminder`, 18% of `accordd plan` at
    /// 100,000 items). Lending it through withUnsafeBufferPointer left the copies in the profile
    /// too (3.75 s against 3.60 s); a leaner Occurrence is what would remove them.
    private mutating func consider(_ entry: Entry, _ occurrence: borrowing Occurrence) -> (occurrence: Int32, step: Int, fireAt: Instant)? {
        let fireAt = Instant(seconds: entry.fireAt)
        if entry.released {
            guard let step = held.removeValue(forKey: entry.occurrence) else { return nil }
            let overdue = Int(step) >= occurrence.leadFires.count
            if fireAt >= notBefore, plan.verdict(occurrence, at: fireAt, overdue: overdue) == .fires {
                return (entry.occurrence, Int(step), fireAt)
            }
            return nil
        }
        let overdue = Int(entry.step) >= occurrence.leadFires.count
        let verdict = plan.verdict(occurrence, at: fireAt, overdue: overdue)
        if verdict != .finished, let nextFire = plan.fireAt(occurrence, step: Int(entry.step) + 1) {
            heap.insert(Entry(fireAt: nextFire.seconds, occurrence: entry.occurrence, step: entry.step + 1, released: false))
        }
        guard verdict == .fires else { return nil }
        // Daily repeats over a holiday week all move to the business day before it (§12):
        // one reminder then, not seven at the same minute.
        if Int(entry.step) > occurrence.leadFires.count, plan.fireAt(occurrence, step: Int(entry.step) - 1) == fireAt { return nil }
        if !plan.snoozesByItem.isEmpty,
            let snooze = plan.snoozesByItem[occurrence.item]?.first(where: { $0.from <= fireAt && fireAt < $0.until })
        {
            if held.updateValue(entry.step, forKey: entry.occurrence) == nil {
                heap.insert(Entry(fireAt: snooze.until.seconds, occurrence: entry.occurrence, step: entry.step, released: true))
            }
            return nil
        }
        if fireAt < notBefore { return nil }
        return (entry.occurrence, Int(entry.step), fireAt)
    }
}
