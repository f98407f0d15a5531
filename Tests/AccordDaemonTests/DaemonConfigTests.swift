import AccordCalendar
import AccordCore
import Foundation
import Testing

@testable import AccordDaemon

/// The repository's top, found from this file's place in the tree.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("Daemon configuration")
struct DaemonConfigTests {
    @Test func controlLimitsAreReadAndCheckedByName() throws {
        let good = try DaemonConfig.parse(
            "[control]\nmax-connections = 100\nper-user = 10\nreserved-for-admins = 5\nidle-timeout = \"PT30S\"\nreply-buffer = 1048576\n",
            file: "accordd.toml")
        #expect(good.control.replyBuffer == 1 << 20)
        #expect(good.control.maximumConnections == 100 && good.control.perUser == 10 && good.control.reservedForAdmins == 5)
        #expect(good.control.idleTimeout == ISODuration(seconds: 30))
        #expect(try DaemonConfig.parse("", file: "accordd.toml").control == DaemonConfig.Control())
        let bad = problems(
            "[control]\nmax-connections = 0\nper-user = \"ten\"\nreserved-for-admins = 4096\nidle-timeout = \"P0D\"\nlimit = 1\nreply-buffer = 4096\n"
        )
        #expect(
            bad.map(\.description) == [
                "accordd.toml:2: control › max-connections: must be from 1 to 65536, not 0",
                "accordd.toml:3: control › per-user: must be a whole number",
                "accordd.toml:5: control › idle-timeout: must be more than zero",
                "accordd.toml:7: control › reply-buffer: must be from 65536 to 1073741824, not 4096",
                "accordd.toml:4: control › reserved-for-admins: must be less than max-connections (2048)",
                "accordd.toml:6: control › limit: unknown key; allowed here: max-connections, per-user, reserved-for-admins, idle-timeout, reply-buffer"
            ])
    }

    static let lines = [
        /* 1 */ "portfolios = [\"portfolios\", \"/srv/extra.toml\"]",
        /* 2 */ "catch-up = \"P3D\"",
        /* 3 */ "admin-group = \"treaty-office\"",
        /* 4 */ "",
        /* 5 */ "[notify]",
        /* 6 */ "exec = [\"/usr/local/bin/accord-notify\", \"--quiet\"]",
        /* 7 */ "timeout = \"PT30S\""
    ]

    static func config(_ replacements: [Int: String]) -> String {
        var lines = lines
        for (number, text) in replacements { lines[number - 1] = text }
        return lines.joined(separator: "\n") + "\n"
    }

    func problems(_ text: String) -> [ConfigProblem] {
        do {
            _ = try DaemonConfig.parse(text, file: "accordd.toml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func aValidConfig() throws {
        let config = try DaemonConfig.parse(Self.config([4: "socket = \"/run/accord/io.accord.Tracker\""]), file: "accordd.toml")
        #expect(config.portfolios == ["portfolios", "/srv/extra.toml"])
        #expect(config.catchUp == duration("P3D"))
        #expect(config.adminGroup == "treaty-office")
        #expect(config.socket == "/run/accord/io.accord.Tracker")
        #expect(config.stateDirectory == nil)
        #expect(config.notify?.exec == ["/usr/local/bin/accord-notify", "--quiet"])
        #expect(config.notify?.timeout == duration("PT30S"))
    }

    @Test func theShippedConfigParses() throws {
        let file = repositoryRoot.appendingPathComponent("Config/accordd.toml").path
        let config = try DaemonConfig.parse(try String(contentsOfFile: file, encoding: .utf8), file: file)
        #expect(config.portfolios == ["portfolios"])
        #expect(config.catchUp == duration("P7D"))
        #expect(config.adminGroup == "accord-admin")
        #expect(config.notify == nil)
    }

    @Test func defaults() throws {
        let config = try DaemonConfig.parse("", file: "accordd.toml")
        #expect(config.portfolios == ["portfolios"])
        #expect(config.catchUp == duration("P7D"))
        #expect(config.adminGroup == "accord-admin")
        #expect(config.notify == nil)
        let noTimeout = try DaemonConfig.parse(Self.config([7: ""]), file: "accordd.toml")
        #expect(noTimeout.notify?.timeout == duration("PT10S"))
    }

    @Test(
        "each broken config names the line and the key",
        arguments: [
            (
                4, "colour = \"red\"", 4, "colour",
                "unknown key; allowed here: portfolios, calendars, catch-up, admin-group, state-directory, socket, digest, digest-at, escalate-after, [notify], [escalate], [control], [state]"
            ),
            (2, "catch-up = \"7 days\"", 2, "catch-up", "\"7 days\" is not an ISO 8601 duration: must start with P"),
            (2, "catch-up = \"P1.5D\"", 2, "catch-up", "fractions are not supported"),
            (4, "socket = \"run/accord.sock\"", 4, "socket", "must be an absolute path"),
            (4, "state-directory = \"state\"", 4, "state-directory", "must be an absolute path"),
            (6, "", 5, "notify › exec", "is required"),
            (6, "exec = [\"accord-notify\"]", 6, "notify › exec", "\"accord-notify\" must be an absolute path"),
            (6, "exec = []", 6, "notify › exec", "must name a program"),
            (7, "retries = 3", 7, "notify › retries", "unknown key; allowed here: exec, timeout"),
            (7, "timeout = \"PT0S\"", 7, "notify › timeout", "must be more than zero"),
            (1, "portfolios = []", 1, "portfolios", "names no file or folder"),
            (1, "portfolios = \"portfolios\"", 1, "portfolios", "must be an array of strings"),
            (3, "admin-group = \"\"", 3, "admin-group", "must name a group")
        ])
    func broken(replace: Int, with text: String, line: Int, keyPath: String, says: String) {
        let found = problems(Self.config([replace: text]))
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.file == "accordd.toml")
        #expect(found.first?.line == line, "\(found)")
        #expect(found.first?.keyPath == keyPath, "\(found)")
        #expect(found.first?.message.contains(says) == true, "\(found)")
    }

    @Test func aLongSocketPathIsRefused() {
        let long = "/run/" + String(repeating: "a", count: 110)
        #expect(problems(Self.config([4: "socket = \"\(long)\""])).map(\.keyPath) == ["socket"])
    }

    @Test func syntaxErrorsHaveALine() {
        let found = problems(Self.config([3: "admin-group = accord-admin"]))
        #expect(found.count == 1)
        #expect(found.first?.line == 3)
        #expect(found.first?.message.hasPrefix("TOML syntax") == true)
    }

    @Test func everyProblemIsReported() {
        let found = problems(Self.config([2: "catch-up = \"soon\"", 4: "socket = \"relative\"", 6: ""]))
        #expect(Set(found.map(\.keyPath)) == ["catch-up", "socket", "notify › exec"])
    }

    // MARK: digest and escalation (docs/contracts.md §14)

    @Test func digestAndEscalationSettingsAreRead() throws {
        let config = try DaemonConfig.parse(
            "digest = \"P7D\"\ndigest-at = \"monday 09:00 America/Toronto\"\nescalate-after = \"P3D\"\n"
                + "[escalate]\nexec = [\"/usr/local/bin/page\", \"duty\"]\n",
            file: "accordd.toml")
        #expect(config.digest?.period == duration("P7D") && config.digest?.zone.identifier == "America/Toronto")
        #expect(config.digest?.anchor == .weekday(0, LocalTime(hour: 9, minute: 0)!))
        #expect(config.escalateAfter == duration("P3D"))
        #expect(config.escalate?.exec == ["/usr/local/bin/page", "duty"] && config.escalate?.timeout == duration("PT10S"))
        #expect(config.notify == nil)
        // Without digest-at: Mondays at 09:00 UTC for whole weeks, 09:00 UTC otherwise; a TOML
        // date-time with offset is an instant anchor.
        #expect(try DaemonConfig.parse("digest = \"P2W\"\n", file: "a").digest?.anchor == .weekday(0, LocalTime(hour: 9, minute: 0)!))
        #expect(try DaemonConfig.parse("digest = \"P1D\"\n", file: "a").digest?.anchor == .timeOfDay(LocalTime(hour: 9, minute: 0)!))
        let instant = try DaemonConfig.parse("digest = \"PT5S\"\ndigest-at = 2030-01-01T10:00:00+01:00\n", file: "a").digest
        #expect(instant?.anchor == .instant(try Instant(parsingRFC3339: "2030-01-01T09:00:00Z")))
        let none = try DaemonConfig.parse("", file: "a")
        #expect(none.digest == nil && none.escalateAfter == nil && none.escalate == nil)
    }

    @Test func brokenDigestAndEscalationSettingsNameTheFileLineAndKey() {
        let found = problems(
            "portfolios = [\"p\"]\ndigest = \"P10D\"\ndigest-at = \"monday 09:00\"\nescalate-after = \"P0D\"\n[escalate]\nexec = [\"page\"]\n")
        #expect(
            found.map(\.description) == [
                "accordd.toml:2: digest: P10D is not whole weeks, as a weekday in digest-at (\"monday 09:00\") needs; write P7D, P1W, P14D, …",
                "accordd.toml:4: escalate-after: must be longer than zero",
                "accordd.toml:6: escalate › exec: \"page\" must be an absolute path"
            ])
        #expect(
            problems("digest-at = \"monday 09:00\"\n").map(\.description) == [
                "accordd.toml:1: digest-at: needs digest, the period of the digest (e.g. digest = \"P7D\")"
            ])
        #expect(problems("digest = \"P7D\"\ndigest-at = 9\n").map(\.keyPath) == ["digest-at"])
        #expect(problems("digest = \"P7D\"\ndigest-at = \"someday\"\n").first?.line == 2)
        #expect(problems("escalate = 3\n").map(\.message) == ["must be a table: [escalate]"])
    }
}
