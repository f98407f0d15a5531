/// An ISO 8601 duration such as `P1Y`, `P6M`, `P2W`, `P90D`, `PT36H` or `P1Y2M3DT4H`.
///
/// The components are kept as written, not normalised, because calendar arithmetic
/// depends on them: `P1M` is not thirty days and `P1D` is not always 24 hours.
public struct ISODuration: Hashable, Sendable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var weeks: Int
    public var days: Int
    public var hours: Int
    public var minutes: Int
    public var seconds: Int

    public init(
        years: Int = 0, months: Int = 0, weeks: Int = 0, days: Int = 0,
        hours: Int = 0, minutes: Int = 0, seconds: Int = 0
    ) {
        self.years = years; self.months = months; self.weeks = weeks; self.days = days
        self.hours = hours; self.minutes = minutes; self.seconds = seconds
    }

    public static let zero = ISODuration()

    public var isZero: Bool { self == .zero }
    /// Calendar days of the date part (weeks and days), applied after years and months.
    public var dayCount: Int { weeks * 7 + days }
    /// Elapsed seconds of the time part.
    public var timeSeconds: Int64 { Int64(hours) * 3600 + Int64(minutes) * 60 + Int64(seconds) }
    public var hasTimePart: Bool { hours != 0 || minutes != 0 || seconds != 0 }

    /// The duration `n` times over, component by component, so that repeats do not
    /// drift through month-end clamping (2017-01-31 + 2 × P1M is 2017-03-31).
    public func times(_ n: Int) -> ISODuration {
        ISODuration(
            years: years * n, months: months * n, weeks: weeks * n, days: days * n,
            hours: hours * n, minutes: minutes * n, seconds: seconds * n)
    }

    /// A rough length in seconds, good only for ordering and plausibility checks.
    public var approximateSeconds: Int64 {
        Int64(years) * 31_556_952 + Int64(months) * 2_629_746 + Int64(dayCount) * 86_400 + timeSeconds
    }

    public var description: String {
        if isZero { return "P0D" }
        var text = "P"
        if years != 0 { text += "\(years)Y" }
        if months != 0 { text += "\(months)M" }
        if weeks != 0 { text += "\(weeks)W" }
        if days != 0 { text += "\(days)D" }
        if hasTimePart {
            text += "T"
            if hours != 0 { text += "\(hours)H" }
            if minutes != 0 { text += "\(minutes)M" }
            if seconds != 0 { text += "\(seconds)S" }
        }
        return text
    }

    /// Parses `P[nY][nM][nW][nD][T[nH][nM][nS]]`. Fractions and signs are refused:
    /// a reminder lead is a whole, positive amount of calendar or clock time.
    public init(parsing text: String) throws(CalendarError) {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "P") else {
            throw .invalidDuration(text, "must start with P, e.g. P7D, P1Y, PT36H")
        }
        var result = ISODuration()
        var index = 1
        var inTimePart = false
        var lastSlot = -1  // position of the previous designator in the current part
        var any = false
        let maxValue = 1_000_000
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "T") {
                if inTimePart { throw .invalidDuration(text, "T appears twice") }
                inTimePart = true
                lastSlot = -1
                index += 1
                if index == bytes.count { throw .invalidDuration(text, "T must be followed by hours, minutes or seconds") }
                continue
            }
            var value = 0
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value * 10 + Int(bytes[index] - 48)
                if value > maxValue { throw .invalidDuration(text, "a number is larger than \(maxValue)") }
                index += 1
            }
            if index == start {
                throw .invalidDuration(text, "expected a whole number before a designator (Y, M, W, D, T, H, M, S)")
            }
            guard index < bytes.count else { throw .invalidDuration(text, "the last number has no designator") }
            let designator = Character(UnicodeScalar(bytes[index]))
            let order: [Character] = inTimePart ? ["H", "M", "S"] : ["Y", "M", "W", "D"]
            guard let slot = order.firstIndex(of: designator) else {
                if designator == "." || designator == "," {
                    throw .invalidDuration(text, "fractions are not supported")
                }
                throw .invalidDuration(
                    text,
                    inTimePart
                        ? "after T only H, M and S are allowed"
                        : "before T only Y, M, W and D are allowed (hours, minutes and seconds go after T, e.g. PT36H)")
            }
            if slot == lastSlot { throw .invalidDuration(text, "\(designator) appears twice") }
            if slot < lastSlot { throw .invalidDuration(text, "designators must come in the order Y, M, W, D, T, H, M, S") }
            lastSlot = slot
            switch (inTimePart, slot) {
            case (false, 0): result.years = value
            case (false, 1): result.months = value
            case (false, 2): result.weeks = value
            case (false, _): result.days = value
            case (true, 0): result.hours = value
            case (true, 1): result.minutes = value
            case (true, _): result.seconds = value
            }
            any = true
            index += 1
        }
        if !any { throw .invalidDuration(text, "has no amount, e.g. P7D") }
        self = result
    }
}
