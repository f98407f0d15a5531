import CSystemd
import Glibc

/// Reads the local journal back, to settle reminders a crash left pending.
public struct JournalReader: JournalLookup {
    public init() {}

    public func contains(reminderKey: String) -> Bool? {
        var journal: OpaquePointer?
        guard sd_journal_open(&journal, Int32(SD_JOURNAL_LOCAL_ONLY)) >= 0, let journal else { return nil }
        defer { sd_journal_close(journal) }
        let match = Array("ACCORD_REMINDER=\(reminderKey)".utf8)
        let added = match.withUnsafeBytes { sd_journal_add_match(journal, $0.baseAddress, $0.count) }
        guard added >= 0 else { return nil }
        let next = sd_journal_next(journal)
        return next < 0 ? nil : next > 0
    }
}
