import AccordCalendar
import AccordCore
import Foundation
import PropertyBased
import Testing

// Random portfolios, written as TOML text and read back through the parser, so that
// the properties cover the whole path from a file to its plan.

/// A portfolio (one or two dialogues) and some history, as generated.
struct RandomCase: Sendable, CustomStringConvertible {
    var files: [String]
    /// Intended events, in date order; only those the lifecycle allows are recorded.
    var events: [(item: String, type: EventType, on: CivilDate, term: String?)]
    var acknowledgements: [(item: String, due: String, at: Instant)]
    var snoozes: [(item: String, from: Instant, until: Instant)]

    var description: String {
        files.joined(separator: "\n# ----\n")
            + "\n# events: " + events.map { "\($0.item) \($0.type.rawValue) \($0.on)\($0.term.map { " " + $0 } ?? "")" }.joined(separator: "; ")
            + "\n# acknowledgements: " + acknowledgements.map { "\($0.item) \($0.due) at \($0.at)" }.joined(separator: "; ")
            + "\n# snoozes: " + snoozes.map { "\($0.item) \($0.from) to \($0.until)" }.joined(separator: "; ")
    }

    /// The plan, with the events that the lifecycle accepts in turn. A snooze releases what it
    /// held at its end, however late: leave them out where that would not be the point.
    func plan(snoozing: Bool = true) throws -> ReminderPlan {
        let portfolios = try files.enumerated().map { try PortfolioParser.parse($1, file: "random\($0).toml") }
        let catalog = try Catalog(portfolios: portfolios)
        var accepted: [ItemEvent] = []
        for (index, intent) in events.enumerated() {
            guard case let .found(position) = catalog.lookup(intent.item) else { continue }
            let item = catalog.items[position]
            let timeline = ItemTimeline(item: item, events: accepted.filter { $0.itemID == item.fullID })
            let term = intent.term.map(duration)
            guard (try? Lifecycle.validate(intent.type, item: item, timeline: timeline, term: term)) != nil else { continue }
            accepted.append(
                ItemEvent(
                    id: Int64(index + 1), itemID: item.fullID, type: intent.type, on: intent.on,
                    recordedAt: item.settings.zone.startOfDay(intent.on), term: term))
        }
        let acks = acknowledgements.map {
            Acknowledgement(itemID: $0.item, deadline: .due, deadlineTime: $0.due, at: $0.at)
        }
        let held = !snoozing ? [] : snoozes.map { Snooze(itemID: $0.item, from: $0.from, until: $0.until) }
        return ReminderPlan(catalog: catalog, history: History(events: accepted, acknowledgements: acks, snoozes: held))
    }
}

enum RandomPortfolio {
    static let zones = [
        "America/Toronto", "Asia/Shanghai", "UTC", "Asia/Kathmandu", "Australia/Lord_Howe",
        "Europe/London", "America/St_Johns", "America/Santiago"
    ]
    /// Days on which some of those zones change their clocks, to land in gaps and overlaps.
    static let transitionDays = [
        "2017-03-12", "2017-11-05", "2018-03-11", "2017-10-01", "2018-04-01", "2017-03-26",
        "2017-10-29", "2017-05-14", "2017-08-13", "2016-11-06", "2016-03-13"
    ]
    static let remindAts = ["09:00:00", "02:30:00", "01:30:00", "00:00:00", "00:15:00", "23:30:00", "02:15:00", "17:45:00"]
    static let offsets = ["Z", "+08:00", "-04:00", "-05:00", "+05:45", "+10:30", "+11:00", "-03:30", "+14:00", "-12:00", ""]
    static let leads = ["P0D", "P1D", "P7D", "P2W", "P30D", "P1M", "P60D", "PT36H", "PT12H", "P1DT6H", "P1Y", "P3M"]
    static let overdue = ["P7D", "P7D", "P2W", "P1M", "P1W", "P1D", "PT12H", "P1DT12H"]
    static let terms = ["P1Y", "P6M", "P2Y", "P18M", "P3M", "P1Y6M", "P400D", "P5Y", "P1M"]
    static let notices = ["P30D", "P90D", "P1M", "P2W", "P60D", "P6M"]
    static let statuses = ["open", "open", "open", "in-progress", "done", "dropped"]
    static let kinds = ["treaty", "agreement", "mou", "arrangement"]

