import AccordCalendar
import AccordCore
import AccordProtocol
import AccordStore
import Logging

/// Why a request to the engine failed; the control channel maps each to a Varlink error.
public enum EngineError: Error, Sendable, CustomStringConvertible {
    case noSuchItem(String)
    case ambiguousItem(String, candidates: [String])
    /// The refusal as the client gets it, with the one sentence that explains it.
    case invalidEvent(Tracker.InvalidEvent)
    case invalidParameter(name: String, reason: String)
    case storage(StoreError)
    /// A write on a standby (docs/contracts.md §15): the active daemon, if one is, takes it.
    case notActive(method: String, activeHost: String?)

    public var description: String {
        switch self {
        case let .noSuchItem(id): return "no item \"\(id)\""
        case let .ambiguousItem(id, candidates): return "\"\(id)\" is ambiguous: \(candidates.joined(separator: ", "))"
        case let .invalidEvent(refusal): return refusal.description
        case let .invalidParameter(name, reason): return "\(name): \(reason)"
        case let .storage(error): return error.description
        case let .notActive(_, activeHost):
            return "this accordd is standing by: writes go to the active one" + (activeHost.map { " (\($0))" } ?? ", and none is active right now")
        }
    }
}

/// Answers whether a reminder reached the journal, to settle claims a crash interrupted.
public protocol JournalLookup: Sendable {
    /// The keys among `keys` whose entry the daemon itself wrote; nil when the journal cannot be read.
    func written(among keys: [String]) -> Set<String>?
}

/// The daemon's bookkeeping between the plan, the ledger and the journal (docs/contracts.md §5):
/// each reminder fires once; late ones fire as catch-up, the latest per deadline only;
/// older than `catch-up` they are recorded as missed.
///
/// Not thread-safe: the daemon confines it to one serial queue.
public final class ReminderEngine: @unchecked Sendable {
    public private(set) var configuration: LoadedConfiguration
    public private(set) var plan: ReminderPlan
    private var cursor: PlanCursor
    private var firstLoaded: [String: Instant] = [:]
    public let store: StateStore
    let clock: any WallClock
    let journal: any JournalSink
    let logger: Logger
    /// What the ledger could not take yet (a full disk), retried on every round; nil while the
    /// ledger is healthy.
    private var backlog: LedgerBacklog?
    private struct LedgerBacklog {
        /// Ledger lines not written yet.
        var entries: [LedgerEntry]
        /// Keys fired in this run whose ledger line is not committed: never fired twice meanwhile.
        var firedKeys: Set<String>
    }
    /// A reminder this late fires as catch-up rather than on time (a suspended machine).
    public var lateness: Int64 = 60
    /// Anything due before this came due while the daemon was down: catch-up, however recent.
    private let startedAt: Instant
    /// Ledger lines by outcome, kept up to date here so that Status never queries the database.
    public private(set) var ledgerCounts: [LedgerEntry.Outcome: Int] = [:]
    /// Called for each reminder written to the journal (Watch clients, the notify hook).
    public var onFired: ((Reminder, _ catchUp: Bool) -> Void)?
    /// Called after every re-plan (a write, a reload, a clock change): the plan may have moved.
    public var onReplanned: ((ReminderPlan) -> Void)?
    /// Called for each digest written to the journal (the notify hook, with the text on stdin).
    public var onDigest: ((Digest, JournalEntry) -> Void)?
    /// When the next digest is due (docs/contracts.md §14); nil without `digest`. On the same
    /// timer as the reminders: `nextFireAt()` is the earlier of the two.
    public private(set) var digestAt: Instant?

    /// A standby's engine (docs/contracts.md §15): it plans from the shared database to answer
    /// reads, and never claims, fires nor settles. Set at init, or by `standDown()`; a standby
    /// that takes over gets a new engine, started as a restart would be.
    public private(set) var standby: Bool
    /// Asked just before an armed batch goes to the journal (its claims were made ahead, when
    /// this daemon held the leader lock): false stops it. The daemon's leader-lock check.
    public var mayFire: (() -> Bool)?
    /// Set when a fenced claim was refused or `mayFire` said no: this daemon is no longer the
    /// active one, fired nothing more, and must stand by.
    public private(set) var lostLeadership = false

