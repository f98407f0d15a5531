// History's pages at the store (issue 16, defect 5): every row exactly once, in id order,
// with the filters, on both backends.
import AccordCalendar
import AccordCore
import Testing

@testable import AccordStore

@Suite struct AuditPageTests {
    @Test(arguments: Backend.available) func pagesGiveEveryRowOnceInOrder(_ backend: Backend) throws {
        let store = try backend.open().store
        let ana = Actor(uid: 1000, user: "ana")
        for n in 0..<25 {
            try store.audit(
                at: Instant(seconds: Int64(n)), actor: ana, action: "snooze", item: n % 2 == 0 ? "d/even" : "d/odd",
                detail: "row \(n)", allowed: true)
        }
        var seen: [String] = []
        var after: Int64?
        var pages = 0
        repeat {
            let page = try store.auditPage(item: nil, since: nil, after: after, limit: 10)
            seen += page.records.map(\.detail)
            pages += 1
            #expect(page.records.count == (page.next == nil ? 5 : 10))
            after = page.next
        } while after != nil
        #expect(pages == 3)
        #expect(seen == (0..<25).map { "row \($0)" })
        // A page that ends exactly at the last row says nothing follows.
        let whole = try store.auditPage(item: nil, since: nil, after: nil, limit: 25)
        #expect(whole.records.count == 25 && whole.next == nil)
        // Filters apply to every page: the odd rows from second 10 on, three at a time.
        var odd: [String] = []
        after = nil
        repeat {
            let page = try store.auditPage(item: "d/odd", since: Instant(seconds: 10), after: after, limit: 3)
            odd += page.records.map(\.detail)
            after = page.next
        } while after != nil
        #expect(odd == [11, 13, 15, 17, 19, 21, 23].map { "row \($0)" })
        #expect(try store.auditTrail(item: nil, since: nil).map(\.detail) == seen)
    }
}
