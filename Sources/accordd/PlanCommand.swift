import AccordCalendar
import AccordCore
import AccordDaemon
import AccordProtocol
import AccordText
import ArgumentParser
import Glibc

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the reminders that the files alone would fire, in firing order.",
        discussion: """
            No daemon and no state database are involved: events recorded with accordctl are \
            not taken into account. Dates are whole days in UTC: --from starts at the beginning \
            of its day, --until includes its whole day. The default window is now to one year ahead.

            Examples:
              accordd plan --config Config/accordd.toml --from 2016-09-12 --until 2018-12-31
              accordd plan --portfolio Config/portfolios/canada-china-2016.toml --calendars Config/calendars --json | jq '.[0]'
              accordd plan --config Config/accordd.toml --ics > deadlines.ics
            """
    )

    @Option(name: .long, help: ArgumentHelp("The daemon configuration file (default /etc/accord/accordd.toml).", valueName: "path"))
    var config: String?

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("A portfolio file or folder to plan instead of a configuration; may be repeated.", valueName: "file"))
    var portfolio: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp(
            "A calendar file or folder that --portfolio files' business-days may name; may be repeated (with --config, its calendars are used).",
            valueName: "file"))
    var calendars: [String] = []

    @Option(name: .long, help: ArgumentHelp("First day of the window (YYYY-MM-DD or an RFC 3339 instant).", valueName: "date"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Last day of the window, included (YYYY-MM-DD or an RFC 3339 instant).", valueName: "date"))
    var until: String?

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Print the deadlines as an iCalendar (RFC 5545) calendar instead: one event per deadline up to --until (passed ones included), an alarm per lead."
        ))
    var ics = false

    func validate() throws {
        if json, ics { throw ValidationError("--json and --ics cannot be combined: choose one output") }
        if config != nil, !portfolio.isEmpty {
            throw ValidationError("--config and --portfolio cannot be combined: give one or the other")
        }
        if !calendars.isEmpty, portfolio.isEmpty {
            throw ValidationError("--calendars goes with --portfolio; a configuration names its own calendars")
        }
    }

    func run() throws {
        let now = SystemClock().now()
        let start = try from.map { try parseBound($0, option: "--from", endOfDay: false) } ?? now
        let end =
            try until.map { try parseBound($0, option: "--until", endOfDay: true) }
            ?? start.adding(seconds: 366 * 86_400)
        guard start < end else { throw ValidationError("--until must be after --from") }

        let catalog: Catalog
        // With --config, the configuration's escalate-after too: its escalations are reminders
        // the files call for (docs/contracts.md §14).
        var escalateAfter: ISODuration?
        let loaded =
            portfolio.isEmpty
            ? ConfigurationLoader.load(configFile: config ?? "/etc/accord/accordd.toml").map {
                escalateAfter = $0.config.escalateAfter
                return $0.catalog
            }
            : ConfigurationLoader.loadCalendars(calendars).flatMap { ConfigurationLoader.loadPortfolios(portfolio, calendars: $0) }.map(\.1)
        switch loaded {
        case let .failure(problems):
            report(problems)
            throw exitBadConfig
        case let .success(value):
            catalog = value
        }
        let plan = ReminderPlan(catalog: catalog, escalateAfter: escalateAfter)
        if ics {
            let entries = CalendarExport.entries(plan, at: now, filter: CalendarExport.Filter(until: until == nil ? nil : end))
            writeAll(CalendarExport.calendar(entries, plan: plan, at: now))
            return
        }
        var cursor = plan.cursor(from: start)
        var output = PlanOutput(json: json, catalog: catalog)
        while let next = cursor.peekFireAt(), next < end, let reminder = cursor.next() { output.append(reminder) }
        output.finish()
    }

    private func parseBound(_ text: String, option: String, endOfDay: Bool) throws -> Instant {
        if let date = try? CivilDate(parsing: text) {
            return Zone.utc.startOfDay(endOfDay ? date.adding(days: 1) : date)
        }
        do {
            return try Instant(parsingRFC3339: text)
        } catch {
            throw ValidationError("\(option) \"\(text)\": expected a date (2016-09-12) or an RFC 3339 instant (2016-09-12T09:00:00Z)")
        }
    }
}

/// Streams the plan to standard output: a year of 100,000 items is too much to hold as text.
struct PlanOutput {
    let json: Bool
    private var buffer: [UInt8] = []
    private var count = 0
    private let itemWidth: Int
    /// "escalate+P3D" (§14) is the longest lead label a plan prints.
    private let leadWidth = 12

    init(json: Bool, catalog: Catalog) {
        self.json = json
        itemWidth = max(4, catalog.items.map { $0.fullID.count }.max() ?? 4)
        buffer.reserveCapacity(1 << 16)
        if json {
            buffer += "[".utf8
        } else {
            let headers = [pad("FIRES", 23), pad("ITEM", itemWidth), pad("DEADLINE", 14), pad("LEAD", leadWidth), "MESSAGE"]
            buffer += (headers.joined(separator: "  ") + "\n").utf8
        }
    }

    mutating func append(_ r: Reminder) {
        if json {
            // One reminder a line, in the fields and order of io.accord.Tracker's Reminder.
            buffer += (count == 0 ? "\n  " : ",\n  ").utf8
            Tracker.Reminder(r).wireValue().write(to: &buffer, style: .spaced)
        } else {
            // Straight into the buffer, field by field: the row built as an array of padded
            // strings and joined cost 4 µs a reminder, 1.5 s of a year's plan at 100,000 items.
            append(r.zone.wallClockText(at: r.fireAt), paddedTo: 23)
            append(r.itemID, paddedTo: itemWidth)
            append(r.deadline.rawValue, paddedTo: 14)
            append(r.lead, paddedTo: leadWidth)
            buffer += r.message.utf8
            buffer.append(UInt8(ascii: "\n"))
        }
        count += 1
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func finish() {
        if json {
            buffer += (count == 0 ? "]\n" : "\n]\n").utf8
        } else {
            buffer += "\(count) reminder\(count == 1 ? "" : "s")\n".utf8
        }
        flush()
    }

    private mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func pad(_ text: String, _ width: Int) -> String { text.padded(to: width) }

    /// `text`, spaces to `width` characters (as `padded(to:)` counts them) and the two spaces
    /// between columns.
    private mutating func append(_ text: String, paddedTo width: Int) {
        buffer += text.utf8
        let length = text.utf8.count == text.unicodeScalars.count ? text.utf8.count : text.count
        buffer.append(contentsOf: repeatElement(UInt8(ascii: " "), count: max(0, width - length) + 2))
    }
}

/// Writes all of a text to standard output.
func writeAll(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}
