// How far apart two moments are, in words: "in 3 days", "tomorrow", "overdue by 20 minutes",
// "2 hours ago". The reminder messages of the journal and accordctl's tables both say it this
// way, so the wording lives once, here.

public enum RelativeTime {
    /// "1 day", "3 days" (any unit with its plural).
    public static func count(_ n: some BinaryInteger, _ unit: String) -> String { n == 1 ? "1 \(unit)" : "\(n) \(unit)s" }

    public static func days(_ n: Int) -> String { count(n, "day") }

    /// The largest whole unit of a span of seconds (at least 1 second): "3 hours", "20 minutes".
    public static func span(_ seconds: Int64) -> String {
        let magnitude = max(1, seconds)
        switch magnitude {
        case ..<60: return count(magnitude, "second")
        case ..<3600: return count(magnitude / 60, "minute")
        case ..<86_400: return count(magnitude / 3600, "hour")
        default: return count(magnitude / 86_400, "day")
        }
    }

    /// A deadline ahead: "in 7 days", "tomorrow", or for instants less than a day ahead
    /// "in 5 hours"; `seconds` is nil for date deadlines, which count whole calendar days.
    public static func ahead(days: Int, seconds: Int64?) -> String {
        if days == 1 && seconds == nil { return "tomorrow" }
        if days >= 1 { return "in \(self.days(days))" }
        guard let seconds, seconds > 0 else { return "now" }
        return "in " + span(seconds)
    }

    /// A deadline behind: "5 days" for dates; for instants "3 hours" or "20 minutes" below a day.
    public static func behind(days: Int, seconds: Int64?) -> String {
        guard let seconds, -seconds < 86_400 else { return self.days(max(1, -days)) }
        return span(-seconds)
    }

    /// From `now` to `instant`: "in 7 days", "in 3 hours", "3 days ago", "now".
    public static func between(_ now: Instant, and instant: Instant) -> String {
        let delta = instant.seconds - now.seconds
        if delta == 0 { return "now" }
        return delta > 0 ? "in " + span(delta) : span(-delta) + " ago"
    }

    /// A deadline's standing in whole days: "in 7 days", "today", "overdue today", "3 days overdue".
    public static func deadline(daysLeft: Int, passed: Bool) -> String {
        if daysLeft > 0 { return "in " + days(daysLeft) }
        if daysLeft == 0 { return passed ? "overdue today" : "today" }
        return days(-daysLeft) + " overdue"
    }
}
