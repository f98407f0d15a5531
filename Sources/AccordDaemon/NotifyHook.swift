import AccordCalendar
import AccordCore
import CAccordShim
import Dispatch
import Glibc
import Logging

/// Runs `[notify] exec` once per reminder, escalation and digest, with the journal fields as
/// `ACCORD_*` variables and `ACCORD_KIND` (`reminder`, `escalate`, `digest`); a digest's text
/// comes on standard input. `[escalate] exec` runs once more per escalation (docs/contracts.md
/// §14). One runner for both, because it reaps whichever child exits. A hook that fails or
/// hangs is logged and killed at its time limit; it never holds up the timer or other
/// reminders, because nothing waits for it.
///
/// The hook gets only what it needs (accordd(8), "Notify hook"): every signal at its default
/// disposition and none blocked (a Dispatch worker blocks most, and the daemon ignores SIGPIPE,
/// SIGHUP, SIGTERM and SIGINT); a process group of its own, killed whole at the time limit and
/// when the hook exits, so no grandchild outlives either; no supplementary groups when the
/// daemon runs as root (under systemd it cannot drop them: Landlock below keeps the hook out
/// of the journal files instead); and, through Landlock, no write access to the state and
/// socket directories and no reading of the journal's files.
final class NotifyHookRunner: @unchecked Sendable {
    // Confined to `queue`.
    private let queue: DispatchQueue
    private let logger: Logger
    /// `[notify]` and `[escalate]`; either may be absent.
    var hook: DaemonConfig.NotifyHook?
    var escalate: DaemonConfig.NotifyHook?
    /// The directories a hook may not write to: the state directory and the socket's.
    let writeProtected: [String]
    private var running: [pid_t: (key: String, program: String, timer: DispatchSourceTimer)] = [:]
    /// One run waiting its turn: which hook, its environment, its standard input.
    private struct Job {
        var hook: DaemonConfig.NotifyHook
        var environment: [String]
        var input: String?
    }
    private var waiting: [Job] = []
    private var childSignal: DispatchSourceSignal?
    /// Said once: hooks run without the Landlock rules (an old kernel, a seccomp filter).
    private var warnedUnsandboxed = false
    static let maximumRunning = 8
    static let maximumWaiting = 10_000

