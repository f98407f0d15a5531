import AccordCalendar
import AccordCore
import Foundation
import PropertyBased
import Testing

/// Two rules that only show with some history or some settings: a snooze that is running
/// when a cursor starts (the daemon starts its cursor at "now"), and an overdue repeat
/// shorter than a day on a date deadline.
@Suite("Snoozes seen from a cursor, and short overdue repeats")
struct SnoozeAndOverdueTests {
    static let mou = """
        [dialogue]
        id = "d"
        title = "D"
        time-zone = "America/Toronto"
        reminders = ["P7D", "P1D", "P0D"]
        overdue-every = "P7D"

        [[instrument]]
        id = "mou"
        kind = "mou"
        title = "A short MOU"
        in-force = { date = 2016-06-15, basis = "confirmed" }
        term = "P1Y"
        notice = "P10D"
        """

    /// Renewal notice 2017-06-05: its +P7D fires 2017-06-12T13:00Z, inside the snooze, and is
    /// released at the snooze's end. A cursor started after it was held still releases it.
    @Test func aCursorStartedAfterAReminderWasHeldStillReleasesIt() throws {
        let until = instant("2017-06-13T04:00:00Z")
        let snooze = Snooze(itemID: "mou", from: instant("2017-06-01T04:00:00Z"), until: until)
        let plan = try plan(Self.mou, history: History(snoozes: [snooze]))
        let end = instant("2017-06-20T00:00:00Z")
        let whole = plan.reminders(from: .distantPast, until: end)
        let start = instant("2017-06-12T14:00:00Z")
        let fromCursor = plan.reminders(from: start, until: end)
        #expect(
            fromCursor.keys == [
                "d/mou:renewal-notice:2017-06-05:+P7D",
                "d/mou:expiry:2017-06-15:P7D",
                "d/mou:expiry:2017-06-15:P1D",
                "d/mou:expiry:2017-06-15:P0D"
            ])
        #expect(fromCursor[0].fireAt == until)
        #expect(fromCursor[1].fireAt == until)
        #expect(fromCursor.keys == whole.filter { $0.fireAt >= start }.keys)
        // Started after the snooze's end, nothing held comes back.
        #expect(
            plan.reminders(from: until.adding(seconds: 1), until: end).keys == [
                "d/mou:expiry:2017-06-15:P1D",
                "d/mou:expiry:2017-06-15:P0D"
            ])
        #expect(plan.count(from: start, until: end) == 4)
    }

    /// A date deadline passes at the end of its day (docs/contracts.md §4), and overdue reminders fire only
    /// after it has passed (§5): a 12-hour repeat that comes round on the day itself is skipped.
    @Test func anOverdueRepeatShorterThanADayWaitsForTheEndOfTheDay() throws {
        let plan = try plan(
            """
            [dialogue]
            id = "d"
            title = "D"
            time-zone = "America/Toronto"
            reminders = ["P0D"]
            overdue-every = "PT12H"

            [[objective]]
            id = "o"
            title = "O"
            due = 2017-03-31
            """)
        let reminders = plan.all(from: "2017-03-01T00:00:00Z", until: "2017-04-02T12:00:00Z")
        #expect(reminders.keys == ["d/o:due:2017-03-31:P0D", "d/o:due:2017-03-31:+PT24H", "d/o:due:2017-03-31:+PT36H"])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-31T13:00:00Z"), instant("2017-04-01T13:00:00Z"),
                instant("2017-04-02T01:00:00Z")
            ])
        #expect(reminders.map(\.daysLeft) == [0, -1, -1])
        #expect(reminders[1].message == "d/o: overdue by 1 day (due 2017-03-31)")
        #expect(reminders.dropFirst().allSatisfy { $0.fireAt >= $0.deadlineAt })
    }

    /// For a datetime deadline the same repeat is overdue as soon as it comes round.
    @Test func anOverdueRepeatShorterThanADayAfterADatetimeDeadline() throws {
        let plan = try plan(
            """
            [dialogue]
            id = "d"
            title = "D"
            time-zone = "Asia/Shanghai"
            reminders = ["P0D"]
            overdue-every = "PT12H"

            [[objective]]
            id = "o"
            title = "O"
            due = 2017-03-31T17:00:00+08:00
            """)
        let reminders = plan.all(from: "2017-03-01T00:00:00Z", until: "2017-04-01T10:00:00Z")
        #expect(
            reminders.keys == [
                "d/o:due:2017-03-31T09:00:00Z:P0D", "d/o:due:2017-03-31T09:00:00Z:+PT12H",
                "d/o:due:2017-03-31T09:00:00Z:+PT24H"
            ])
        #expect(
            reminders.map(\.fireAt) == [
                instant("2017-03-31T09:00:00Z"), instant("2017-03-31T21:00:00Z"),
                instant("2017-04-01T09:00:00Z")
            ])
        #expect(reminders.map(\.daysLeft) == [0, 0, -1])  // instants: truncated
    }

    // MARK: properties with snoozes and acknowledgements

    /// The properties of the plan hold with snoozes, acknowledgements and events too.
    @Test func thePlanPropertiesHoldWithAnyHistory() async {
        await propertyCheck(count: 50, input: SnoozeCase.generator) { c in
            guard let plan = c.plan() else { return }
            let start = instant("2015-01-01T00:00:00Z"), end = instant("2021-01-01T00:00:00Z")
            let whole = plan.reminders(from: start, until: end)
            #expect(zip(whole, whole.dropFirst()).allSatisfy { $0.fireAt <= $1.fireAt }, "sorted by fire time")
            #expect(Set(whole.keys).count == whole.count, "keys unique")
            for r in whole where r.isOverdue {
                #expect(r.fireAt >= r.deadlineAt, "\(r.key) overdue at \(r.fireAt), before its deadline \(r.deadlineAt)")
            }
            // A cursor from any instant yields exactly the suffix of the whole plan.
            let suffix = whole.filter { $0.fireAt >= c.cursorStart }.map { "\($0.key)@\($0.fireAt)" }
            #expect(plan.reminders(from: c.cursorStart, until: end).map { "\($0.key)@\($0.fireAt)" } == suffix)
            #expect(plan.count(from: c.cursorStart, until: end) == suffix.count)
            // Narrowing the window never adds reminders.
            let wide = Set(plan.reminders(from: c.window.0, until: c.window.3).map { "\($0.key)@\($0.fireAt)" })
            for r in plan.reminders(from: c.window.1, until: c.window.2) {
                #expect(wide.contains("\(r.key)@\(r.fireAt)"), "\(r.key) at \(r.fireAt) only in the narrower window")
            }
        }
    }
}

