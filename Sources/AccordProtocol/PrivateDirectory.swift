import Glibc

/// A directory of one's own in a world-writable place (`/tmp/accord-UID`, the fallback when
/// there is no XDG_RUNTIME_DIR), made or accepted only when no one else can have put anything
/// in it. Anyone can create `/tmp/accord-1000` before user 1000 does: a daemon binding its
/// socket there, or a client connecting to one there, would then work in a directory the
/// other user controls (replace the socket, read the requests). Both sides check the
/// directory through a descriptor opened without following symlinks, so a swap between the
/// check and the use cannot redirect it.
public enum PrivateDirectory {
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String {
            "refusing to use \(path): \(reason); remove it, or set XDG_RUNTIME_DIR (or the socket path) to a directory of your own"
        }
    }

    /// The user's fallback: `/tmp/accord-UID`.
    public static func fallback(uid: uid_t = getuid()) -> String { "/tmp/accord-\(uid)" }

    /// Checks that `path` is a directory (not a symlink) owned by `uid` that no other user can
    /// write to. With `create` (the daemon's side), a missing directory is made with mode 0700
    /// first, and one of `uid` with group or other read or search bits (mode 0755 from an older
    /// release) is narrowed to 0700 through its descriptor; a client only reads. Returns whether
    /// it exists (false only when it is missing and `create` is false).
    @discardableResult
    public static func check(_ path: String, uid: uid_t = getuid(), create: Bool) throws(Refusal) -> Bool {
        if create, mkdir(path, 0o700) != 0, errno != EEXIST {
            throw Refusal(path: path, reason: "cannot create it: \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let error = errno
            if error == ENOENT, !create { return false }
            if error == ELOOP || error == ENOTDIR {
                // O_DIRECTORY|O_NOFOLLOW reports a symlink as ENOTDIR too: lstat tells which.
                var info = stat()
                let known = lstat(path, &info) == 0
                let kind = known && info.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "another kind of file"
                throw Refusal(path: path, reason: "it is not a directory but \(kind)\(known ? ", owned by \(describe(info.st_uid))" : "")")
            }
            throw Refusal(path: path, reason: "cannot open it: \(String(cString: strerror(error)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Refusal(path: path, reason: "cannot stat it: \(String(cString: strerror(errno)))")
        }
        guard info.st_uid == uid else {
            throw Refusal(path: path, reason: "it is owned by \(describe(info.st_uid)), not by \(describe(uid))")
        }
        let mode = info.st_mode & 0o7777
        if mode & 0o022 != 0 {
            throw Refusal(path: path, reason: "it has mode \(String(mode, radix: 8)), writable by others, not 0700")
        }
        if create, mode != 0o700, fchmod(fd, 0o700) != 0 {
            throw Refusal(
                path: path, reason: "it has mode \(String(mode, radix: 8)), not 0700, and chmod failed: \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// "uid 1001 (mallory)", or "uid 1001" when the user database does not know it.
    static func describe(_ uid: uid_t) -> String {
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name { return "uid \(uid) (\(String(cString: name)))" }
        return "uid \(uid)"
    }
}