    /// The next batch, taken off the cursor, claimed in the ledger and built ahead of its
    /// second, so that when the timer fires only the journal writes remain. The claims are the
    /// ones docs/contracts.md §5 makes before writing (pending until settled); a crash in between leaves
    /// them to `settlePending`, like any other interrupted claim.
    private struct ArmedBatch {
        var fireAt: Instant
        var reminders: [Reminder]
        var entries: [JournalEntry]
    }
    /// What has been taken off the cursor and not fired yet: nothing, the armed batch, or
    /// reminders carried to the ordinary path (their claim failed, or their batch came due
    /// late), which go ahead of the cursor. A batch is armed only when nothing is carried and
    /// the ledger has no backlog, so the two never coexist.
    private enum Ahead {
        case nothing
        case armed(ArmedBatch)
        case carried([Reminder])
    }
    private var ahead: Ahead = .nothing

    private var armed: ArmedBatch? {
        if case let .armed(batch) = ahead { return batch }
        return nil
    }

    private var carried: [Reminder] {
        if case let .carried(reminders) = ahead { return reminders }
        return []
    }

    public struct Round: Sendable {
        public var fired: [Reminder] = []
        public var catchUp: [Reminder] = []
        public var missed: [Reminder] = []
        public var skipped: [Reminder] = []
    }

    /// `standby`: only read the shared state (no first loads registered, no pending claims
    /// settled: they may be the active daemon's armed batch).
    public init(
        configuration: LoadedConfiguration, store: StateStore, clock: any WallClock, journal: any JournalSink,
        lookup: (any JournalLookup)? = nil, logger: Logger, standby: Bool = false
    ) throws(StoreError) {
        self.configuration = configuration
        self.store = store
        self.clock = clock
        self.journal = journal
        self.logger = logger
        self.standby = standby
        let now = clock.now()
        startedAt = now
        if !standby {
            firstLoaded = try store.registerItems(configuration.catalog.items.map(\.fullID), now: now)
            try ReminderEngine.settlePending(store: store, lookup: lookup, logger: logger)
        }
        plan = ReminderPlan(catalog: configuration.catalog, history: try store.history(), escalateAfter: configuration.config.escalateAfter)
        ledgerCounts = try store.ledgerCounts()
        let processed = try store.processedThrough()
        let start = processed.map { $0.adding(seconds: 1) } ?? now
        cursor = plan.cursor(from: start)
        // A digest that came due while the daemon was down is due now (processDigest decides
        // catch-up or missed); on a first start none is, as no reminder is retroactive.
        digestAt = configuration.config.digest?.next(after: processed ?? now.adding(seconds: -1))
    }

    /// Claims left pending by a crash: kept if the journal has the entry, released to fire again if not.
    private static func settlePending(store: StateStore, lookup: (any JournalLookup)?, logger: Logger) throws(StoreError) {
        let pending = try store.pendingKeys()
        guard !pending.isEmpty else { return }
        var written: [String] = [], lost: [String] = []
        let found = lookup?.written(among: pending) ?? []
        for key in pending {
            if found.contains(key) { written.append(key) } else { lost.append(key) }
        }
        try store.settle(written, processedThrough: nil)
        try store.release(lost)
        logger.notice(
            "settled \(pending.count) reminder(s) interrupted by a crash: \(written.count) had reached the journal, \(lost.count) will fire again")
    }

    public var now: Instant { clock.now() }

    /// When the next reminder, digest or journal retry is due, if any.
    public func nextFireAt() -> Instant? {
        var next = armed?.fireAt ?? carried.first?.fireAt ?? cursor.peekFireAt()
        if let digestAt { next = min(next ?? digestAt, digestAt) }
        if let retry = unsent.map(\.retryAt).min() { next = min(next ?? retry, retry) }
        return next
    }

    /// Reminders claimed whose journal write failed: not fired (not counted, not told to Watch
    /// clients), retried on the one timer, then recorded missed. Their ledger lines stay pending,
    /// so a stop in between leaves them to fire again at the next start.
    private struct Unsent {
        var reminder: Reminder
        var catchUp: Bool
        var entry: JournalEntry
        /// Writes tried so far.
        var attempts: Int
        var retryAt: Instant
    }
    private var unsent: [Unsent] = []
    /// Seconds before each retry of a failed journal write: 1, 2, 4, 8, 16 and 32, about a minute
    /// in all. journald restarting (systemd restarts it at once, in well under a second) or
    /// draining a full socket buffer is over long before; an outage longer than a minute is
    /// recorded for what it is, a missed reminder, rather than retried without end.
    public var journalRetryDelays: [Int64] = [1, 2, 4, 8, 16, 32]