    typealias RNG = any SeededRandomNumberGenerator

    static func int(_ range: ClosedRange<Int>, _ rng: inout RNG) -> Int { Int.random(in: range, using: &rng) }
    static func chance(_ p: Double, _ rng: inout RNG) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    static func pick<T>(_ array: [T], _ rng: inout RNG) -> T { array[int(0...(array.count - 1), &rng)] }

    static func date(_ rng: inout RNG) -> CivilDate {
        if chance(0.3, &rng) { return day(pick(transitionDays, &rng)) }
        return day("2016-03-01").adding(days: int(0...1000, &rng))
    }

    static func deadline(_ rng: inout RNG) -> String {
        let date = date(&rng)
        if chance(0.6, &rng) { return date.description }
        let time =
            chance(0.4, &rng)
            ? pick(remindAts, &rng)
            : "\(pad2(int(0...23, &rng))):\(pad2(int(0...3, &rng) * 15)):00"
        return "\(date)T\(time)\(pick(offsets, &rng))"
    }

    static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func leadList(_ rng: inout RNG) -> String {
        let chosen = leads.filter { _ in chance(0.35, &rng) }
        return "[" + chosen.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    static func overrides(_ rng: inout RNG) -> [String] {
        var lines: [String] = []
        if chance(0.2, &rng) { lines.append("time-zone = \"\(pick(zones, &rng))\"") }
        if chance(0.2, &rng) { lines.append("remind-at = \(pick(remindAts, &rng))") }
        if chance(0.3, &rng) { lines.append("reminders = \(leadList(&rng))") }
        if chance(0.2, &rng) { lines.append("overdue-every = \"\(pick(overdue, &rng))\"") }
        return lines
    }

    static func make(_ rng: inout RNG) -> RandomCase {
        var files: [String] = []
        var events: [(item: String, type: EventType, on: CivilDate, term: String?)] = []
        var acks: [(item: String, due: String, at: Instant)] = []
        var snoozes: [(item: String, from: Instant, until: Instant)] = []
        func maybeSnooze(_ item: String, _ rng: inout RNG) {
            guard chance(0.25, &rng) else { return }
            let from = Instant(seconds: Int64(date(&rng).daysSinceEpoch) * 86_400 + Int64(int(0...86_399, &rng)))
            snoozes.append((item, from, from.adding(seconds: Int64(int(3600...(40 * 86_400), &rng)))))
        }
        for dialogue in 0..<int(1...2, &rng) {
            let dialogueID = "d\(dialogue)"
            var lines = [
                "[dialogue]", "id = \"\(dialogueID)\"", "title = \"Random \(dialogue)\"",
                "time-zone = \"\(pick(zones, &rng))\""
            ]
            if chance(0.7, &rng) { lines.append("remind-at = \(pick(remindAts, &rng))") }
            if chance(0.7, &rng) { lines.append("reminders = \(leadList(&rng))") }
            if chance(0.6, &rng) { lines.append("overdue-every = \"\(pick(overdue, &rng))\"") }
            for index in 0..<int(0...4, &rng) {
                let id = "o\(index)"
                lines += ["", "[[objective]]", "id = \"\(id)\"", "title = \"Objective \(index)\""]
                var due: String?
                if chance(0.85, &rng) {
                    due = deadline(&rng)
                    lines.append("due = \(due!)")
                }
                if chance(0.3, &rng) { lines.append("status = \"\(pick(statuses, &rng))\"") }
                lines += overrides(&rng)
                if let due, due.count == 10, chance(0.3, &rng) {
                    let at = day(due).adding(days: int(-20...40, &rng))
                    acks.append(("\(dialogueID)/\(id)", due, Instant(seconds: Int64(at.daysSinceEpoch) * 86_400)))
                }
                maybeSnooze(chance(0.5, &rng) ? "\(dialogueID)/\(id)" : id, &rng)
                var on = day(due.map { String($0.prefix(10)) } ?? "2017-01-01").adding(days: int(-60...0, &rng))
                for _ in 0..<int(0...3, &rng) {
                    events.append(("\(dialogueID)/\(id)", pick(EventType.forKind(.objective), &rng), on, nil))
                    on = on.adding(days: int(0...60, &rng))
                }
            }
            for index in 0..<int(0...4, &rng) {
                let id = "i\(index)"
                lines += [
                    "", "[[instrument]]", "id = \"\(id)\"", "kind = \"\(pick(kinds, &rng))\"",
                    "title = \"Instrument \(index)\""
                ]
                var signBy: String?
                if chance(0.5, &rng) {
                    signBy = deadline(&rng)
                    lines.append("sign-by = \(signBy!)")
                }
                var term: String?
                if chance(0.7, &rng) {
                    let chosen = pick(terms, &rng)
                    term = chosen
                    lines.append("term = \"\(chosen)\"")
                    if chance(0.6, &rng) { lines.append("in-force = \(date(&rng))") }
                    let length = duration(chosen).approximateSeconds
                    let fitting = notices.filter { duration($0).approximateSeconds < length }
                    if !fitting.isEmpty, chance(0.7, &rng) { lines.append("notice = \"\(pick(fitting, &rng))\"") }
                }
                lines += overrides(&rng)
                maybeSnooze("\(dialogueID)/\(id)", &rng)
                var on = date(&rng).adding(days: int(-400...0, &rng))
                for _ in 0..<int(0...4, &rng) {
                    let type = pick(EventType.forKind(.mou), &rng)
                    let eventTerm = (type == .renewed || type == .inForce) && chance(0.4, &rng) ? pick(terms, &rng) : nil
                    events.append(("\(dialogueID)/\(id)", type, on, eventTerm ?? (type == .renewed && term == nil ? "P1Y" : nil)))
                    on = on.adding(days: int(0...200, &rng))
                }
            }
            files.append(lines.joined(separator: "\n") + "\n")
        }
        events.sort { $0.on < $1.on }
        return RandomCase(files: files, events: events, acknowledgements: acks, snoozes: snoozes)
    }

    static let generator = Generator<RandomCase, Shrink.None<RandomCase>>(run: { rng in make(&rng) })
}

/// The windows the properties look through: mid-2015 to 2021 covers every generated date
/// with its leads and a good stretch of overdue repeats.
let windowStart = instant("2015-06-01T00:00:00Z")
let windowEnd = instant("2020-06-01T00:00:00Z")
let windowSeconds = windowEnd.seconds - windowStart.seconds

func within(_ fraction: Int) -> Instant { windowStart.adding(seconds: windowSeconds / 1000 * Int64(fraction)) }

@Suite("Plan properties")
struct PropertyTests {
    @Test func generatedPortfoliosParse() async throws {
        await propertyCheck(count: 60, input: RandomPortfolio.generator) { random in
            #expect(throws: Never.self) { _ = try random.plan() }
        }
    }

