// `accordd verify-audit`: the audit trail's hash chains checked without a running daemon, on the
// state database the configuration names or on a copy of a SQLite file (docs/design.md §7).
import AccordDaemon
import AccordProtocol
import ArgumentParser

struct VerifyAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-audit",
        abstract: "Check the hash chains of the state database's event and audit tables, without the daemon.",
        discussion: """
            Opens the state database of the configuration (the SQLite file in the state directory, or \
            [state] url), or the SQLite file given with --state (a backup copy, say), as the daemon \
            would, and walks both chains: the same as accordctl audit verify. A database of an older \
            schema is upgraded first. Exit status 0 when both verify, 2 when a chain is broken \
            (the first broken row is named), 74 when the database cannot be opened or read, 78 when \
            the configuration cannot be read.
            """)

    @OptionGroup var options: ConfigOption
    @Option(name: .long, help: ArgumentHelp("A SQLite state file to check instead of the configuration's.", valueName: "path"))
    var state: String?
    @Flag(name: .long, help: "Print the result as JSON, as accordctl --json audit verify does.")
    var json = false

    func run() throws {
        switch OfflineAudit.verify(configFile: options.config, stateFile: state) {
        case let .failure(failure):
            printError("accordd: \(failure.message)")
            throw ExitCode(failure.exitCode)
        case let .success(reply):
            if json {
                print(reply.wireValue().jsonText)
            } else {
                for chain in reply.chains { print(chain.summary()) }
            }
            if !reply.ok {
                if !json { printError("accordd: the audit trail does not verify: \(reply.firstBroken ?? "")") }
                throw ExitCode(2)
            }
        }
    }
}
