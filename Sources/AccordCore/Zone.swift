import Foundation  // TimeZone: the IANA time zone database, nothing else.
import Synchronization

/// An IANA time zone with its UTC offsets precomputed as a table of transitions.
///
/// Planning 100,000 items converts millions of wall-clock readings; looking offsets
/// up in a sorted table keeps that a binary search instead of a Foundation call each.
public final class Zone: Hashable, Sendable, CustomStringConvertible {
    public let identifier: String
    /// Instants at which the offset changes, ascending.
    private let transitions: [Int64]
    /// `offsets[i]` holds before `transitions[i]`; the last one after the last transition.
    private let offsets: [Int32]
    private let timeZone: TimeZone

    /// The table covers this range; outside it Foundation answers directly.
    private static let tableStart: Int64 = CivilDate(year: 1970, month: 1, day: 1)!.secondsAtMidnight
    private static let tableEnd: Int64 = CivilDate(year: 2100, month: 1, day: 1)!.secondsAtMidnight
    private static let cache = Mutex<[String: Zone]>([:])
    private static let known: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC"])

    public static let utc = try! Zone.named("UTC")

    /// The zone of that IANA name, built once and shared.
    public static func named(_ identifier: String) throws(CalendarError) -> Zone {
        if let zone = cache.withLock({ $0[identifier] }) { return zone }
        // ICU's list of known names lacks some canonical IANA ones (Asia/Kolkata): take any
        // Area/Location name the database resolves, but no abbreviations or offsets like GMT+5.
        let looksLikeIANA = identifier.contains("/") && identifier.first?.isUppercase == true
        guard known.contains(identifier) || looksLikeIANA, let timeZone = TimeZone(identifier: identifier) else {
            throw .unknownTimeZone(identifier)
        }
        let zone = Zone(identifier: identifier, timeZone: timeZone)
        return cache.withLock { cache in
            if let existing = cache[identifier] { return existing }
            cache[identifier] = zone
            return zone
        }
    }

    private init(identifier: String, timeZone: TimeZone) {
        self.identifier = identifier
        self.timeZone = timeZone
        func offset(_ t: Int64) -> Int32 {
            Int32(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))))
        }
        // Sample weekly and bisect each change down to the second: zones do not change
        // their offset twice within a week.
        var transitions: [Int64] = []
        var offsets: [Int32] = [offset(Zone.tableStart)]
        let step: Int64 = 7 * 86_400
        var previous = Zone.tableStart
        var previousOffset = offsets[0]
        var t = previous + step
        while t <= Zone.tableEnd {
            let current = offset(t)
            if current != previousOffset {
                var low = previous, high = t  // offset(low) == previousOffset, offset(high) == current
                while high - low > 1 {
                    let middle = low + (high - low) / 2
                    if offset(middle) == previousOffset { low = middle } else { high = middle }
                }
                transitions.append(high)
                offsets.append(current)
                previousOffset = current
            }
            previous = t
            t += step
        }
        self.transitions = transitions
        self.offsets = offsets
    }

    /// Seconds east of UTC at an instant.
    public func offset(at instant: Instant) -> Int {
        let t = instant.seconds
        if t < Zone.tableStart || t > Zone.tableEnd {
            return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
        }
        var low = 0, high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= t { low = middle + 1 } else { high = middle }
        }
        return Int(offsets[low])
    }

    /// The wall-clock reading at an instant.
    public func local(at instant: Instant) -> LocalDateTime {
        LocalDateTime(secondsAsIfUTC: instant.seconds + Int64(offset(at: instant)))
    }

    /// The instant of a wall-clock reading. A reading that does not exist (spring
    /// forward) moves forward by the gap; an ambiguous one (fall back) takes the earlier.
    public func instant(for local: LocalDateTime) -> Instant {
        let wall = local.secondsAsIfUTC
        let offsetBefore = Int64(offset(at: Instant(seconds: wall - 86_400)))
        let offsetAfter = Int64(offset(at: Instant(seconds: wall + 86_400)))
        let early = wall - offsetBefore, late = wall - offsetAfter
        let earlyValid = Int64(offset(at: Instant(seconds: early))) == offsetBefore
        let lateValid = Int64(offset(at: Instant(seconds: late))) == offsetAfter
        switch (earlyValid, lateValid) {
        case (true, true): return Instant(seconds: min(early, late))
        case (true, false): return Instant(seconds: early)
        case (false, true): return Instant(seconds: late)
        case (false, false): return Instant(seconds: early)  // in the gap: the offset from before it
        }
    }

    /// When a calendar day begins in this zone (not always 00:00, where midnight is skipped).
    public func startOfDay(_ date: CivilDate) -> Instant {
        instant(for: LocalDateTime(date: date, time: .midnight))
    }

    public static func == (lhs: Zone, rhs: Zone) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
    public var description: String { identifier }
}

extension CivilDate {
    var secondsAtMidnight: Int64 { Int64(daysSinceEpoch) * 86_400 }
}

extension Zone {
    /// `instant` + `duration`: date parts on this zone's calendar, time parts as elapsed time.
    public func adding(_ duration: ISODuration, to instant: Instant, sign: Int = 1) -> Instant {
        ReminderPlan.shifted(.instant(instant), by: duration, sign: sign,
                             settings: ReminderSettings(zone: self, leads: [], overdueEvery: nil))
    }
}
