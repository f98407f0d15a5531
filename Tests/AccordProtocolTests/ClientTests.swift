import Glibc
import Testing

@testable import AccordProtocol

struct SocketSetupFailed: Error, CustomStringConvertible {
    var description: String
    init(_ call: String) { description = "\(call): \(String(cString: strerror(errno)))" }
}

/// A Unix socket in a fresh directory, where the test plays the daemon by hand. Everything
/// happens on one thread: the kernel queues the connection and buffers the bytes both ways,
/// so no step waits for another and nothing needs to sleep.
final class ScriptedDaemon {
    let directory: String
    let path: String
    let fd: Int32

    init(listening: Bool = true) throws {
        var template = Array("/tmp/accord-protocol-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else { throw SocketSetupFailed("mkdtemp") }
        directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        path = directory + "/io.accord.Tracker"
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketSetupFailed("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw SocketSetupFailed("bind") }
        if listening { guard listen(fd, 8) == 0 else { throw SocketSetupFailed("listen") } }
    }

    deinit {
        close(fd)
        unlink(path)
        rmdir(directory)
    }

    /// The daemon's end of the connection a client has made.
    func acceptClient() throws -> Int32 {
        let client = accept(fd, nil, nil)
        guard client >= 0 else { throw SocketSetupFailed("accept") }
        return client
    }
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        precondition(n > 0, "the test's own write failed")
        offset += n
    }
}

/// What a client has written so far (it has finished writing before this is called).
private func readAvailable(_ fd: Int32) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 65536)
    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
    return n > 0 ? Array(buffer[0..<n]) : []
}

