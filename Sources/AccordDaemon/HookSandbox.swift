import CAccordShim
import Glibc

/// What a notify hook may not touch: no writes in the state and socket directories and no
/// reading of journal files, enforced by Landlock, which any process can apply to itself (no
/// capability needed, so it works for the `accord` user under systemd and for root alike).
///
/// Landlock only grants: a process restricted to a ruleset has the handled rights only beneath
/// the paths of its rules. To deny a right beneath a few directories, the rules grant it on
/// everything else: every entry of `/` not on the way to a protected directory, and the same
/// one level down along each protected path (`/var`, `/var/lib`, ...). The directories on the
/// way themselves keep only the rights no protection beneath them denies, so a hook cannot
/// create entries directly in `/`, `/var/lib` or `/run` (nothing needs to), and entries made
/// there after the hook started are out of its reach. Symlinks get no rule: their targets get
/// theirs under their own path. Built for each hook run (a few hundred rules), so that it
/// follows what the directories hold now.
struct HookSandbox {
    // The kernel ABI's rights (linux/landlock.h).
    static let execute: UInt64 = 1 << 0, writeFile: UInt64 = 1 << 1, readFile: UInt64 = 1 << 2
    static let removeDir: UInt64 = 1 << 4, removeFile: UInt64 = 1 << 5, makeChar: UInt64 = 1 << 6
    static let makeDir: UInt64 = 1 << 7, makeReg: UInt64 = 1 << 8, makeSock: UInt64 = 1 << 9
    static let makeFifo: UInt64 = 1 << 10, makeBlock: UInt64 = 1 << 11, makeSym: UInt64 = 1 << 12
    static let refer: UInt64 = 1 << 13, truncate: UInt64 = 1 << 14
    /// The rights that apply to a file that is not a directory.
    static let fileRights: UInt64 = execute | writeFile | readFile | truncate

    /// Writing, creating, removing and renaming, as far as Landlock ABI `abi` can deny it
    /// (REFER from ABI 2, TRUNCATE from ABI 3).
    static func writeRights(abi: Int) -> UInt64 {
        var rights = writeFile | removeDir | removeFile | makeChar | makeDir | makeReg | makeSock | makeFifo | makeBlock | makeSym
        if abi >= 2 { rights |= refer }
        if abi >= 3 { rights |= truncate }
        return rights
    }

    struct Protection: Equatable {
        var path: String
        var denied: UInt64
    }

    struct Rule: Equatable {
        var path: String
        var allowed: UInt64
    }

    struct Entry {
        var name: String
        var isDirectory: Bool
        var isSymlink: Bool
    }

    /// The rules that grant `handled` everywhere but `denied` beneath each protected path.
    /// `list` reads a directory (nil when it cannot); pure otherwise, for the tests.
    static func rules(protecting protections: [Protection], handled: UInt64, list: (String) -> [Entry]?) -> [Rule] {
        var rules: [Rule] = []
        func components(_ path: String) -> [String] { path.split(separator: "/").map(String.init) }
        func grant(_ directory: String, ceiling: UInt64, _ beneath: [(rest: ArraySlice<String>, denied: UInt64)]) {
            guard let entries = list(directory) else { return }
            for entry in entries.sorted(by: { $0.name < $1.name }) where !entry.isSymlink {
                let path = (directory == "/" ? "" : directory) + "/" + entry.name
                let mask = entry.isDirectory ? handled : handled & fileRights
                let through = beneath.filter { $0.rest.first == entry.name }
                if through.isEmpty {
                    if ceiling & mask != 0 { rules.append(Rule(path: path, allowed: ceiling & mask)) }
                    continue
                }
                let ending = through.filter { $0.rest.count == 1 }.reduce(0) { $0 | $1.denied }
                let all = through.reduce(0) { $0 | $1.denied }
                let deeper = through.filter { $0.rest.count > 1 }.map { (rest: $0.rest.dropFirst(), denied: $0.denied) }
                if deeper.isEmpty || !entry.isDirectory {
                    if ceiling & ~ending & mask != 0 { rules.append(Rule(path: path, allowed: ceiling & ~ending & mask)) }
                } else {
                    if ceiling & ~all & mask != 0 { rules.append(Rule(path: path, allowed: ceiling & ~all & mask)) }
                    grant(path, ceiling: ceiling & ~ending, deeper)
                }
            }
        }
        grant(
            "/", ceiling: handled,
            protections.map { (rest: ArraySlice(components($0.path)), denied: $0.denied) }
                .filter { !$0.rest.isEmpty })
        return rules
    }

    /// A directory's entries through opendir, without following symlinks.
    static func listDirectory(_ path: String) -> [Entry]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            let full = (path == "/" ? "" : path) + "/" + name
            guard lstat(full, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            entries.append(Entry(name: name, isDirectory: type == S_IFDIR, isSymlink: type == S_IFLNK))
        }
        return entries
    }

    /// The real path of `path` (the rules are by real path), or nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Directories whose files hold the journal: a hook may not read them, even when the
    /// daemon's systemd-journal membership could not be dropped (it can only as root).
    static let journalDirectories = ["/var/log/journal", "/run/log/journal"]

    /// A ruleset fd protecting `writeProtected` from writes and the journal from reading, or
    /// the reason there is none (an old kernel, or a seccomp filter refusing Landlock).
    static func ruleset(writeProtected: [String]) -> Result<Int32, SandboxUnavailable> {
        let abi = accord_landlock_abi()
        guard abi > 0 else { return .failure(SandboxUnavailable(errno: -abi)) }
        let write = writeRights(abi: Int(abi))
        let handled = write | readFile
        var protections = writeProtected.compactMap(realPath).map { Protection(path: $0, denied: write) }
        protections += journalDirectories.compactMap(realPath).map { Protection(path: $0, denied: readFile) }
        let fd = accord_landlock_ruleset(handled)
        guard fd >= 0 else { return .failure(SandboxUnavailable(errno: -fd)) }
        for rule in rules(protecting: protections, handled: handled, list: listDirectory) {
            let added = accord_landlock_allow(fd, rule.path, rule.allowed)
            // ENOENT, ELOOP: gone or replaced by a symlink since the listing; it stays out of reach.
            if added < 0, added != -ENOENT, added != -ELOOP {
                close(fd)
                return .failure(SandboxUnavailable(errno: -added, path: rule.path))
            }
        }
        return .success(fd)
    }

    struct SandboxUnavailable: Error, CustomStringConvertible {
        var errno: Int32
        var path: String?
        var description: String {
            let reason =
                errno == ENOSYS || errno == EOPNOTSUPP
                ? "the kernel offers no Landlock"
                : errno == EPERM ? "a system call filter refuses Landlock" : String(cString: strerror(errno))
            return path.map { "cannot add the Landlock rule for \($0): \(reason)" } ?? reason
        }
    }
}

extension Daemon {
    /// What a notify hook may not write to: the state directory and the socket's directory.
    var hookProtected: [String] {
        [paths.stateDirectory, ConfigurationLoader.directory(of: control?.path ?? paths.socket)]
    }
}
