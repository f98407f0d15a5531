// The floor for firing lateness: a bare DispatchSourceTimer on wall deadlines, armed at each
// whole-second instant given on the command line (seconds since the epoch), printing how late
// each handler ran, in seconds. Nothing else: no journal, no database.
import Dispatch
import Glibc

func wallNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

final class Probe: @unchecked Sendable {
    let queue = DispatchQueue(label: "probe")
    var instants: [Int]
    var index = 0
    let timer: DispatchSourceTimer

    init(_ instants: [Int]) {
        self.instants = instants
        timer = DispatchSource.makeTimerSource(flags: .strict, queue: queue)
    }

    func start() {
        timer.setEventHandler { [unowned self] in self.fired() }
        arm()
        timer.resume()
    }

    func arm() {
        guard index < instants.count else { exit(0) }
        timer.schedule(wallDeadline: DispatchWallTime(timespec: timespec(tv_sec: instants[index], tv_nsec: 0)), leeway: .nanoseconds(0))
    }

    func fired() {
        let now = wallNow()
        while index < instants.count, Double(instants[index]) <= now {
            print(now - Double(instants[index]))
            index += 1
        }
        fflush(nil)
        arm()
    }
}

let probe = Probe(CommandLine.arguments.dropFirst().compactMap { Int($0) }.sorted())
probe.start()
dispatchMain()
