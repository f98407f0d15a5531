// The pages of List, Upcoming and History (issue 16, defect 5): the page size a call may ask
// for, the cut, and Upcoming's cursor over reminders of the same second.
import AccordCalendar
import AccordCore
import AccordProtocol
import Logging
import Testing

@testable import AccordDaemon

/// Five objectives due at the same instant, three reminders each: five reminders in each second.
let sameSecond = """
    [dialogue]
    id = "d"
    title = "Test dialogue"
    time-zone = "UTC"
    reminders = ["PT2H", "PT1H", "P0D"]
    """
    + (1...5).map { "\n[[objective]]\nid = \"o\($0)\"\ntitle = \"O\($0)\"\ndue = 2030-01-01T12:00:00Z\n" }.joined()

@Suite struct PagingTests {
    @Test func pageSizeIsTheLimitButNeverOverTheMaximum() throws {
        #expect(try Paging.size(nil) == Page.maximum)
        #expect(try Paging.size(7) == 7)
        #expect(try Paging.size(50_000) == Page.maximum)
        for bad in [0, -1] {
            do {
                _ = try Paging.size(bad)
                Issue.record("limit \(bad) was taken")
            } catch {
                #expect(error == .invalidParameter("limit"))
            }
        }
    }

    @Test func cutTakesOneRowMoreOnlyToKnowWhetherMoreFollow() {
        var looked = 0
        let rows = (0..<2_500).lazy.map { row -> Int in
            looked += 1
            return row
        }
        let page = Paging.cut(rows, size: 1_000)
        #expect(page.rows == Array(0..<1_000) && page.more)
        #expect(looked == 1_001)
        #expect(Paging.cut(0..<1_000, size: 1_000).more == false)
        #expect(Paging.cut(0..<0, size: 10).rows.isEmpty)
    }

    @Test func historyCursorIsAPositiveRowID() throws {
        #expect(try Paging.historyAfter(nil) == nil)
        #expect(try Paging.historyAfter("42") == 42)
        for bad in ["0", "-3", "x", "", "1.5"] {
            #expect(throws: VarlinkError.self) { try Paging.historyAfter(bad) }
        }
    }

    @Test func reminderPositionRoundTripsAndRefusesNonsense() throws {
        let position = Paging.ReminderPosition(fireAt: instant("2030-01-01T10:00:00Z"), key: "d/o1:due:2030-01-01T12:00:00Z:PT2H")
        #expect(try Paging.ReminderPosition(parsing: position.text) == position)
        for bad in ["", "2030-01-01T10:00:00Z", "2030-01-01T10:00:00Z ", "yesterday d/o1:due", "d/o1:due"] {
            #expect(throws: VarlinkError.self) { try Paging.ReminderPosition(parsing: bad) }
        }
    }

    /// Pages of every size through reminders that share their seconds: each reminder exactly
    /// once, in firing order and within a second in key order, as one unpaged walk gives them.
    @Test func upcomingPagesGiveEveryReminderOnceInOrder() throws {
        let fixture = try Fixture(portfolio: sameSecond)
        let engine = try fixture.engine(clock: ManualClock(instant("2030-01-01T09:00:00Z")), journal: CollectingJournal())
        let from = instant("2030-01-01T09:00:01Z"), until = instant("2030-01-02T00:00:00Z")
        let all = Array(Paging.reminders(engine.plan, from: from, until: until, after: nil))
        #expect(all.count == 15)
        let positions = all.map { Paging.ReminderPosition(fireAt: $0.fireAt, key: $0.key) }
        #expect(positions == positions.sorted())
        #expect(Set(all.map(\.key)).count == 15)
        for size in [1, 2, 4, 5, 7, 15, 16] {
            var seen: [String] = []
            var after: Paging.ReminderPosition?
            var pages = 0
            while true {
                let page = Paging.cut(Paging.reminders(engine.plan, from: from, until: until, after: after), size: size)
                seen += page.rows.map(\.key)
                pages += 1
                guard page.more, let last = page.rows.last else { break }
                after = Paging.ReminderPosition(fireAt: last.fireAt, key: last.key)
            }
            #expect(seen == all.map(\.key), "pages of \(size)")
            #expect(pages == (15 + size - 1) / size, "pages of \(size)")
        }
    }

    @Test func listCursorIsAFullIDTheCatalogStillHas() throws {
        let fixture = try Fixture(portfolio: sameSecond)
        let catalog = try fixture.load().catalog
        #expect(try Paging.listStart(after: nil, in: catalog) == 0)
        #expect(try Paging.listStart(after: "d/o2", in: catalog) == 2)
        #expect(throws: VarlinkError.self) { try Paging.listStart(after: "d/gone", in: catalog) }
    }
}
