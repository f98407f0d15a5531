import AccordCalendar
import AccordCore
import AccordDaemon
import AccordProtocol
import AccordVersion
import ArgumentParser
import Glibc

@main
struct Accordd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordd",
        abstract: "Keeps watch over the commitments of a bilateral dialogue and reminds ahead of every deadline.",
        discussion: """
            accordd reads a daemon configuration (accordd.toml) and the portfolio files it names, \
            plans a reminder ahead of every deadline, and writes each reminder to the systemd journal \
            when it falls due. Clients talk to it with accordctl over a Varlink socket.

            Try the shipped example without installing anything:
              accordd check --config Config/accordd.toml
              accordd plan --config Config/accordd.toml --from 2016-09-12 --until 2018-12-31
              accordd calendar --config Config/accordd.toml --from 2026-09-25 --until 2026-10-12
              accordd run --config Config/accordd.toml
            """,
        version: accordVersion,
        subcommands: [RunCommand.self, CheckCommand.self, PlanCommand.self, CalendarCommand.self, VerifyAuditCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// Exit status for a bad configuration (sysexits EX_CONFIG), as docs/contracts.md §8 requires.
let exitBadConfig = ExitCode(78)

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon configuration file.", valueName: "path"))
    var config: String = "/etc/accord/accordd.toml"
}

/// Prints every problem, one per line, to standard error.
func report(_ problems: ConfigProblems) {
    for problem in problems.problems { printError(problem.description) }
    let count = problems.problems.count
    printError("\(count) problem\(count == 1 ? "" : "s"); nothing was loaded")
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        let bytes = Array(string.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress!, $0.count) }
    }
}