    /// Writes one reminder's entry; a failed write joins `unsent` instead of counting as fired.
    private func write(_ entry: JournalEntry, of reminder: Reminder, catchUp: Bool, at now: Instant) -> Bool {
        if journal.send(entry) { return true }
        unsent.append(
            Unsent(reminder: reminder, catchUp: catchUp, entry: entry, attempts: 1, retryAt: now.adding(seconds: journalRetryDelays.first ?? 0)))
        logger.warning(
            "the journal did not take reminder \(reminder.key); retrying in \(journalRetryDelays.first ?? 0) s",
            metadata: ["ACCORD_REMINDER": "\(reminder.key)"])
        return false
    }

    /// Retries the failed journal writes that are due: written, a reminder is fired (settled,
    /// counted, told); after the last retry it is recorded missed with the reason.
    private func retryUnsent(at now: Instant, into round: inout Round) {
        guard unsent.contains(where: { $0.retryAt <= now }) else { return }
        var still: [Unsent] = []
        var written: [String] = []
        for var item in unsent {
            guard item.retryAt <= now else {
                still.append(item)
                continue
            }
            if journal.send(item.entry) {
                written.append(item.reminder.key)
                ledgerCounts[.fired, default: 0] += 1
                if item.catchUp { round.catchUp.append(item.reminder) } else { round.fired.append(item.reminder) }
                continue
            }
            item.attempts += 1
            if item.attempts <= journalRetryDelays.count {
                item.retryAt = now.adding(seconds: journalRetryDelays[item.attempts - 1])
                still.append(item)
                continue
            }
            let reason = "the journal refused the entry \(item.attempts) times over \(journalRetryDelays.reduce(0, +)) s (sd_journal_sendv failed)"
            do {
                try store.markMissed(item.reminder.key, reason: reason, at: now)
                ledgerCounts[.missed, default: 0] += 1
            } catch {
                logger.error("cannot record reminder \(item.reminder.key) as missed", metadata: ["ERROR": "\(error)"])
            }
            logger.error(
                "reminder \(item.reminder.key) recorded missed: \(reason)", metadata: ["ACCORD_REMINDER": "\(item.reminder.key)"])
        }
        unsent = still
        if !written.isEmpty { settle(written, nil) }
    }

    /// The next reminder, without consuming it; kept until the cursor moves.
    public func peekNext() -> Reminder? {
        if let first = armed?.reminders.first ?? carried.first { return first }
        if let cachedNext { return cachedNext }
        let next = cursor.peek()
        cachedNext = .some(next)
        return next
    }
    private var cachedNext: Reminder??

    /// Fires everything that is due now, and records what happened. The digest goes first: its
    /// claim must be made before this round moves the ledger's checkpoint past its time, so that
    /// a crash between claim and journal leaves it to fire at the next start.
    @discardableResult
    public func processDue() -> Round {
        processDigest()
        return processReminders()
    }

