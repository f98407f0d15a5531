// The Landlock rules of the notify hook (issue 16, defect 7): everything but the protected
// directories keeps every right, on a made-up tree so that the test needs no real files.
import Testing

@testable import AccordDaemon

@Suite struct HookSandboxTests {
    typealias Entry = HookSandbox.Entry
    static let tree: [String: [Entry]] = [
        "/": [
            Entry(name: "etc", isDirectory: true, isSymlink: false), Entry(name: "var", isDirectory: true, isSymlink: false),
            Entry(name: "run", isDirectory: true, isSymlink: false), Entry(name: "bin", isDirectory: false, isSymlink: true)
        ],
        "/var": [
            Entry(name: "lib", isDirectory: true, isSymlink: false), Entry(name: "log", isDirectory: true, isSymlink: false),
            Entry(name: "motd", isDirectory: false, isSymlink: false)
        ],
        "/var/lib": [Entry(name: "accord", isDirectory: true, isSymlink: false), Entry(name: "dpkg", isDirectory: true, isSymlink: false)],
        "/var/log": [Entry(name: "journal", isDirectory: true, isSymlink: false), Entry(name: "apt", isDirectory: true, isSymlink: false)],
        "/run": [Entry(name: "accord", isDirectory: true, isSymlink: false), Entry(name: "lock", isDirectory: true, isSymlink: false)]
    ]
    static let write = HookSandbox.writeRights(abi: 3)
    static let read = HookSandbox.readFile
    static let all = write | read

    static func rules() -> [String: UInt64] {
        let rules = HookSandbox.rules(
            protecting: [
                .init(path: "/var/lib/accord", denied: write), .init(path: "/run/accord", denied: write),
                .init(path: "/var/log/journal", denied: read)
            ],
            handled: all, list: { tree[$0] })
        return Dictionary(uniqueKeysWithValues: rules.map { ($0.path, $0.allowed) })
    }

    @Test func everythingElseKeepsEveryRight() {
        let rules = HookSandboxTests.rules()
        #expect(rules["/etc"] == HookSandboxTests.all)
        #expect(rules["/var/lib/dpkg"] == HookSandboxTests.all)
        #expect(rules["/var/log/apt"] == HookSandboxTests.all)
        #expect(rules["/run/lock"] == HookSandboxTests.all)
        // a file: only the rights a file can have
        #expect(rules["/var/motd"] == HookSandboxTests.all & HookSandbox.fileRights)
        // a symlink gets no rule (its target has its own)
        #expect(rules["/bin"] == nil)
    }

    @Test func protectedDirectoriesLoseOnlyTheirDeniedRights() {
        let rules = HookSandboxTests.rules()
        #expect(rules["/var/lib/accord"] == HookSandboxTests.read, "the state directory: read, never write")
        #expect(rules["/run/accord"] == HookSandboxTests.read, "the socket directory: read, never write")
        #expect(rules["/var/log/journal"] == HookSandboxTests.write, "the journal: not read")
    }

    @Test func directoriesOnTheWayKeepWhatNoProtectionBeneathDenies() {
        let rules = HookSandboxTests.rules()
        #expect(rules["/var"] == nil, "/var leads to a write and a read protection: nothing is left")
        #expect(rules["/var/lib"] == HookSandboxTests.read)
        #expect(rules["/var/log"] == HookSandboxTests.write)
        #expect(rules["/run"] == HookSandboxTests.read)
        #expect(rules["/"] == nil)
    }
}
