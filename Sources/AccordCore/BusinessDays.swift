import AccordCalendar
import AccordTOML

// Business days (docs/design.md §12): the calendar files of Config/calendars, read into
// `BusinessCalendar`, and the pure rules over a list of them, `BusinessDays`: which day is a
// business day, why a day is off, `adjust`, the business day at or before a date (reminders
// never fire later than written) and the `NBD` leads. No I/O and no clock: dates in, dates out.
// Every rule that walks from one day to the next checks each day it looks at against every
// calendar's `years`; a day outside is an error, never a guess (a Chinese year without its State
// Council notice has unknown adjusted working days), and that also bounds every walk.

/// A day of the week, ISO 8601 numbering (Monday 1 … Sunday 7).
public enum Weekday: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// The name a calendar file uses: `saturday`.
    public var name: String {
        switch self {
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        case .sunday: "sunday"
        }
    }
    /// `Saturday`, for people.
    public var description: String { name.prefix(1).uppercased() + name.dropFirst() }

    public init?(name: String) {
        guard let day = Weekday.allCases.first(where: { $0.name == name }) else { return nil }
        self = day
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension CivilDate {
    /// 1970-01-01 was a Thursday (ISO 4).
    public var weekday: Weekday {
        let days = daysSinceEpoch
        let index = ((days % 7) + 7 + 3) % 7  // 0 = Monday
        return Weekday(rawValue: index + 1)!
    }
}

/// One calendar file: a country's (or an office's) days off and adjusted working days.
public struct BusinessCalendar: Hashable, Sendable {
    /// `[a-z0-9-]+`: what `business-days = ["ca", "cn"]` names.
    public var id: String
    public var title: String
    /// Where the dates come from: each shipped file names its source.
    public var source: String
    /// The first and last year the file covers; rules refuse any date outside.
    public var years: ClosedRange<Int>
    public var weekend: Set<Weekday>
    /// Days off, with their names (`"Spring Festival"`; `"holiday"` when the file gives none).
    public var holidays: [CivilDate: String]
    /// Weekend days that are working days (China's 调休补班), with the name of the holiday
    /// they make up for.
    public var workingDays: [CivilDate: String]

    public init(
        id: String, title: String, source: String, years: ClosedRange<Int>,
        weekend: Set<Weekday> = [.saturday, .sunday],
        holidays: [CivilDate: String] = [:], workingDays: [CivilDate: String] = [:]
    ) {
        self.id = id; self.title = title; self.source = source; self.years = years
        self.weekend = weekend; self.holidays = holidays; self.workingDays = workingDays
    }

    public func covers(_ date: CivilDate) -> Bool { years.contains(date.year) }

    /// What this calendar says of a day. A date it does not cover is not asked here:
    /// `BusinessDays` checks coverage first.
    public func status(of date: CivilDate) -> DayStatus {
        if let name = holidays[date] { return .holiday(name) }
        if let name = workingDays[date] { return .adjustedWorkingDay(name) }
        if weekend.contains(date.weekday) { return .weekend(date.weekday) }
        return .business
    }

    public func isBusinessDay(_ date: CivilDate) -> Bool { status(of: date).isBusinessDay }

    /// `2016–2027`, as coverage errors print it.
    public var yearsText: String {
        years.lowerBound == years.upperBound ? "\(years.lowerBound)" : "\(years.lowerBound)–\(years.upperBound)"
    }
}

/// What one calendar says of one day.
public enum DayStatus: Hashable, Sendable, CustomStringConvertible {
    case business
    case weekend(Weekday)
    case holiday(String)
    /// A weekend day made a working day; the name is the holiday it makes up for.
    case adjustedWorkingDay(String)

    public var isBusinessDay: Bool {
        switch self {
        case .business, .adjustedWorkingDay: true
        case .weekend, .holiday: false
        }
    }

    public var description: String {
        switch self {
        case .business: "business day"
        case let .weekend(day): "weekend (\(day))"
        case let .holiday(name): "holiday: \(name)"
        case let .adjustedWorkingDay(name): "adjusted working day (for \(name))"
        }
    }
}

/// A date a rule needed that a listed calendar does not cover.
public struct CoverageError: Error, Hashable, Sendable, CustomStringConvertible {
    public var calendar: String
    public var years: ClosedRange<Int>
    public var yearsText: String
    /// The day looked at: the written date itself, or a day the walk from it reached.
    public var date: CivilDate

    /// `calendar cn covers 2016–2027; ca-cn-nsrl/x due 2031-05-01 is outside`, where `subject`
    /// is `ca-cn-nsrl/x due`.
    public func describing(_ subject: String) -> String {
        "calendar \(calendar) covers \(yearsText); \(subject) \(date) is outside"
    }

    public var description: String { "calendar \(calendar) covers \(yearsText); \(date) is outside" }
}

/// How a deadline on a non-business day moves (§12 `adjust`).
public enum Adjustment: String, CaseIterable, Sendable {
    case none
    case following
    case preceding
    /// The next business day unless that is in another month, then the previous one.
    case modifiedFollowing = "modified-following"
}

/// The rules over the calendars an item lists (`business-days = ["ca", "cn"]`): a business day
/// is one that is a business day in every one of them. With none, every day is.
public struct BusinessDays: Hashable, Sendable {
    public let calendars: [BusinessCalendar]
    /// What a day outside a calendar's `years` is. `check` refuses such dates; the plan is a
    /// total function of what it is given, and a date only a recorded event brings outside (an
    /// in-force recorded in 2026 for a five-year term expires in 2031) still has to be planned.
    public enum Outside: Hashable, Sendable {
        /// An error: the rules throw `CoverageError` (what `check` and `accordd calendar` use).
        case refused
        /// Judged by the calendar's weekend alone: its holidays for that year are not known.
        case weekendOnly
    }
    public let outside: Outside

    public init(_ calendars: [BusinessCalendar], outside: Outside = .refused) {
        self.calendars = calendars
        self.outside = outside
    }

    /// The same calendars for planning: nothing throws, days outside their years count by weekend.
    public var forPlanning: BusinessDays { BusinessDays(calendars, outside: .weekendOnly) }

    /// No calendar listed: every day is a business day.
    public var isEveryDay: Bool { calendars.isEmpty }

    /// The listed calendars' ids, in order (`ca, cn`).
    public var ids: [String] { calendars.map(\.id) }

    /// The first calendar that does not cover `date`, as an error; nil when all do.
    public func coverage(_ date: CivilDate) -> CoverageError? {
        guard let calendar = calendars.first(where: { !$0.covers(date) }) else { return nil }
        return CoverageError(calendar: calendar.id, years: calendar.years, yearsText: calendar.yearsText, date: date)
    }

    public func isBusinessDay(_ date: CivilDate) throws(CoverageError) -> Bool {
        switch outside {
        case .refused:
            if let error = coverage(date) { throw error }
            return calendars.allSatisfy { $0.isBusinessDay(date) }
        case .weekendOnly:
            return calendars.allSatisfy { $0.covers(date) ? $0.isBusinessDay(date) : !$0.weekend.contains(date.weekday) }
        }
    }

    /// What each calendar says of `date`, in the listed order: the explanation
    /// `accordd calendar` prints (`cn: adjusted working day (for Spring Festival)`).
    public func explain(_ date: CivilDate) throws(CoverageError) -> [(calendar: String, status: DayStatus)] {
        if let error = coverage(date) { throw error }
        return calendars.map { ($0.id, $0.status(of: date)) }
    }

    /// The first business day from `date` (itself included) in steps of `step` days.
    private func walk(from date: CivilDate, step: Int) throws(CoverageError) -> CivilDate {
        var day = date
        // Bounded: each step stays inside every calendar's years or throws, and every
        // calendar's weekend leaves a day of the week free (the parser refuses seven).
        while try !isBusinessDay(day) { day = day.adding(days: step) }
        return day
    }

    /// The deadline's adjusted date. `none` returns `date` unchanged, but still refuses a date
    /// outside a calendar's years (`check` must report it whatever the rule).
    public func adjust(_ date: CivilDate, _ rule: Adjustment) throws(CoverageError) -> CivilDate {
        switch rule {
        case .none:
            if outside == .refused, let error = coverage(date) { throw error }
            return date
        case .following:
            return try walk(from: date, step: 1)
        case .preceding:
            return try walk(from: date, step: -1)
        case .modifiedFollowing:
            let next = try walk(from: date, step: 1)
            if next.month == date.month && next.year == date.year { return next }
            // A month with no business day at all after `date` has one before it unless every
            // day of it is off; then the previous month's last is the only answer there is.
            return try walk(from: date, step: -1)
        }
    }

    /// The business day at or before `date`: where a date-based reminder written for a day off
    /// fires (never later than written).
    public func onOrBefore(_ date: CivilDate) throws(CoverageError) -> CivilDate {
        try walk(from: date, step: -1)
    }

    /// The `count`th business day before `date` (the `"5BD"` lead); `count` 0 is the last
    /// business day at or before it (`"0BD"`). `date` itself is never counted for `count` ≥ 1:
    /// 1BD before a Tuesday deadline is the Monday, before a Monday one the Friday.
    public func businessDays(_ count: Int, before date: CivilDate) throws(CoverageError) -> CivilDate {
        precondition(count >= 0, "a business-day lead counts back: 0 or more")
        if count == 0 { return try onOrBefore(date) }
        if outside == .refused, let error = coverage(date) { throw error }
        var day = date
        var left = count
        while left > 0 {
            day = day.adding(days: -1)
            if try isBusinessDay(day) { left -= 1 }
        }
        return day
    }
}

// MARK: - Reading a calendar file

/// Reads one calendar file (§12) into a `BusinessCalendar`, reporting every problem with the
/// file, line and key path, like portfolio problems; a key the format does not have is an error.
public enum BusinessCalendarParser {
    static let calendarKeys = ["id", "title", "source", "years", "weekend", "holidays", "working-days", "names"]
    /// Far enough for any schedule and inside `CivilDate`'s range (years 1 to 9999).
    static let yearRange = 1...9999

    public static func parse(_ text: String, file: String) throws(ConfigProblems) -> BusinessCalendar {
        let root = try parseTOML(text, file: file)
        let lines = SourceLines(text: text)
        let top = TableReader(table: root, file: file, path: "", section: "", lines: lines)
        var problems: [ConfigProblem] = []
        var result: BusinessCalendar?
        if let value = top.value("calendar") {
            if let table = value.table {
                let reader = TableReader(table: table, file: file, path: "calendar", section: "calendar", lines: lines)
                var located: [ConfigProblem] = []
                result = readCalendar(reader, text: text, lines: lines, located: &located)
                problems += reader.problems + located
            } else {
                top.problem("calendar", "must be a table: [calendar]")
            }
        } else {
            top.problem(nil, "the [calendar] table is missing; it needs id, title, source, years, weekend, holidays and working-days")
        }
        top.rejectUnknownKeys(allowed: ["calendar"])
        problems = top.problems + problems
        if !problems.isEmpty { throw ConfigProblems(problems) }
        return result!
    }

    /// `located`: problems placed more precisely than `TableReader.problem` places them (the line
    /// of one date in an array, a key of `[calendar.names]`).
    private static func readCalendar(
        _ reader: TableReader, text: String, lines: SourceLines,
        located: inout [ConfigProblem]
    ) -> BusinessCalendar? {
        let id = reader.identifier("id")
        let title = reader.string("title", required: true)
        let source = reader.string("source", required: true)
        let years = readYears(reader)
        let weekend = readWeekend(reader)
        let holidays = readDates(reader, key: "holidays", text: text, years: years, located: &located)
        let working = readDates(reader, key: "working-days", text: text, years: years, located: &located)
        if let holidays, let working, let weekend {
            for date in working {
                if !weekend.contains(date.weekday) {
                    reader.problem(
                        "working-days", "\(date) is a \(date.weekday), not a weekend day; working-days lists the weekend days that are working days")
                }
                if holidays.contains(date) {
                    reader.problem("working-days", "\(date) is also in holidays: a day is either off or a working day")
                }
            }
        }
        let names = readNames(reader, holidays: holidays, working: working, lines: lines, located: &located)
        reader.rejectUnknownKeys(allowed: calendarKeys)
        guard reader.problems.isEmpty, located.isEmpty, let id, let title, let source, let years, let weekend,
            let holidays, let working
        else { return nil }
        var holidayNames: [CivilDate: String] = [:]
        for date in holidays { holidayNames[date] = names[date] ?? "holiday" }
        var workingNames: [CivilDate: String] = [:]
        for date in working { workingNames[date] = names[date] ?? "holiday" }
        return BusinessCalendar(
            id: id, title: title, source: source, years: years, weekend: weekend,
            holidays: holidayNames, workingDays: workingNames)
    }

    private static func readYears(_ reader: TableReader) -> ClosedRange<Int>? {
        let example = "years = [2016, 2027] (first and last year covered)"
        guard let value = reader.value("years") else {
            reader.problem("years", "is required: \(example)")
            return nil
        }
        guard let array = value.array, array.count == 2, let first = array[0].int, let last = array[1].int else {
            reader.problem("years", "must be two years: \(example)")
            return nil
        }
        guard yearRange.contains(first), yearRange.contains(last) else {
            reader.problem("years", "years must be within \(yearRange.lowerBound)–\(yearRange.upperBound)")
            return nil
        }
        guard first <= last else {
            reader.problem("years", "the first year, \(first), is after the last, \(last)")
            return nil
        }
        return first...last
    }

    private static func readWeekend(_ reader: TableReader) -> Set<Weekday>? {
        guard reader.value("weekend") != nil else {
            reader.problem("weekend", "is required: weekend = [\"saturday\", \"sunday\"] (or [] for none)")
            return nil
        }
        guard let names = reader.strings("weekend") else { return nil }
        var days: Set<Weekday> = []
        for name in names {
            guard let day = Weekday(name: name) else {
                reader.problem("weekend", "\"\(name)\" is not a day of the week: use monday … sunday, in lower case")
                return nil
            }
            if !days.insert(day).inserted {
                reader.problem("weekend", "\"\(name)\" is listed twice")
                return nil
            }
        }
        if days.count == 7 {
            reader.problem("weekend", "lists all seven days: a calendar needs at least one working day of the week")
            return nil
        }
        return days
    }

    /// An array of dates, each inside `years`, none twice. A problem names the line of the date
    /// itself when it can find it (the shipped files put one date on a line).
    private static func readDates(
        _ reader: TableReader, key: String, text: String, years: ClosedRange<Int>?,
        located: inout [ConfigProblem]
    ) -> Set<CivilDate>? {
        guard let value = reader.value(key) else {
            reader.problem(key, "is required (an empty array, \(key) = [], if there are none)")
            return nil
        }
        guard let array = value.array else {
            reader.problem(key, "must be an array of dates such as [2026-01-01] (no quotes), not \(value.type)")
            return nil
        }
        var dates: Set<CivilDate> = []
        var ok = true
        for (index, element) in array.enumerated() {
            guard let tomlDate = element.date, element.type == .date,
                let date = CivilDate(year: tomlDate.year, month: tomlDate.month, day: tomlDate.day)
            else {
                reader.problem(key, "entry \(index + 1) must be a date such as 2026-01-01 (no quotes), not \(element.type)")
                ok = false
                continue
            }
            if let years, !years.contains(date.year) {
                located.append(
                    problem(
                        reader, key: key, date: date, text: text,
                        "\(date) is outside the years the file covers, \(years.lowerBound)–\(years.upperBound)"))
                ok = false
            }
            if !dates.insert(date).inserted {
                located.append(problem(reader, key: key, date: date, text: text, "\(date) is listed twice"))
                ok = false
            }
        }
        return ok ? dates : nil
    }

    private static func problem(_ reader: TableReader, key: String, date: CivilDate, text: String, _ message: String) -> ConfigProblem {
        let keyPath = "\(reader.path) › \(key)"
        let line =
            lineOfDate(date, after: reader.lines.line(section: reader.section, key: key), in: text)
            ?? reader.lines.line(section: reader.section, key: key)
        return ConfigProblem(file: reader.file, line: line, keyPath: keyPath, message: message)
    }

    /// The first line at or after `start` that begins with the date (a date per line).
    private static func lineOfDate(_ date: CivilDate, after start: Int?, in text: String) -> Int? {
        let wanted = date.description
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if number < (start ?? 1) { continue }
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" || $0 == "[" })
            if trimmed.hasPrefix(wanted) || (number == start && line.contains(wanted)) { return number }
        }
        return nil
    }

    /// `[calendar.names]` (or `names = { … }`): a name for each date of `holidays` and
    /// `working-days`; a key that is not one of those dates is an error (a typo would otherwise
    /// leave a day unexplained).
    private static func readNames(
        _ reader: TableReader, holidays: Set<CivilDate>?, working: Set<CivilDate>?,
        lines: SourceLines, located: inout [ConfigProblem]
    ) -> [CivilDate: String] {
        guard let value = reader.value("names") else { return [:] }
        guard let table = value.table else {
            reader.problem("names", "must be a table of date = \"name\": [calendar.names] then 2026-01-01 = \"New Year's Day\"")
            return [:]
        }
        let names = TableReader(table: table, file: reader.file, path: "calendar › names", section: "calendar.names", lines: lines)
        var result: [CivilDate: String] = [:]
        for key in table.keys.sorted() {
            guard let date = try? CivilDate(parsing: key) else {
                names.problem(key, "is not a date such as 2026-01-01")
                continue
            }
            // Checked only when both arrays read: a broken array is reported once, as itself.
            if let holidays, let working, !holidays.contains(date), !working.contains(date) {
                names.problem(key, "\(key) is in neither holidays nor working-days")
                continue
            }
            guard let name = names.string(key) else { continue }
            if name.isEmpty { names.problem(key, "is empty") }
            result[date] = name
        }
        located += names.problems
        return result
    }
}
