import AccordProtocol
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

            Global options: --socket PATH (or $ACCORD_SOCKET), --json and --timeout SECONDS, before or \
            after the command. \
            Colour only on a terminal, never with NO_COLOR set.

            Exit status: 0 ok, 1 the daemon answered with an error, 64 usage, 65 bad input value, \
            69 daemon unreachable, 77 permission denied, 78 configuration rejected (reload).
            """,
        version: accordVersion,
        subcommands: [Status.self, List.self, Show.self, Upcoming.self, History.self, Record.self, Ack.self,
                      SnoozeCommand.self, Reload.self, Watch.self]
    )

    /// DESIGN §8 puts the global options before the command (`accordctl --json status`);
    /// ArgumentParser reads a command's options after its name, so move them there.
    static func main() {
        main(Accordctl.movingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
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
        return [arguments[index]] + globals + arguments[(index + 1)...]
    }
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's socket (default: $ACCORD_SOCKET, else $XDG_RUNTIME_DIR/accord/io.accord.Tracker, else /run/accord/io.accord.Tracker).",
        valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the reply's parameters as JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp(
        "Give up when the daemon does not answer within this many seconds (exit 69); watch waits for reminders without limit.",
        valueName: "seconds"))
    var timeout: Int = 30

    func validate() throws {
        guard (1...86_400).contains(timeout) else {
            throw ValidationError("--timeout must be between 1 and 86400 seconds, not \(timeout)")
        }
    }

    var socketPath: String {
        if let socket { return socket }
        if let value = getenv("ACCORD_SOCKET"), value.pointee != 0 { return String(cString: value) }
        if getuid() != 0, let runtime = getenv("XDG_RUNTIME_DIR"), runtime.pointee != 0 {
            let path = String(cString: runtime) + "/accord/io.accord.Tracker"
            if access(path, F_OK) == 0 { return path }
        }
        return "/run/accord/io.accord.Tracker"
    }
}

/// One request to the daemon, with DESIGN §8's exit codes for everything that can go wrong.
func request(_ options: GlobalOptions, _ method: String, _ parameters: JSONObject = [:]) throws -> JSONObject {
    let connection: VarlinkConnection
    do {
        connection = try VarlinkConnection(path: options.socketPath, timeout: options.timeout)
    } catch {
        fail(error.description, exitCode: isPermission(error) ? 77 : 69)
    }
    let reply: VarlinkReply
    do {
        reply = try connection.call("io.accord.Tracker." + method, parameters)!
    } catch {
        fail(error.description, exitCode: 69)
    }
    if let name = reply.error { failWithDaemonError(name, reply.parameters, json: options.json) }
    return reply.parameters
}

func isPermission(_ error: VarlinkClientError) -> Bool {
    if case .permissionDenied = error { return true }
    return false
}

/// Prints a reply's parameters, exactly, for --json.
func printJSON(_ object: JSONObject) {
    print(Pretty.json(.object(object)))
}

func fail(_ message: String, exitCode: Int32) -> Never {
    writeError("accordctl: \(message)\n")
    exit(exitCode)
}

func writeError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
}

func failWithDaemonError(_ name: String, _ p: JSONObject, json: Bool) -> Never {
    if json { writeError(Pretty.json(.object(["error": .string(name), "parameters": .object(p)])) + "\n") }
    let s = { (key: String) in p[key]?.stringValue ?? "?" }
    switch name {
    case "io.accord.Tracker.NoSuchItem":
        fail("no item \"\(s("id"))\" (see accordctl list)", exitCode: 1)
    case "io.accord.Tracker.AmbiguousItem":
        let candidates = p["candidates"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? ""
        fail("\"\(s("id"))\" is ambiguous; use one of: \(candidates)", exitCode: 1)
    case "io.accord.Tracker.InvalidEvent":
        let allowed = p["allowed"]?.arrayValue?.compactMap(\.stringValue) ?? []
        fail("\(s("id")): cannot record \(s("event")): \(s("reason")) (state \(s("state")); allowed: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", ")))",
             exitCode: 1)
    case "io.accord.Tracker.PermissionDenied":
        fail("permission denied: \(s("method")) needs root or membership of \(s("requiredGroup")) (you are \(s("user")))", exitCode: 77)
    case "io.accord.Tracker.InvalidConfig":
        for problem in p["problems"]?.arrayValue ?? [] {
            let o = problem.objectValue ?? [:]
            let line = o["line"]?.integerValue.map { ":\($0)" } ?? ""
            let key = o["key"]?.stringValue ?? ""
            writeError("accordctl: \(o["file"]?.stringValue ?? "?")\(line): \(key.isEmpty ? "" : key + ": ")\(o["message"]?.stringValue ?? "")\n")
        }
        fail("the daemon rejected the configuration; it keeps running the previous one", exitCode: 78)
    case "org.varlink.service.InvalidParameter":
        fail("invalid value for \(s("parameter"))", exitCode: 65)
    case "io.accord.Tracker.StateUnavailable":
        fail("the daemon could not record it: \(s("reason"))", exitCode: 1)
    default:
        fail("\(name)\(p.isEmpty ? "" : " " + JSONValue.object(p).jsonText)", exitCode: 1)
    }
}
