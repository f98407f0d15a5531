// Who is on the other end of a control connection: the kernel's word (SO_PEERCRED for the
// ids, SO_PEERGROUPS for the groups), not the client's and not the user database's, and whether
// that caller may write. A process that dropped accord-admin from its groups is not an admin,
// whatever /etc/group says about its user.
import CAccordShim
import Glibc

/// Who is on the other end, from SO_PEERCRED and SO_PEERGROUPS.
struct Peer: Sendable {
    var pid: pid_t
    var uid: uid_t
    var gid: gid_t
    /// The caller's supplementary groups when it connected.
    var groups: [gid_t]
    var user: String

    static func of(_ fd: Int32) -> Peer {
        var pid: pid_t = 0, uid: uid_t = uid_t.max, gid: gid_t = gid_t.max
        _ = accord_peer_credentials(fd, &pid, &uid, &gid)
        return Peer(pid: pid, uid: uid, gid: gid, groups: groups(of: fd), user: Peer.userName(uid))
    }

    /// Up to NGROUPS_MAX (65,536) groups; none when the kernel cannot say, which grants nothing.
    static func groups(of fd: Int32) -> [gid_t] {
        var groups = [gid_t](repeating: 0, count: 64)
        var count = accord_peer_groups(fd, &groups, Int32(groups.count))
        if count < 0, count != Int32.min {
            groups = [gid_t](repeating: 0, count: Int(-count - 1))
            count = accord_peer_groups(fd, &groups, Int32(groups.count))
        }
        return count >= 0 ? Array(groups.prefix(Int(count))) : []
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

    /// uid 0, or a process in `group` (its primary group or one of its supplementary groups as
    /// the kernel recorded them when it connected).
    func belongs(to group: String) -> Bool {
        if uid == 0 { return true }
        guard let target = Peer.groupID(group) else { return false }
        return gid == target || groups.contains(target)
    }

    /// Reading needs what opening the socket needs (docs/contracts.md §7: group accord), checked here too, so
    /// that a socket whose mode was loosened, or one passed by a misconfigured unit, does not
    /// open the audit trail to everyone: root, the daemon's own user, the socket's group or the
    /// admin group. Without a `socketGroup` on this system the socket's mode alone decides.
    /// `adminGroup` is read only for a caller other than root and the daemon's own user (its
    /// source, the whole configuration, is a copy away).
    func mayRead(socketGroup: String, adminGroup: @autoclosure () -> String) -> Bool {
        if uid == 0 || uid == geteuid() { return true }
        guard Peer.groupID(socketGroup) != nil else { return true }
        return belongs(to: socketGroup) || belongs(to: adminGroup())
    }

    static func groupID(_ name: String) -> gid_t? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        guard getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, let result else { return nil }
        return result.pointee.gr_gid
    }
}
