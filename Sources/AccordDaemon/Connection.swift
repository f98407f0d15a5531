// One control client: its frames in, its replies out, in order, with the limits that keep a
// slow or hostile client from hurting the others (message size, unfinished messages,
// back-pressure on unread replies, a cap for Watch clients that stopped reading).
import AccordProtocol
import CAccordShim
import Dispatch
import Glibc

/// One client: its frames in, its replies out, in order.
final class Connection: @unchecked Sendable {
    let fd: Int32
    unowned let server: ControlServer
    let peer: Peer
    private var reader: VarlinkFrameReader
    private var writeSource: DispatchSourceWrite?
    /// Write sources cancelled whose cancellation Dispatch has not finished: the descriptor stays
    /// open until it has (Dispatch keys its registrations by descriptor number, and a new client
    /// given the same number must not meet the old one's).
    private var writeSourcesCancelling = 0
    private var closeWhenCancelled = false
    private var partialTimer: DispatchSourceTimer?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var readingSuspended = false
    private var closeAfterFlush = false
    private(set) var isClosed = false
    /// Messages this connection may still handle before it gives the queue back (this turn).
    private var turnBudget = 0
    /// Waiting for its next turn: the timer, the watchdog and other clients go first.
    private var yielding = false
    /// In the readiness loop's set: false while reading is suspended or the turn yielded, when
    /// unread input must not be reported again and again.
    private var watched = false

    /// When the client last sent a whole call, or took some of its replies, for the idle timeout.
    private var lastCall = DispatchTime.now()
    private var idleTimer: DispatchSourceTimer?

    init(fd: Int32, peer: Peer, server: ControlServer) {
        self.fd = fd
        self.server = server
        self.peer = peer
        self.reader = VarlinkFrameReader(maximumMessageSize: server.limits.maximumMessageSize)
    }

    func start() {
        let failed = server.loop.watch(fd)
        watched = failed == 0
        guard failed == 0 else {
            server.logger.warning("cannot watch a client (uid \(peer.uid), pid \(peer.pid)): epoll_ctl: \(String(cString: strerror(failed)))")
            close()
            return
        }
        armIdleTimer(after: server.limits.idleTimeout)
    }

    /// Closes a connection that made no call and took no reply for `idleTimeout` seconds, unless
    /// it watches with nothing queued. A client that stopped reading is stopped being read from
    /// at the high-water mark, so it makes no call either: it is closed after the timeout. The timer is set once and moved only when it fires, so a busy
    /// client costs no timer work per call.
    private func armIdleTimer(after seconds: Int) {
        let timer = idleTimer ?? DispatchSource.makeTimerSource(queue: server.queue)
        timer.schedule(deadline: .now() + .seconds(max(1, seconds)))
        if idleTimer == nil {
            timer.setEventHandler { [unowned self] in self.idleTimerFired() }
            timer.resume()
            idleTimer = timer
        }
    }

    private func idleTimerFired() {
        guard !isClosed else { return }
        let limit = server.limits.idleTimeout
        let idle = Int((DispatchTime.now().uptimeNanoseconds - lastCall.uptimeNanoseconds) / 1_000_000_000)
        if idle < limit || (server.isWatching(self) && outputStart == output.count) {
            armIdleTimer(after: max(1, limit - idle))
            return
        }
        let untaken = output.count - outputStart
        let with = untaken > 0 ? " with \(untaken) bytes of replies untaken" : ""
        server.logger.info("closing a client (uid \(peer.uid), pid \(peer.pid)) idle for \(idle) s\(with)")
        close()
    }