private func reply(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

private func connectError(_ path: String) -> VarlinkClientError? {
    do {
        _ = try VarlinkConnection(path: path)
        return nil
    } catch {
        return error
    }
}

@Suite struct ClientConnectTests {
    @Test func aMissingSocketIsSaidSo() throws {
        let daemon = try ScriptedDaemon()
        let missing = daemon.directory + "/nothing-here"
        let error = connectError(missing)
        #expect(error == .socketMissing(path: missing))
        #expect(error?.errorNumber == ENOENT)
        #expect(error?.description.contains(missing) == true)
        #expect(connectError(daemon.path + "/below-a-socket") == .socketMissing(path: daemon.path + "/below-a-socket"))
    }

    @Test func aSocketNobodyListensOnRefuses() throws {
        let daemon = try ScriptedDaemon(listening: false)
        let error = connectError(daemon.path)
        #expect(error == .connectionRefused(path: daemon.path))
        #expect(error?.errorNumber == ECONNREFUSED)
    }

    @Test func unusablePathsCarryTheirErrno() {
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(connectError(long) == .unreachable(path: long, errno: ENAMETOOLONG))
        #expect(connectError(long)?.errorNumber == ENAMETOOLONG)
        #expect(connectError("") == .unreachable(path: "", errno: EINVAL))
        #expect(connectError("/tmp/a\u{0}b") == .unreachable(path: "/tmp/a\u{0}b", errno: EINVAL))
    }

    @Test(.enabled(if: geteuid() != 0, "root may open any socket"))
    func aSocketThisUserMayNotOpenIsPermissionDenied() throws {
        let daemon = try ScriptedDaemon()
        #expect(chmod(daemon.path, 0) == 0)
        let error = connectError(daemon.path)
        #expect(error == .permissionDenied(path: daemon.path))
        #expect(error?.errorNumber == EACCES)
    }
}

@Suite struct ClientCallTests {
    @Test func aCallSendsOneFrameAndReadsItsReply() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        writeAll(peer, reply(#"{"parameters":{"version":"0.1.0"}}"#))
        let answer = try connection.call("io.accord.Tracker.Status")
        #expect(answer == VarlinkReply(parameters: ["version": "0.1.0"]))
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Status").encode())
        #expect(connection.path == daemon.path)
    }

    @Test func moreRepliesAreReadWhileTheyContinue() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        // Three replies in one write, the last one cut in two.
        writeAll(
            peer,
            reply(#"{"parameters":{"n":1},"continues":true}"#) + reply(#"{"parameters":{"n":2},"continues":true}"#)
                + Array(#"{"parameters":"#.utf8))
        var replies = [try #require(try connection.call("io.accord.Tracker.Watch", more: true))]
        replies.append(try connection.nextReply())
        writeAll(peer, reply(#"{"n":3}}"#))
        while replies.last?.continues == true { replies.append(try connection.nextReply()) }
        #expect(replies.map { $0.parameters["n"] } == [1, 2, 3])
        #expect(replies.map(\.continues) == [true, true, false])
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Watch", more: true).encode())
    }

    @Test func onewayCallsReturnWithoutAReply() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        #expect(try connection.call("io.accord.Tracker.Reload", oneway: true) == nil)
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Reload", oneway: true).encode())
    }

    @Test func errorRepliesAreReplies() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        writeAll(peer, reply(#"{"error":"io.accord.Tracker.NoSuchItem","parameters":{"id":"x"}}"#))
        let answer = try connection.call("io.accord.Tracker.Show", ["id": "x"])
        #expect(answer?.error == "io.accord.Tracker.NoSuchItem" && answer?.parameters["id"] == "x")
    }

    @Test func aDaemonThatHangsUpMidReplyBreaksTheConnection() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        try connection.send(VarlinkCall(method: "io.accord.Tracker.Status").encode())
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Status").encode())
        writeAll(peer, Array(#"{"parameters":{"#.utf8))
        close(peer)
        let error = #expect(throws: VarlinkClientError.self) { try connection.nextReply() }
        #expect(error == .broken("the daemon closed the connection mid-reply"))
        #expect(error?.errorNumber == nil)
    }

    @Test func aDaemonThatHangsUpBeforeReplyingBreaksTheConnection() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        try connection.send(VarlinkCall(method: "io.accord.Tracker.Status").encode())
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Status").encode())
        close(peer)
        #expect(throws: VarlinkClientError.broken("the daemon closed the connection")) { try connection.nextReply() }
    }

    /// The one test here that waits: a second is the least SO_RCVTIMEO-backed timeout can take.
    @Test func aDaemonThatNeverAnswersTimesOut() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path, timeout: 1)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        var started = timespec(), ended = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        let error = #expect(throws: VarlinkClientError.self) { try connection.call("io.accord.Tracker.Status") }
        clock_gettime(CLOCK_MONOTONIC, &ended)
        #expect(error == .timedOut(path: daemon.path, seconds: 1))
        #expect(error?.errorNumber == ETIMEDOUT)
        #expect(error?.description.contains("did not answer within 1 s") == true)
        let waited = Double(ended.tv_sec - started.tv_sec) + Double(ended.tv_nsec - started.tv_nsec) / 1e9
        #expect(waited >= 0.9 && waited < 5, "waited \(waited) s for a 1 s timeout")
        // The call went out before the wait: the daemon's end holds it.
        #expect(readAvailable(peer) == VarlinkCall(method: "io.accord.Tracker.Status").encode())
    }

    @Test func aConnectionWhoseLimitIsLiftedStillReadsReplies() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path, timeout: 5)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        connection.timeout = nil
        writeAll(peer, reply(#"{"parameters":{"ok":true}}"#))
        #expect(try connection.call("io.accord.Tracker.Status")?.parameters["ok"] == .bool(true))
    }

    @Test func writingToAClosedConnectionIsAnErrorNotSIGPIPE() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        close(try daemon.acceptClient())
        let error = #expect(throws: VarlinkClientError.self) { try connection.send(VarlinkCall(method: "a.b.C").encode()) }
        #expect(error?.description.contains(String(cString: strerror(EPIPE))) == true)
    }

    @Test func somethingThatIsNotAReplyBreaksTheConnection() throws {
        let daemon = try ScriptedDaemon()
        let connection = try VarlinkConnection(path: daemon.path)
        let peer = try daemon.acceptClient()
        defer { close(peer) }
        writeAll(peer, reply("[1]") + reply(#"{"parameters":5}"#) + reply("not json"))
        for _ in 0..<3 {
            let error = #expect(throws: VarlinkClientError.self) { try connection.nextReply() }
            if case .broken? = error {} else { Issue.record("expected .broken, got \(String(describing: error))") }
        }
    }
}