    @Test func thePlanIsSortedByFireTimeAndKeysAreUnique() async {
        await propertyCheck(count: 60, input: RandomPortfolio.generator) { random in
            let plan = try random.plan()
            let reminders = plan.reminders(from: windowStart, until: windowEnd)
            #expect(zip(reminders, reminders.dropFirst()).allSatisfy { $0.fireAt <= $1.fireAt })
            #expect(Set(reminders.map(\.key)).count == reminders.count)
            #expect(reminders.allSatisfy { $0.fireAt >= windowStart && $0.fireAt < windowEnd })
            #expect(plan.count(from: windowStart, until: windowEnd) == reminders.count)
            // accordd check counts slices on several cores: any slicing adds up to the whole.
            for parts in [2, 3, 7] {
                let sliced = (0..<parts).map { plan.count(from: windowStart, until: windowEnd, part: $0, of: parts) }
                #expect(sliced.reduce(0, +) == reminders.count, "\(parts) slices: \(sliced)")
            }
        }
    }

    @Test func aPositiveLeadNeverFiresAfterItsDeadline() async {
        await propertyCheck(count: 60, input: RandomPortfolio.generator) { random in
            let plan = try random.plan(snoozing: false)
            for reminder in plan.reminders(from: windowStart, until: windowEnd)
            where !reminder.isOverdue && reminder.lead != "P0D" && reminder.deadline != .expiry {
                #expect(reminder.fireAt < reminder.deadlineAt, "\(reminder.key) fires at \(reminder.fireAt)")
                #expect(reminder.daysLeft >= 0, "\(reminder.key)")
            }
            // Expiry passes at the start of its day: a lead of a day or more is before it.
            for reminder in plan.reminders(from: windowStart, until: windowEnd)
            where reminder.deadline == .expiry
                && duration(reminder.lead).dayCount + duration(reminder.lead).months
                    + duration(reminder.lead).years > 0
            {
                #expect(reminder.fireAt < reminder.deadlineAt, "\(reminder.key) fires at \(reminder.fireAt)")
            }
        }
    }

