import AccordCore
import AccordDaemon
import AccordText
import ArgumentParser

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
              accordd plan --portfolio Config/portfolios/canada-china-2016.toml --json | jq '.[0]'
            """
    )

    @Option(name: .long, help: ArgumentHelp("The daemon configuration file (default /etc/accord/accordd.toml).", valueName: "path"))
    var config: String?

    @Option(name: .long, parsing: .singleValue,
            help: ArgumentHelp("A portfolio file or folder to plan instead of a configuration; may be repeated.", valueName: "file"))
    var portfolio: [String] = []

    @Option(name: .long, help: ArgumentHelp("First day of the window (YYYY-MM-DD or an RFC 3339 instant).", valueName: "date"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Last day of the window, included (YYYY-MM-DD or an RFC 3339 instant).", valueName: "date"))
    var until: String?

    @Flag(name: .long, help: "Print a JSON array instead of a table.")
    var json = false

    func validate() throws {
        if config != nil, !portfolio.isEmpty {
            throw ValidationError("--config and --portfolio cannot be combined: give one or the other")
        }
    }

    func run() throws {
        let now = SystemClock().now()
        let start = try from.map { try parseBound($0, option: "--from", endOfDay: false) } ?? now
        let end = try until.map { try parseBound($0, option: "--until", endOfDay: true) }
            ?? start.adding(seconds: 366 * 86_400)
        guard start < end else { throw ValidationError("--until must be after --from") }

        let catalog: Catalog
        let loaded = portfolio.isEmpty
            ? ConfigurationLoader.load(configFile: config ?? "/etc/accord/accordd.toml").map(\.catalog)
            : ConfigurationLoader.loadPortfolios(portfolio).map(\.1)
        switch loaded {
        case let .failure(problems):
            report(problems)
            throw exitBadConfig
        case let .success(value):
            catalog = value
        }
        let reminders = ReminderPlan(catalog: catalog).reminders(from: start, until: end)
        print(json ? PlanOutput.json(reminders) : PlanOutput.table(reminders), terminator: "")
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

enum PlanOutput {
    static func table(_ reminders: [Reminder]) -> String {
        var table = TextTable(headers: ["FIRES", "ITEM", "DEADLINE", "LEAD", "MESSAGE"])
        for reminder in reminders {
            table.append([localTime(reminder.fireAt, in: reminder.zone), reminder.itemID, reminder.deadline.rawValue,
                          reminder.lead, reminder.message])
        }
        let count = reminders.count
        return table.render() + "\(count) reminder\(count == 1 ? "" : "s")\n"
    }

    /// `2017-03-01 09:00 -05:00`: the wall time in the item's zone, with its offset.
    static func localTime(_ instant: Instant, in zone: Zone) -> String {
        let local = zone.local(at: instant)
        let offset = zone.offset(at: instant)
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        let hh = minutes / 60, mm = minutes % 60
        let time = local.time
        return "\(local.date) \(two(time.hour)):\(two(time.minute))\(time.second == 0 ? "" : ":" + two(time.second)) \(sign)\(two(hh)):\(two(mm))"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    static func json(_ reminders: [Reminder]) -> String {
        var out = "["
        for (index, r) in reminders.enumerated() {
            out += index == 0 ? "\n" : ",\n"
            out += "  {\"key\": \(quote(r.key)), \"item\": \(quote(r.itemID)), \"dialogue\": \(quote(r.dialogueID)), "
                + "\"deadline\": \(quote(r.deadline.rawValue)), \"deadlineAt\": \(quote(r.deadlineAt.rfc3339)), "
                + "\"lead\": \(quote(r.lead)), \"fireAt\": \(quote(r.fireAt.rfc3339)), \"daysLeft\": \(r.daysLeft), "
                + "\"priority\": \(r.priority), \"message\": \(quote(r.message))}"
        }
        return out + (reminders.isEmpty ? "]\n" : "\n]\n")
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
