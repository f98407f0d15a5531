// accordctl's hand parser (QuickCommand) against ArgumentParser, argument vector for argument
// vector: what the hand parser takes, ArgumentParser reads the same way (same command, same
// options); everything unusual the hand parser leaves to ArgumentParser. Both paths then run the
// same Status.run, List.run, Show.run and Upcoming.run, so the same parse is the same output.
import AccordProtocol
import ArgumentParser
import Testing

@testable import accordctl

struct QuickCommandTests {
    /// What ArgumentParser makes of the arguments, in the hand parser's terms; nil for a
    /// command the hand parser does not take.
    static func argumentParser(_ arguments: [String]) throws -> (options: ClientOptions, command: QuickCommand)? {
        let parsed = try Accordctl.parseAsRoot(Accordctl.movingGlobalOptions(arguments))
        switch parsed {
        case let status as Status:
            return (status.options.client, .status)
        case let list as List:
            let parameters = Tracker.List.Parameters(
                kind: list.kind, state: list.state, dialogue: list.dialogue, dueWithin: list.dueWithin, owner: list.owner,
                basis: list.basis)
            return (list.options.client, .list(parameters, limit: list.paging.limit))
        case let show as Show:
            return (show.options.client, .show(item: show.item))
        case let upcoming as Upcoming:
            return (upcoming.options.client, .upcoming(within: upcoming.within, limit: upcoming.paging.limit))
        default:
            return nil
        }
    }

    /// Every command the hand parser takes, with the global options in every subset, each
    /// before or after the command, as `--name value` or `--name=value`, and the command's own
    /// options on either side of the globals that follow it.
    static var vectors: [[String]] {
        let commands: [(words: [String], own: [[String]])] = [
            (["status"], [[]]),
            (["show", "pilot-mou"], [[]]),
            (["show", "ctl/pilot-mou"], [[]]),
            (
                ["list"],
                [
                    [], ["--kind", "treaty"], ["--state=in-force", "--limit", "2"],
                    [
                        "--kind", "mou", "--state", "signed", "--dialogue", "ctl", "--due-within", "P30D", "--owner", "CBSA team",
                        "--basis", "assumed", "--limit", "1000"
                    ],
                    ["--owner=a=b", "--limit=007"]
                ]
            ),
            (["upcoming"], [[], ["--within", "P1Y"], ["--limit=5", "--within=P10Y"]])
        ]
        let globals: [(separate: [String], joined: [String])] = [
            (["--json"], ["--json"]),
            (["--socket", "/run/x/io.accord.Tracker"], ["--socket=/run/x/io.accord.Tracker"]),
            (["--timeout", "86400"], ["--timeout=1"])
        ]
        var vectors: [[String]] = []
        for (words, own) in commands {
            for options in own {
                for chosen in 0..<8 {  // which globals
                    for placed in 0..<8 where placed & ~chosen == 0 {  // each chosen one before (bit set) or after the command
                        for form in 0..<2 {
                            var before: [String] = []
                            var after: [String] = []
                            for (index, global) in globals.enumerated() where chosen & (1 << index) != 0 {
                                let words = form == 0 ? global.separate : global.joined
                                if placed & (1 << index) != 0 { before += words } else { after += words }
                            }
                            vectors.append(before + words + options + after)
                            if !after.isEmpty { vectors.append(before + words + after + options) }
                        }
                    }
                }
            }
        }
        // The item among the options, not only right after the command.
        vectors += [
            ["show", "--json", "pilot-mou"], ["show", "--socket", "/s", "pilot-mou", "--timeout", "5"],
            ["--json", "show", "--timeout=9", "pilot-mou"], ["show", "status"]
        ]
        var seen: Set<[String]> = []
        return vectors.filter { seen.insert($0).inserted }
    }

    @Test func takesWhatArgumentParserTakesTheSameWay() throws {
        let vectors = Self.vectors
        #expect(vectors.count > 500)
        for arguments in vectors {
            let quick = QuickCommand.parse(arguments)
            let expected = try Self.argumentParser(arguments)
            #expect(quick != nil, "\(arguments)")
            #expect(quick?.options == expected?.options, "\(arguments)")
            #expect(quick?.command == expected?.command, "\(arguments)")
        }
    }

    /// Help, version, completions, errors and anything else unusual: ArgumentParser's.
    @Test(arguments: [
        [], ["--json"], ["--help"], ["-h"], ["help"], ["help", "status"], ["--version"], ["status", "--help"], ["status", "-h"],
        ["status", "--version"], ["show", "--help"], ["list", "-h"], ["upcoming", "--help"],
        ["--generate-completion-script", "bash"], ["status", "--generate-completion-script=zsh"],
        ["---completion", "--", "status"], ["--experimental-dump-help"],
        ["Status"], ["stat"], ["history"], ["record", "a", "signed"], ["audit", "verify"], ["watch"], ["reload"],
        ["status", "extra"], ["status", "--bogus"], ["status", "-j"], ["status", "--"], ["--", "status"], ["status", "-"],
        ["status", "--timeout", "0"], ["status", "--timeout", "86401"], ["status", "--timeout", "abc"], ["status", "--timeout", "+5"],
        ["status", "--timeout=-1"], ["status", "--timeout", " 5"], ["status", "--timeout", "1234567890"], ["status", "--timeout", "٣"],
        ["status", "--timeout"], ["status", "--socket"], ["status", "--socket", ""], ["status", "--socket="], ["status", "--socket", "-x"],
        ["--socket", "--json", "status"], ["status", "--json=yes"], ["status", "--json", "--json"], ["--json", "status", "--json"],
        ["status", "--socket", "a", "--socket", "b"], ["--timeout", "30", "status", "--timeout", "30"],
        ["show"], ["show", "a", "b"], ["show", "-x"], ["show", ""], ["show", "--item", "a"], ["show", "a", "--limit", "1"],
        ["list", "--limit", "0"], ["list", "--limit", "x"], ["list", "--limit", "-1"], ["list", "--kind"], ["list", "--kind", "--json"],
        ["list", "--within", "P1D"], ["list", "extra"], ["list", "--kind", "a", "--kind", "b"], ["upcoming", "--kind", "x"],
        ["upcoming", "P1D"], ["upcoming", "--within"], ["--kind", "x", "list"], ["--within", "P1Y", "upcoming"],
        ["status", "--Json"], ["status", "--socket/x"]
    ])
    func leavesTheRestToArgumentParser(_ arguments: [String]) {
        #expect(QuickCommand.parse(arguments) == nil)
    }

    /// The e2e tests reach ArgumentParser's path for a command the hand parser takes by giving
    /// --timeout twice: ArgumentParser keeps the last, the hand parser leaves it alone.
    @Test func aRepeatedTimeoutIsArgumentParsersPath() throws {
        let arguments = ["status", "--timeout", "30", "--timeout", "30"]
        #expect(QuickCommand.parse(arguments) == nil)
        let parsed = try Self.argumentParser(arguments)
        #expect(parsed?.options == ClientOptions(socket: nil, json: false, timeout: 30))
        #expect(parsed?.command == .status)
    }
}
