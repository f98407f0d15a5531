import AccordCalendar
import AccordCore
import CSystemd
import Glibc

/// One structured journal entry: field names must be `[A-Z0-9_]`, or journald drops them.
public struct JournalEntry: Sendable {
    public var fields: [(name: String, value: String)]

    public init(message: String, priority: Int, messageID: String? = nil, fields extra: [(String, String)] = []) {
        fields = [("MESSAGE", message), ("PRIORITY", String(priority)), ("SYSLOG_IDENTIFIER", "accordd")]
        if let messageID { fields.append(("MESSAGE_ID", messageID)) }
        for (name, value) in extra { fields.append((JournalEntry.sanitize(name), value)) }
    }

    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    /// Upper-cases and replaces anything outside `[A-Z0-9_]`, so no field is silently lost.
    public static func sanitize(_ name: String) -> String {
        // Every reminder field is already valid: checking bytes is cheap, rebuilding is not.
        func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if let first = name.utf8.first, isUpper(first),
            name.utf8.allSatisfy({ isUpper($0) || isDigit($0) || $0 == UInt8(ascii: "_") })
        {
            return name
        }
        var result = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9", "_": result.unicodeScalars.append(scalar)
            case "a"..."z": result += String(scalar).uppercased()
            default: result += "_"
            }
        }
        if result.isEmpty || result.first == "_" || result.first!.isNumber { result = "X" + result }
        return result
    }

    /// The fields docs/contracts.md §6 puts on every reminder, and those of §10 and §11.
    public static func reminder(_ reminder: Reminder, catchUp: Bool) -> JournalEntry {
        JournalEntry(
            message: reminder.message, priority: reminder.priority, messageID: reminder.messageID,
            fields: [
                ("ACCORD_ITEM", reminder.itemID),
                ("ACCORD_DIALOGUE", reminder.dialogueID),
                ("ACCORD_DEADLINE", reminder.deadline.rawValue),
                ("ACCORD_DEADLINE_AT", reminder.deadlineAt.rfc3339),
                ("ACCORD_LEAD", reminder.lead),
                ("ACCORD_DAYS_LEFT", String(reminder.daysLeft)),
                ("ACCORD_REMINDER", reminder.key),
                ("ACCORD_CATCHUP", catchUp ? "1" : "0"),
                ("ACCORD_FIRE_AT", reminder.fireAt.rfc3339),
                // §10, §11: what the deadline rests on, who owns it, what it is (empty: no owner given).
                ("ACCORD_BASIS", reminder.basis.rawValue),
                ("ACCORD_OWNER", reminder.owner ?? ""),
                ("ACCORD_TITLE", reminder.title)
            ])
    }
}

extension JournalEntry {
    /// The digest of docs/contracts.md §14: its whole text as MESSAGE (the summary first), the
    /// counts as fields, and the ledger key in `ACCORD_DIGEST` (how a crash is settled).
    public static func digest(_ digest: Digest, key: String, scheduledAt: Instant, catchUp: Bool) -> JournalEntry {
        JournalEntry(
            message: String(digest.text.dropLast(digest.text.hasSuffix("\n") ? 1 : 0)), priority: 5, messageID: MessageID.digest,
            fields: [
                ("ACCORD_DIGEST", key),
                ("ACCORD_FIRE_AT", scheduledAt.rfc3339),
                ("ACCORD_CATCHUP", catchUp ? "1" : "0"),
                ("ACCORD_PERIOD", digest.period.description),
                ("ACCORD_UNTIL", digest.until.rfc3339),
                ("ACCORD_OVERDUE", String(digest.count(.overdue))),
                ("ACCORD_LAPSED", String(digest.count(.lapsed))),
                ("ACCORD_UNACKNOWLEDGED", String(digest.count(.unacknowledged))),
                ("ACCORD_DUE", String(digest.count(.due))),
                ("ACCORD_SUMMARY", digest.summary)
            ])
    }
}

/// Where entries go. The real one is the journal; tests collect them.
public protocol JournalSink: AnyObject, Sendable {
    /// Returns false when the entry could not be handed over.
    @discardableResult func send(_ entry: JournalEntry) -> Bool
}

/// Writes to journald through `sd_journal_sendv`, or to standard error where no journal
/// socket exists, so that accordd runs on any machine.
public final class SystemJournal: JournalSink, @unchecked Sendable {
    // @unchecked: immutable after init; sd_journal_sendv is thread-safe.
    public let toJournal: Bool
    /// Also print each entry on standard error (when someone watches a terminal).
    public let echoToStderr: Bool

    public init(socketPath: String = "/run/systemd/journal/socket", echoToStderr: Bool = false) {
        var info = stat()
        toJournal = stat(socketPath, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
        self.echoToStderr = echoToStderr
    }

    @discardableResult
    public func send(_ entry: JournalEntry) -> Bool {
        guard toJournal else { return sendToStderr(entry) }
        if echoToStderr { _ = sendToStderr(entry) }
        return sendToJournal(entry)
    }

    private func sendToJournal(_ entry: JournalEntry) -> Bool {
        // One contiguous buffer holding every "NAME=value"; iovecs point into it.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in entry.fields {
            let start = buffer.count
            buffer += field.name.utf8
            buffer.append(UInt8(ascii: "="))
            buffer += field.value.utf8
            ranges.append(start..<buffer.count)
        }
        return buffer.withUnsafeMutableBytes { raw -> Bool in
            var vectors = ranges.map { iovec(iov_base: raw.baseAddress! + $0.lowerBound, iov_len: $0.count) }
            return sd_journal_sendv(&vectors, Int32(vectors.count)) >= 0
        }
    }

    private func sendToStderr(_ entry: JournalEntry) -> Bool {
        var line = "accordd[\(getpid())]: <\(entry["PRIORITY"] ?? "6")> \(entry["MESSAGE"] ?? "")"
        if let key = entry["ACCORD_REMINDER"] { line += " [\(key)\(entry["ACCORD_CATCHUP"] == "1" ? ", catch-up" : "")]" }
        line += "\n"
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) } == bytes.count
    }
}
