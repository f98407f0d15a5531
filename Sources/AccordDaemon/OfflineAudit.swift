// The audit trail verified without a running daemon (`accordd verify-audit`, docs/design.md §7):
// the state database the configuration names, or a SQLite file such as a backup copy, opened as
// the daemon opens it, and both hash chains walked.
import AccordCore
import AccordProtocol
import AccordStore
import Glibc

public enum OfflineAudit {
    /// Why the chains could not be walked, with the exit status accordd(8) gives it.
    public struct Failure: Error, Sendable {
        public var message: String
        /// 78: the configuration could not be read; 74: the state database could not be opened or read.
        public var exitCode: Int32
    }

    /// Only accordd.toml is read (`[state]`, `state-directory`), not the portfolios: a broken
    /// portfolio must not keep an operator from checking the trail. A database of an older
    /// schema is upgraded first, as the daemon does at start.
    public static func verify(configFile: String, stateFile: String?) -> Result<Tracker.VerifyAudit.Reply, Failure> {
        var state: StateConfig?
        var sqlitePath = stateFile ?? ""
        if stateFile == nil {
            let config: DaemonConfig
            do throws(ConfigProblems) {
                config = try DaemonConfig.parse(try ConfigurationLoader.readText(configFile), file: configFile)
            } catch {
                return .failure(Failure(message: error.description, exitCode: 78))
            }
            state = config.state
            sqlitePath = DaemonPaths.resolve(config: config, environment: DaemonPaths.processEnvironment, isRoot: getuid() == 0).stateFile
        }
        // Opening a SQLite file that is not there would make an empty one, which verifies.
        var info = stat()
        if state == nil, stat(sqlitePath, &info) != 0 {
            return .failure(Failure(message: "cannot open the state database \(sqlitePath): \(String(cString: strerror(errno)))", exitCode: 74))
        }
        let store: any StateStore
        do {
            store = try openStateStore(state, sqlitePath: sqlitePath)
        } catch {
            return .failure(Failure(message: "cannot open the state database: \(error)", exitCode: 74))
        }
        defer { try? store.close() }
        do {
            let reports = try store.verifyChains()
            return .success(Tracker.VerifyAudit.Reply(ok: reports.allSatisfy(\.ok), chains: reports.map(Tracker.AuditChain.init)))
        } catch {
            return .failure(Failure(message: "cannot read the state database: \(error)", exitCode: 74))
        }
    }
}
