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

    static func now() -> Int64 { Int64(time(nil)) }

    /// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SSZ`; nil for anything else.
    static func epoch(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 90 else { return nil }
        func n(_ range: Range<Int>) -> Int64? {
            var v: Int64 = 0
            for i in range { guard b[i] >= 48, b[i] <= 57 else { return nil }; v = v * 10 + Int64(b[i] - 48) }
            return v
        }
        guard let y = n(0..<4), let m = n(5..<7), let d = n(8..<10), let hh = n(11..<13), let mm = n(14..<16), let ss = n(17..<19) else { return nil }
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146_097 + doe - 719_468) * 86_400 + hh * 3600 + mm * 60 + ss
    }

    /// "in 7 days", "in 3 hours", "3 days ago".
    static func relative(_ instant: String, from now: Int64 = now()) -> String {
        guard let t = epoch(instant) else { return instant }
        let delta = t - now
        let magnitude = abs(delta)
        let amount: String
        switch magnitude {
        case 0: return "now"
        case ..<60: amount = plural(magnitude, "second")
        case ..<3600: amount = plural(magnitude / 60, "minute")
        case ..<86_400: amount = plural(magnitude / 3600, "hour")
        default: amount = plural(magnitude / 86_400, "day")
        }
        return delta > 0 ? "in \(amount)" : "\(amount) ago"
    }

    /// For deadlines: "in 7 days", "today", "3 days overdue".
    static func deadline(daysLeft: Int, passed: Bool) -> String {
        if daysLeft > 0 { return "in " + plural(daysLeft, "day") }
        if daysLeft == 0 { return passed ? "overdue today" : "today" }
        return plural(-daysLeft, "day") + " overdue"
    }

    static func plural(_ n: some BinaryInteger, _ word: String) -> String { n == 1 ? "1 \(word)" : "\(n) \(word)s" }

    /// `2017-10-01 13:00 UTC` from an RFC 3339 UTC instant.
    static func shortTime(_ instant: String) -> String {
        let b = Array(instant.utf8)
        guard b.count == 20 else { return instant }
        return String(decoding: b[0..<10], as: UTF8.self) + " " + String(decoding: b[11..<16], as: UTF8.self) + " UTC"
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
            return "{\n" + object.members.map { inner + JSONValue.string($0.key).jsonText + ": " + json($0.value, indent: inner) }
                .joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return value.jsonText
        }
    }
}
