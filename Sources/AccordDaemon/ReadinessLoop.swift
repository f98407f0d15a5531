// The thread that waits for control clients with something to say. It sleeps in epoll_wait and
// hands each ready client to the daemon's queue with `queue.sync`: when the queue is idle,
// Dispatch runs that block on the calling thread, so a Status call costs the daemon one
// wake-up, this thread's. A read source per client cost two (Dispatch's manager thread, then a
// worker thread it wakes to run the handler): perf of 5 s of Status calls put 47% of the
// daemon's samples in the scheduler (finish_task_switch, spin unlocks). Everything a client's
// handler touches stays confined to the daemon's queue, as before.
import CAccordShim
import Dispatch
import Glibc

final class ReadinessLoop: @unchecked Sendable {
    private let epollFD: Int32
    /// An eventfd that `stop` writes to: the thread leaves when it is reported.
    private let stopFD: Int32
    private static let stopToken = UInt64.max
    private let queue: DispatchQueue
    /// Runs on the daemon's queue for each batch of descriptors reported ready, with their tokens.
    private let ready: (ArraySlice<UInt64>) -> Void
    /// Runs on the daemon's queue, with the errno, if epoll_wait fails and the thread ends.
    private let failed: (Int32) -> Void

    init(queue: DispatchQueue, ready: @escaping (ArraySlice<UInt64>) -> Void, failed: @escaping (Int32) -> Void) throws(ControlServerError) {
        self.queue = queue
        self.ready = ready
        self.failed = failed
        epollFD = accord_epoll_create()
        guard epollFD >= 0 else { throw .init(path: "epoll", message: "epoll_create1: \(String(cString: strerror(errno)))") }
        stopFD = accord_eventfd()
        guard stopFD >= 0 else {
            Glibc.close(epollFD)
            throw .init(path: "epoll", message: "eventfd: \(String(cString: strerror(errno)))")
        }
        let watched = accord_epoll_watch(epollFD, stopFD, Self.stopToken)
        guard watched == 0 else {
            Glibc.close(stopFD)
            Glibc.close(epollFD)
            throw .init(path: "epoll", message: "epoll_ctl: \(String(cString: strerror(-watched)))")
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self)
        let started = pthread_create(
            &thread, nil,
            { context in
                Unmanaged<ReadinessLoop>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context.toOpaque())
        guard started == 0 else {
            context.release()
            Glibc.close(stopFD)
            Glibc.close(epollFD)
            throw .init(path: "epoll", message: "cannot start the control thread: \(String(cString: strerror(started)))")
        }
        pthread_detach(thread)
    }

    /// Reports `fd` (its number is the token `ready` gets) in every batch while it has unread
    /// input or its peer hung up, until `forget`: level-triggered, so a client's call costs a
    /// read and a send, no epoll_ctl to ask for the next report. A handler that leaves input
    /// unread on purpose (back-pressure, a turn yielded) forgets the descriptor meanwhile, or
    /// it would be reported again at once. 0, or the errno of epoll_ctl.
    func watch(_ fd: Int32) -> Int32 {
        -accord_epoll_watch(epollFD, fd, UInt64(fd))
    }

    /// Before `fd` is closed, and while its input is left unread on purpose.
    func forget(_ fd: Int32) { _ = accord_epoll_forget(epollFD, fd) }

    /// Ends the thread after the batch it is handling. The descriptors stay open until the last
    /// reference goes (the thread holds one while it runs), so a second stop writes nowhere else.
    func stop() {
        var one: UInt64 = 1
        _ = Glibc.write(stopFD, &one, 8)
    }

    private func run() {
        var tokens = [UInt64](repeating: 0, count: 64)
        while true {
            let count = tokens.withUnsafeMutableBufferPointer { accord_epoll_wait(epollFD, $0.baseAddress!, Int32($0.count)) }
            if count == -EINTR { continue }
            guard count >= 0 else {
                queue.sync { failed(-count) }
                return
            }
            let batch = tokens.prefix(Int(count))
            if batch.contains(Self.stopToken) { return }
            queue.sync { ready(batch) }
        }
    }

    deinit {
        Glibc.close(stopFD)
        Glibc.close(epollFD)
    }
}
