import AccordCalendar
import AccordCore
import Foundation
import Testing

/// A valid portfolio whose lines the broken cases replace one at a time, so that every
/// expected line number can be read off here.
let validLines = [
    /*  1 */ "[dialogue]",
    /*  2 */ "id = \"d\"",
    /*  3 */ "title = \"Broken\"",
    /*  4 */ "time-zone = \"America/Toronto\"",
    /*  5 */ "reminders = [\"P7D\", \"P0D\"]",
    /*  6 */ "",
    /*  7 */ "[[objective]]",
    /*  8 */ "id = \"obj\"",
    /*  9 */ "title = \"An objective\"",
    /* 10 */ "due = 2017-03-31",
    /* 11 */ "",
    /* 12 */ "[[instrument]]",
    /* 13 */ "id = \"cbsa-beea-pilot-mou\"",
    /* 14 */ "kind = \"mou\"",
    /* 15 */ "title = \"Pilot\"",
    /* 16 */ "term = \"P1Y\"",
    /* 17 */ "in-force = 2017-01-15",
    /* 18 */ "notice = \"P90D\""
]

/// The valid portfolio with some lines replaced (1-based), and more lines appended.
func broken(_ replacements: [Int: String], prefix: [String] = [], appending: [String] = []) -> String {
    var lines = validLines
    for (number, text) in replacements { lines[number - 1] = text }
    return (prefix + lines + appending).joined(separator: "\n") + "\n"
}

struct Expected: Sendable, CustomStringConvertible {
    var line: Int?
    var keyPath: String
    var says: String
    init(_ line: Int?, _ keyPath: String, _ says: String) { self.line = line; self.keyPath = keyPath; self.says = says }
    var description: String { "\(line.map(String.init) ?? "-"): \(keyPath): …\(says)…" }
}

struct BrokenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var expected: [Expected]
    init(_ name: String, _ text: String, _ expected: Expected...) { self.name = name; self.text = text; self.expected = expected }
    var testDescription: String { name }
}

let pilot = "instrument \"cbsa-beea-pilot-mou\""

