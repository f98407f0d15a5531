// Work split across every core, with the results handed back in index order. Two jobs use it:
// parsing the portfolio files (one file per index) and counting `check`'s year (one slice of
// the plan per index). Each index's result has a slot of its own, so the order never depends
// on which thread finished first.
import Dispatch
import Glibc
import Synchronization

public enum Parallel {
    /// The cores this process may run on now: 2 on the bench machine.
    public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `body(0)` … `body(count - 1)` on every core; the results in index order.
    public static func map<Result: Sendable>(_ count: Int, _ body: @Sendable (Int) -> Result) -> [Result] {
        guard count > 1 else { return count == 1 ? [body(0)] : [] }
        let slots = Mutex([Result?](repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let result = body(index)
            slots.withLock { $0[index] = result }
        }
        // concurrentPerform returns only after every iteration: each slot is filled.
        return slots.withLock { $0.map { $0! } }
    }
}
