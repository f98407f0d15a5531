import AccordCalendar
import AccordProtocol
import Glibc

/// Human presentation: relative times, colour on terminals, pretty JSON.
enum Pretty {
    static let useColor: Bool = isatty(1) != 0 && getenv("NO_COLOR") == nil

    static func paint(_ text: String, _ code: String) -> String {
        useColor ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    static func bold(_ text: String) -> String { paint(text, "1") }

    /// Red once passed, yellow within a week.
    static func urgency(_ text: String, daysLeft: Int, passed: Bool = false) -> String {
        if passed || daysLeft < 0 { return paint(text, "31") }
        if daysLeft <= 7 { return paint(text, "33") }
        return text
    }

    static func now() -> Instant { Instant(seconds: Int64(time(nil))) }

    /// An instant of a reply; nil for text that is not RFC 3339.
    static func instant(_ text: String) -> Instant? { try? Instant(parsingRFC3339: text) }

    /// "in 7 days", "in 3 hours", "3 days ago".
    static func relative(_ text: String, from now: Instant = now()) -> String {
        guard let instant = instant(text) else { return text }
        return RelativeTime.between(now, and: instant)
    }

    /// For deadlines: "in 7 days", "today", "3 days overdue".
    static func deadline(daysLeft: Int, passed: Bool) -> String { RelativeTime.deadline(daysLeft: daysLeft, passed: passed) }

    static func plural(_ n: some BinaryInteger, _ word: String) -> String { RelativeTime.count(n, word) }

    /// `2017-10-01 13:00 UTC` from an RFC 3339 instant.
    static func shortTime(_ text: String) -> String {
        guard let instant = instant(text) else { return text }
        let local = Zone.utc.local(at: instant)
        return "\(local.date) \(local.time.description.prefix(5)) UTC"
    }

    /// Indented JSON with keys in the reply's order.
    static func json(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case let .array(items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + json($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case let .object(object):
            if object.isEmpty { return "{}" }
            return "{\n"
                + object.members.map { inner + JSONValue.string($0.key).jsonText + ": " + json($0.value, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return value.jsonText
        }
    }
}
