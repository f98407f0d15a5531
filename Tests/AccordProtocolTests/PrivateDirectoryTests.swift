// /tmp/accord-UID is made or accepted only when it is the user's own (issue 16, defect 10).
import AccordProtocol
import Foundation
import Glibc
import Testing

@Suite struct PrivateDirectoryTests {
    /// A fresh parent directory (0755, as /tmp is reachable by all) for each test.
    func scratch() -> String {
        var template = Array("/tmp/accord-private-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil)
        let path = String(cString: template)
        chmod(path, 0o755)
        return path
    }

    func mode(_ path: String) -> mode_t {
        var info = stat()
        _ = lstat(path, &info)
        return info.st_mode & 0o7777
    }

    @Test func missingIsMadeWithMode0700() throws {
        let parent = scratch()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = parent + "/accord-1000"
        #expect(try PrivateDirectory.check(path, uid: getuid(), create: true))
        #expect(mode(path) == 0o700)
        // a client does not create it
        #expect(try !PrivateDirectory.check(parent + "/absent", uid: getuid(), create: false))
    }

    @Test func ownButReadableByOthersIsNarrowed() throws {
        let parent = scratch()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = parent + "/accord-1000"
        mkdir(path, 0o755); chmod(path, 0o755)
        #expect(try PrivateDirectory.check(path, uid: getuid(), create: true))
        #expect(mode(path) == 0o700)
    }

    @Test func writableByOthersIsRefused() throws {
        let parent = scratch()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = parent + "/accord-1000"
        mkdir(path, 0o777); chmod(path, 0o777)
        #expect(throws: PrivateDirectory.Refusal(path: path, reason: "it has mode 777, writable by others, not 0700")) {
            try PrivateDirectory.check(path, uid: getuid(), create: true)
        }
    }

    @Test func ownedByAnotherUserIsRefusedNamingTheOwner() throws {
        try #require(getuid() == 0, "needs root to give a directory to another uid")
        let parent = scratch()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let path = parent + "/accord-1000"
        mkdir(path, 0o700)
        let other: uid_t = 4_242_424  // no such user: the message shows the number alone
        #expect(chown(path, other, gid_t(other)) == 0)
        do {
            try PrivateDirectory.check(path, uid: 0, create: true)
            Issue.record("a directory of uid \(other) was accepted")
        } catch {
            #expect(error.path == path)
            #expect(error.reason == "it is owned by uid 4242424, not by uid 0 (root)")
            #expect(error.description.hasPrefix("refusing to use \(path): it is owned by uid 4242424"))
        }
        // the same for a client (create: false)
        #expect(throws: PrivateDirectory.Refusal.self) { try PrivateDirectory.check(path, uid: 0, create: false) }
    }

    @Test func aSymlinkIsRefused() throws {
        let parent = scratch()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let target = parent + "/elsewhere"
        mkdir(target, 0o700)
        let path = parent + "/accord-1000"
        symlink(target, path)
        do {
            try PrivateDirectory.check(path, uid: getuid(), create: true)
            Issue.record("a symlink was accepted")
        } catch {
            #expect(error.reason.hasPrefix("it is not a directory but a symbolic link"))
        }
    }
}
