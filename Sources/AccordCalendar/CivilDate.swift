/// A calendar date in the proleptic Gregorian calendar, with no time zone.
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Builds a date, refusing impossible ones (2017-02-29, month 13).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= CivilDate.daysIn(year: year, month: month)
        else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    /// Any year, for arithmetic that passes beyond 9999 (a date plus a long term, a zone rule
    /// evaluated for the year after the last): the calendar rules hold in every year, only the
    /// formats stop at 9999. `month` and `day` must be valid for that year.
    init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year; self.month = month; self.day = day
    }

    public static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (negative before). Howard Hinnant's days_from_civil.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(unchecked: yearOfEra + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public func adding(days: Int) -> CivilDate {
        days == 0 ? self : CivilDate(daysSinceEpoch: daysSinceEpoch + days)
    }

    /// Adds months, clamping to the end of a shorter month (2016-01-31 + P1M = 2016-02-29).
    public func adding(months: Int) -> CivilDate {
        if months == 0 { return self }
        let index = year * 12 + (month - 1) + months
        let newYear = index >= 0 ? index / 12 : (index - 11) / 12
        let newMonth = index - newYear * 12 + 1
        return CivilDate(
            unchecked: newYear, newMonth,
            min(day, CivilDate.daysIn(year: newYear, month: newMonth)))
    }

    /// Adds the date part of a duration `sign` times: years and months first (clamped to
    /// the month's end), then weeks and days. The time part is not a date matter.
    public func adding(_ duration: ISODuration, sign: Int = 1) -> CivilDate {
        adding(months: sign * (duration.years * 12 + duration.months)).adding(days: sign * duration.dayCount)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Whole calendar days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int { other.daysSinceEpoch - daysSinceEpoch }

    public var description: String {
        pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// Parses `YYYY-MM-DD`.
    public init(parsing text: String) throws(CalendarError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let y = digits(bytes[0..<4]), let m = digits(bytes[5..<7]), let d = digits(bytes[8..<10])
        else {
            throw .invalidDate(text, "expected YYYY-MM-DD, e.g. 2017-03-31")
        }
        guard let date = CivilDate(year: y, month: m, day: d) else {
            throw .invalidDate(text, "no such day in the calendar")
        }
        self = date
    }
}

/// A time of day, whole seconds.
public struct LocalTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hour: Int
    public let minute: Int
    public let second: Int

    public init?(hour: Int, minute: Int, second: Int = 0) {
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        self.hour = hour; self.minute = minute; self.second = second
    }

    public static let midnight = LocalTime(hour: 0, minute: 0)!
    public static let nineAM = LocalTime(hour: 9, minute: 0)!

    public var secondsOfDay: Int { hour * 3600 + minute * 60 + second }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.secondsOfDay < rhs.secondsOfDay }

    public var description: String { pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2) }

    /// Parses `HH:MM` or `HH:MM:SS`.
    public init(parsing text: String) throws(CalendarError) {
        let bytes = Array(text.utf8)
        guard bytes.count == 5 || bytes.count == 8, bytes[2] == UInt8(ascii: ":"),
            bytes.count == 5 || bytes[5] == UInt8(ascii: ":"),
            let h = digits(bytes[0..<2]), let m = digits(bytes[3..<5])
        else {
            throw .invalidTime(text, "expected HH:MM:SS, e.g. 09:00:00")
        }
        let s = bytes.count == 8 ? digits(bytes[6..<8]) : 0
        guard let s, let time = LocalTime(hour: h, minute: m, second: s) else {
            throw .invalidTime(text, "hours 00-23, minutes and seconds 00-59")
        }
        self = time
    }
}

/// A wall-clock reading: a date and a time of day, in no particular zone.
public struct LocalDateTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var date: CivilDate
    public var time: LocalTime

    public init(date: CivilDate, time: LocalTime) { self.date = date; self.time = time }

    /// Seconds since 1970-01-01T00:00:00 of this reading taken as if it were UTC.
    public var secondsAsIfUTC: Int64 { Int64(date.daysSinceEpoch) * 86_400 + Int64(time.secondsOfDay) }

    public init(secondsAsIfUTC seconds: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = Int(seconds - days * 86_400)
        date = CivilDate(daysSinceEpoch: Int(days))
        time = LocalTime(hour: rest / 3600, minute: rest % 3600 / 60, second: rest % 60)!
    }

    public static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool { lhs.secondsAsIfUTC < rhs.secondsAsIfUTC }

    public var description: String { "\(date)T\(time)" }
}

/// `value` with leading zeros to `width` digits: the one zero-padding of dates, times and
/// offsets, for every format that writes them (RFC 3339, iCalendar, accordd plan).
@inline(__always)
public func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
    var value = 0
    for byte in bytes {
        guard byte >= 48, byte <= 57 else { return nil }
        value = value * 10 + Int(byte - 48)
    }
    return value
}
