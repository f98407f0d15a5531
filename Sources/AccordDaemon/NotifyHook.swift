import AccordCalendar
import AccordCore
import Dispatch
import Glibc
import Logging

/// Runs `[notify] exec` once per reminder, with the journal fields as `ACCORD_*`
/// variables. A hook that fails or hangs is logged and killed at its time limit; it never
/// holds up the timer or other reminders, because nothing waits for it.
final class NotifyHookRunner: @unchecked Sendable {
    // Confined to `queue`.
    private let queue: DispatchQueue
    private let logger: Logger
    var hook: DaemonConfig.NotifyHook
    private var running: [pid_t: (key: String, timer: DispatchSourceTimer)] = [:]
    private var waiting: [[String]] = []
    private var childSignal: DispatchSourceSignal?
    static let maximumRunning = 8
    static let maximumWaiting = 10_000

    init(hook: DaemonConfig.NotifyHook, queue: DispatchQueue, logger: Logger) {
        self.hook = hook
        self.queue = queue
        self.logger = logger
        let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: queue)
        source.setEventHandler { [weak self] in self?.reap() }
        source.resume()
        childSignal = source
    }

    func run(_ entry: JournalEntry) {
        var environment = ["PATH=/usr/local/bin:/usr/bin:/bin"]
        for field in entry.fields where field.name.hasPrefix("ACCORD_") || field.name == "MESSAGE" || field.name == "PRIORITY" {
            environment.append(field.name == "MESSAGE" ? "ACCORD_MESSAGE=\(field.value)"
                               : field.name == "PRIORITY" ? "ACCORD_PRIORITY=\(field.value)" : "\(field.name)=\(field.value)")
        }
        if running.count >= NotifyHookRunner.maximumRunning {
            if waiting.count >= NotifyHookRunner.maximumWaiting {
                logger.warning("notify hook backlog is full; not running it for \(entry["ACCORD_REMINDER"] ?? "?")")
                return
            }
            waiting.append(environment)
            return
        }
        spawn(environment)
    }

    private func spawn(_ environment: [String]) {
        let key = environment.first { $0.hasPrefix("ACCORD_REMINDER=") }.map { String($0.dropFirst(16)) } ?? "?"
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let arguments = hook.exec.map { strdup($0) } + [nil]
        let variables = environment.map { strdup($0) } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        let result = posix_spawn(&pid, hook.exec[0], &actions, nil, arguments, variables)
        guard result == 0 else {
            logger.error("notify hook \(hook.exec[0]) could not start: \(String(cString: strerror(result)))",
                         metadata: ["ACCORD_REMINDER": "\(key)"])
            return
        }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + .milliseconds(Int(min(hook.timeout.approximateSeconds, 86_400) * 1000)))
        timer.setEventHandler { [weak self] in
            guard let self, self.running[pid] != nil else { return }
            kill(pid, SIGKILL)
            self.logger.error("notify hook \(self.hook.exec[0]) timed out after \(self.hook.timeout) and was killed",
                              metadata: ["ACCORD_REMINDER": "\(key)"])
        }
        timer.resume()
        running[pid] = (key, timer)
    }

    private func reap() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            guard let finished = running.removeValue(forKey: pid) else { continue }
            finished.timer.cancel()
            let exited = (status & 0x7f) == 0
            let code = (status >> 8) & 0xff
            if !exited {
                logger.warning("notify hook ended by signal \(status & 0x7f)", metadata: ["ACCORD_REMINDER": "\(finished.key)"])
            } else if code != 0 {
                logger.error("notify hook \(hook.exec[0]) failed with exit status \(code)", metadata: ["ACCORD_REMINDER": "\(finished.key)"])
            }
        }
        while running.count < NotifyHookRunner.maximumRunning, !waiting.isEmpty {
            spawn(waiting.removeFirst())
        }
    }
}
