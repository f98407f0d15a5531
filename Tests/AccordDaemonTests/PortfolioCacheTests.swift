// A reload parses only the portfolio files that changed (PortfolioCache): what is kept must be
// exactly what parsing the same bytes gives, and a changed, added or removed file, or other
// calendars, must never be answered from the cache.
import AccordCalendar
import AccordCore
import Foundation
import Testing

@testable import AccordDaemon

@Suite struct PortfolioCacheTests {
    /// Three portfolio files of a few items each, in a scratch directory.
    struct Files {
        let directory = NSTemporaryDirectory() + "accord-cache-\(UUID().uuidString)"
        var paths: [String] { [directory + "/portfolios"] }

        init() throws {
            try FileManager.default.createDirectory(atPath: directory + "/portfolios", withIntermediateDirectories: true)
            for n in 0..<3 { try write(n, title: "Objective") }
        }

        func write(_ n: Int, title: String, due: String = "2031-05-01") throws {
            var text = "[dialogue]\nid = \"d\(n)\"\ntitle = \"D\(n)\"\ntime-zone = \"Asia/Shanghai\"\n"
            for i in 0..<4 { text += "[[objective]]\nid = \"o\(i)\"\ntitle = \"\(title) \(i)\"\ndue = \(due)\n" }
            try text.write(toFile: "\(directory)/portfolios/p\(n).toml", atomically: true, encoding: .utf8)
        }

        func load(_ cache: PortfolioCache, calendars: [BusinessCalendar] = []) throws -> Catalog {
            try ConfigurationLoader.loadPortfolios(paths, calendars: calendars, cache: cache).get().1
        }
    }

    @Test func nothingChangedParsesNothingAndGivesTheSameCatalog() throws {
        let files = try Files()
        let cache = PortfolioCache()
        let first = try files.load(cache)
        #expect((cache.parsed, cache.reused, cache.lastLoadChangedNothing) == (3, 0, false))
        let second = try files.load(cache)
        #expect((cache.parsed, cache.reused, cache.lastLoadChangedNothing) == (0, 3, true))
        #expect(second.items.map(\.fullID) == first.items.map(\.fullID))
        #expect(second.items.map(\.title) == first.items.map(\.title))
    }

    @Test func aChangedFileIsParsedAgainAndOnlyIt() throws {
        let files = try Files()
        let cache = PortfolioCache()
        _ = try files.load(cache)
        // The same length as before: only the bytes tell the versions apart.
        try files.write(1, title: "Changed!!", due: "2031-05-02")
        let catalog = try files.load(cache)
        #expect((cache.parsed, cache.reused, cache.lastLoadChangedNothing) == (1, 2, false))
        #expect(catalog.item(fullID: "d1/o0")?.title == "Changed!! 0")
        #expect(catalog.item(fullID: "d1/o0")?.due == .date(CivilDate(year: 2031, month: 5, day: 2)!))
        #expect(catalog.item(fullID: "d0/o0")?.title == "Objective 0")
        // And the next reload keeps the new version, not the first one.
        let again = try files.load(cache)
        #expect(cache.lastLoadChangedNothing)
        #expect(again.item(fullID: "d1/o3")?.title == "Changed!! 3")
    }

    @Test func addedAndRemovedFilesAreSeen() throws {
        let files = try Files()
        let cache = PortfolioCache()
        _ = try files.load(cache)
        try FileManager.default.removeItem(atPath: "\(files.directory)/portfolios/p2.toml")
        let fewer = try files.load(cache)
        #expect(fewer.items.count == 8 && fewer.item(fullID: "d2/o0") == nil)
        #expect(!cache.lastLoadChangedNothing)
        try files.write(2, title: "Back")
        let more = try files.load(cache)
        #expect(more.items.count == 12 && more.item(fullID: "d2/o0")?.title == "Back 0")
        #expect((cache.parsed, cache.reused) == (1, 2))
    }

    @Test func otherCalendarsParseEverythingAgain() throws {
        let files = try Files()
        let cache = PortfolioCache()
        _ = try files.load(cache)
        let calendar = try BusinessCalendarParser.parse(
            """
            [calendar]
            id = "xx"
            title = "Test"
            source = "made up"
            years = [2030, 2032]
            weekend = ["saturday", "sunday"]
            holidays = []
            working-days = []
            """, file: "xx.toml")
        _ = try files.load(cache, calendars: [calendar])
        #expect((cache.parsed, cache.reused) == (3, 0))
    }

    /// A file that fails to parse is reported at every load, never kept; put back as it was, it
    /// is the file of the last good catalog again, which is what the load then gives.
    @Test func aBrokenFileIsNeverCachedAsGood() throws {
        let files = try Files()
        let cache = PortfolioCache()
        let good = try files.load(cache)
        try "[dialogue\n".write(toFile: "\(files.directory)/portfolios/p1.toml", atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            #expect(throws: ConfigProblems.self) { try files.load(cache) }
        }
        try files.write(1, title: "Objective")
        let restored = try files.load(cache)
        #expect((cache.parsed, cache.reused, cache.lastLoadChangedNothing) == (0, 3, true))
        #expect(restored.items.map(\.title) == good.items.map(\.title))
        try files.write(1, title: "Other")
        _ = try files.load(cache)
        #expect((cache.parsed, cache.reused) == (1, 2))
    }
}
