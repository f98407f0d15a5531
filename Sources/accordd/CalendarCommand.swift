// `accordd calendar`: which days the loaded calendar files make days off, and why, as
// `systemd-analyze calendar` explains a timer: the rules of docs/contracts.md §12 shown on the
// days themselves, so that a desk can see why a reminder moved before it moves.
import AccordCalendar
import AccordCore
import AccordDaemon
import AccordText
import ArgumentParser

struct CalendarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Show which days are off in the loaded calendars, and why.",
        discussion: """
            Reads the calendar files that accordd.toml's `calendars` names and prints each day \
            of the window that is not a plain business day: a holiday (with its name), a weekend \
            day, or a weekend day made a working day (China's adjusted working days, 调休). With \
            several calendars a day is a business day only when it is one in every calendar, as \
            `business-days = ["ca", "cn"]` makes it for an item. The default window is today (UTC) \
            and the 30 days after it. A day outside a calendar's years is an error (exit 65).

            Examples:
              accordd calendar --config Config/accordd.toml --from 2026-02-01 --until 2026-02-28
              accordd calendar --config Config/accordd.toml --calendar cn --from 2026-09-25 --until 2026-10-12
              accordd calendar --config Config/accordd.toml --calendar ca --from 2026-01-01 --until 2026-12-31 --all
            """
    )

    @OptionGroup var options: ConfigOption

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("A calendar id to show (default: every loaded calendar, together); may be repeated.", valueName: "id"))
    var calendar: [String] = []

    @Option(name: .long, help: ArgumentHelp("First day (YYYY-MM-DD; default today, UTC).", valueName: "date"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Last day, included (YYYY-MM-DD; default 30 days after --from).", valueName: "date"))
    var until: String?

    @Flag(name: .long, help: "Print every day, business days too.")
    var all = false

    /// Ten years of days: more than any desk reads, few enough to print at once.
    static let maximumDays = 3_660

    func run() throws {
        let start = try from.map { try day($0, option: "--from") } ?? Zone.utc.local(at: SystemClock().now()).date
        let end = try until.map { try day($0, option: "--until") } ?? start.adding(days: 30)
        guard start <= end else { throw ValidationError("--until (\(end)) is before --from (\(start))") }
        guard start.days(until: end) < Self.maximumDays else {
            throw ValidationError("--from to --until is \(start.days(until: end) + 1) days; at most \(Self.maximumDays) are shown at once")
        }
        let loaded: LoadedConfiguration
        switch ConfigurationLoader.load(configFile: options.config) {
        case let .failure(problems):
            report(problems)
            throw exitBadConfig
        case let .success(value):
            loaded = value
        }
        guard !loaded.calendars.isEmpty else {
            printError("\(options.config): no calendar is loaded: list calendar files or folders in `calendars` (accord.toml(5))")
            throw exitBadConfig
        }
        var chosen: [BusinessCalendar] = []
        for id in calendar {
            guard let found = loaded.calendars.first(where: { $0.id == id }) else {
                let known = loaded.calendars.map(\.id).joined(separator: ", ")
                throw ValidationError("--calendar \(id): no calendar file defines it (loaded: \(known))")
            }
            if !chosen.contains(where: { $0.id == id }) { chosen.append(found) }
        }
        if chosen.isEmpty { chosen = loaded.calendars }
        let rules = BusinessDays(chosen)
        for day in [start, end] {
            if let error = rules.coverage(day) {
                printError(error.description + " (--from/--until)")
                throw ExitCode(65)
            }
        }
        let table = CalendarTable(rules: rules, from: start, until: end, all: all)
        print(table.text, terminator: "")
    }

    private func day(_ text: String, option: String) throws -> CivilDate {
        do { return try CivilDate(parsing: text) } catch {
            throw ValidationError("\(option) \"\(text)\": expected a date, e.g. 2026-02-14")
        }
    }
}

/// The days of a window as `accordd calendar` prints them: one line per day that is off or a
/// working day by adjustment (every day with `all`), then a count.
struct CalendarTable {
    let rules: BusinessDays
    let from: CivilDate
    let until: CivilDate
    let all: Bool

    var text: String {
        var rows: [[String]] = []
        var business = 0
        var total = 0
        var day = from
        while day <= until {
            total += 1
            // Coverage of both ends was checked, and the years are a range: every day between is covered.
            let statuses = (try? rules.explain(day)) ?? []
            let isBusiness = statuses.allSatisfy { $0.status.isBusinessDay }
            if isBusiness { business += 1 }
            let notable = statuses.filter { $0.status != .business }
            if all || !notable.isEmpty {
                let why = notable.map { "\($0.calendar): \($0.status)" }.joined(separator: "; ")
                rows.append([day.description, String(day.weekday.description.prefix(3)), isBusiness ? "business" : "off", why])
            }
            day = day.adding(days: 1)
        }
        var table = TextTable(headers: ["DATE", "DAY", "", "WHY"])
        table.rows = rows
        var out = table.render()
        let names = rules.calendars.map { "\($0.id) (\($0.yearsText))" }.joined(separator: ", ")
        out += "\(total) day\(total == 1 ? "" : "s"), \(business) business, \(total - business) off; calendars \(names)\n"
        return out
    }
}
