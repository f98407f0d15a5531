// The floors for firing lateness, in one process beside the daemon. A bare DispatchSourceTimer
// on wall deadlines, armed at each whole-second instant given on the command line (seconds since
// the epoch) plus an offset, prints how late each handler ran, in seconds: nothing else, no
// journal, no database. With --journal it also sends journald, per instant, an entry of the
// shape accordd sends (16 fields, values unique per entry) over journald's native socket, so
// that __REALTIME_TIMESTAMP minus PROBE_AT is what journald alone adds to a batch of reminders
// due at one instant. The offset (--offset-ms, 500 in the bench) keeps its batches clear of
// the daemon's, which fire on the whole second.
import Dispatch
import Glibc

func wallNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// journald's native protocol: one datagram of FIELD=value lines to /run/systemd/journal/socket.
struct NativeJournal {
    let socket = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_un()

    init() {
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in "/run/systemd/journal/socket".utf8.enumerated() { path[index] = byte }
        }
    }

    func send(_ fields: [(String, String)]) {
        var text = ""
        for (name, value) in fields { text += "\(name)=\(value)\n" }
        var address = address
        let sent = text.utf8CString.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, bytes.baseAddress, bytes.count - 1, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
        if sent < 0 { perror("timer-probe: sendto /run/systemd/journal/socket") }
    }
}

final class Probe: @unchecked Sendable {
    let queue = DispatchQueue(label: "probe")
    var instants: [Int]
    let offset: Double
    let journal: NativeJournal?
    var index = 0
    let timer: DispatchSourceTimer

    init(_ instants: [Int], offsetMilliseconds: Int, journal: NativeJournal?) {
        self.instants = instants
        self.offset = Double(offsetMilliseconds) / 1000
        self.journal = journal
        timer = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
    }

    func start() {
        timer.setEventHandler { [unowned self] in self.fired() }
        arm()
        timer.resume()
    }

    func arm() {
        guard index < instants.count else { exit(0) }
        let nanoseconds = Int(offset * 1e9)
        timer.schedule(
            wallDeadline: DispatchWallTime(
                timespec: timespec(tv_sec: instants[index] + nanoseconds / 1_000_000_000, tv_nsec: nanoseconds % 1_000_000_000)),
            leeway: .nanoseconds(0))
    }

    func fired() {
        let now = wallNow()
        var due: [Int] = []
        while index < instants.count, Double(instants[index]) + offset <= now {
            print(now - Double(instants[index]) - offset)
            due.append(index)
            index += 1
        }
        if let journal {
            for number in due { journal.send(Self.entry(number, at: instants[number], offset: offset)) }
        }
        fflush(nil)
        arm()
    }

    static func entry(_ number: Int, at instant: Int, offset: Double) -> [(String, String)] {
        [
            ("MESSAGE", "probe/p\(number): due today (instant \(instant))"), ("PRIORITY", "3"),
            ("SYSLOG_IDENTIFIER", "accord-timer-probe"), ("MESSAGE_ID", "0f4c1d8e2b7a4e0c9d3f6a5b8c7e1d20"),
            ("PROBE_ITEM", "probe/p\(number)"), ("PROBE_DIALOGUE", "probe"), ("PROBE_DEADLINE", "due"),
            ("PROBE_DEADLINE_AT", "\(instant)"), ("PROBE_LEAD", "P0D"), ("PROBE_DAYS_LEFT", "0"),
            ("PROBE_REMINDER", "probe/p\(number):due:\(instant)"), ("PROBE_CATCHUP", "0"),
            ("PROBE_AT", String(Double(instant) + offset)), ("PROBE_BASIS", "planned"), ("PROBE_OWNER", ""),
            ("PROBE_TITLE", "p\(number)")
        ]
    }
}

var arguments = Array(CommandLine.arguments.dropFirst())
var offsetMilliseconds = 0
var journal: NativeJournal?
while let first = arguments.first, first.hasPrefix("--") {
    arguments.removeFirst()
    switch first {
    case "--journal": journal = NativeJournal()
    case "--offset-ms": offsetMilliseconds = Int(arguments.removeFirst()) ?? 0
    default:
        fputs("timer-probe: unknown option \(first); usage: timer-probe [--journal] [--offset-ms N] EPOCH-SECONDS...\n", stderr)
        exit(2)
    }
}
let probe = Probe(arguments.compactMap { Int($0) }.sorted(), offsetMilliseconds: offsetMilliseconds, journal: journal)
probe.start()
dispatchMain()
