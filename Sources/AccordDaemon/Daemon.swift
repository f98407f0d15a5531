import AccordCalendar
import AccordCore
import AccordStore
import CAccordShim
import Dispatch
import Glibc
import Logging

/// The running daemon: wires the engine to one wall-clock timer, the journal, systemd,
/// signals and the control socket. Everything runs on one serial queue, so requests,
/// firings and reloads never interleave.
public final class Daemon: @unchecked Sendable {
    // @unchecked: every mutable property is touched only on `queue`.
    let queue = DispatchQueue(label: "accordd")
    let configFile: String
    let journal: SystemJournal
    let logger: Logger
    let systemd = ServiceManager()
    let clock: any WallClock
    var engine: ReminderEngine!
    var paths: DaemonPaths!
    var control: ControlServer?
    var hooks: NotifyHookRunner?
    var calendar: CalendarPublisher?
    /// The portfolios as last parsed: a reload parses only the files that changed.
    let portfolioCache = PortfolioCache()
    /// Several daemons on one PostgreSQL database (docs/contracts.md §15, Election.swift): the
    /// leader lock, this daemon's role, the active daemon's name as last seen, and when the
    /// next election tick is due (wall-clock seconds, on the one timer). nil and single on SQLite.
    var leader: LeaderLock?
    var role: Role = .single
    var activeHost: String?
    var nextElectionAt: Double?
    /// A third of `takeover` in seconds: how often a standby tries the lock (a dead active
    /// daemon's lock is taken within `takeover`); the active one checks it twice as often.
    var electionInterval: Double = 10.0 / 3
    /// Why the last try of the lock could not reach the database, logged once per change.
    var standbyProblem: String?
    private var timer: DispatchSourceTimer?
    private var watchdog: DispatchSourceTimer?
    private var signalSources: [DispatchSourceSignal] = []
    private var clockSource: DispatchSourceRead?
    private var clockFD: Int32 = -1
    /// Wall and monotonic readings taken together, to tell how far a clock change moved.
    private var lastReading: (wall: Double, monotonic: Double) = (0, 0)
    public let startedAt: Instant
    /// The release, as GetInfo and Status report it.
    let version: String
    /// Where GetInfo points a client for documentation.
    static let documentationURL = "man:accordd(8)"

