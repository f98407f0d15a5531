import AccordCalendar
import AccordCore
import Foundation
import Testing

// Small helpers shared by the AccordCore tests. Values are written out by hand in
// the tests; these only turn text into values.

func instant(_ text: String) -> Instant { try! Instant(parsingRFC3339: text) }
func day(_ text: String) -> CivilDate { try! CivilDate(parsing: text) }
func duration(_ text: String) -> ISODuration { try! ISODuration(parsing: text) }
func zone(_ name: String) -> Zone { try! Zone.named(name) }
func wall(_ date: String, _ time: String) -> LocalDateTime {
    LocalDateTime(date: day(date), time: try! LocalTime(parsing: time))
}

let toronto = zone("America/Toronto")
let shanghai = zone("Asia/Shanghai")

/// Parses one portfolio, failing the test with every problem if it does not parse.
func portfolio(
    _ text: String, file: String = "test.toml",
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Portfolio {
    do {
        return try PortfolioParser.parse(text, file: file)
    } catch {
        Issue.record("portfolio did not parse:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

func catalog(_ texts: String..., sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Catalog {
    try Catalog(
        portfolios: texts.enumerated().map { index, text in
            try portfolio(text, file: "p\(index).toml", sourceLocation: sourceLocation)
        })
}

func plan(
    _ text: String, history: History = .empty,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> ReminderPlan {
    ReminderPlan(catalog: try catalog(text, sourceLocation: sourceLocation), history: history)
}

/// The problems a broken portfolio yields (none if it parses).
func problems(_ text: String, file: String = "broken.toml") -> [ConfigProblem] {
    do {
        _ = try PortfolioParser.parse(text, file: file)
        return []
    } catch {
        return error.problems
    }
}

extension ReminderPlan {
    func all(from: String, until: String) -> [Reminder] {
        reminders(from: instant(from), until: instant(until))
    }
}

extension Array where Element == Reminder {
    var keys: [String] { map(\.key) }
    func keyed(_ key: String) -> Reminder? { first { $0.key == key } }
}

/// The repository's `Config/` folder, found from this file's place in the tree.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
