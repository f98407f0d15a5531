// The common commands (status, list, show ITEM, upcoming, with the global options before or
// after them), parsed by hand before ArgumentParser is touched. ArgumentParser builds its whole
// command tree through Mirror and protocol-conformance scans before it looks at an argument:
// perf over 300 runs of `accordctl --socket S status` (release, static Swift runtime) put 36% of
// the process's CPU samples in ParsableCommand.parseAsRoot. Anything this parser does not take
// exactly as ArgumentParser would (--help, -h, --version, an option it does not know or sees
// twice, `--`, an empty value or one that starts with "-", a --timeout or --limit ArgumentParser
// would refuse) gives nil, and ArgumentParser parses the same arguments as before, with its own
// messages and exit codes. Both paths run the same Status.run, List.run, Show.run, Upcoming.run.
// Measured (hyperfine -N --warmup 20 --runs 200, 4 runs on a loaded 2-core VM): `accordctl
// --socket S status` median 2.80-3.62 ms against redis-cli ping 3.97-5.77 ms in the same run
// (0.63-0.80x); through ArgumentParser 5.52-6.33 ms against 4.83-5.53 ms (1.02-1.29x).
import AccordProtocol

enum QuickCommand: Equatable {
    case status
    case list(Tracker.List.Parameters, limit: Int?)
    case show(item: String)
    case upcoming(within: String?, limit: Int?)

    /// The arguments (without the program's name) as one of these commands and its global
    /// options, or nil for ArgumentParser to parse.
    static func parse(_ arguments: [String]) -> (options: ClientOptions, command: QuickCommand)? {
        var command: String?
        var taken: [String] = []  // the command's own options
        var positionals: [String] = []
        // Every option with a value, given once, in the order of `names`. Arrays, not a
        // Dictionary or a Set: their first use costs the runtime a scan of the binary's 4,164
        // protocol conformances for String: Hashable (perf: 653 of 34,890 samples).
        var values = [String?](repeating: nil, count: names.count)
        var json = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                if argument.isEmpty || argument.hasPrefix("-") { return nil }
                if command == nil {
                    guard let options = optionsTaken(by: argument) else { return nil }
                    command = argument
                    taken = options
                } else {
                    positionals.append(argument)
                }
                continue
            }
            // Before the command only the global options (Accordctl.movingGlobalOptions moves
            // those and nothing else); after it, the command's own too.
            let equals = argument.firstIndex(of: "=")
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<(equals ?? argument.endIndex)])
            if name == "json" {
                guard equals == nil, !json else { return nil }
                json = true
                continue
            }
            guard name == "socket" || name == "timeout" || taken.contains(name), let slot = names.firstIndex(of: name), values[slot] == nil
            else { return nil }
            let text: String
            if let equals {
                text = String(argument[argument.index(after: equals)...])
            } else {
                guard index < arguments.count else { return nil }
                text = arguments[index]
                index += 1
            }
            guard !text.isEmpty, !text.hasPrefix("-") else { return nil }
            values[slot] = text
        }
        func value(_ name: String) -> String? { values[names.firstIndex(of: name)!] }
        guard let command else { return nil }
        var options = ClientOptions(socket: value("socket"), json: json)
        if let text = value("timeout") {
            guard let timeout = decimal(text), ClientOptions.timeouts.contains(timeout) else { return nil }
            options.timeout = timeout
        }
        var limit: Int?
        if let text = value("limit") {
            guard let value = decimal(text), value >= 1 else { return nil }
            limit = value
        }
        switch command {
        case "status":
            guard positionals.isEmpty else { return nil }
            return (options, .status)
        case "list":
            guard positionals.isEmpty else { return nil }
            let parameters = Tracker.List.Parameters(
                kind: value("kind"), state: value("state"), dialogue: value("dialogue"), dueWithin: value("due-within"),
                owner: value("owner"), basis: value("basis"))
            return (options, .list(parameters, limit: limit))
        case "upcoming":
            guard positionals.isEmpty else { return nil }
            return (options, .upcoming(within: value("within"), limit: limit))
        default:  // show
            guard positionals.count == 1 else { return nil }
            return (options, .show(item: positionals[0]))
        }
    }

    /// Every option with a value that this parser takes: the global ones, then the commands'.
    private static let names = ["socket", "timeout", "kind", "state", "dialogue", "due-within", "owner", "basis", "limit", "within"]

    /// The options of a command this parser takes besides the global ones (each with a value);
    /// nil for every other command.
    private static func optionsTaken(by command: String) -> [String]? {
        switch command {
        case "status", "show": return []
        case "list": return ["kind", "state", "dialogue", "due-within", "owner", "basis", "limit"]
        case "upcoming": return ["within", "limit"]
        default: return nil
        }
    }

    /// ASCII digits only, at most 9 of them: no sign, no space, nothing Int(_:) might read
    /// differently from ArgumentParser; anything else goes to ArgumentParser.
    private static func decimal(_ text: String) -> Int? {
        guard text.utf8.count <= 9, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    func run(_ options: ClientOptions) {
        switch self {
        case .status: Status.run(options)
        case let .list(parameters, limit): List.run(options, parameters, limit: limit)
        case let .show(item): Show.run(options, item: item)
        case let .upcoming(within, limit): Upcoming.run(options, within: within, limit: limit)
        }
    }
}
