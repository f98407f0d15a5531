// `accordctl audit verify`: asks the daemon to walk the hash chains of the event and audit
// tables (VerifyAudit, docs/design.md §7) and says whether the history is as it was written.
import AccordProtocol
import AccordText
import ArgumentParser
import Glibc

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the tamper-evident audit trail.",
        subcommands: [AuditVerify.self])
}

struct AuditVerify: ParsableCommand {
    /// The exit status when a chain is broken: apart from 1 (the daemon answered with an
    /// error), so that a script can tell a rewritten history from a database it could not read.
    static let brokenExitCode: Int32 = 2

    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chains of the event and audit tables; name the first row that does not verify.",
        discussion: """
            Each event and audit row holds SHA-256 over the previous row's hash and its own content, \
            so a row changed, removed or inserted by hand breaks the chain there. The heads printed \
            here are those the journal's audit entries carry (ACCORD_EVENT_HEAD, ACCORD_AUDIT_HEAD): \
            compare them with the last entry's to see that the history was not rewritten whole. \
            Exit status 2 when a chain is broken.
            """)
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = request(options.client, Tracker.VerifyAudit.self)
        if options.json {
            printJSON(r)
        } else {
            for chain in r.chains { print(chain.summary { Pretty.paint($0, "31") }) }
        }
        if !r.ok {
            if !options.json {
                writeError("accordctl: the audit trail does not verify: \(r.firstBroken ?? "")\n")
            }
            throw ExitCode(AuditVerify.brokenExitCode)
        }
    }
}
