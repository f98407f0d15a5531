import Glibc
import Synchronization

/// An IANA time zone, with its offsets from the system's time zone database (TZif files in
/// /usr/share/zoneinfo, or `$TZDIR`), read once and shared.
///
/// Planning 100,000 items converts millions of wall-clock readings: each is a binary search
/// in the zone's transitions, precomputed through 2100 from the file's own footer rule.
public final class Zone: Hashable, Sendable, CustomStringConvertible {
    public let identifier: String
    private let rules: TZifRules

    /// UTC is built in, so that it works without a time zone database; other zones are read once.
    public static let utc = Zone(identifier: "UTC", rules: TZifRules(fixedOffset: 0))
    private static let cache = Mutex<[String: Zone]>(["UTC": utc])
    /// Where the zone files are: `$TZDIR` as glibc reads it, else Debian's tzdata.
    public static let databaseDirectory: String = {
        if let value = getenv("TZDIR"), value.pointee != 0 { return String(cString: value) }
        return "/usr/share/zoneinfo"
    }()
    /// The footer rule is expanded into the table through this year; later instants evaluate it.
    static let tableEndYear = 2100

    /// The zone of that IANA name, built once and shared.
    public static func named(_ identifier: String) throws(CalendarError) -> Zone {
        if let zone = cache.withLock({ $0[identifier] }) { return zone }
        let zone = try load(identifier, from: databaseDirectory)
        return cache.withLock { cache in
            if let existing = cache[identifier] { return existing }
            cache[identifier] = zone
            return zone
        }
    }

    /// Forgets the zones read so far: the next lookups read the database again, so that a
    /// reload picks up a tzdata that `apt` updated. Zones already in use stay as they are.
    public static func forgetReadZones() {
        cache.withLock { $0 = ["UTC": utc] }
    }

    /// Reads a zone from a database directory, without the cache.
    static func load(_ identifier: String, from directory: String) throws(CalendarError) -> Zone {
        guard isZoneName(identifier) else { throw .unknownTimeZone(identifier) }
        let path = directory + "/" + identifier
        guard let bytes = readZoneFile(path) else {
            if access(directory + "/UTC", F_OK) != 0 {
                throw .unreadableTimeZone(identifier, "no time zone database in \(directory) (install tzdata, or set TZDIR)")
            }
            throw .unknownTimeZone(identifier)
        }
        do { return try Zone(identifier: identifier, tzif: bytes) } catch {
            throw .unreadableTimeZone(identifier, "\(path): \(error.reason)")
        }
    }

    /// A zone from the bytes of a TZif file.
    init(identifier: String, tzif bytes: [UInt8]) throws(TZifRules.Malformed) {
        self.identifier = identifier
        var rules = try TZifRules(bytes)
        rules.extendRule(through: Zone.tableEndYear)
        self.rules = rules
    }

    private init(identifier: String, rules: TZifRules) {
        self.identifier = identifier
        self.rules = rules
    }

    /// IANA names are `Area/Location` paths of letters, digits and `._+-` (and a few single
    /// words such as UTC): nothing that could leave the database directory, and no lower-case
    /// first letter, so that a typo such as "america/toronto" is not found on a case-blind disk.
    static func isZoneName(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard name.utf8.count <= 255, !components.isEmpty else { return false }
        return components.allSatisfy { component in
            guard let first = component.utf8.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") else { return false }
            return component.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"),
                    UInt8(ascii: "+"), UInt8(ascii: "."):
                    return true
                default:
                    return false
                }
            }
        }
    }

    /// The bytes of a regular file of at most 1 MiB (zone files are a few KiB), or nil.
    private static func readZoneFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size <= 1 << 20 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            filled += n
        }
        return bytes
    }

    /// The instants at which the offset changes, as far as the table goes (for tests).
    var transitionsForTesting: [Int64] { rules.transitions }

    /// Seconds east of UTC at an instant.
    public func offset(at instant: Instant) -> Int {
        Int(rules.offset(at: instant.seconds))
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
    /// Whether both give every instant the same offset: a reload that finds a zone's rules
    /// unchanged may keep what was planned with the zone it read before.
    public func hasSameRules(as other: Zone) -> Bool { rules == other.rules }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
    public var description: String { identifier }
}

extension Zone {
    /// `instant` + `duration` (− with `sign` −1): years, months and days on this zone's
    /// calendar, keeping the wall time (clamped to the month's end, moved by a DST gap as the
    /// calendar rules say), then hours, minutes and seconds as elapsed time.
    public func adding(_ duration: ISODuration, to instant: Instant, sign: Int = 1) -> Instant {
        if duration.years == 0, duration.months == 0, duration.dayCount == 0 {
            return instant.adding(seconds: Int64(sign) * duration.timeSeconds)
        }
        let local = local(at: instant)
        let wall = LocalDateTime(date: local.date.adding(duration, sign: sign), time: local.time)
        return self.instant(for: wall).adding(seconds: Int64(sign) * duration.timeSeconds)
    }

    /// A date's wall time `time` + `duration`, as an instant: the date parts on the calendar,
    /// the time parts as elapsed time (how a date deadline's reminders are timed).
    public func adding(_ duration: ISODuration, to date: CivilDate, at time: LocalTime, sign: Int = 1) -> Instant {
        let wall = LocalDateTime(date: date.adding(duration, sign: sign), time: time)
        return instant(for: wall).adding(seconds: Int64(sign) * duration.timeSeconds)
    }
}

extension Zone {
    /// `2017-03-01 09:00 -05:00`: the wall time at an instant with the offset in effect (seconds
    /// shown only when not zero), as `accordd plan` prints each firing.
    public func wallClockText(at instant: Instant) -> String {
        let local = local(at: instant)
        let offset = offset(at: instant)
        let minutes = abs(offset) / 60
        let time = local.time
        let clock = pad(time.hour, 2) + ":" + pad(time.minute, 2) + (time.second == 0 ? "" : ":" + pad(time.second, 2))
        return "\(local.date) \(clock) \(offset < 0 ? "-" : "+")\(pad(minutes / 60, 2)):\(pad(minutes % 60, 2))"
    }
}

/// A change of a zone's offset, for calendars that carry the zone along (VTIMEZONE).
public struct ZoneTransition: Equatable, Sendable {
    public var at: Instant
    /// Seconds east of UTC just before and from `at` on.
    public var offsetBefore: Int
    public var offsetAfter: Int
}

extension Zone {
    /// The changes of offset in `[from, until)`, in order: the file's own table, then the footer
    /// rule year by year (for years past the table, up to 9999 and beyond).
    public func transitions(from start: Instant, until end: Instant) -> [ZoneTransition] {
        guard start < end else { return [] }
        var result: [ZoneTransition] = []
        var previous = offset(at: start)
        func note(_ t: Int64) {
            let after = offset(at: Instant(seconds: t))
            if after != previous { result.append(ZoneTransition(at: Instant(seconds: t), offsetBefore: previous, offsetAfter: after)) }
            previous = after
        }
        for t in rules.transitions where t > start.seconds && t < end.seconds { note(t) }
        if let rule = rules.rule, rule.daylight != nil {
            let tableEnd = max(rules.transitions.last ?? Int64.min, start.seconds)
            if tableEnd < end.seconds {
                let firstYear = LocalDateTime(secondsAsIfUTC: tableEnd).date.year
                let lastYear = LocalDateTime(secondsAsIfUTC: end.seconds).date.year
                for (t, _) in rule.transitions(from: firstYear, through: lastYear) where t > tableEnd && t < end.seconds { note(t) }
            }
        }
        return result
    }
}
