import AccordCalendar

/// The plan as an iCalendar (RFC 5545) calendar for the programs people read: one VEVENT per
/// deadline, all-day for date deadlines, in the item's zone with its VTIMEZONE for instants; one
/// VALARM per lead; STATUS CANCELLED for a deadline that no longer applies (an objective done or
/// dropped, an instrument signed before its sign-by, a term renewed or terminated) so that
/// subscribed calendars drop it, TENTATIVE for one that is only projected.
///
/// UIDs name the item and the deadline, not its date, so that a deadline that moves keeps its
/// event: `ca-cn-nsrl/pilot:expiry@accord`, with `#2`, `#3` for later terms of the same kind.
/// SEQUENCE and LAST-MODIFIED come from `CalendarRevisions`, which the daemon keeps between runs;
/// without them (accordd plan --ics) every event is at SEQUENCE 0.
public enum CalendarExport {
    /// One deadline as a calendar event.
    public struct Entry: Sendable, Equatable {
        public var uid: String
        public var item: Int
        public var kind: DeadlineKind
        public var time: DeadlineTime
        public var leads: [Lead]
        /// When the reminders of each lead fire.
        public var alarms: [Instant]
        public var status: Status
        public var summary: String
        public var description: String

        /// What a subscriber sees change, hashed (FNV-1a, 64 bits): a new value bumps SEQUENCE.
        /// A number, not its hex text: 100,000 items keep about 250,000 of them, and a 16-digit
        /// string is one heap allocation more each (15 UTF-8 bytes is the most a Swift string
        /// holds inline). accord.ics.revisions writes it in hex.
        ///
        /// The bytes hashed are those of `"\(time)|\(status)|\(summary)|\(description)|\(alarmSeconds)"`,
        /// the alarms as an array prints (`[-2592000, 0]`), which accord.ics.revisions files hold
        /// the hashes of; they are fed in piece by piece, as interpolating the array went through
        /// debugPrint and dynamic casts for every element: 25% of the CPU of a 100,000-item reload
        /// (writer and daemon together).
        public var fingerprint: UInt64 {
            var hash = FNV1a()
            hash.add(time.description)
            hash.add("|")
            hash.add(status.rawValue)
            hash.add("|")
            hash.add(summary)
            hash.add("|")
            hash.add(description)
            hash.add("|[")
            for (index, alarm) in alarms.enumerated() {
                if index > 0 { hash.add(", ") }
                hash.add(String(alarm.seconds))
            }
            hash.add("]")
            return hash.value
        }
    }

    public enum Status: String, Sendable {
        case confirmed = "CONFIRMED", tentative = "TENTATIVE", cancelled = "CANCELLED"
    }

    /// Which deadlines to export.
    public struct Filter: Sendable {
        /// Only deadlines at or before this instant (passed ones included).
        public var until: Instant?
        public var dialogue: String?
        /// Only items whose owner contains this text, case-insensitively.
        public var owner: String?
        public init(until: Instant? = nil, dialogue: String? = nil, owner: String? = nil) {
            self.until = until; self.dialogue = dialogue; self.owner = owner
        }
    }

    public static func entries(_ plan: ReminderPlan, at now: Instant, filter: Filter = Filter()) -> [Entry] {
        plan.calendarEntries(at: now).filter { entry in
            let item = plan.catalog.items[entry.item]
            if let dialogue = filter.dialogue, item.dialogueID != dialogue { return false }
            if let owner = filter.owner?.lowercased(), !(item.owner?.lowercased().contains(owner) ?? false) { return false }
            if let until = filter.until, entry.startsAt(item.settings.zone) > until { return false }
            return true
        }
    }

    /// The calendar text for `entries`, stamped `now`.
    public static func calendar(
        _ entries: [Entry], plan: ReminderPlan, at now: Instant, revisions: CalendarRevisions = CalendarRevisions()
    )
        -> String
    {
        var out = ICalendarWriter()
        render(entries, plan: plan, at: now, revisions: revisions, into: &out)
        return out.text
    }

