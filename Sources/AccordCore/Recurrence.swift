import AccordCalendar

/// `every`, `first` and `until` on an objective (docs/contracts.md §13): one `due` deadline per
/// occurrence, each counted from `first` (first + n × every, so that monthly occurrences from
/// the 31st come back to the 31st after a short month instead of drifting to the 28th).
public struct Recurrence: Hashable, Sendable {
    public var every: ISODuration
    public var first: DeadlineTime
    /// The last day (or instant) an occurrence may fall on, included; nil for no end.
    public var until: DeadlineTime?

    public init(every: ISODuration, first: DeadlineTime, until: DeadlineTime? = nil) {
        self.every = every; self.first = first; self.until = until
    }

    /// At most this many occurrences are planned: a thousand years of a yearly meeting, 83 years
    /// of a monthly report, 19 of a weekly one. Without a bound an open-ended recurrence would be
    /// an infinite plan; with `until`, the bound is what keeps one typo (`P1D` for `P1Y`) small.
    public static let maximumOccurrences = 1_000

    /// The occurrences in order, up to `until` and the bound; nothing past year 9999.
    public func occurrences(in zone: Zone) -> [DeadlineTime] {
        var result: [DeadlineTime] = []
        for n in 0..<Recurrence.maximumOccurrences {
            let next: DeadlineTime
            switch first {
            case let .date(date):
                let day = date.adding(every.times(n))
                guard day.year <= 9999 else { return result }
                next = .date(day)
            case let .instant(instant):
                let at = zone.adding(every.times(n), to: instant)
                guard zone.local(at: at).date.year <= 9999 else { return result }
                next = .instant(at)
            }
            if let until, Recurrence.compare(next, until, zone) > 0 { break }
            result.append(next)
        }
        return result
    }

    /// Orders a date and an instant as the day they fall on in `zone`.
    static func compare(_ a: DeadlineTime, _ b: DeadlineTime, _ zone: Zone) -> Int {
        func key(_ time: DeadlineTime) -> (CivilDate, Int64) {
            switch time {
            case let .date(date): return (date, Int64.max)
            case let .instant(instant): return (zone.local(at: instant).date, instant.seconds)
            }
        }
        let (x, y) = (key(a), key(b))
        if x.0 != y.0 { return x.0 < y.0 ? -1 : 1 }
        if case .date = a { return 0 }
        if case .date = b { return 0 }
        return x.1 == y.1 ? 0 : (x.1 < y.1 ? -1 : 1)
    }

    /// `every P1Y from 2017-09-12 until 2026-12-31`, as `show` prints it.
    public var description: String {
        "every \(every) from \(first)" + (until.map { " until \($0)" } ?? "")
    }

    /// Which occurrence a completion on `day` closes: the open one due nearest it (the earlier of
    /// two as near), nil when every one is closed.
    public static func nearest(to day: CivilDate, among occurrences: [DeadlineTime], open: (Int) -> Bool, zone: Zone) -> Int? {
        var best: (index: Int, distance: Int)?
        for (index, occurrence) in occurrences.enumerated() where open(index) {
            let date: CivilDate
            switch occurrence {
            case let .date(value): date = value
            case let .instant(instant): date = zone.local(at: instant).date
            }
            let distance = abs(date.days(until: day))
            if best == nil || distance < best!.distance { best = (index, distance) }
        }
        return best?.index
    }
}