    /// Reads and handles what the client sent, at most `messagesPerTurn` messages, oneway calls
    /// included: a client that never stops writing must not keep the queue from the timer. The
    /// readiness loop calls it while the descriptor has input; it leaves the loop's set while
    /// held back (back-pressure) or waiting for its next turn, and joins it again after.
    func readAvailable() {
        guard !yielding else { return }
        let server = self.server  // one strong reference for the turn, not one per use
        turnBudget = server.limits.messagesPerTurn
        drainMessages()  // what an earlier turn read but did not handle
        while !isClosed, !readingSuspended, !yielding {
            let buffer = server.readBuffer
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()
                return
            }
            if n == 0 {
                // The client is gone; a Watch client or one mid-reply leaves nothing behind.
                close()
                return
            }
            reader.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            drainMessages()
            // A short read took all there was: what comes later is reported again, so the read
            // that would only say EAGAIN (one syscall of the three a call cost) is left out.
            if n < buffer.count { break }
        }
        updatePartialTimer()
        guard !isClosed else { return }
        let wanted = !readingSuspended && !yielding
        if wanted == watched { return }
        if wanted {
            let failed = server.loop.watch(fd)
            if failed != 0 {  // a descriptor epoll will not take cannot be read again
                server.logger.warning("closing a client (uid \(peer.uid), pid \(peer.pid)): epoll_ctl: \(String(cString: strerror(failed)))")
                close()
                return
            }
        } else {
            server.loop.forget(fd)
        }
        watched = wanted
    }

    private func drainMessages() {
        let server = self.server
        var handled = false
        defer { if handled { lastCall = DispatchTime.now() } }  // once a read, not once a call and once a reply
        while !isClosed, !readingSuspended, !closeAfterFlush, !yielding {
            if turnBudget <= 0 {
                yieldTurn()
                return
            }
            let message: [UInt8]?
            do {
                message = try reader.next()
            } catch {
                send(VarlinkReply(Tracker.RequestTooLarge(limit: server.limits.maximumMessageSize).varlinkError).encode())
                server.logger.notice(
                    "closing a client (uid \(peer.uid), pid \(peer.pid)) that sent a message over \(server.limits.maximumMessageSize) bytes")
                closeAfterFlush = true
                flush()
                return
            }
            guard let message else { return }
            turnBudget -= 1
            handled = true
            switch server.service.handle(message, from: peer) {
            case let .reply(reply)?: send(reply.encode())
            case let .encoded(bytes)?: send(bytes)
            case .subscribe?: server.subscribe(self)
            case nil: break  // oneway: no reply
            }
            if output.count - outputStart > server.limits.outputHighWater {
                readingSuspended = true  // back-pressure: answer no more until it reads
            }
        }
    }

    /// Queues the rest of this client's work behind whatever is waiting on the queue now: a due
    /// timer, the watchdog, other clients.
    private func yieldTurn() {
        yielding = true
        server.queue.async { [weak self] in
            guard let self, !self.isClosed else { return }
            self.yielding = false
            self.readAvailable()
        }
    }

    /// Closes a client that started a message and did not finish it in time.
    private func updatePartialTimer() {
        if reader.hasPartialMessage, partialTimer == nil, !isClosed {
            let timer = DispatchSource.makeTimerSource(queue: server.queue)
            timer.schedule(deadline: .now() + .seconds(server.limits.partialMessageTimeout))
            timer.setEventHandler { [unowned self] in
                self.server.logger.notice(
                    "closing a client (uid \(self.peer.uid), pid \(self.peer.pid)) that left a message unfinished for \(self.server.limits.partialMessageTimeout) s"
                )
                self.close()
            }
            timer.resume()
            partialTimer = timer
        } else if !reader.hasPartialMessage, let timer = partialTimer {
            timer.cancel()
            partialTimer = nil
        }
    }

    /// Queues a reply. One that would put more than `outputHardLimit` bytes in front of a client
    /// still holding earlier ones closes the connection instead: what one client may make the
    /// daemon hold is bounded for every method, Watch included. A reply to a client that took
    /// everything before it always goes out, however long (an Export of a large portfolio).
    func send(_ bytes: [UInt8], counted: Bool = false) {
        guard !isClosed else { return }
        let queued = output.count - outputStart
        if queued > 0, queued + bytes.count > server.limits.outputHardLimit {
            server.logOverrun(peer, queued: queued + bytes.count)
            close()
            return
        }
        output += bytes
        flush(counted: counted)
    }

    /// A Watch reply: what the client takes of it counts as activity, since no call of this turn does.
    func sendWatch(_ bytes: [UInt8]) { send(bytes, counted: true) }

    /// `counted`: the bytes the client takes now are activity of their own (taking replies is
    /// not idling): Watch replies, and replies taken after the turn that made them (the write
    /// source). A reply sent in its call's turn is covered by that call, and the clock is not
    /// read for it.
    private func flush(counted: Bool = false) {
        while outputStart < output.count {
            let n = output.withUnsafeBytes { raw in
                accord_send(fd, raw.baseAddress! + outputStart, raw.count - outputStart)
            }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()  // EPIPE, ECONNRESET: the client vanished
                return
            }
            outputStart += n
            if counted, n > 0 { lastCall = DispatchTime.now() }
        }
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.count < 65536)
            outputStart = 0
            retireWriteSource()
            if closeAfterFlush { close(); return }
            if readingSuspended {
                readingSuspended = false
                server.queue.async { [weak self] in self?.readAvailable() }  // handles what is buffered first
            }
        } else if writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: server.queue)
            source.setEventHandler { [unowned self] in self.flush(counted: true) }
            source.resume()
            writeSource = source
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        partialTimer?.cancel()
        idleTimer?.cancel()
        if watched { server.loop.forget(fd) }
        retireWriteSource()
        if writeSourcesCancelling == 0 { Glibc.close(fd) } else { closeWhenCancelled = true }
        server.closed(self)
    }

    /// Cancels the write source, if any; the last cancellation to finish after `close` closes
    /// the descriptor. The handler holds the connection until then.
    private func retireWriteSource() {
        guard let source = writeSource else { return }
        writeSource = nil
        writeSourcesCancelling += 1
        source.setCancelHandler {
            self.writeSourcesCancelling -= 1
            if self.writeSourcesCancelling == 0, self.closeWhenCancelled { Glibc.close(self.fd) }
        }
        source.cancel()
    }
}
