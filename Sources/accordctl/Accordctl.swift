import AccordProtocol
import AccordText
import AccordVersion
import ArgumentParser
import Glibc

@main
struct Accordctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordctl",
        abstract: "Ask accordd about the commitments it watches, and tell it what happened.",
        discussion: """
            accordctl talks to the accord daemon over its Varlink socket. Reading needs access to the \
            socket (group accord); record, ack, snooze and reload need root or the daemon's admin-group.

            Examples:
              accordctl status
              accordctl list --due-within P30D
              accordctl show cbsa-beea-pilot-mou
              accordctl record cbsa-beea-pilot-mou in-force --on 2017-01-15 --note "exchange of letters"
              accordctl upcoming --within P1Y
              accordctl --json list | jq -r '.items[].id'
              accordctl export --ics --within P1Y > deadlines.ics
              accordctl digest --within P14D

            Global options: --socket PATH (or $ACCORD_SOCKET), --json and --timeout SECONDS, before or \
            after the command. \
            Colour only on a terminal, never with NO_COLOR set.

            Exit status: 0 ok, 1 the daemon answered with an error, 64 usage, 65 bad input value, \
            69 daemon unreachable, 77 permission denied, 78 configuration rejected (reload), \
            2 the audit trail does not verify (audit verify).
            """,
        version: accordVersion,
        subcommands: [
            Status.self, List.self, Show.self, Upcoming.self, History.self, Record.self, Ack.self,
            SnoozeCommand.self, Reload.self, Watch.self, Export.self, DigestCommand.self, Audit.self
        ]
    )

    /// The common commands first by hand (QuickCommand says why), everything else through
    /// ArgumentParser. docs/contracts.md §8 puts the global options before the command
    /// (`accordctl --json status`); ArgumentParser reads a command's options after its name, so
    /// move them there.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let (options, command) = QuickCommand.parse(arguments) { return command.run(options) }
        main(Accordctl.movingGlobalOptions(arguments))
    }

    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--json" {
                globals.append(argument)
            } else if argument == "--socket" || argument == "--timeout", index + 1 < arguments.count {
                globals += [argument, arguments[index + 1]]
                index += 1
            } else if argument.hasPrefix("--socket=") || argument.hasPrefix("--timeout=") {
                globals.append(argument)
            } else {
                break
            }
            index += 1
        }
        guard !globals.isEmpty, index < arguments.count else { return arguments }
        // A command with subcommands (`audit verify`) takes the options after its subcommand.
        var command = index + 1
        if commandGroups.contains(arguments[index]), command < arguments.count, !arguments[command].hasPrefix("-") { command += 1 }
        return Array(arguments[index..<command]) + globals + arguments[command...]
    }

    /// The commands whose options belong to a subcommand.
    static let commandGroups: Set<String> = ["audit"]
}

struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's socket (default: $ACCORD_SOCKET, else $XDG_RUNTIME_DIR/accord/io.accord.Tracker, else /tmp/accord-UID/io.accord.Tracker when that directory is your own, else /run/accord/io.accord.Tracker).",
            valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the reply's parameters as JSON.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Give up when the daemon does not answer within this many seconds (exit 69); watch waits for reminders without limit.",
            valueName: "seconds"))
    var timeout: Int = 30

    func validate() throws {
        guard ClientOptions.timeouts.contains(timeout) else {
            throw ValidationError("--timeout must be between 1 and 86400 seconds, not \(timeout)")
        }
    }

    var client: ClientOptions { ClientOptions(socket: socket, json: json, timeout: timeout) }
}

/// The connection to the daemon, or exit 77 (permission) or 69 (unreachable), naming the socket.
func connect(_ options: ClientOptions) -> VarlinkConnection {
    do {
        return try VarlinkConnection(path: options.socketPath, timeout: options.timeout)
    } catch {
        fail(error.description, exitCode: isPermission(error) ? 77 : 69)
    }
}

/// One call to the daemon, its reply read into the shared struct, with the exit codes of
/// accordctl(1) for everything that can go wrong.
/// `forTerminals`: escape control characters for human output (not for --json, and not for
/// a document such as a calendar that goes to a file as it is).
func request<Method: TrackerMethod>(
    _ options: ClientOptions, _ method: Method.Type, _ parameters: Method.Parameters,
    forTerminals: Bool = true
) -> Method.Reply {
    let connection = connect(options)
    do {
        let reply = try connection.call(Method.qualifiedName, parameters.wireParameters())!
        return try VarlinkConnection.decodeReply(method, options.json || !forTerminals ? reply : reply.forTerminals)
    } catch let error as VarlinkClientError {
        fail(error.description, exitCode: 69)
    } catch let failure as CallFailure {
        failed(failure, json: options.json)
    } catch {
        fail("\(error)", exitCode: 69)
    }
}

