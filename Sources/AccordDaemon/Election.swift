// Two hosts, one reminder (docs/contracts.md §15): which of several daemons sharing one
// PostgreSQL database fires. The active one holds the leader lock (AccordStore's LeaderLock)
// and proves it every sixth of `takeover`; the others stand by, answer reads from the shared
// database and try the lock every third of `takeover`. All of it runs on the daemon's queue,
// from the one timer: an election tick is one more deadline of that timer, never a thread.
import AccordCalendar
import AccordCore
import AccordStore
import Glibc

/// What this daemon does with the shared state.
public enum Role: String, Sendable {
    /// SQLite: the only daemon on its state; no election.
    case single
    /// Holds the leader lock: fires, and takes writes.
    case active
    /// Another daemon holds the lock, or none does and this one has not got it yet.
    case standby
}

extension Daemon {
    /// At start: the leader session, the fence on the store's claims, and a first try.
    func joinElection(_ state: StateConfig, store: any StateStore) {
        let leader: LeaderLock
        do {
            leader = try LeaderLock(state)
        } catch {
            fail("cannot open the leader session on the state database: \(error)", exitCode: 74)
        }
        self.leader = leader
        (store as? PostgresStateStore)?.fence = leader
        var acquired = false
        do { acquired = try leader.tryAcquire() } catch { logger.warning("cannot try the leader lock", metadata: ["ERROR": "\(error)"]) }
        role = acquired ? .active : .standby
        activeHost = acquired ? leader.name : leader.holder()
        electionInterval = Double(state.takeover.approximateSeconds) / 3
        scheduleElectionTick()
    }

    /// One tick: the active daemon checks that it still holds the lock (the query also keeps
    /// its session from the server's silence limit); a standby tries to take it, or else reads
    /// the shared state again for its replies.
    func electionTick() {
        guard let leader else { return }
        defer { scheduleElectionTick() }
        switch role {
        case .single:
            return
        case .active:
            if !leader.isHeld() { standBy(reason: "lost the leader lock: its database session ended or cannot be reached") }
        case .standby:
            var acquired = false
            do {
                acquired = try leader.tryAcquire()
                standbyProblem = nil
            } catch {
                if standbyProblem != error.message {
                    logger.warning("cannot reach the state database to try the leader lock", metadata: ["ERROR": "\(error)"])
                }
                standbyProblem = error.message
            }
            if acquired {
                takeOver()
            } else {
                activeHost = leader.holder()
                do { try engine.refreshStandby() } catch {
                    if standbyProblem == nil {
                        logger.warning("cannot read the shared state", metadata: ["ERROR": "\(error)"])
                    }
                }
            }
        }
    }

    /// The next tick: a sixth of `takeover` ahead for the active daemon, so that its lock
    /// session speaks three times within the server's silence limit (half of `takeover`) and a
    /// stall of a third of `takeover` is needed to lose it; a third ahead for a standby.
    func scheduleElectionTick() {
        nextElectionAt = Daemon.readClocks().wall + (role == .active ? electionInterval / 2 : electionInterval)
    }

    /// The lock is ours: a new engine, built as a start builds it (first loads, pending claims
    /// settled against the journal, the checkpoint), then what came due while no daemon was
    /// active fires under docs/contracts.md §5's catch-up rules, exactly as after a restart.
    func takeOver() {
        guard let leader else { return }
        let new: ReminderEngine
        do {
            new = try makeEngine(engine.configuration, store: engine.store, standby: false)
        } catch {
            logger.error("took the leader lock but cannot read the state database; giving it back", metadata: ["ERROR": "\(error)"])
            leader.release()
            return
        }
        engine = new
        role = .active
        activeHost = leader.name
        announceRole(previous: leader.previousHolder, reason: nil)
        let round = engine.processDue()
        if !round.catchUp.isEmpty || !round.missed.isEmpty {
            logger.notice("after the takeover: \(round.catchUp.count) reminder(s) caught up, \(round.missed.count) recorded missed")
        }
        calendar?.publish(engine.plan, at: engine.now)
    }

    /// This daemon is no longer (or not yet) the active one: it fires nothing more, drops what
    /// it had claimed ahead without releasing it (the new active daemon settles it), and stands by.
    func standBy(reason: String) {
        engine.standDown()
        role = .standby
        activeHost = leader?.holder()
        announceRole(previous: nil, reason: reason)
    }

    /// The became-active or standing-by entry, and sd_notify's STATUS (the role leads it).
    func announceRole(previous: String?, reason: String?) {
        guard let leader else { return }
        switch role {
        case .single:
            return
        case .active:
            var fields: [(String, String)] = [("ACCORD_ROLE", "active"), ("ACCORD_ACTIVE", leader.name)]
            if let previous { fields.append(("ACCORD_PREVIOUS", previous)) }
            if let problem = leader.silenceLimitProblem {
                logger.warning(
                    "the database takes no idle_session_timeout (PostgreSQL 14 or later has it): a stopped daemon would keep the leader lock",
                    metadata: ["ERROR": "\(problem)"])
            }
            journal.send(
                JournalEntry(
                    message: "accordd became active (\(leader.name)): it fires the reminders of \(engine.store.path)"
                        + (previous.map { "; \($0) was active before" } ?? ""),
                    priority: 5, messageID: MessageID.becameActive, fields: fields))
        case .standby:
            var fields: [(String, String)] = [("ACCORD_ROLE", "standby")]
            if let activeHost { fields.append(("ACCORD_ACTIVE", activeHost)) }
            if let reason { fields.append(("ACCORD_REASON", reason)) }
            journal.send(
                JournalEntry(
                    message: "accordd standing by (\(leader.name)): "
                        + (activeHost.map { "\($0) is active" } ?? "no daemon is active yet") + (reason.map { "; \($0)" } ?? "")
                        + "; trying the lock every \(RelativeText.seconds(electionInterval))",
                    priority: reason == nil ? 5 : 4, messageID: MessageID.standingBy, fields: fields))
        }
        systemd.status(statusText())
    }

    /// The start of sd_notify's STATUS: "active; ", "standby (active: NAME); ", nothing on SQLite.
    func roleText() -> String {
        switch role {
        case .single: return ""
        case .active: return "active; "
        case .standby: return "standby (active: \(activeHost ?? "none yet")); "
        }
    }

    /// Writes are the active daemon's (or the only daemon's). The active one asks the server
    /// first: a daemon cut off since its last tick must not write behind the new one's plan.
    func requireActive(_ method: String) throws(EngineError) {
        if role == .active, let leader, !leader.isHeld() {
            standBy(reason: "lost the leader lock: its database session ended or cannot be reached")
        }
        guard role != .standby else { throw .notActive(method: method, activeHost: activeHost) }
    }
}

/// Seconds for a log sentence: "1 s", "3.3 s".
enum RelativeText {
    static func seconds(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10)) s" : "\(tenths / 10) s"
    }
}