    private func processReminders() -> Round {
        let now = clock.now()
        var round = Round()
        if standby { return round }
        if let batch = armed, batch.fireAt <= now {
            // Claimed ahead, while the lock was held: asked again now, so that a daemon stopped
            // (SIGSTOP) past a takeover fires nothing when it runs again.
            if let mayFire, !mayFire() {
                lostLeadership = true
                standDown()
                return round
            }
            ahead = .nothing
            if now.seconds - batch.fireAt.seconds <= lateness {
                // The usual case: claimed and built already, so the journal gets them at once.
                for (entry, reminder) in zip(batch.entries, batch.reminders)
                where write(entry, of: reminder, catchUp: false, at: now) {
                    round.fired.append(reminder)
                }
                ledgerCounts[.fired, default: 0] += round.fired.count
            } else {
                disarm(batch)  // a suspended machine: catch-up and missed rules decide, below
            }
        }
        retryUnsent(at: now, into: &round)
        var onTime: [Reminder] = []
        var late: [Substring: Reminder] = [:]
        var lateOrder: [Substring] = []
        var entries: [LedgerEntry] = []
        let catchUpSeconds = configuration.config.catchUp.approximateSeconds
        while let reminder = nextDue(at: now) {
            let age = now.seconds - reminder.fireAt.seconds
            if reminder.fireAt < (firstLoaded[reminder.itemID] ?? now) {
                round.skipped.append(reminder)
            } else if age > catchUpSeconds {
                round.missed.append(reminder)
            } else if age > lateness || reminder.fireAt < startedAt {
                if let earlier = late.updateValue(reminder, forKey: reminder.occurrenceKey) {
                    round.skipped.append(earlier)  // superseded: only the latest per deadline fires
                } else {
                    lateOrder.append(reminder.occurrenceKey)
                }
            } else {
                onTime.append(reminder)
            }
        }
        // A late reminder is superseded by a later one of the same deadline, on time or late.
        let onTimeOccurrences = Set(onTime.map(\.occurrenceKey))
        var catchUp: [Reminder] = []
        for occurrence in lateOrder {
            guard let reminder = late[occurrence] else { continue }
            if onTimeOccurrences.contains(occurrence) {
                round.skipped.append(reminder)
            } else {
                catchUp.append(plan.retimed(reminder, firingAt: now))
            }
        }
        for reminder in round.skipped {
            entries.append(LedgerEntry(key: reminder.key, itemID: reminder.itemID, outcome: .skipped, scheduledAt: reminder.fireAt, at: now))
        }
        for reminder in round.missed {
            entries.append(LedgerEntry(key: reminder.key, itemID: reminder.itemID, outcome: .missed, scheduledAt: reminder.fireAt, at: now))
        }
        let toFire = onTime.map { ($0, false) } + catchUp.map { ($0, true) }
        for (reminder, isCatchUp) in toFire {
            entries.append(
                LedgerEntry(
                    key: reminder.key, itemID: reminder.itemID, outcome: .fired,
                    scheduledAt: reminder.fireAt, at: now, catchUp: isCatchUp))
        }
        let armedKeys = round.fired.map(\.key)
        if entries.isEmpty && backlog == nil {
            settle(armedKeys, now)
            notify(round)
            arm(after: now)
            return round
        }

        var claimed: Set<String>
        do {
            let batch = (backlog?.entries ?? []) + entries
            claimed = try claim(batch)
            for entry in batch where claimed.contains(entry.key) { ledgerCounts[entry.outcome, default: 0] += 1 }
            backlog = nil
        } catch  where error.notActive || mayFire != nil {
            // Another daemon is active (or will be within takeover): it fires these. On a shared
            // database any failed claim counts so (the database went away, say): firing without
            // the ledger, as a lone daemon does on a full disk, would fire them twice once
            // another daemon takes over.
            logger.warning(
                "a claim failed on the shared database: this daemon stands by rather than fire without it",
                metadata: ["ERROR": "\(error)"])
            lostLeadership = true
            notify(round)
            standDown()
            return round
        } catch {
            // The ledger cannot be written: the journal still gets every reminder, once.
            logger.error("cannot record reminders in the ledger; firing them anyway", metadata: ["ERROR": "\(error)"])
            var pending = backlog ?? LedgerBacklog(entries: [], firedKeys: [])
            claimed = Set(entries.filter { $0.outcome == .fired && !pending.firedKeys.contains($0.key) }.map(\.key))
            pending.entries += entries.filter { !pending.firedKeys.contains($0.key) }
            backlog = pending
        }
        var firedKeys = armedKeys
        for (reminder, isCatchUp) in toFire where claimed.contains(reminder.key) {
            guard write(JournalEntry.reminder(reminder, catchUp: isCatchUp), of: reminder, catchUp: isCatchUp, at: now) else {
                if backlog == nil { ledgerCounts[.fired, default: 0] -= 1 }  // counted at the claim; not fired
                continue
            }
            firedKeys.append(reminder.key)
            if isCatchUp { round.catchUp.append(reminder) } else { round.fired.append(reminder) }
        }
        notify(round)
        if backlog != nil {
            backlog!.firedKeys.formUnion(firedKeys)
            return round
        }
        settle(firedKeys, now)
        arm(after: now)
        return round
    }

    /// The next reminder due at `now`: carried ones first (they are never later than the cursor's).
    private func nextDue(at now: Instant) -> Reminder? {
        if case var .carried(reminders) = ahead, let first = reminders.first {
            guard first.fireAt <= now else { return nil }
            reminders.removeFirst()
            ahead = reminders.isEmpty ? .nothing : .carried(reminders)
            return first
        }
        guard let next = cursor.peekFireAt(), next <= now else { return nil }
        cachedNext = nil
        return cursor.next()
    }

    /// Watch clients and the notify hook hear of a round once all of it is in the journal, so
    /// that no reminder waits for them.
    private func notify(_ round: Round) {
        guard let onFired else { return }
        for reminder in round.fired { onFired(reminder, false) }
        for reminder in round.catchUp { onFired(reminder, true) }
    }