    public init(configFile: String, version: String, clock: any WallClock = SystemClock()) {
        self.configFile = configFile
        self.version = version
        self.clock = clock
        journal = SystemJournal(echoToStderr: isatty(2) != 0)
        let sink = journal
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, sink: sink) }
        logger = Logger(label: "accordd")
        startedAt = clock.now()
    }

    /// Starts and never returns; exits 0 on SIGTERM or SIGINT, non-zero when it cannot start.
    public func runForever() -> Never {
        queue.async { self.start() }
        dispatchMain()
    }

    func fail(_ message: String, exitCode: Int32) -> Never {
        logger.critical("\(message)")
        if !journal.toJournal || isatty(2) == 0 { writeStderr("accordd: \(message)\n") }
        exit(exitCode)
    }

    private func start() {
        for signalNumber in [SIGPIPE, SIGHUP, SIGTERM, SIGINT] { signal(signalNumber, SIG_IGN) }
        let loaded: LoadedConfiguration
        switch ConfigurationLoader.load(configFile: configFile, cache: portfolioCache) {
        case let .failure(problems):
            writeStderr(problems.problems.map { "accordd: \($0)\n" }.joined())
            journal.send(
                JournalEntry(
                    message: "accordd cannot start: configuration rejected (\(problems.problems.count) problem(s)): "
                        + problems.problems.map(\.description).joined(separator: "; "),
                    priority: 3, messageID: MessageID.rejected,
                    fields: [("ACCORD_PROBLEMS", problems.description)]))
            exit(78)
        case let .success(value):
            loaded = value
        }
        let paths = DaemonPaths.resolve(config: loaded.config, environment: DaemonPaths.processEnvironment, isRoot: getuid() == 0)
        self.paths = paths
        do { try paths.checkPrivateDirectory() } catch { fail("\(error)", exitCode: 73) }
        let made = makeDirectories(paths.stateDirectory, mode: 0o750)
        if made != 0 { fail("cannot create the state directory \(paths.stateDirectory): \(String(cString: strerror(made)))", exitCode: 73) }
        let store: StateStore
        do {
            store = try openStateStore(loaded.config.state, sqlitePath: paths.stateFile)
        } catch {
            fail("cannot open the state database: \(error)", exitCode: 74)
        }
        calendar = CalendarPublisher(stateDirectory: paths.stateDirectory, logger: logger)
        if let state = loaded.config.state { joinElection(state, store: store) }
        do {
            engine = try makeEngine(loaded, store: store, standby: role == .standby)
        } catch {
            fail("cannot read the state database: \(error)", exitCode: 74)
        }
        if loaded.config.notify != nil || loaded.config.escalate != nil {
            hooks = NotifyHookRunner(
                hook: loaded.config.notify, escalate: loaded.config.escalate, queue: queue, logger: logger, writeProtected: hookProtected)
        }
        calendar?.publish(engine.plan, at: engine.now)

        do {
            let tracker = TrackerService(backend: self, version: version, url: Daemon.documentationURL)
            control = try ControlServer(
                service: tracker, queue: queue, logger: logger, inherited: systemd.inheritedListener(),
                path: paths.socket, limits: ControlServer.Limits(loaded.config.control))
        } catch {
            fail("cannot listen on the control socket: \(error)", exitCode: 71)
        }

        let round = engine.processDue()
        installSignals()
        installClockWatch()
        installWatchdog()
        armTimer()
        let catalog = loaded.catalog
        journal.send(
            JournalEntry(
                message: "accordd started: \(catalog.portfolioCount) portfolio(s), \(catalog.objectiveCount) objective(s), "
                    + "\(catalog.instrumentCount) instrument(s); \(round.catchUp.count) caught up, \(round.missed.count) missed; "
                    + nextReminderText() + "; state \(engine.store.path), socket \(control?.path ?? paths.socket)"
                    + (leader == nil ? "" : "; \(role.rawValue)"),
                priority: 5, messageID: MessageID.started,
                fields: [
                    ("ACCORD_CONFIG", configFile), ("ACCORD_STATE", engine.store.path), ("ACCORD_SOCKET", control?.path ?? paths.socket),
                    ("ACCORD_ROLE", role.rawValue)
                ]))
        announceRole(previous: leader?.previousHolder, reason: nil)
        systemd.ready(status: statusText())
    }

    /// The engine for `configuration` on `store`, wired to the daemon: what a start builds, and
    /// what a takeover builds again (docs/contracts.md §5 applies to it as to a restart).
    func makeEngine(_ configuration: LoadedConfiguration, store: any StateStore, standby: Bool) throws(StoreError) -> ReminderEngine {
        let engine = try ReminderEngine(
            configuration: configuration, store: store, clock: clock, journal: journal,
            lookup: JournalReader(), logger: logger, standby: standby)
        engine.onFired = { [unowned self] reminder, catchUp in self.fired(reminder, catchUp: catchUp) }
        engine.onDigest = { [unowned self] digest, entry in self.hooks?.run(entry, kind: .digest, input: digest.text, message: digest.summary) }
        engine.onReplanned = { [unowned self] plan in self.calendar?.publish(plan, at: self.engine.now) }
        if let leader { engine.mayFire = { leader.isHeld() } }
        return engine
    }

    func nextReminderText() -> String {
        guard let next = engine.peekNext() else { return "no reminder ahead" }
        return "next reminder \(next.fireAt.rfc3339) \(next.key)"
    }

    func statusText() -> String {
        let catalog = engine.configuration.catalog
        return roleText() + "\(catalog.objectiveCount + catalog.instrumentCount) items; " + nextReminderText()
    }

    // MARK: the timer

    /// Arms the one timer at the next reminder; with none ahead it sleeps indefinitely.
    func armTimer() {
        if role == .active && engine.lostLeadership {
            standBy(reason: "a claim failed on the shared database, or was refused: this daemon no longer holds the leader lock")
        }
        if timer == nil {
            let source = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
            source.setEventHandler { [unowned self] in self.timerFired() }
            source.schedule(wallDeadline: .distantFuture, leeway: .nanoseconds(0))
            source.resume()
            timer = source
        }
        // A standby fires nothing: only its election tick wakes it.
        var next = role == .standby ? nil : engine.nextFireAt().map { Double($0.seconds) }
        if let election = nextElectionAt { next = min(next ?? election, election) }
        if let next {
            let whole = next.rounded(.down)
            let deadline = DispatchWallTime(timespec: timespec(tv_sec: Int(whole), tv_nsec: Int((next - whole) * 1e9)))
            timer!.schedule(wallDeadline: deadline, leeway: .nanoseconds(0))
        } else {
            timer!.schedule(wallDeadline: .distantFuture, leeway: .nanoseconds(0))
        }
        systemd.status(statusText())
    }

    private func timerFired() {
        if let election = nextElectionAt, Daemon.readClocks().wall >= election - 0.001 { electionTick() }
        engine.processDue()
        armTimer()
    }

    private func fired(_ reminder: Reminder, catchUp: Bool) {
        if hooks != nil { hooks!.run(JournalEntry.reminder(reminder, catchUp: catchUp), kind: reminder.tone == .escalated ? .escalate : .reminder) }
        control?.broadcast(reminder, catchUp: catchUp)
    }

    // MARK: signals, reload and stop

    private func installSignals() {
        for (number, handler) in [
            (SIGHUP, { [unowned self] in _ = self.reload() }),
            (SIGTERM, { [unowned self] in self.stop("SIGTERM") }),
            (SIGINT, { [unowned self] in self.stop("SIGINT") })
        ] as [(Int32, () -> Void)] {
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            signalSources.append(source)
        }
        // Dispatch installs its handler in place of SIG_IGN on its own thread, after resume():
        // until it has, a SIGHUP is discarded by the kernel. READY=1 is sent after this, so a
        // reload asked for right after readiness is never lost (seen under load: a SIGHUP 0.1 s
        // after READY=1 did nothing). Bounded at 2 s; typically done within a millisecond.
        let started = DispatchTime.now().uptimeNanoseconds
        while [SIGHUP, SIGTERM, SIGINT].contains(where: { accord_signal_ignored($0) == 1 }),
            DispatchTime.now().uptimeNanoseconds - started < 2_000_000_000
        {
            usleep(1000)
        }
        let waited = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        if waited > 100 { logger.notice("signal handlers took \(Int(waited)) ms to be installed") }
    }

    /// Re-reads everything. Any error leaves the running plan untouched. Returns the problems.
    func reload() -> [ConfigProblem] {
        let requestedAt = clock.now()
        systemd.reloading()
        defer { systemd.ready(status: statusText()) }
        Zone.forgetReadZones()
        switch ConfigurationLoader.load(configFile: configFile, cache: portfolioCache) {
        case let .failure(problems):
            journal.send(
                JournalEntry(
                    message: "configuration rejected, the running plan is unchanged: \(problems.problems.count) problem(s): "
                        + problems.problems.map(\.description).joined(separator: "; "),
                    priority: 3, messageID: MessageID.rejected,
                    fields: [("ACCORD_PROBLEMS", problems.description), ("ACCORD_CONFIG", configFile)]))
            return problems.problems
        case let .success(loaded):
            if loaded.config.stateDirectory != engine.configuration.config.stateDirectory
                || loaded.config.socket != engine.configuration.config.socket
            {
                logger.warning("state-directory and socket changes take effect at the next start")
            }
            do {
                try engine.reload(loaded, requestedAt: requestedAt)
            } catch {
                logger.error("reload failed writing the state database; the running plan is unchanged", metadata: ["ERROR": "\(error)"])
                return [ConfigProblem(file: paths.stateFile, keyPath: "", message: "\(error)")]
            }
            if loaded.config.notify != nil || loaded.config.escalate != nil {
                if hooks == nil {
                    hooks = NotifyHookRunner(
                        hook: loaded.config.notify, escalate: loaded.config.escalate, queue: queue, logger: logger,
                        writeProtected: hookProtected)
                } else {
                    hooks!.hook = loaded.config.notify
                    hooks!.escalate = loaded.config.escalate
                }
            } else {
                hooks = nil
            }
            control?.limits = ControlServer.Limits(loaded.config.control)
            let catalog = loaded.catalog
            journal.send(
                JournalEntry(
                    message: "configuration reloaded: \(catalog.portfolioCount) portfolio(s), \(catalog.objectiveCount) objective(s), "
                        + "\(catalog.instrumentCount) instrument(s); " + nextReminderText(),
                    priority: 5, messageID: MessageID.reloaded, fields: [("ACCORD_CONFIG", configFile)]))
            armTimer()
            return []
        }
    }

    private func stop(_ reason: String) {
        systemd.stopping()
        journal.send(JournalEntry(message: "accordd stopping (\(reason))", priority: 5, messageID: MessageID.stopping))
        control?.close()
        // A daemon that lost the lock gives nothing back: its claims may be the new active one's.
        if role != .standby && leader?.isHeld() != false { engine.releaseArmedBatch() }
        leader?.release()
        try? engine.store.close()
        exit(0)
    }

    // MARK: clock changes and the watchdog

    /// Like systemd: a CLOCK_REALTIME timerfd with TFD_TIMER_CANCEL_ON_SET reports every
    /// change of the wall clock; the plan is re-read from the ledger and the timer re-armed.
    private func installClockWatch() {
        clockFD = accord_clock_change_fd()
        guard clockFD >= 0 else {
            logger.warning("cannot watch for wall-clock changes: \(String(cString: strerror(-clockFD)))")
            return
        }
        lastReading = Daemon.readClocks()
        let source = DispatchSource.makeReadSource(fileDescriptor: clockFD, queue: queue)
        source.setEventHandler { [unowned self] in self.clockChanged() }
        source.resume()
        clockSource = source
    }

    static func readClocks() -> (wall: Double, monotonic: Double) {
        var wall = timespec(), monotonic = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_MONOTONIC, &monotonic)
        return (Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9, Double(monotonic.tv_sec) + Double(monotonic.tv_nsec) / 1e9)
    }

    private func clockChanged() {
        guard accord_clock_change_read(clockFD) == 1 else { return }  // re-armed whatever it read
        let now = Daemon.readClocks()
        let expected = lastReading.wall + (now.monotonic - lastReading.monotonic)
        let moved = now.wall - expected
        lastReading = now
        logger.notice(
            "the wall clock changed by \(Int((moved).rounded())) s (\(moved >= 0 ? "forward" : "backward")); re-planning",
            metadata: ["ACCORD_CLOCK_DELTA": "\(Int(moved.rounded()))"])
        do { try engine.replan() } catch { logger.error("re-planning failed", metadata: ["ERROR": "\(error)"]) }
        armTimer()
    }

    private func installWatchdog() {
        guard let usec = systemd.watchdogInterval else { return }
        let source = DispatchSource.makeTimerSource(queue: queue)
        let interval = DispatchTimeInterval.microseconds(Int(usec / 2))
        source.schedule(deadline: .now() + interval, repeating: interval)
        source.setEventHandler { [systemd] in systemd.watchdogPing() }
        source.resume()
        systemd.watchdogPing()
        watchdog = source
    }
}

func writeStderr(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
}
