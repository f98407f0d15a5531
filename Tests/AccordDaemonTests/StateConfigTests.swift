import AccordCalendar
import AccordCore
import AccordStore
import Testing

@testable import AccordDaemon

/// `[state]` in accordd.toml: PostgreSQL instead of the SQLite file, and every mistake named by
/// file, line and key.
@Suite struct StateConfigTests {
    static func text(_ lines: [String]) -> String {
        (["portfolios = [\"portfolios\"]", "", "[state]"] + lines).joined(separator: "\n") + "\n"
    }

    func problems(_ lines: [String]) -> [ConfigProblem] {
        do {
            _ = try DaemonConfig.parse(Self.text(lines), file: "/etc/accord/accordd.toml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func aValidStateSection() throws {
        let config = try DaemonConfig.parse(
            Self.text([
                "url = \"postgresql://accord@db.example.org:5433/accord\"", "sslmode = \"verify-full\"",
                "password-file = \"/etc/accord/db-password\"", "takeover = \"PT30S\""
            ]), file: "accordd.toml")
        #expect(
            config.state
                == StateConfig(
                    url: "postgresql://accord@db.example.org:5433/accord", sslMode: "verify-full",
                    passwordFile: "/etc/accord/db-password", takeover: ISODuration(seconds: 30)))
    }

    @Test func withoutStateTheStateStaysInSQLite() throws {
        #expect(try DaemonConfig.parse("", file: "accordd.toml").state == nil)
        let minimal = try DaemonConfig.parse(Self.text(["url = \"postgres:///accord?host=/run/postgresql\""]), file: "accordd.toml")
        #expect(minimal.state?.takeover == ISODuration(seconds: 10))
        #expect(minimal.state?.sslMode == nil && minimal.state?.passwordFile == nil)
    }

    @Test(
        "each broken [state] names the line and the key",
        arguments: [
            ([String](), 3, "state › url", "is required"),
            (
                ["url = \"sqlite:///var/lib/accord/state.sqlite\""], 4, "state › url",
                "\"sqlite:///var/lib/accord/state.sqlite\" must be a PostgreSQL URL: postgresql://[user@]host[:port]/database (leave [state] out to keep the state in SQLite)"
            ),
            (
                ["url = \"postgresql://accord:hunter2@db/accord\""], 4, "state › url",
                "must not contain a password: put it in the file named by password-file, or in PGPASSFILE"
            ),
            (
                ["url = \"postgresql://db/accord?password=hunter2\""], 4, "state › url",
                "must not contain a password: put it in the file named by password-file, or in PGPASSFILE"
            ),
            (
                ["url = \"postgresql://db/accord\"", "sslmode = \"on\""], 5, "state › sslmode",
                "\"on\" is not one of disable, allow, prefer, require, verify-ca, verify-full"
            ),
            (["url = \"postgresql://db/accord\"", "password-file = \"secret\""], 5, "state › password-file", "must be an absolute path"),
            (
                ["url = \"postgresql://db/accord\"", "takeover = \"PT1S\""], 5, "state › takeover",
                "PT1S must be at least PT3S (standbys retry every third of it) and given in days, hours, minutes or seconds"
            ),
            (
                ["url = \"postgresql://db/accord\"", "password = \"hunter2\""], 5, "state › password",
                "unknown key; allowed here: url, sslmode, password-file, takeover"
            )
        ])
    func broken(lines: [String], line: Int, keyPath: String, says: String) {
        let found = problems(lines)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.file == "/etc/accord/accordd.toml")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.keyPath == keyPath, "\(found)")
        #expect(found.first?.message == says, "\(found)")
    }

    @Test func stateMustBeATable() {
        do {
            _ = try DaemonConfig.parse("state = \"postgresql://db/accord\"\n", file: "accordd.toml")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.message) == ["must be a table: [state]"])
        }
    }
}