    /// Marks reminders as written to the journal, and everything before `now` as dealt with,
    /// so that a restart need not look further back.
    private func settle(_ keys: [String], _ now: Instant?) {
        // Not past a reminder whose journal write is still being retried: a restart meanwhile
        // must plan it again (its pending claim is then released, docs/contracts.md §5).
        var through = now
        if let now, let earliest = unsent.map(\.reminder.fireAt).min() { through = min(now, earliest.adding(seconds: -1)) }
        do {
            try store.settle(keys, processedThrough: through)
        } catch {
            logger.error("cannot mark reminders as written in the ledger", metadata: ["ERROR": "\(error)"])
        }
    }

    /// Takes the next batch off the cursor and claims it, unless something is due already or
    /// the ledger is in trouble (then everything stays on the ordinary path).
    private func arm(after now: Instant) {
        while !standby, case .nothing = ahead, backlog == nil, let fireAt = cursor.peekFireAt(), fireAt > now {
            var reminders: [Reminder] = []
            while cursor.peekFireAt() == fireAt, let reminder = cursor.next() { reminders.append(reminder) }
            cachedNext = nil
            // Items are registered before anything is planned for them, so a batch after `now`
            // is never before an item's first load nor before the start: it fires on time.
            let claims = reminders.map {
                LedgerEntry(key: $0.key, itemID: $0.itemID, outcome: .fired, scheduledAt: fireAt, at: fireAt)
            }
            do {
                let claimed = try claim(claims)
                let kept = reminders.filter { claimed.contains($0.key) }
                if !kept.isEmpty {
                    ahead = .armed(
                        ArmedBatch(
                            fireAt: fireAt, reminders: kept,
                            entries: kept.map { JournalEntry.reminder($0, catchUp: false) }))
                }
            } catch  where error.notActive {
                lostLeadership = true
                standDown()
            } catch {
                ahead = .carried(reminders)
            }
        }
    }

    /// Stops firing for good (this daemon lost the leader lock): what was armed or carried is
    /// dropped, not released, since its claims may be the new active daemon's by now. The plan
    /// stays, for reads.
    public func standDown() {
        standby = true
        ahead = .nothing
        backlog = nil
        heldClaims = []
        cachedNext = nil
    }

    /// A standby's view of the shared database, read again (every third of takeover): the
    /// active daemon's writes reach List, Show and Upcoming here, and Status's next reminder
    /// follows the active daemon's checkpoint. Events, acknowledgements and snoozes are only
    /// ever appended, so their counts say whether the plan must be built again. True when it was.
    @discardableResult
    public func refreshStandby() throws(StoreError) -> Bool {
        guard standby else { return false }
        let history = try store.history()
        ledgerCounts = try store.ledgerCounts()
        let processed = try store.processedThrough()
        let now = clock.now()
        let counts = [history.events.count, history.acknowledgements.count, history.snoozes.count]
        let changed = counts != historyCounts
        if changed {
            historyCounts = counts
            plan = makePlan(history)
        }
        cursor = plan.cursor(from: max(processed ?? now, now).adding(seconds: 1))
        cachedNext = nil
        if changed { onReplanned?(plan) }
        return changed
    }
    private var historyCounts: [Int] = []

    /// Gives an armed batch back: its claims are released and its reminders carried to the
    /// ordinary path. A release that fails leaves pending lines that the next start settles;
    /// until then their keys stay claimable by this run.
    private func disarm(_ batch: ArmedBatch) {
        let keys = batch.reminders.map(\.key)
        do { try store.release(keys) } catch {
            logger.warning("cannot release claimed reminders", metadata: ["ERROR": "\(error)"])
            heldClaims.formUnion(keys)
        }
        ahead = .carried(batch.reminders + carried)
    }
    /// Pending claims of this run that could not be released: ours to fire when due.
    private var heldClaims: Set<String> = []

    /// The keys that are now this run's to fire: newly claimed, or held from an earlier claim.
    private func claim(_ entries: [LedgerEntry]) throws(StoreError) -> Set<String> {
        var claimed = try store.claim(entries)
        for entry in entries where heldClaims.remove(entry.key) != nil { claimed.insert(entry.key) }
        return claimed
    }

    /// Releases the armed batch: before a re-plan, and at a clean stop so that no pending
    /// claim is left behind.
    public func releaseArmedBatch() {
        if let batch = armed {
            ahead = .nothing
            disarm(batch)
        }
    }