    init(
        hook: DaemonConfig.NotifyHook?, escalate: DaemonConfig.NotifyHook? = nil, queue: DispatchQueue, logger: Logger,
        writeProtected: [String] = []
    ) {
        self.hook = hook
        self.escalate = escalate
        self.queue = queue
        self.logger = logger
        self.writeProtected = writeProtected
        let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: queue)
        source.setEventHandler { [weak self] in self?.reap() }
        source.resume()
        childSignal = source
    }

    /// The kinds of run, as `ACCORD_KIND` says them.
    enum Kind: String {
        case reminder, escalate, digest
    }

    /// Runs the hooks for one entry: `[notify]`, and `[escalate]` too for an escalation.
    /// `message` replaces MESSAGE as `ACCORD_MESSAGE` (a digest's one-line summary: its MESSAGE
    /// is the whole text, which comes on standard input as `input`).
    func run(_ entry: JournalEntry, kind: Kind = .reminder, input: String? = nil, message: String? = nil) {
        var environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "ACCORD_KIND=\(kind.rawValue)"]
        for field in entry.fields where field.name.hasPrefix("ACCORD_") || field.name == "MESSAGE" || field.name == "PRIORITY" {
            environment.append(
                field.name == "MESSAGE"
                    ? "ACCORD_MESSAGE=\(message ?? field.value)"
                    : field.name == "PRIORITY" ? "ACCORD_PRIORITY=\(field.value)" : "\(field.name)=\(field.value)")
        }
        let hooks = [hook, kind == .escalate ? escalate : nil].compactMap { $0 }
        for hook in hooks {
            let job = Job(hook: hook, environment: environment, input: input)
            if running.count >= NotifyHookRunner.maximumRunning {
                if waiting.count >= NotifyHookRunner.maximumWaiting {
                    logger.warning("notify hook backlog is full; not running it for \(entry["ACCORD_REMINDER"] ?? entry["ACCORD_DIGEST"] ?? "?")")
                    continue
                }
                waiting.append(job)
                continue
            }
            spawn(job)
        }
    }

    private func spawn(_ job: Job) {
        let hook = job.hook
        let environment = job.environment
        let key =
            environment.first { $0.hasPrefix("ACCORD_REMINDER=") }.map { String($0.dropFirst(16)) }
            ?? environment.first { $0.hasPrefix("ACCORD_DIGEST=") }.map { String($0.dropFirst(14)) } ?? "?"
        var input: Int32 = -1
        if let text = job.input {
            input = Array(text.utf8).withUnsafeBytes { accord_input_file($0.baseAddress, $0.count) }
            if input < 0 {
                logger.error(
                    "notify hook \(hook.exec[0]) gets no standard input: \(String(cString: strerror(-input)))",
                    metadata: ["ACCORD_REMINDER": "\(key)"])
            }
        }
        defer { if input >= 0 { close(input) } }
        let ruleset = currentRuleset()
        var pid: pid_t = 0
        let arguments = hook.exec.map { strdup($0) } + [nil]
        let variables = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in arguments + variables { free(pointer) }
        }
        let result = accord_spawn_hook_input(hook.exec[0], arguments, variables, ruleset, getuid() == 0 ? 1 : 0, input, &pid)
        guard result == 0 else {
            logger.error(
                "notify hook \(hook.exec[0]) could not start: \(String(cString: strerror(-result)))",
                metadata: ["ACCORD_REMINDER": "\(key)"])
            return
        }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(Int(min(hook.timeout.approximateSeconds, 86_400) * 1000)))
        timer.setEventHandler { [weak self] in
            guard let self, self.running[pid] != nil else { return }
            kill(-pid, SIGKILL)  // the group: the hook and whatever it started (the leader is unreaped, so pid is its pgid still)
            self.logger.error(
                "notify hook \(hook.exec[0]) timed out after \(hook.timeout) and was killed",
                metadata: ["ACCORD_REMINDER": "\(key)"])
        }
        timer.resume()
        running[pid] = (key, hook.exec[0], timer)
    }

    /// The Landlock ruleset, kept for up to `rulesetLifetime` seconds: building it lists a few
    /// directories, one rule per entry (measured: 33 ms for 1,258 rules with 1,226 entries in
    /// /tmp, debug build), too much to repeat for each hook of a 10,000-reminder storm on the
    /// daemon's queue. Entries made meanwhile in the listed directories stay out of
    /// the hook's reach until the next build. -1 when there is no Landlock.
    private func currentRuleset() -> Int32 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        if let cached = ruleset, Int64(now.tv_sec) - cached.builtAt < NotifyHookRunner.rulesetLifetime { return cached.fd }
        if let cached = ruleset { close(cached.fd) }
        ruleset = nil
        switch HookSandbox.ruleset(writeProtected: writeProtected) {
        case let .success(fd):
            ruleset = (fd, Int64(now.tv_sec))
            return fd
        case let .failure(reason):
            if !warnedUnsandboxed {
                logger.warning("notify hooks run with write access to \(writeProtected.joined(separator: " and ")): \(reason)")
                warnedUnsandboxed = true
            }
            return -1
        }
    }
    private var ruleset: (fd: Int32, builtAt: Int64)?
    deinit { if let ruleset { close(ruleset.fd) } }
    static let rulesetLifetime: Int64 = 60

    private func reap() {
        while true {
            // Seen before it is reaped, so that its pid still names its process group: what the
            // hook left running in it is killed, and the pid cannot have been reused meanwhile.
            let child = accord_exited_child()
            if child <= 0 { break }
            if running[child] != nil { kill(-child, SIGKILL) }
            var status: Int32 = 0
            let pid = waitpid(child, &status, 0)
            if pid <= 0 { break }
            guard let finished = running.removeValue(forKey: pid) else { continue }
            finished.timer.cancel()
            let exited = (status & 0x7f) == 0
            let code = (status >> 8) & 0xff
            if !exited {
                logger.warning("notify hook ended by signal \(status & 0x7f)", metadata: ["ACCORD_REMINDER": "\(finished.key)"])
            } else if code != 0 {
                logger.error("notify hook \(finished.program) failed with exit status \(code)", metadata: ["ACCORD_REMINDER": "\(finished.key)"])
            }
        }
        while running.count < NotifyHookRunner.maximumRunning, !waiting.isEmpty {
            spawn(waiting.removeFirst())
        }
    }
}