    /// The same text, handed to `chunk` a megabyte at a time instead of held whole.
    public static func write(
        _ entries: [Entry], plan: ReminderPlan, at now: Instant, revisions: CalendarRevisions,
        chunk: @escaping (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var out = ICalendarWriter(sink: chunk)
        render(entries, plan: plan, at: now, revisions: revisions, into: &out)
        out.finish()
    }

    static func render(_ entries: [Entry], plan: ReminderPlan, at now: Instant, revisions: CalendarRevisions, into out: inout ICalendarWriter) {
        out.begin("VCALENDAR")
        out.property("VERSION", "2.0")
        out.property("PRODID", "-//accord//accordd//EN")
        out.property("CALSCALE", "GREGORIAN")
        out.text("X-WR-CALNAME", "accord deadlines")
        for zone in zonesOfInstants(entries, plan: plan) { timeZone(zone, for: entries, plan: plan, into: &out) }
        for entry in entries {
            let item = plan.catalog.items[entry.item]
            out.begin("VEVENT")
            out.property("UID", entry.uid)
            out.property("DTSTAMP", ICalendarWriter.utcDateTime(now))
            let revision = revisions.revisions[entry.uid]
            if let revision { out.property("LAST-MODIFIED", ICalendarWriter.utcDateTime(revision.modified)) }
            out.property("SEQUENCE", String(revision?.sequence ?? 0))
            switch entry.time {
            case let .date(date):
                out.property("DTSTART", [("VALUE", "DATE")], ICalendarWriter.date(date))
                out.property("DTEND", [("VALUE", "DATE")], ICalendarWriter.date(date.adding(days: 1)))
            case let .instant(instant):
                let zone = item.settings.zone
                if zone == .utc {
                    out.property("DTSTART", ICalendarWriter.utcDateTime(instant))
                } else {
                    out.property("DTSTART", [("TZID", zone.identifier)], ICalendarWriter.localDateTime(zone.local(at: instant)))
                }
                out.property("DURATION", "PT0S")
            }
            out.text("SUMMARY", entry.summary)
            out.text("DESCRIPTION", entry.description)
            out.text("CATEGORIES", item.dialogueID)
            out.property("STATUS", entry.status.rawValue)
            out.property("TRANSP", "TRANSPARENT")
            if entry.status != .cancelled {
                let start = entry.startsAt(item.settings.zone)
                for (lead, fireAt) in zip(entry.leads, entry.alarms) {
                    out.begin("VALARM")
                    out.property("ACTION", "DISPLAY")
                    out.text("DESCRIPTION", "\(entry.summary) (\(lead.isZero ? "on the day" : "\(lead) ahead"))")
                    out.property("TRIGGER", [("RELATED", "START")], ICalendarWriter.duration(seconds: fireAt.seconds - start.seconds))
                    out.end("VALARM")
                }
            }
            out.end("VEVENT")
        }
        out.end("VCALENDAR")
    }

    /// Zones other than UTC that instant deadlines are shown in: each needs its VTIMEZONE.
    static func zonesOfInstants(_ entries: [Entry], plan: ReminderPlan) -> [Zone] {
        var seen: [String: Zone] = [:]
        for entry in entries {
            guard case .instant = entry.time else { continue }
            let zone = plan.catalog.items[entry.item].settings.zone
            if zone != .utc { seen[zone.identifier] = zone }
        }
        return seen.keys.sorted().map { seen[$0]! }
    }

    /// The zone's offsets around its instants (a year either side), as observances of §3.6.5:
    /// one at the start of that span, then one per change.
    static func timeZone(_ zone: Zone, for entries: [Entry], plan: ReminderPlan, into out: inout ICalendarWriter) {
        let instants = entries.compactMap { entry -> Instant? in
            guard case let .instant(instant) = entry.time, plan.catalog.items[entry.item].settings.zone == zone else { return nil }
            return instant
        }
        guard let first = instants.min(), let last = instants.max() else { return }
        let year: Int64 = 366 * 86_400
        let start = first.adding(seconds: -year), end = last.adding(seconds: year)
        out.begin("VTIMEZONE")
        out.property("TZID", zone.identifier)
        let initial = zone.offset(at: start)
        observance("STANDARD", at: start, from: initial, to: initial, into: &out)
        for change in zone.transitions(from: start, until: end) {
            // Daylight time is the larger offset of a change (Ireland's negative DST aside,
            // where the label is reversed; clients go by the offsets, not the label).
            observance(
                change.offsetAfter > change.offsetBefore ? "DAYLIGHT" : "STANDARD", at: change.at,
                from: change.offsetBefore, to: change.offsetAfter, into: &out)
        }
        out.end("VTIMEZONE")
    }

    private static func observance(_ kind: String, at instant: Instant, from before: Int, to after: Int, into out: inout ICalendarWriter) {
        out.begin(kind)
        // DTSTART is the local time of the change in the offset in effect before it (§3.6.5).
        out.property("DTSTART", ICalendarWriter.localDateTime(LocalDateTime(secondsAsIfUTC: instant.seconds + Int64(before))))
        out.property("TZOFFSETFROM", ICalendarWriter.utcOffset(before))
        out.property("TZOFFSETTO", ICalendarWriter.utcOffset(after))
        out.end(kind)
    }
}

extension CalendarExport.Entry {
    /// When the event starts: midnight of the date in the item's zone, or the instant.
    func startsAt(_ zone: Zone) -> Instant {
        switch time {
        case let .date(date): return zone.startOfDay(date)
        case let .instant(instant): return instant
        }
    }
}

/// What subscribers have seen of each event: its SEQUENCE and when it last changed. The daemon
/// keeps it beside accord.ics, so a deadline that moves gets a higher SEQUENCE and a new
/// LAST-MODIFIED, and one that does not keeps both.
public struct CalendarRevisions: Sendable, Equatable {
    public struct Revision: Sendable, Equatable {
        public var fingerprint: UInt64
        public var sequence: Int
        public var modified: Instant
    }
    public private(set) var revisions: [String: Revision] = [:]