    /// The plan of the loaded configuration over `history`, escalations included (§14).
    private func makePlan(_ history: History) -> ReminderPlan {
        ReminderPlan(catalog: configuration.catalog, history: history, escalateAfter: configuration.config.escalateAfter)
    }

    /// Re-plans from the recorded history, continuing after what is already processed.
    public func replan() throws(StoreError) {
        adopt(makePlan(try store.history()))
    }

    /// Takes a plan built from the recorded history (or from the history a write is about to
    /// record): nothing in here can fail, so a committed write is never reported as failed.
    /// `since`: the new plan's reminders from then on that the ledger does not hold yet fire
    /// now, late (a reload's request: see `reload`); without it the plan starts after now.
    private func adopt(_ new: ReminderPlan, since: Instant? = nil) {
        let now = clock.now()
        processDue()
        // The new plan may drop or change what was armed: start again from it.
        releaseArmedBatch()
        ahead = .nothing
        plan = new
        if let since, since <= now {
            // What the old plan fired or recorded since then is claimed in the ledger already,
            // so the claim step leaves it out: only what is new in this plan fires.
            cursor = plan.cursor(from: since)
        } else {
            let processed = (try? store.processedThrough()) ?? nil
            cursor = plan.cursor(from: max(processed ?? now, now).adding(seconds: 1))
        }
        cachedNext = nil
        // A wall clock set back leaves the next digest a period ahead of the new time at most;
        // one already written is not again (its key is in the ledger).
        if let schedule = configuration.config.digest { digestAt = schedule.next(after: now.adding(seconds: -1)) }
        arm(after: now)
        onReplanned?(plan)
    }

    /// Takes a new configuration whole (it was fully validated by the loader). `requestedAt`:
    /// when the reload was asked for (SIGHUP, Reload), before the files were read. Its items are
    /// known from then, and what the new plan has due from then on fires, late if need be: at
    /// 1,000,000 items a reload takes 20 s, and a reminder added 3 s ahead of it was skipped as
    /// "before its item was known" or passed over by the new plan's cursor, which began after
    /// the reload had finished.
    public func reload(_ new: LoadedConfiguration, requestedAt: Instant? = nil) throws(StoreError) {
        processDue()
        // The same catalog (no portfolio, calendar or zone changed: PortfolioCache) and the same
        // escalate-after give the same plan from the same history, which every write of this
        // daemon keeps current: the items are registered already and the plan stays. At 100,000
        // items that is what keeps a reload with nothing changed under 0.2 s (registering and
        // planning again took over 0.5 s).
        let samePlan = new.catalogUnchanged && new.config.escalateAfter == configuration.config.escalateAfter
        let requested = min(requestedAt ?? clock.now(), clock.now())
        if !standby && !samePlan { firstLoaded = try store.registerItems(new.catalog.items.map(\.fullID), now: requested) }
        // A new or changed digest starts from now: not retroactive, like a new item's reminders.
        if new.config.digest != configuration.config.digest { digestAt = new.config.digest?.next(after: clock.now().adding(seconds: -1)) }
        configuration = new
        if !samePlan { adopt(makePlan(try store.history()), since: requested) }
    }

    // MARK: the digest

    /// The ledger key of the digest scheduled for `at`: never claimed twice, like a reminder's.
    public static func digestKey(_ at: Instant) -> String { "digest:\(at.rfc3339)" }

    /// The digest as it stands now, looking one period ahead (`accordctl digest`); `within`
    /// replaces the period. Nil without a period to look ahead by.
    public func currentDigest(within: ISODuration? = nil) -> Digest? {
        guard let period = within ?? configuration.config.digest?.period else { return nil }
        return Digest.make(plan: plan, at: clock.now(), period: period, zone: configuration.config.digest?.zone ?? .utc)
    }