/// A random portfolio with random events, acknowledgements and snoozes of its own reminders.
struct SnoozeCase: Sendable, CustomStringConvertible {
    var toml: String
    var history: History
    var cursorStart: Instant
    /// a ≤ a' ≤ b' ≤ b: the wide window [a, b) and the narrow one [a', b').
    var window: (Instant, Instant, Instant, Instant)

    var description: String {
        "\n\(toml)\n# events: \(history.events.map { "\($0.itemID) \($0.type.rawValue) \($0.on)" })"
            + "\n# acknowledgements: \(history.acknowledgements.map { "\($0.itemID):\($0.deadline.rawValue):\($0.deadlineTime) at \($0.at)" })"
            + "\n# snoozes: \(history.snoozes.map { "\($0.itemID) [\($0.from), \($0.until))" })"
            + "\n# cursor from \(cursorStart); windows \(window)"
    }

    func plan() -> ReminderPlan? {
        do {
            return ReminderPlan(
                catalog: try Catalog(portfolios: [PortfolioParser.parse(toml, file: "random.toml")]),
                history: history)
        } catch {
            Issue.record("the generated portfolio did not parse: \(error)")
            return nil
        }
    }

    static let zones = ["America/Toronto", "Asia/Shanghai", "UTC", "Asia/Kathmandu", "Australia/Lord_Howe"]
    static let remindAts = ["09:00:00", "00:00:00", "02:30:00", "01:30:00", "23:30:00"]
    static let leads = ["P30D", "P14D", "P7D", "P1D", "P0D", "PT36H", "PT12H", "P1M"]
    static let overdues = ["P7D", "P2W", "P1M", "P1D", "PT12H"]
    static let offsets = ["+08:00", "-04:00", "+05:45", "Z", "-03:30"]

    static func pick<T>(_ list: [T], _ rng: inout some RandomNumberGenerator) -> T { list.randomElement(using: &rng)! }

    static func moment(_ rng: inout some RandomNumberGenerator) -> Instant {
        Instant(
            seconds: Int64.random(
                in: instant("2016-01-01T00:00:00Z").seconds...instant("2020-01-01T00:00:00Z").seconds,
                using: &rng))
    }

