import AccordCalendar

/// How long before a deadline a reminder fires (docs/contracts.md §3, §12): an ISO 8601
/// duration (`P7D`, `PT12H`), or a count of business days (`5BD`: the 5th business day before
/// the deadline's adjusted date; `0BD`: its last business day at or before it).
public enum Lead: Hashable, Sendable, CustomStringConvertible {
    case duration(ISODuration)
    case businessDays(Int)

    /// 260 business days is about a year on any calendar; a longer lead in business days is a
    /// typing error more likely than a plan (use `P2Y` for that), and the bound keeps every walk short.
    public static let maximumBusinessDays = 260

    public static let zero = Lead.duration(.zero)

    public init(parsing text: String) throws(CalendarError) {
        if text.hasSuffix("BD") {
            let digits = text.dropLast(2)
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(digits) else {
                throw CalendarError.invalidDuration(text, "a lead in business days is a whole number and BD, e.g. \"5BD\"")
            }
            guard count <= Lead.maximumBusinessDays else {
                throw CalendarError.invalidDuration(
                    text, "at most \(Lead.maximumBusinessDays)BD (about a year); use an ISO 8601 duration for longer leads")
            }
            self = .businessDays(count)
            return
        }
        self = .duration(try ISODuration(parsing: text))
    }

    /// As written, and as `ACCORD_LEAD` and reminder keys carry it.
    public var description: String {
        switch self {
        case let .duration(duration): duration.description
        case let .businessDays(count): "\(count)BD"
        }
    }

    /// On the deadline itself: `P0D`. `0BD` is not, since it may fall days before a deadline on a day off.
    public var isZero: Bool { self == .zero }

    /// For ordering leads fired at the same instant, longest first: a business day counts as a
    /// calendar day, close enough for a tie-break.
    public var approximateSeconds: Int64 {
        switch self {
        case let .duration(duration): duration.approximateSeconds
        case let .businessDays(count): Int64(count) * 86_400
        }
    }
}
