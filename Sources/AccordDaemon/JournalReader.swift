import CSystemd
import Glibc

/// Reads the journal back at start-up, to settle reminders a crash left claimed (docs/contracts.md §5):
/// a claimed key counts as written only when the journal holds an `ACCORD_REMINDER=key` entry
/// that journald itself attributes to this daemon.
///
/// Any local process can send `ACCORD_REMINDER=key` (`logger --journald`, systemd-cat), and a
/// forged entry that settled a claim would silently cancel that reminder. Fields starting with
/// `_` are journald's own, taken from the sender's socket credentials and /proc, never from the
/// message, so the match requires:
/// - `_UID`: the daemon's uid. Another user cannot send an entry with it; root can forge
///   anything anyway.
/// - `_COMM` and `_EXE`: this program (its name and its resolved executable, also as
///   "PATH (deleted)", what journald reads while an upgrade has replaced the file), so that
///   other programs of the same uid (a notify hook calling logger) do not match.
/// - `_SYSTEMD_UNIT`: the daemon's unit when systemd started it as a service, so a process of
///   the same uid outside the unit does not match either.
/// Not `_PID` (a restart after kill -9 has a new one) and not `_BOOT_ID`: after a power loss
/// the entry that settles a claim is in the previous boot. A field journald could not read
/// (the sender died before journald looked at /proc and had no cached context) leaves the
/// entry unmatched, and the reminder fires again: a duplicate, never a loss.
///
/// Only the system journal is opened (`SD_JOURNAL_SYSTEM`), plus, for a daemon running as an
/// ordinary user, that user's own journal, where journald puts its entries when it splits
/// journals per user; other users' journal files are never read. It is opened once for all
/// the keys.
public struct JournalReader: JournalLookup {
    public let identity: Identity

    /// The fields journald attributes to the daemon's own entries.
    public struct Identity: Sendable, Equatable {
        public var uid: uid_t
        public var comm: String?
        public var executable: String?
        public var unit: String?

        /// The matches, as `FIELD=value` strings: one field each, `_EXE` twice (either value).
        public var matches: [String] {
            var result = ["_UID=\(uid)"]
            if let comm { result.append("_COMM=\(comm)") }
            if let executable { result += ["_EXE=\(executable)", "_EXE=\(executable) (deleted)"] }
            if let unit { result.append("_SYSTEMD_UNIT=\(unit)") }
            return result
        }

        /// This process: its uid, /proc/self/comm and /proc/self/exe, and its unit when
        /// systemd runs it as a service (INVOCATION_ID is set only then).
        public static func current(environment: [String: String]) -> Identity {
            var identity = Identity(uid: getuid(), comm: nil, executable: nil, unit: nil)
            identity.comm = readFirstLine("/proc/self/comm")
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
            if length > 0 {
                identity.executable = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if environment["INVOCATION_ID"] != nil {
                var unit: UnsafeMutablePointer<CChar>?
                if sd_pid_get_unit(0, &unit) >= 0, let unit {
                    identity.unit = String(cString: unit)
                    free(unit)
                }
            }
            return identity
        }

        private static func readFirstLine(_ path: String) -> String? {
            guard let file = fopen(path, "r") else { return nil }
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 64)
            guard fgets(&line, Int32(line.count), file) != nil else { return nil }
            let text = String(cString: line)
            let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
            return trimmed.isEmpty ? nil : trimmed
        }
    }

    public init(identity: Identity) { self.identity = identity }

    public init() { self.init(identity: .current(environment: DaemonPaths.processEnvironment)) }

    /// The journal flags: the system journal, and the caller's own when it is an ordinary user.
    static func openFlags(uid: uid_t) -> Int32 {
        var flags = Int32(SD_JOURNAL_LOCAL_ONLY) | Int32(SD_JOURNAL_SYSTEM)
        if uid != 0 { flags |= Int32(SD_JOURNAL_CURRENT_USER) }
        return flags
    }

    public func written(among keys: [String]) -> Set<String>? {
        guard !keys.isEmpty else { return [] }
        var journal: OpaquePointer?
        guard sd_journal_open(&journal, JournalReader.openFlags(uid: identity.uid)) >= 0, let journal else { return nil }
        defer { sd_journal_close(journal) }
        let identityMatches = identity.matches
        var found: Set<String> = []
        for key in keys {
            // Matches of different fields must all hold; the two _EXE values are alternatives.
            sd_journal_flush_matches(journal)
            // A digest's key is in ACCORD_DIGEST (docs/contracts.md §14), a reminder's in ACCORD_REMINDER.
            let field = key.hasPrefix("digest:") ? "ACCORD_DIGEST" : "ACCORD_REMINDER"
            for match in identityMatches + ["\(field)=\(key)"] {
                let bytes = Array(match.utf8)
                let added = bytes.withUnsafeBytes { sd_journal_add_match(journal, $0.baseAddress, $0.count) }
                guard added >= 0 else { return nil }
            }
            guard sd_journal_seek_head(journal) >= 0 else { return nil }
            let next = sd_journal_next(journal)
            if next < 0 { return nil }
            if next > 0 { found.insert(key) }
        }
        return found
    }
}