    static func date(_ rng: inout some RandomNumberGenerator) -> CivilDate {
        CivilDate(daysSinceEpoch: Int.random(in: day("2016-06-01").daysSinceEpoch...day("2019-06-01").daysSinceEpoch, using: &rng))
    }

    static func make(_ rng: inout some RandomNumberGenerator) -> SnoozeCase {
        let leadList = leads.shuffled(using: &rng).prefix(Int.random(in: 1...4, using: &rng)).map { "\"\($0)\"" }
        var toml = """
            [dialogue]
            id = "d"
            title = "Random"
            time-zone = "\(pick(zones, &rng))"
            remind-at = \(pick(remindAts, &rng))
            reminders = [\(leadList.joined(separator: ", "))]
            overdue-every = "\(pick(overdues, &rng))"

            """
        var ids: [String] = []
        for index in 0..<Int.random(in: 1...4, using: &rng) {
            if Bool.random(using: &rng) {
                let due =
                    Bool.random(using: &rng)
                    ? date(&rng).description
                    : "\(date(&rng))T\(pick(remindAts, &rng))\(pick(offsets, &rng))"
                toml += "\n[[objective]]\nid = \"o\(index)\"\ntitle = \"O\"\ndue = \(due)\n"
                ids.append("d/o\(index)")
            } else {
                toml += "\n[[instrument]]\nid = \"i\(index)\"\nkind = \"mou\"\ntitle = \"I\"\n"
                toml += "sign-by = \(date(&rng))\nterm = \"\(pick(["P1Y", "P6M", "P2Y"], &rng))\"\n"
                toml += "in-force = \(date(&rng))\nnotice = \"\(pick(["P30D", "P2W", "P1M"], &rng))\"\n"
                ids.append("d/i\(index)")
            }
        }
        var history = History()
        for (n, id) in ids.enumerated() where Int.random(in: 0..<3, using: &rng) == 0 {
            let type: EventType =
                id.hasPrefix("d/o")
                ? pick([.completed, .dropped, .started], &rng)
                : pick([.renewed, .terminated, .inForce], &rng)
            history.events.append(
                ItemEvent(
                    id: Int64(n + 1), itemID: id, type: type, on: date(&rng),
                    recordedAt: moment(&rng)))
        }
        // Acknowledge and snooze the plan's own reminders, so that they meet something.
        if let catalog = try? Catalog(portfolios: [PortfolioParser.parse(toml, file: "random.toml")]) {
            let plain = ReminderPlan(catalog: catalog, history: History(events: history.events))
            let all = plain.reminders(from: instant("2015-01-01T00:00:00Z"), until: instant("2021-01-01T00:00:00Z"))
            if !all.isEmpty {
                for _ in 0..<Int.random(in: 0...1, using: &rng) {
                    let r = pick(all, &rng)
                    history.acknowledgements.append(
                        Acknowledgement(
                            itemID: r.itemID, deadline: r.deadline, deadlineTime: r.deadlineTime.description,
                            at: r.fireAt.adding(seconds: Int64.random(in: -864_000...864_000, using: &rng))))
                }
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let r = pick(all, &rng)
                    let from = r.fireAt.adding(seconds: -Int64.random(in: 0...1_728_000, using: &rng))
                    history.snoozes.append(
                        Snooze(
                            itemID: pick([r.itemID, String(r.itemID.dropFirst(2))], &rng), from: from,
                            until: from.adding(seconds: Int64.random(in: 3600...3_456_000, using: &rng))))
                }
            }
        }
        // The cursor often starts inside a snooze: that is where the daemon's restarts land.
        let cursorStart =
            history.snoozes.isEmpty || Bool.random(using: &rng)
            ? moment(&rng)
            : {
                let s = pick(history.snoozes, &rng)
                return Instant(seconds: Int64.random(in: s.from.seconds...s.until.seconds, using: &rng))
            }()
        var edges = (0..<4).map { _ in moment(&rng) }.sorted()
        if Bool.random(using: &rng), let s = history.snoozes.first { edges = [edges[0], s.from, s.until, edges[3]].sorted() }
        return SnoozeCase(
            toml: toml, history: history, cursorStart: cursorStart,
            window: (edges[0], edges[1], edges[2], edges[3]))
    }

    static let generator = Generator<SnoozeCase, Shrink.None<SnoozeCase>> { rng in SnoozeCase.make(&rng) }
}