let brokenPortfolios: [BrokenCase] = [
    BrokenCase(
        "bad zone on the dialogue", broken([4: "time-zone = \"Mars/Olympus\""]),
        Expected(4, "dialogue › time-zone", "\"Mars/Olympus\" is not an IANA time zone")),
    BrokenCase(
        "zone names are case-sensitive", broken([4: "time-zone = \"america/toronto\""]),
        Expected(4, "dialogue › time-zone", "\"america/toronto\" is not an IANA time zone (e.g. America/Toronto")),
    BrokenCase(
        "bad zone on an item", broken([11: "time-zone = \"Asia/Peking\""]),
        Expected(11, "objective \"obj\" › time-zone", "\"Asia/Peking\" is not an IANA time zone")),
    BrokenCase(
        "missing zone", broken([4: ""]),
        Expected(1, "dialogue › time-zone", "is required")),
    BrokenCase(
        "bad duration in reminders", broken([5: "reminders = [\"P7D\", \"P1H\"]"]),
        Expected(5, "dialogue › reminders", "\"P1H\" is not an ISO 8601 duration: before T only Y, M, W and D")),
    BrokenCase(
        "bad term", broken([16: "term = \"1Y\""]),
        Expected(16, "\(pilot) › term", "\"1Y\" is not an ISO 8601 duration: must start with P")),
    BrokenCase(
        "term with hours", broken([16: "term = \"PT36H\"", 18: ""]),
        Expected(16, "\(pilot) › term", "must be a whole number of years, months, weeks or days")),
    BrokenCase(
        "bad overdue-every", broken([6: "overdue-every = \"weekly\""]),
        Expected(6, "dialogue › overdue-every", "must start with P")),
    BrokenCase(
        "zero overdue-every", broken([11: "overdue-every = \"P0D\""]),
        Expected(11, "objective \"obj\" › overdue-every", "must be longer than zero")),
    BrokenCase(
        "unknown key at the top", broken([:], prefix: ["colour = \"red\""]),
        Expected(1, "colour", "unknown key; allowed here: [dialogue], [[objective]], [[instrument]]")),
    BrokenCase(
        "unknown key in the dialogue", broken([6: "remind_at = 09:00:00"]),
        Expected(
            6, "dialogue › remind_at",
            "unknown key; allowed here: id, title, parties, established, established-until, inaugural-meeting, venue, co-chairs, description, owner, contacts, default-basis, time-zone, remind-at, reminders, overdue-every, overdue-for"
        )),
    BrokenCase(
        "unknown key in an objective", broken([11: "reminder = [\"P1D\"]"]),
        Expected(
            11, "objective \"obj\" › reminder", "unknown key; allowed here: id, title, due, every, first, until, status, fulfilled-by, reminders")),
    BrokenCase(
        "unknown key in an instrument", broken([:], appending: ["expires = 2018-01-15"]),
        Expected(
            19, "\(pilot) › expires",
            "unknown key; allowed here: id, kind, title, parties, sign-by, term, in-force, notice, adopted, renews, supersedes")),
    BrokenCase(
        "an objective key on an instrument", broken([:], appending: ["due = 2018-01-15"]),
        Expected(19, "\(pilot) › due", "unknown key")),
    BrokenCase(
        "duplicate id in one file", broken([:], appending: ["", "[[objective]]", "id = \"obj\"", "title = \"Again\""]),
        Expected(21, "objective \"obj\" › id", "id \"obj\" is used twice in this file (first at line 7)")),
    BrokenCase(
        "an objective and an instrument with one id", broken([13: "id = \"obj\""]),
        Expected(13, "instrument \"obj\" › id", "id \"obj\" is used twice in this file (first at line 7)")),
    BrokenCase(
        "missing title", broken([9: ""]),
        Expected(7, "objective \"obj\" › title", "is required")),
    BrokenCase(
        "missing dialogue title", broken([3: ""]),
        Expected(1, "dialogue › title", "is required")),
    BrokenCase(
        "missing id", broken([8: ""]),
        Expected(7, "objective #1 › id", "is required")),
    BrokenCase(
        "missing [dialogue]", Array(validLines[6...]).joined(separator: "\n"),
        Expected(nil, "", "the [dialogue] table is missing")),
    BrokenCase(
        "dialogue that is not a table", "dialogue = \"d\"\n" + Array(validLines[6...]).joined(separator: "\n"),
        Expected(1, "dialogue", "must be a table: [dialogue]")),
    BrokenCase(
        "in-force without term", broken([16: "", 18: ""]),
        Expected(17, "\(pilot) › in-force", "is set but term is missing")),
    BrokenCase(
        "notice without term", broken([16: "", 17: ""]),
        Expected(18, "\(pilot) › notice", "is set but term is missing")),
    BrokenCase(
        "notice as long as the term", broken([18: "notice = \"P12M\""]),
        Expected(18, "\(pilot) › notice", "P12M is not shorter than the term P1Y")),
    BrokenCase(
        "notice longer than the term", broken([18: "notice = \"P400D\""]),
        Expected(18, "\(pilot) › notice", "P400D is not shorter than the term P1Y")),
    BrokenCase(
        "bad kind", broken([14: "kind = \"memo\""]),
        Expected(14, "\(pilot) › kind", "\"memo\" is not an instrument kind; allowed: treaty, agreement, mou, arrangement")),
    BrokenCase(
        "objective is not an instrument kind", broken([14: "kind = \"objective\""]),
        Expected(14, "\(pilot) › kind", "allowed: treaty, agreement, mou, arrangement")),
    BrokenCase(
        "missing kind", broken([14: ""]),
        Expected(12, "\(pilot) › kind", "is required")),
    BrokenCase(
        "bad status", broken([11: "status = \"finished\""]),
        Expected(11, "objective \"obj\" › status", "\"finished\" is not a status; allowed: open, in-progress, done, dropped")),
    BrokenCase(
        "path as id", broken([8: "id = \"../etc\""]),
        Expected(8, "objective \"../etc\" › id", "\"../etc\" is not a valid id: use 1 to 64 of a-z, 0-9 and -")),
    BrokenCase(
        "upper-case dialogue id", broken([2: "id = \"CA-CN\""]),
        Expected(2, "dialogue › id", "\"CA-CN\" is not a valid id")),
    BrokenCase(
        "TOML syntax error", broken([9: "title = \"unterminated"]),
        Expected(9, "", "TOML syntax")),
    BrokenCase(
        "TOML syntax error further down", broken([17: "in-force = 2017-01-15 oops"]),
        Expected(17, "", "TOML syntax")),
    BrokenCase(
        "string where a date is expected (due)", broken([10: "due = \"2017-03-31\""]),
        Expected(10, "objective \"obj\" › due", "must be a date (2017-03-31) or a date-time with offset")),
    BrokenCase(
        "string where a date is expected (in-force)", broken([17: "in-force = \"2017-01-15\""]),
        Expected(17, "\(pilot) › in-force", "must be a date such as 2017-01-15 (no quotes)")),
    BrokenCase(
        "datetime where a date is expected", broken([17: "in-force = 2017-01-15T09:00:00Z"]),
        Expected(17, "\(pilot) › in-force", "must be a date such as 2017-01-15")),
    BrokenCase(
        "number in reminders", broken([5: "reminders = [\"P7D\", 7]"]),
        Expected(5, "dialogue › reminders", "must be an array of strings")),
    BrokenCase(
        "reminders not an array", broken([5: "reminders = \"P7D\""]),
        Expected(5, "dialogue › reminders", "must be an array of strings")),
    BrokenCase(
        "reminder listed twice", broken([11: "reminders = [\"P7D\", \"P1D\", \"P7D\"]"]),
        Expected(11, "objective \"obj\" › reminders", "\"P7D\" is listed twice")),
    BrokenCase(
        "bad remind-at", broken([6: "remind-at = \"9am\""]),
        Expected(6, "dialogue › remind-at", "is not a time of day")),
    BrokenCase(
        "title that is not a string", broken([15: "title = 42"]),
        Expected(15, "\(pilot) › title", "must be a string"))
]

