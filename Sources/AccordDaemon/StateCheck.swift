// What `accordd check` says about `[state]` (docs/contracts.md §15): where the state lives, and
// with --connect whether the shared database answers, its schema version and the active daemon.
// The sentences are built here, beside the daemon's own reading of the configuration, so that
// the executable only prints them.
import AccordStore

public enum StateCheck {
    /// The lines to print and whether the check passed; `connect` asks the server.
    public struct Outcome: Sendable {
        public var lines: [String]
        public var ok: Bool
        /// 69 (EX_UNAVAILABLE) when the database does not answer, 78 when its schema is newer
        /// than this accordd's; 0 when all is well.
        public var exitCode: Int32
    }

    public static func run(_ configuration: LoadedConfiguration, connect: Bool) -> Outcome {
        guard let state = configuration.config.state else {
            // SQLite: the check says what it always said, and --connect what there is to know.
            return Outcome(
                lines: connect ? ["state: SQLite, state.sqlite in the state directory (no [state] url): nothing to connect to"] : [],
                ok: true, exitCode: 0)
        }
        var lines = [
            "state: PostgreSQL \(state.url)" + (state.sslMode.map { ", sslmode \($0)" } ?? "")
                + (state.passwordFile.map { ", password from \($0)" } ?? "") + ", takeover \(state.takeover)"
        ]
        guard connect else { return Outcome(lines: lines, ok: true, exitCode: 0) }
        do {
            let probe = try StateProbe.probe(state)
            lines.append("state: the database answers (PostgreSQL \(probe.serverVersion)); \(probe.schemaText)")
            lines.append("state: " + (probe.active.map { "\($0) is active" } ?? "no daemon is active"))
            return Outcome(lines: lines, ok: probe.usable, exitCode: probe.usable ? 0 : 78)
        } catch {
            lines.append("state: \(configuration.configFile): [state] url: the database does not answer: \(error.message)")
            return Outcome(lines: lines, ok: false, exitCode: 69)
        }
    }
}