    /// Writes the digest when one is due (docs/contracts.md §14). Of the digests that came due
    /// while the daemon was down (or the machine slept) only the latest is written, marked
    /// catch-up, with the state as it is now; older than `catch-up`, it is recorded as missed
    /// instead. Like a reminder it is claimed in the ledger before the journal write, so it is
    /// written at most once, and a crash in between settles like a reminder's (`settlePending`).
    private func processDigest() {
        let now = clock.now()
        // A standby writes no digest: the active daemon does, once, claimed in the shared ledger.
        guard !standby, let schedule = configuration.config.digest, let due = digestAt, due <= now else { return }
        digestAt = schedule.next(after: now)
        let scheduled = schedule.latest(atOrBefore: now) ?? due
        let key = ReminderEngine.digestKey(scheduled)
        let age = now.seconds - scheduled.seconds
        let catchUp = age > lateness || scheduled < startedAt
        if age > configuration.config.catchUp.approximateSeconds {
            let entry = LedgerEntry(key: key, itemID: "", outcome: .missed, scheduledAt: scheduled, at: now)
            if let claimed = try? claim([entry]), claimed.contains(key) {
                try? store.settle([key], processedThrough: nil)
                ledgerCounts[.missed, default: 0] += 1
            }
            logger.notice("the digest of \(scheduled.rfc3339) is older than catch-up (\(configuration.config.catchUp)); recorded as missed")
            return
        }
        do {
            let claimed = try claim([
                LedgerEntry(key: key, itemID: "", outcome: .fired, scheduledAt: scheduled, at: now, catchUp: catchUp)
            ])
            guard claimed.contains(key) else { return }  // written before this run: never twice
            ledgerCounts[.fired, default: 0] += 1
        } catch {
            logger.error("cannot record the digest in the ledger; writing it anyway", metadata: ["ERROR": "\(error)"])
        }
        let digest = Digest.make(plan: plan, at: now, period: schedule.period, zone: schedule.zone)
        let entry = JournalEntry.digest(digest, key: key, scheduledAt: scheduled, catchUp: catchUp)
        journal.send(entry)
        do { try store.settle([key], processedThrough: nil) } catch {
            logger.error("cannot mark the digest as written in the ledger", metadata: ["ERROR": "\(error)"])
        }
        onDigest?(digest, entry)
    }

    // MARK: writes

    public func resolve(_ id: String) throws(EngineError) -> Int {
        switch plan.catalog.lookup(id) {
        case let .found(index): return index
        case .notFound: throw .noSuchItem(id)
        case let .ambiguous(candidates): throw .ambiguousItem(id, candidates: candidates)
        }
    }

    /// Records an event after checking it against the item's lifecycle.
    public func record(
        id: String, event eventName: String, on: CivilDate?, note: String?, term: ISODuration?, party: String? = nil,
        actor: Actor, request: String? = nil
    ) throws(EngineError) -> (event: StoredEvent, state: ItemState) {
        let index = try resolve(id)
        let item = plan.catalog.items[index]
        let now = clock.now()
        let today = item.settings.zone.local(at: now).date
        let allowed = Lifecycle.allowedEvents(item: item, timeline: plan.timelines[index])
        guard let type = EventType(rawValue: eventName) else {
            throw .invalidEvent(
                Tracker.InvalidEvent(
                    id: item.fullID, event: eventName, state: plan.timelines[index].latestState.rawValue, allowed: allowed.map(\.rawValue),
                    reason: "unknown event; events are \(EventType.forKind(item.kind).map(\.rawValue).joined(separator: ", "))"))
        }
        if let party, party.utf8.count > 256 || party.contains(where: \.isNewline) {
            throw .invalidParameter(name: "party", reason: "must be one line of at most 256 bytes")
        }
        do {
            _ = try Lifecycle.validate(type, item: item, timeline: plan.timelines[index], term: term)
            try Lifecycle.validate(party: party, for: type, item: item, timeline: plan.timelines[index])
        } catch {
            throw .invalidEvent(
                Tracker.InvalidEvent(
                    id: item.fullID, event: eventName, state: error.state.rawValue,
                    allowed: error.allowed.map(\.rawValue), reason: error.reason))
        }
        if let note, note.utf8.count > 4096 { throw .invalidParameter(name: "note", reason: "is longer than 4096 bytes") }
        let new = NewEvent(itemID: item.fullID, type: type, on: on ?? today, note: note, term: term, party: party)
        processDue()
        // Validated and planned before anything is committed (issue 16, defect 8): the history is
        // read and the plan the event leads to built first, so that nothing can fail once the
        // event is stored and the client is never told "failed" about a write that was made.
        var history = try readHistory()
        let predictedID = (history.events.map(\.id).max() ?? 0) + 1
        func itemEvent(_ eventID: Int64) -> ItemEvent {
            var event = ItemEvent(id: eventID, itemID: new.itemID, type: type, on: new.on, recordedAt: now, term: term, recordedBy: actor.user)
            event.party = party
            return event
        }
        history.events.append(itemEvent(predictedID))
        var next = makePlan(history)
        let state = next.timelines[index].latestState
        let stored: StoredEvent
        do {
            stored = try store.append(
                new, actor: actor, at: now,
                request: request.map { requestID in
                    WriteRequest(id: requestID) { eventID in
                        Tracker.Record.Reply(
                            event: Tracker.Event(id: eventID, new, recordedAt: now, actor: actor), state: state.rawValue
                        ).wireValue().jsonText
                    }
                })
        } catch {
            throw .storage(error)
        }
        if stored.id != predictedID {  // the database numbered it otherwise (a PostgreSQL sequence may skip)
            history.events[history.events.count - 1] = itemEvent(stored.id)
            next = makePlan(history)
        }
        adopt(next)
        return (stored, state)
    }