extension VarlinkReply {
    /// The reply with control characters in every string escaped, for human output: --json
    /// prints the reply exactly, everything else is read on a terminal.
    var forTerminals: VarlinkReply {
        var copy = self
        copy.parameters = VarlinkReply.escaping(.object(parameters)).objectValue ?? [:]
        return copy
    }

    private static func escaping(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .string(text): return .string(text.escapingControlCharacters)
        case let .array(values): return .array(values.map(escaping))
        case let .object(object):
            var out = JSONObject()
            for (key, value) in object { out[key] = escaping(value) }
            return .object(out)
        default: return value
        }
    }
}

func request<Method: TrackerMethod>(_ options: ClientOptions, _ method: Method.Type) -> Method.Reply
where Method.Parameters == NoParameters {
    request(options, method, NoParameters())
}

/// Every page of a paged call (List, Upcoming, History), joined into one reply, over one
/// connection; with `limit`, pages only until that many rows (the reply's `next` then says
/// where more would start).
func requestPages<Method: PagedMethod>(
    _ options: ClientOptions, _ method: Method.Type, _ parameters: Method.Parameters, limit: Int? = nil
) -> Method.Reply {
    let connection = connect(options)
    do {
        var joined: Method.Reply?
        var asked = parameters
        while true {
            let rows = joined.map { Method.rowCount(of: $0) } ?? 0
            if let limit { asked = Method.parameters(asked, limit: min(limit - rows, Page.maximum)) }
            let reply = try connection.call(Method.qualifiedName, asked.wireParameters())!
            let page = try VarlinkConnection.decodeReply(method, options.json ? reply : reply.forTerminals)
            joined = joined.map { Method.joined($0, page) } ?? page
            guard let next = Method.next(of: page) else { break }
            if let limit, Method.rowCount(of: joined!) >= limit { break }
            asked = Method.parameters(asked, after: next)
        }
        return joined!
    } catch let error as VarlinkClientError {
        fail(error.description, exitCode: 69)
    } catch let failure as CallFailure {
        failed(failure, json: options.json)
    } catch {
        fail("\(error)", exitCode: 69)
    }
}

/// Exits as the failure of a call says.
func failed(_ failure: CallFailure, json: Bool) -> Never {
    switch failure {
    case let .transport(error): fail(error.description, exitCode: 69)
    case let .daemon(error): failWithDaemonError(error, json: json)
    }
}

func isPermission(_ error: VarlinkClientError) -> Bool {
    if case .permissionDenied = error { return true }
    return false
}

/// Prints a reply's parameters, exactly, for --json.
func printJSON(_ reply: some Encodable) {
    print(Pretty.json(reply.wireValue()))
}

func fail(_ message: String, exitCode: Int32) -> Never {
    writeError("accordctl: \(message.escapingControlCharacters)\n")
    exit(exitCode)
}

func writeError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
}

func failWithDaemonError(_ error: VarlinkError, json: Bool) -> Never {
    if json { writeError(Pretty.json(.object(["error": .string(error.name), "parameters": .object(error.parameters)])) + "\n") }
    if let e = Tracker.NoSuchItem(error) {
        fail("no item \"\(e.id)\" (see accordctl list)", exitCode: 1)
    } else if let e = Tracker.AmbiguousItem(error) {
        fail("\"\(e.id)\" is ambiguous; use one of: \(e.candidates.joined(separator: ", "))", exitCode: 1)
    } else if let e = Tracker.InvalidEvent(error) {
        fail(e.description, exitCode: 1)
    } else if let e = Tracker.PermissionDenied(error) {
        fail("permission denied: \(e.method) needs root or membership of \(e.requiredGroup) (you are \(e.user))", exitCode: 77)
    } else if let e = Tracker.InvalidConfig(error) {
        for problem in e.problems { writeError("accordctl: \(problem.description.escapingControlCharacters)\n") }
        fail("the daemon rejected the configuration; it keeps running the previous one", exitCode: 78)
    } else if error.name == VarlinkError.invalidParameter("").name {
        fail("invalid value for \(error.parameters.stringValue("parameter") ?? "?")", exitCode: 65)
    } else if let e = Tracker.StateUnavailable(error) {
        fail("the daemon could not record it: \(e.reason)", exitCode: 1)
    } else if let e = Tracker.NotActive(error) {
        fail(
            "this daemon is standing by and takes no \(e.method); "
                + (e.activeHost.map { "the active one is \($0): run the command there" } ?? "no daemon is active right now: try again shortly"),
            exitCode: 69)
    }
    fail(error.description, exitCode: 1)
}