    @Test func remindersAreConsistent() async {
        await propertyCheck(count: 40, input: RandomPortfolio.generator) { random in
            let plan = try random.plan()
            for reminder in plan.reminders(from: windowStart, until: windowEnd) {
                #expect(reminder.key == "\(reminder.itemID):\(reminder.deadline.rawValue):\(reminder.deadlineTime):\(reminder.lead)")
                #expect(reminder.isOverdue == reminder.lead.hasPrefix("+"))
                #expect(reminder.priority == Reminder.priority(daysLeft: reminder.daysLeft))
                #expect(reminder.message.hasPrefix(reminder.itemID + ": "))
                if reminder.isOverdue {
                    // Overdue only once the deadline has passed (a date at the end of its day).
                    #expect(reminder.fireAt >= reminder.deadlineAt, "\(reminder.key) fires at \(reminder.fireAt)")
                    #expect(reminder.daysLeft <= 0, "\(reminder.key)")
                }
                if case let .date(date) = reminder.deadlineTime {
                    #expect(reminder.daysLeft == reminder.zone.local(at: reminder.fireAt).date.days(until: date))
                }
            }
        }
    }

    @Test func narrowingTheWindowNeverAddsReminders() async {
        await propertyCheck(count: 60, input: RandomPortfolio.generator, Gen.int(in: 0...1000), Gen.int(in: 0...1000)) { random, a, b in
            let plan = try random.plan()
            let wide = Set(plan.reminders(from: windowStart, until: windowEnd).map(\.key))
            let narrow = plan.reminders(from: within(min(a, b)), until: within(max(a, b)))
            #expect(Set(narrow.map(\.key)).isSubset(of: wide))
            let narrower = plan.reminders(from: within(min(a, b) + abs(a - b) / 3), until: within(max(a, b)))
            #expect(Set(narrower.map(\.key)).isSubset(of: Set(narrow.map(\.key))))
        }
    }

    @Test func aCursorFromAnInstantYieldsExactlyTheSuffixOfThePlan() async {
        await propertyCheck(count: 60, input: RandomPortfolio.generator, Gen.int(in: 0...1000)) { random, at in
            let plan = try random.plan()
            let full = plan.reminders(from: windowStart, until: windowEnd)
            let start = within(at)
            var cursor = plan.cursor(from: start)
            var suffix: [Reminder] = []
            while let next = cursor.peekFireAt(), next < windowEnd, let reminder = cursor.next() { suffix.append(reminder) }
            #expect(suffix == full.filter { $0.fireAt >= start })
            // And one item at a time, the same.
            for index in plan.catalog.items.indices {
                let own = plan.reminders(ofItem: index, from: start, until: windowEnd)
                #expect(own == suffix.filter { $0.itemID == plan.catalog.items[index].fullID })
            }
        }
    }
}