    public init() {}

    /// The revisions after publishing `entries` at `now`: unchanged events keep theirs.
    public func updated(with entries: [CalendarExport.Entry], at now: Instant) -> CalendarRevisions {
        updated(with: entries, fingerprints: entries.map(\.fingerprint), at: now)
    }

    /// The same, with `fingerprints[i]` the fingerprint of `entries[i]`, for a caller that needs
    /// them too: each one hashes the event's text, about 600 bytes.
    public func updated(with entries: [CalendarExport.Entry], fingerprints: [UInt64], at now: Instant) -> CalendarRevisions {
        var next = self
        for (entry, fingerprint) in zip(entries, fingerprints) {
            if let old = revisions[entry.uid] {
                if old.fingerprint != fingerprint {
                    next.revisions[entry.uid] = Revision(fingerprint: fingerprint, sequence: old.sequence + 1, modified: now)
                }
            } else {
                next.revisions[entry.uid] = Revision(fingerprint: fingerprint, sequence: 0, modified: now)
            }
        }
        return next
    }

    /// One line per event: `uid TAB sequence TAB modified-seconds TAB fingerprint`.
    public var serialized: String {
        revisions.keys.sorted().map { uid in
            let revision = revisions[uid]!
            return "\(uid)\t\(revision.sequence)\t\(revision.modified.seconds)\t\(String(revision.fingerprint, radix: 16))\n"
        }.joined()
    }

    /// Reads `serialized`; lines that do not parse are skipped (the worst case is a SEQUENCE that
    /// starts again at 0 for that event).
    public init(parsing text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, let sequence = Int(fields[1]), let seconds = Int64(fields[2]),
                let fingerprint = UInt64(fields[3], radix: 16)
            else { continue }
            revisions[String(fields[0])] = Revision(fingerprint: fingerprint, sequence: sequence, modified: Instant(seconds: seconds))
        }
    }
}

/// 64-bit FNV-1a over UTF-8 text fed in pieces: the same value as over the pieces joined.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }
}
