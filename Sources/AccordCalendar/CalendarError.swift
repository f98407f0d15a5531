/// Why a calendar value could not be read. The message says what is allowed.
public enum CalendarError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidDuration(String, String)
    case invalidDate(String, String)
    case invalidTime(String, String)
    case unknownTimeZone(String)
    /// A zone name that is fine but whose file cannot be used: a missing database or a damaged file.
    case unreadableTimeZone(String, String)

    public var description: String {
        switch self {
        case let .invalidDuration(text, why):
            return "\"\(text)\" is not an ISO 8601 duration: \(why)"
        case let .invalidDate(text, why):
            return "\"\(text)\" is not a date: \(why)"
        case let .invalidTime(text, why):
            return "\"\(text)\" is not a time of day: \(why)"
        case let .unknownTimeZone(name):
            return "\"\(name)\" is not an IANA time zone (e.g. America/Toronto, Asia/Shanghai, UTC)"
        case let .unreadableTimeZone(name, why):
            return "time zone \"\(name)\" cannot be read: \(why)"
        }
    }
}