@Suite("Broken portfolios")
struct BrokenPortfolioTests {
    @Test func theValidPortfolioIsValid() throws {
        let portfolio = try PortfolioParser.parse(broken([:]), file: "broken.toml")
        #expect(portfolio.items.map(\.fullID) == ["d/obj", "d/cbsa-beea-pilot-mou"])
        #expect(portfolio.items.map(\.source.line) == [7, 12])
    }

    @Test("each broken portfolio names the file, the line and the key path", arguments: brokenPortfolios)
    func brokenPortfolio(_ broken: BrokenCase) {
        let found = problems(broken.text, file: "portfolios.d/broken.toml")
        #expect(found.count == broken.expected.count, "\(found)")
        for (problem, expected) in zip(found, broken.expected) {
            #expect(problem.file == "portfolios.d/broken.toml")
            #expect(problem.line == expected.line, "\(problem)")
            #expect(problem.keyPath == expected.keyPath, "\(problem)")
            #expect(problem.message.contains(expected.says), "\(problem)")
            let place = problem.line.map { "portfolios.d/broken.toml:\($0)" } ?? "portfolios.d/broken.toml"
            #expect(problem.description.hasPrefix(expected.keyPath.isEmpty ? "\(place): " : "\(place): \(expected.keyPath): "))
        }
    }

    /// TableReader keeps the keys it asked for as bits for the first 64 positions of a table and
    /// in a set beyond: keys known and unknown on both sides of position 64 must be told apart.
    @Test func unknownKeysAreFoundOnBothSidesOfTheSixtyFourthKey() {
        // a00…a69 sort before every known key of the objective (due, id, title), which then
        // stand at positions 70 to 72.
        let unknown = (0..<70).map { String(format: "a%02d", $0) }
        let found = problems(
            broken([:], appending: ["", "[[objective]]", "id = \"wide\"", "title = \"Wide\"", "due = 2018-01-15"] + unknown.map { "\($0) = 1" }))
        #expect(found.count == 70, "\(found.map(\.keyPath))")
        #expect(found.map(\.keyPath) == unknown.map { "objective \"wide\" › \($0)" })
        #expect(found.allSatisfy { $0.message.hasPrefix("unknown key; allowed here: id, title, due") })
        #expect(found.first?.line == 24 && found.last?.line == 93)
    }

