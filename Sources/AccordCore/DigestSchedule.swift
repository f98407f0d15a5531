// When digests fire (docs/contracts.md §14): `digest` (the period) from `digest-at` (where the
// series is anchored). A pure value: the daemon asks it for the next fire time after an instant
// and arms its one timer there, so nothing polls.
import AccordCalendar

public struct DigestSchedule: Sendable, Equatable {
    public enum Anchor: Sendable, Equatable {
        /// `monday 09:00`: that weekday and wall time in `zone`; the period is whole weeks.
        case weekday(Int, LocalTime)
        /// `09:00`: that wall time in `zone`, counted from 1970-01-01; the period has no time part.
        case timeOfDay(LocalTime)
        /// `2026-12-02T17:30:00Z`: that instant, then every period after it (any period; the
        /// form for a digest seconds ahead).
        case instant(Instant)
    }

    public var period: ISODuration
    public var anchor: Anchor
    public var zone: Zone

    public init(period: ISODuration, anchor: Anchor, zone: Zone = .utc) {
        self.period = period; self.anchor = anchor; self.zone = zone
    }

    public static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Reads `digest-at`: `WEEKDAY HH:MM[:SS] [ZONE]`, `HH:MM[:SS] [ZONE]` or an RFC 3339
    /// instant; weekdays in full or their first three letters, any case; ZONE an IANA name
    /// (default UTC). Checks the period against the form. The error says what is allowed.
    public static func parse(period: ISODuration, at text: String) -> Result<DigestSchedule, ScheduleError> {
        if period.isZero { return .failure(ScheduleError("digest", "must be longer than zero")) }
        let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if words.count == 1, words[0].contains("T") || words[0].contains("t") {
            do {
                return .success(DigestSchedule(period: period, anchor: .instant(try Instant(parsingRFC3339: words[0]))))
            } catch {
                return .failure(ScheduleError("digest-at", "\"\(text)\": \(error)"))
            }
        }
        let usage =
            "\"\(text)\" is not a digest time: write \"monday 09:00\" (a weekday, a time and optionally an IANA zone, default UTC), \"09:00\", or an RFC 3339 instant such as 2026-12-07T09:00:00Z"
        var rest = words[...]
        var weekday: Int?
        if let first = rest.first, let day = weekdays.firstIndex(where: { $0 == first.lowercased() || $0.prefix(3) == first.lowercased() }) {
            weekday = day
            rest = rest.dropFirst()
        }
        guard let timeText = rest.first, rest.count <= 2 else { return .failure(ScheduleError("digest-at", usage)) }
        let time: LocalTime
        do { time = try LocalTime(parsing: timeText) } catch { return .failure(ScheduleError("digest-at", usage)) }
        var zone = Zone.utc
        if rest.count == 2 {
            do { zone = try Zone.named(rest.last!) } catch { return .failure(ScheduleError("digest-at", "\"\(text)\": \(error)")) }
        }
        if period.hasTimePart {
            return .failure(
                ScheduleError(
                    "digest",
                    "\(period) has a time part: with a time of day in digest-at the period is whole days, weeks, months or years (an RFC 3339 instant in digest-at allows any period)"
                ))
        }
        if let weekday {
            guard period.years == 0, period.months == 0, period.dayCount % 7 == 0 else {
                return .failure(
                    ScheduleError("digest", "\(period) is not whole weeks, as a weekday in digest-at (\"\(text)\") needs; write P7D, P1W, P14D, …"))
            }
            return .success(DigestSchedule(period: period, anchor: .weekday(weekday, time), zone: zone))
        }
        return .success(DigestSchedule(period: period, anchor: .timeOfDay(time), zone: zone))
    }

    /// The default `digest-at`: Mondays at 09:00 UTC for a period of whole weeks, else 09:00 UTC.
    public static func defaultAnchor(for period: ISODuration) -> String {
        period.years == 0 && period.months == 0 && period.dayCount % 7 == 0 && !period.hasTimePart ? "monday 09:00" : "09:00"
    }

    /// The n-th fire time (n ≥ 0): the anchor plus n periods, the date parts on the zone's
    /// calendar (so 09:00 stays 09:00 across a change of offset), the time parts elapsed.
    public func fireTime(_ n: Int) -> Instant {
        switch anchor {
        case let .weekday(day, time):
            // 1970-01-05 was a Monday.
            return zone.adding(period.times(n), to: CivilDate(daysSinceEpoch: 4 + day), at: time)
        case let .timeOfDay(time):
            return zone.adding(period.times(n), to: CivilDate(daysSinceEpoch: 0), at: time)
        case let .instant(start):
            return zone.adding(period.times(n), to: start)
        }
    }

    /// The index of the first fire time after `instant` (strictly).
    public func index(after instant: Instant) -> Int {
        let first = fireTime(0)
        guard instant >= first else { return 0 }
        // Jump close to the answer (2 periods short, for months of unequal length and offset
        // changes), then step: a few steps, never a walk from 1970.
        let step = max(1, period.approximateSeconds)
        var n = max(0, Int((instant.seconds - first.seconds) / step) - 2)
        while fireTime(n) <= instant { n += 1 }
        while n > 0, fireTime(n - 1) > instant { n -= 1 }
        return n
    }

    /// The first fire time after `instant`.
    public func next(after instant: Instant) -> Instant { fireTime(index(after: instant)) }

    /// The latest fire time at or before `instant`, if the series has begun by then.
    public func latest(atOrBefore instant: Instant) -> Instant? {
        let n = index(after: instant)
        return n == 0 ? nil : fireTime(n - 1)
    }
}

/// A problem with `digest` or `digest-at`, naming the key; the daemon's config adds the file and line.
public struct ScheduleError: Error, Sendable, Equatable {
    public var key: String
    public var message: String
    public init(_ key: String, _ message: String) { self.key = key; self.message = message }
}
