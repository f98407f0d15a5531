import AccordCalendar
import AccordCore
import Testing

/// Unfolds content lines (RFC 5545 §3.1) and undoes TEXT escaping (§3.3.11), independently of the
/// writer, to check that what it folded and escaped comes back exactly.
private func unfolded(_ text: String) -> [String] {
    text.replacingOccurrencesOfFold().split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
}

extension String {
    fileprivate func replacingOccurrencesOfFold() -> String {
        var out = "", pending = ""
        for character in self {  // "\r\n" is one Character
            if pending == "\r\n", character == " " { pending = ""; continue }
            out += pending
            pending = character == "\r\n" ? "\r\n" : ""
            if pending.isEmpty { out.append(character) }
        }
        return out + pending
    }

    fileprivate var unescapedText: String {
        var out = "", escaping = false
        for character in self {
            if escaping {
                out.append(character == "n" || character == "N" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }
}

@Suite struct ICalendarTests {
    @Test func longTextIsFoldedAt75OctetsAndComesBackExactly() {
        let title =
            String(("A treaty, on extradition; \\ and transfer\nsecond line 中华人民共和国与加拿大 ").prefix(60)) + String(repeating: "司法协助, ", count: 40)
        var writer = ICalendarWriter()
        writer.text("SUMMARY", title)
        let bytes = writer.bytes
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        #expect(lines.allSatisfy { $0.last == 13 && $0.count - 1 <= 75 }, "every line ends in CRLF and holds at most 75 octets")
        // No fold inside a UTF-8 sequence: each physical line is valid UTF-8 on its own.
        #expect(lines.allSatisfy { String(validating: $0.dropLast(), as: UTF8.self) != nil })
        let logical = unfolded(writer.text)
        #expect(logical.count == 1)
        #expect(logical[0].hasPrefix("SUMMARY:"))
        #expect(String(logical[0].dropFirst("SUMMARY:".count)).unescapedText == title)
    }

    @Test func textEscapingFollowsTheRFC() {
        #expect(ICalendarWriter.escaped("a,b;c\\d\ne\r\nf\tg\u{1}h") == "a\\,b\\;c\\\\d\\ne\\nf\tg h")
    }

    @Test func valuesAreInTheirBasicForms() {
        #expect(ICalendarWriter.date(try! CivilDate(parsing: "2017-03-31")) == "20170331")
        #expect(ICalendarWriter.utcDateTime(try! Instant(parsingRFC3339: "2017-03-31T13:05:09Z")) == "20170331T130509Z")
        #expect(ICalendarWriter.duration(seconds: -(29 * 86_400 + 15 * 3600)) == "-P29DT15H")
        #expect(ICalendarWriter.duration(seconds: 0) == "PT0S")
        #expect(ICalendarWriter.duration(seconds: 3661) == "PT1H1M1S")
        #expect(ICalendarWriter.utcOffset(-5 * 3600) == "-0500")
        #expect(ICalendarWriter.utcOffset(5 * 3600 + 45 * 60) == "+0545")
    }

    @Test func revisionsBumpOnlyWhatChanged() throws {
        let text = """
            [dialogue]
            id = "r"
            title = "Revisions"
            time-zone = "UTC"
            reminders = ["P7D"]

            [[objective]]
            id = "a"
            title = "A"
            due = 2031-05-01

            [[objective]]
            id = "b"
            title = "B"
            due = 2031-06-01
            """
        let now = try Instant(parsingRFC3339: "2030-01-01T00:00:00Z")
        let first = CalendarExport.entries(try plan(text), at: now)
        #expect(first.map(\.uid) == ["r/a:due@accord", "r/b:due@accord"])
        let initial = CalendarRevisions().updated(with: first, at: now)
        #expect(initial.revisions["r/a:due@accord"]?.sequence == 0)
        let later = now.adding(seconds: 3600)
        let moved = CalendarExport.entries(try plan(text.replacingDue("2031-05-01", with: "2031-05-15")), at: later)
        let next = initial.updated(with: moved, at: later)
        #expect(next.revisions["r/a:due@accord"]?.sequence == 1 && next.revisions["r/a:due@accord"]?.modified == later)
        #expect(next.revisions["r/b:due@accord"] == initial.revisions["r/b:due@accord"])
        #expect(CalendarRevisions(parsing: next.serialized) == next)
        let calendar = CalendarExport.calendar(moved, plan: try plan(text), at: later, revisions: next)
        #expect(calendar.contains("SEQUENCE:1\r\n") && calendar.contains("LAST-MODIFIED:20300101T010000Z\r\n"))
    }

    /// The fingerprints in accord.ics.revisions files are FNV-1a over one interpolated string;
    /// the hash fed piece by piece must give the same values, or every event of an upgraded
    /// daemon's calendar would look changed once (SEQUENCE bumped for nothing).
    @Test func fingerprintsAreTheHashOfTheTextTheRevisionsFilesHold() throws {
        var text = "[dialogue]\nid = \"f\"\ntitle = \"F\"\ntime-zone = \"Asia/Shanghai\"\nreminders = [\"P30D\", \"P7D\", \"P0D\"]\n"
        text += "\n[[objective]]\nid = \"none\"\ntitle = \"no reminders\"\nreminders = []\ndue = 2029-12-01\n"
        text += "\n[[objective]]\nid = \"instant\"\ntitle = \"at noon\"\ndue = 2030-03-01T12:00:00+08:00\n"
        for i in 0..<50 {
            let day = CivilDate(year: 2029, month: 11, day: 1)!.adding(days: i * 13)
            text += "\n[[objective]]\nid = \"o\(i)\"\ntitle = \"司法协助条约 \(i) | \\\"quoted\\\"\"\ndue = \(day)\n"
        }
        let entries = CalendarExport.entries(try plan(text), at: try Instant(parsingRFC3339: "2030-01-01T00:00:00Z"))
        #expect(entries.count == 52)
        #expect(entries.contains { $0.alarms.isEmpty } && entries.contains { $0.alarms.count == 3 })
        for entry in entries {
            var reference: UInt64 = 0xcbf2_9ce4_8422_2325
            let joined = "\(entry.time)|\(entry.status.rawValue)|\(entry.summary)|\(entry.description)|\(entry.alarms.map(\.seconds))"
            for byte in joined.utf8 { reference = (reference ^ UInt64(byte)) &* 0x100_0000_01b3 }
            #expect(entry.fingerprint == reference, "\(entry.uid): \(joined)")
        }
    }

    /// accord.ics is written in chunks; they must add up to the calendar served whole, across
    /// chunk boundaries (the 6,000 events here make about 5 MB) and with folded non-ASCII lines.
    @Test func theCalendarWrittenInChunksIsTheCalendarServedWhole() throws {
        var text = "[dialogue]\nid = \"w\"\ntitle = \"Chunks\"\ntime-zone = \"Asia/Shanghai\"\nreminders = [\"P30D\", \"P7D\", \"P0D\"]\n"
        for i in 0..<6000 {
            let day = CivilDate(year: 2031, month: 1, day: 1)!.adding(days: i % 700)
            text += "\n[[objective]]\nid = \"o\(i)\"\ntitle = \"中华人民共和国与加拿大司法协助条约 \(i), a title long enough to be folded\"\ndue = \(day)\n"
        }
        let now = try Instant(parsingRFC3339: "2030-01-01T00:00:00Z")
        let plan = try plan(text)
        let entries = CalendarExport.entries(plan, at: now)
        let revisions = CalendarRevisions().updated(with: entries, at: now)
        let whole = Array(CalendarExport.calendar(entries, plan: plan, at: now, revisions: revisions).utf8)
        nonisolated(unsafe) var chunks: [[UInt8]] = []
        CalendarExport.write(entries, plan: plan, at: now, revisions: revisions) { chunks.append(Array($0)) }
        #expect(chunks.count > 3, "\(whole.count) bytes in \(chunks.count) chunks")
        #expect(chunks.dropLast().allSatisfy { $0.count >= 1 << 20 })
        #expect(chunks.joined().elementsEqual(whole))
    }
}

extension String {
    fileprivate func replacingDue(_ old: String, with new: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).map { $0 == "due = \(old)" ? "due = \(new)" : String($0) }
            .joined(separator: "\n")
    }
}