    @Test func theCatalogueIsLargeEnough() {
        #expect(brokenPortfolios.count >= 15)
    }

    @Test func everyProblemOfAFileIsReported() {
        let found = problems(broken([5: "reminders = [\"P7D\", \"P1.5D\"]", 11: "status = \"finished\"", 14: "kind = \"memo\""]))
        #expect(found.map(\.line) == [5, 11, 14])
        #expect(found.map(\.keyPath) == ["dialogue › reminders", "objective \"obj\" › status", "\(pilot) › kind"])
        #expect(found[0].message.contains("fractions are not supported"))
        let description = ConfigProblems(found).description
        #expect(description.split(separator: "\n").count == 3)
        #expect(description.hasPrefix("broken.toml:5: dialogue › reminders: \"P1.5D\" is not an ISO 8601 duration"))
    }

    @Test func linesAreRightInFilesOfOtherShapes() {
        // Windows line ends.
        let crlf = broken([11: "status = \"finished\""]).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(problems(crlf).map(\.line) == [11])
        // A reminders array over several lines, then a typo further down the same table.
        let multiline = broken([5: "reminders = [\n  \"P7D\",\n  \"P0D\",\n]"], appending: ["expires = 2018-01-15"])
        #expect(problems(multiline).map(\.line) == [22])
        #expect(problems(multiline).map(\.keyPath) == ["\(pilot) › expires"])
        // Quoted keys, indentation and comments.
        let quoted = broken([10: "  \"due\" = \"soon\"   # a comment", 6: "# [not a header]"])
        #expect(problems(quoted).map(\.line) == [10])
        #expect(problems(quoted).map(\.keyPath) == ["objective \"obj\" › due"])
    }

    @Test func aDuplicateDialogueAcrossPortfoliosIsNamedInTheSecondFile() throws {
        let first = try PortfolioParser.parse(broken([:]), file: "a.toml")
        let second = try PortfolioParser.parse(broken([9: "title = \"Elsewhere\""]), file: "b.toml")
        let error = try #require(throws: ConfigProblems.self) { try Catalog(portfolios: [first, second]) }
        #expect(error.problems.count == 1)
        let problem = try #require(error.problems.first)
        #expect(problem.file == "b.toml")
        #expect(problem.line == 1)  // the [dialogue] header
        #expect(problem.keyPath == "dialogue › id")
        #expect(problem.message == "dialogue id \"d\" is already used by a.toml:1")
        // Different dialogues may use the same bare item id; the full ids differ.
        let third = try PortfolioParser.parse(broken([2: "id = \"e\""]), file: "c.toml")
        let catalog = try Catalog(portfolios: [first, third])
        #expect(catalog.items.map(\.fullID) == ["d/obj", "d/cbsa-beea-pilot-mou", "e/obj", "e/cbsa-beea-pilot-mou"])
        #expect(catalog.lookup("obj") == .ambiguous(["d/obj", "e/obj"]))
        #expect(catalog.lookup("e/obj") == .found(2))
    }

    @Test func aDuplicateItemAcrossPortfoliosOfOneDialogueIsRefused() throws {
        // Built by hand: two portfolios that the parser read separately but that end up
        // with the same full item id.
        let first = try PortfolioParser.parse(broken([:]), file: "a.toml")
        var second = try PortfolioParser.parse(broken([2: "id = \"e\""]), file: "b.toml")
        second.items = second.items.map { item in
            var item = item
            item.dialogueID = "d"
            return item
        }
        let error = try #require(throws: ConfigProblems.self) { try Catalog(portfolios: [first, second]) }
        #expect(error.problems.map(\.file) == ["b.toml", "b.toml"])
        #expect(error.problems.map(\.keyPath) == ["objective \"obj\" › id", "\(pilot) › id"])
        #expect(error.problems[0].message == "id \"obj\" is already used by a.toml:7")
    }
}
