// Who is on the other end of a control connection: the kernel's word (SO_PEERCRED), not the
// client's, and whether that caller may write.
import CAccordShim
import Glibc

/// Who is on the other end, from SO_PEERCRED.
struct Peer: Sendable {
    var pid: pid_t
    var uid: uid_t
    var gid: gid_t
    var user: String

    static func of(_ fd: Int32) -> Peer {
        var pid: pid_t = 0, uid: uid_t = uid_t.max, gid: gid_t = gid_t.max
        _ = accord_peer_credentials(fd, &pid, &uid, &gid)
        return Peer(pid: pid, uid: uid, gid: gid, user: Peer.userName(uid))
    }

    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let result {
            return String(cString: result.pointee.pw_name)
        }
        return "uid \(uid)"
    }

    /// uid 0, or a member of `group` (primary or supplementary, as the user database says).
    func belongs(to group: String) -> Bool {
        if uid == 0 { return true }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(group, &entry, &buffer, buffer.count, &result) == 0, let result else { return false }
        let target = result.pointee.gr_gid
        if gid == target { return true }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(user, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(user, gid, &groups, &count)
        }
        return groups.prefix(Int(max(0, count))).contains(target)
    }
}
