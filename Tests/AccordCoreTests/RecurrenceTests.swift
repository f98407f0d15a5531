import AccordCalendar
import AccordCore
import PropertyBased
import Testing

// Recurring objectives (docs/design.md §13): `every`/`first`/`until`, one due deadline per
// occurrence with the occurrence date in its keys, a completion closing the occurrence due
// nearest its date, and the parser's errors; properties over the whole range of the formats.

private func recurring(_ lines: String) -> String {
    """
    [dialogue]
    id = "d"
    title = "T"
    time-zone = "UTC"
    reminders = ["P7D", "P0D"]

    [[objective]]
    id = "meet"
    title = "Meet"
    \(lines)
    """
}

private func completed(_ on: String, id: Int64 = 1) -> ItemEvent {
    ItemEvent(id: id, itemID: "d/meet", type: .completed, on: day(on), recordedAt: instant("\(on)T12:00:00Z"), recordedBy: "desk")
}

@Suite("Recurring objectives")
struct RecurrenceTests {
    @Test func oneDueDeadlinePerOccurrenceWithItsDateInTheKeys() throws {
        let plan = try plan(recurring("first = 2017-09-12\nevery = \"P1Y\"\nuntil = 2019-09-12"))
        let fires = plan.all(from: "2017-01-01T00:00:00Z", until: "2020-01-01T00:00:00Z")
        #expect(
            fires.map(\.key) == [
                "d/meet:due:2017-09-12:P7D", "d/meet:due:2017-09-12:P0D", "d/meet:due:2018-09-12:P7D", "d/meet:due:2018-09-12:P0D",
                "d/meet:due:2019-09-12:P7D", "d/meet:due:2019-09-12:P0D"
            ])
        #expect(plan.state(ofItem: 0, at: instant("2018-01-01T00:00:00Z")) == .open)
    }

    @Test func monthlyFromThe31stDoesNotDrift() {
        let recurrence = Recurrence(every: duration("P1M"), first: .date(day("2017-01-31")), until: .date(day("2017-05-31")))
        #expect(recurrence.occurrences(in: .utc).map(\.description) == ["2017-01-31", "2017-02-28", "2017-03-31", "2017-04-30", "2017-05-31"])
    }

    /// Yearly from 29 February 2016: the 28th in common years, the 29th again in 2020.
    @Test func aYearlyObjectiveAcrossALeapDay() throws {
        let plan = try plan(recurring("first = 2016-02-29\nevery = \"P1Y\"\nuntil = 2021-03-01"))
        let dues = plan.all(from: "2016-01-01T00:00:00Z", until: "2022-01-01T00:00:00Z").filter { $0.lead == "P0D" }
        #expect(dues.map(\.deadlineTime.description) == ["2016-02-29", "2017-02-28", "2018-02-28", "2019-02-28", "2020-02-29", "2021-02-28"])
    }

    @Test func aCompletionClosesTheOccurrenceDueNearestItsDate() throws {
        let text = recurring("first = 2017-09-12\nevery = \"P1Y\"\nuntil = 2020-09-12")
        // Held on 2018-10-01: nearest 2018-09-12 (19 days), not 2019-09-12.
        let plan = try plan(text, history: History(events: [completed("2018-10-01")]))
        let keys = plan.all(from: "2018-01-01T00:00:00Z", until: "2021-01-01T00:00:00Z").filter { !$0.isOverdue }.map(\.key)
        #expect(keys.contains("d/meet:due:2018-09-12:P0D"), "2018's leads fired before it was held")
        #expect(plan.timelines[0].occurrenceOpen == [true, false, true, true])
        #expect(plan.state(ofItem: 0, at: instant("2019-01-01T00:00:00Z")) == .open, "the objective stays open")
        // 2018's overdue repeats stop once it is closed on 2018-10-01.
        let overdue2018 = plan.all(from: "2018-09-13T00:00:00Z", until: "2019-09-01T00:00:00Z").filter { $0.key.contains("2018-09-12") }
        #expect(overdue2018.allSatisfy { $0.fireAt < instant("2018-10-01T00:00:00Z") })
        // Two completions on the same day close two occurrences: 2018's, then the open one
        // nearest, 2019-09-12 (346 days) rather than 2017-09-12 (384).
        let twice = try AccordCoreTests.plan(text, history: History(events: [completed("2018-10-01"), completed("2018-10-01", id: 2)]))
        #expect(twice.timelines[0].occurrenceOpen == [true, false, false, true])
    }

    @Test func completingWhenEveryOccurrenceIsClosedIsRefused() throws {
        let catalog = try catalog(recurring("first = 2017-09-12\nevery = \"P1Y\"\nuntil = 2018-09-12"))
        let item = catalog.items[0]
        let open = ItemTimeline(item: item, events: [completed("2017-09-12")])
        #expect((try? Lifecycle.validate(.completed, item: item, timeline: open, term: nil)) == .open)
        let closed = ItemTimeline(item: item, events: [completed("2017-09-12"), completed("2018-09-12", id: 2)])
        #expect(throws: LifecycleError.self) { try Lifecycle.validate(.completed, item: item, timeline: closed, term: nil) }
        // Dropping the objective ends every occurrence's reminders.
        let dropped = ItemTimeline(
            item: item,
            events: [ItemEvent(id: 3, itemID: "d/meet", type: .dropped, on: day("2017-01-01"), recordedAt: instant("2017-01-01T00:00:00Z"))])
        #expect(dropped.latestState == .dropped)
    }

    @Test func theParserSaysWhatIsWrong() {
        func message(_ lines: String) -> String? { problems(recurring(lines)).first?.message }
        #expect(message("due = 2017-09-12\nfirst = 2017-09-12\nevery = \"P1Y\"")?.contains("has no due") == true)
        #expect(message("first = 2017-09-12")?.contains("needs every") == true)
        #expect(message("every = \"P1Y\"")?.contains("needs first") == true)
        #expect(message("first = 2017-09-12\nevery = \"PT6H\"")?.contains("at least a day") == true)
        #expect(message("first = 2017-09-12\nevery = \"P1Y\"\nuntil = 2016-01-01")?.contains("is before first") == true)
        let linked = problems(recurring("first = 2017-09-12\nevery = \"P1Y\"\nfulfilled-by = { item = \"x\", event = \"signed\" }"))
        #expect(linked.map(\.message) == ["a recurring objective (every) is not fulfilled by one instrument event"])
        #expect(problems(recurring("first = { date = 2017-09-12, basis = \"assumed\", source = \"s\" }\nevery = \"P1Y\"")).isEmpty)
    }

    @Test func occurrencesOverTheWholeRange() async {
        let days = Gen.int(in: day("0001-01-01").daysSinceEpoch...day("9999-12-31").daysSinceEpoch)
        let everies = ["P1D", "P1W", "P1M", "P3M", "P1Y", "P2Y6M", "P100D"]
        await propertyCheck(count: 300, input: days, Gen.int(in: 0..<everies.count), Gen.int(in: -1...5000)) { first, every, span throws in
            let start = CivilDate(daysSinceEpoch: first)
            let until = span < 0 ? nil : start.adding(days: span)
            let recurrence = Recurrence(every: duration(everies[every]), first: .date(start), until: until.map { .date($0) })
            let dates = recurrence.occurrences(in: .utc).map { occurrence -> CivilDate in
                guard case let .date(date) = occurrence else { fatalError("a date recurrence gave \(occurrence)") }
                return date
            }
            #expect(dates.first == start)
            #expect(dates.count <= Recurrence.maximumOccurrences)
            #expect(zip(dates, dates.dropFirst()).allSatisfy { $0 < $1 }, "occurrences not in order")
            for (n, date) in dates.enumerated() { #expect(date == start.adding(duration(everies[every]).times(n))) }
            #expect(dates.allSatisfy { $0.year <= 9999 && (until == nil || $0 <= until!) })
            // Nothing left out: the next one is past until, past year 9999 or past the bound.
            let next = start.adding(duration(everies[every]).times(dates.count))
            #expect(dates.count == Recurrence.maximumOccurrences || next.year > 9999 || (until != nil && next > until!))
        }
    }
}