    /// The recorded history, for a write to plan with before it commits.
    private func readHistory() throws(EngineError) -> History {
        do { return try store.history() } catch { throw .storage(error) }
    }

    /// The reply a write made with this request id gave, if one was made: a retry gets it again
    /// and changes nothing. The id of another method or user is refused, never answered.
    public func priorReply(request: String, action: String, actor: Actor) throws(EngineError) -> String? {
        let outcome: RequestOutcome?
        do { outcome = try store.requestOutcome(request) } catch { throw .storage(error) }
        guard let outcome else { return nil }
        guard outcome.action == action, outcome.uid == actor.uid else {
            throw .invalidParameter(name: "request", reason: "was used for another write; send a new one for each write")
        }
        return outcome.reply
    }

    /// Silences the rest of one deadline occurrence.
    public func acknowledge(
        id: String, deadline: String?, actor: Actor, request: String? = nil
    ) throws(EngineError) -> (
        item: Item, deadline: DeadlineStatus
    ) {
        let index = try resolve(id)
        let item = plan.catalog.items[index]
        let now = clock.now()
        var kind: DeadlineKind?
        if let deadline {
            guard let parsed = DeadlineKind(rawValue: deadline) else {
                throw .invalidParameter(
                    name: "deadline", reason: "\"\(deadline)\" is not a deadline; deadlines are due, sign-by, expiry, renewal-notice")
            }
            kind = parsed
        }
        let candidates = plan.deadlines(ofItem: index, at: now).filter { !$0.acknowledged && (kind == nil || $0.kind == kind) }
        guard let target = candidates.first(where: \.passed) ?? candidates.first else {
            throw .invalidEvent(
                Tracker.InvalidEvent(
                    id: item.fullID, event: "acknowledge", state: plan.state(ofItem: index, at: now).rawValue,
                    allowed: [], reason: "no \(kind?.rawValue ?? "") deadline is pending to acknowledge"))
        }
        let ack = Acknowledgement(itemID: item.fullID, deadline: target.kind, deadlineTime: target.time.description, at: now)
        processDue()
        var history = try readHistory()  // planned before it is committed, as Record is
        history.acknowledgements.append(ack)
        let next = makePlan(history)
        let reply = Tracker.Acknowledge.Reply(item: item.fullID, deadline: target.kind.rawValue, deadlineAt: target.at.rfc3339)
        do {
            try store.acknowledge(ack, actor: actor, request: request.map { WriteRequest(id: $0) { _ in reply.wireValue().jsonText } })
        } catch {
            throw .storage(error)
        }
        adopt(next)
        return (item, target)
    }

    /// Holds an item's reminders for a while; the latest held per deadline fires at the end.
    public func snooze(
        id: String, for duration: ISODuration, actor: Actor, request: String? = nil
    ) throws(EngineError) -> (
        item: Item, until: Instant
    ) {
        let index = try resolve(id)
        let item = plan.catalog.items[index]
        guard !duration.isZero else { throw .invalidParameter(name: "for", reason: "must be longer than zero") }
        guard duration.approximateSeconds <= 366 * 86_400 else { throw .invalidParameter(name: "for", reason: "may be a year at most") }
        let now = clock.now()
        let until = item.settings.zone.adding(duration, to: now)
        let snooze = Snooze(itemID: item.fullID, from: now, until: until)
        processDue()
        var history = try readHistory()  // planned before it is committed, as Record is
        history.snoozes.append(snooze)
        let next = makePlan(history)
        let reply = Tracker.Snooze.Reply(item: item.fullID, until: until.rfc3339)
        do {
            try store.snooze(snooze, actor: actor, request: request.map { WriteRequest(id: $0) { _ in reply.wireValue().jsonText } })
        } catch {
            throw .storage(error)
        }
        adopt(next)
        return (item, until)
    }
}
