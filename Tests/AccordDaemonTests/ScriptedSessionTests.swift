import AccordProtocol
import Foundation
import Testing

/// The built accordd beside this test's binary (swift build --build-tests builds both).
private func accorddBinary(from here: String = #filePath) -> String {
    let repository = URL(fileURLWithPath: here).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return repository.appendingPathComponent(".build/debug/accordd").path
}

/// A real accordd on a scratch configuration whose objective falls due seconds from now, so
/// that Watch gets a firing; removed with its directory when the test ends.
private final class RunningDaemon {
    let directory: String
    let socket: String
    let process = Process()

    init(dueIn seconds: Int) throws {
        directory = NSTemporaryDirectory() + "accord-session-\(UUID().uuidString)"
        socket = directory + "/io.accord.Tracker"
        try FileManager.default.createDirectory(atPath: directory + "/portfolios", withIntermediateDirectories: true)
        try """
        portfolios = ["portfolios"]
        state-directory = "\(directory)/state"
        socket = "\(socket)"
        """.write(toFile: directory + "/accordd.toml", atomically: false, encoding: .utf8)
        let due = ISO8601DateFormatter().string(from: Date().addingTimeInterval(Double(seconds)))
        try """
        [dialogue]
        id = "s"
        title = "Scripted session"
        time-zone = "UTC"
        reminders = ["P0D"]

        [[objective]]
        id = "soon"
        title = "Falls due in seconds: \\"quoted\\", 中文"
        due = \(due)

        [[instrument]]
        id = "pact"
        kind = "agreement"
        title = "A pact"
        sign-by = 2999-12-31
        term = "P1Y"
        """.write(toFile: directory + "/portfolios/s.toml", atomically: false, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: accorddBinary())
        process.arguments = ["run", "--config", directory + "/accordd.toml"]
        var environment = ProcessInfo.processInfo.environment
        for name in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "STATE_DIRECTORY", "RUNTIME_DIRECTORY", "WATCHDOG_USEC"] {
            environment[name] = nil
        }
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // The daemon binds its socket once it has loaded everything: wait for that, 10 s at most.
        for _ in 0..<200 where (try? VarlinkConnection(path: socket)) == nil { usleep(50_000) }
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// One call as a script makes it: the raw reply, decoded into the method's struct, must encode
/// back to exactly the bytes the daemon sent. A field the struct lacks, or one the daemon sends
/// in another order or form, fails here.
private func call<Method: TrackerMethod>(
    _ connection: VarlinkConnection, _ method: Method.Type, _ parameters: Method.Parameters
)
    throws -> Method.Reply
{
    let reply = try #require(try connection.call(Method.qualifiedName, parameters.wireObject()))
    let decoded = try VarlinkConnection.decodeReply(method, reply)
    #expect(decoded.wireValue().jsonText == JSONValue.object(reply.parameters).jsonText, "\(Method.name)")
    return decoded
}

/// The error a call fails with.
private func failure<Method: TrackerMethod>(
    _ connection: VarlinkConnection, _ method: Method.Type, _ parameters: Method.Parameters
)
    throws -> VarlinkError
{
    let reply = try #require(try connection.call(Method.qualifiedName, parameters.wireObject()))
    let name = try #require(reply.error, "\(Method.name) should have failed")
    return VarlinkError(name, reply.parameters)
}

@Suite(.serialized) struct ScriptedSessionTests {
    @Test func everyReplyOfASessionDecodesIntoTheSharedStructs() throws {
        guard getuid() == 0 else {
            Issue.record("run as root: the session records events, which needs root or the admin group")
            return
        }
        let daemon = try RunningDaemon(dueIn: 3)
        let connection = try VarlinkConnection(path: daemon.socket, timeout: 10)

        let status = try call(connection, Tracker.Status.self, NoParameters())
        #expect(status.objectives == 1 && status.instruments == 1 && status.portfolios == 1)
        #expect(status.nextReminder?.item == "s/soon")

        let list = try call(connection, Tracker.List.self, Tracker.List.Parameters())
        #expect(list.items.map(\.id) == ["s/soon", "s/pact"])
        #expect(try call(connection, Tracker.List.self, Tracker.List.Parameters(kind: "instrument")).items.map(\.id) == ["s/pact"])

        let show = try call(connection, Tracker.Show.self, Tracker.Show.Parameters(id: "pact"))
        #expect(show.definition.signBy == "2999-12-31" && show.definition.term == "P1Y")
        _ = try call(connection, Tracker.Upcoming.self, Tracker.Upcoming.Parameters(within: "P1D"))

        let recorded = try call(
            connection, Tracker.Record.self,
            Tracker.Record.Parameters(id: "pact", event: "signed", on: "2026-01-02", note: "by letter"))
        #expect(recorded.state == "signed" && recorded.event.note == "by letter" && recorded.event.uid == 0)
        let snoozed = try call(connection, Tracker.Snooze.self, Tracker.Snooze.Parameters(id: "pact", for: "PT1H"))
        #expect(snoozed.item == "s/pact")
        let history = try call(connection, Tracker.History.self, Tracker.History.Parameters(id: "pact"))
        #expect(history.entries.map(\.action) == ["record", "snooze"])
        _ = try call(connection, Tracker.Show.self, Tracker.Show.Parameters(id: "s/pact"))
        let reload = try call(connection, Tracker.Reload.self, NoParameters())
        #expect(reload.objectives == 1)

        // Errors come back as their structs too.
        #expect(Tracker.NoSuchItem(try failure(connection, Tracker.Show.self, Tracker.Show.Parameters(id: "nothing")))?.id == "nothing")
        let refusal = try #require(
            Tracker.InvalidEvent(
                try failure(
                    connection, Tracker.Record.self,
                    Tracker.Record.Parameters(id: "soon", event: "signed"))))
        #expect(refusal.id == "s/soon" && refusal.allowed.contains("completed"))
        #expect(try failure(connection, Tracker.Upcoming.self, Tracker.Upcoming.Parameters(within: "soon")) == .invalidParameter("within"))

        // The objective's P0D reminder fires within seconds and reaches the watcher.
        let watcher = try VarlinkConnection(path: daemon.socket, timeout: 15)
        try watcher.send(VarlinkCall(method: Tracker.Watch.qualifiedName, more: true).encode())
        let watched = try VarlinkConnection.decodeReply(Tracker.Watch.self, try watcher.nextReply())
        #expect(watched.reminder.item == "s/soon" && watched.reminder.catchUp == false)
        #expect(watched.reminder.message.contains("s/soon"))

        let after = try call(connection, Tracker.Status.self, NoParameters())
        #expect(after.fired == 1)
        let acknowledged = try call(connection, Tracker.Acknowledge.self, Tracker.Acknowledge.Parameters(id: "soon"))
        #expect(acknowledged.deadline == "due")

        let info = try #require(try connection.call(VarlinkService.interfaceName + "." + VarlinkService.GetInfo.name))
        let decodedInfo = try VarlinkService.GetInfo.Reply(wire: info.parameters)
        #expect(decodedInfo.interfaces == ["org.varlink.service", "io.accord.Tracker"])
        #expect(decodedInfo.wireValue().jsonText == JSONValue.object(info.parameters).jsonText)
    }
}
