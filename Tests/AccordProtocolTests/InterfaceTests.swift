import Glibc
import Testing

@testable import AccordProtocol

/// The bytes of a file beside the sources, read without Foundation.
private func sourceFile(_ relativePath: String, from here: String = #filePath) throws -> [UInt8] {
    let directory = here[..<here.lastIndex(of: "/")!]
    let path = "\(directory)/../../\(relativePath)"
    guard let file = fopen(path, "rb") else { throw SocketSetupFailed("fopen \(path)") }
    defer { fclose(file) }
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress!, 1, $0.count, file) }
        contents += chunk[0..<n]
        if n < chunk.count { break }
    }
    return contents
}

@Suite struct InterfaceTests {
    @Test func theEmbeddedIDLIsTheShippedFileByteForByte() throws {
        let file = try sourceFile("Sources/AccordProtocol/io.accord.Tracker.varlink")
        #expect(file.count > 1000)
        #expect(Array(TrackerInterface.description.utf8) == file, "run scripts/embed-interface.sh")
    }

    @Test func theTrackerIDLDeclaresTheContract() {
        let idl = TrackerInterface.description
        #expect(TrackerInterface.name == "io.accord.Tracker")
        #expect(idl.contains("\ninterface io.accord.Tracker\n"))
        for method in ["Status", "List", "Show", "Upcoming", "History", "Record", "Acknowledge", "Snooze", "Reload", "Watch"] {
            #expect(idl.contains("\nmethod \(method)("), "method \(method)")
        }
        for error in ["NoSuchItem", "AmbiguousItem", "InvalidEvent", "InvalidConfig", "PermissionDenied", "InvalidRequest", "RequestTooLarge"] {
            #expect(idl.contains("\nerror \(error) ("), "error \(error)")
        }
        #expect(
            idl.contains(
                "method List(kind: ?string, state: ?string, dialogue: ?string, dueWithin: ?string, owner: ?string, basis: ?string, limit: ?int, after: ?string)"
            ))
        #expect(
            idl.contains("method Record(id: string, event: string, on: ?string, note: ?string, term: ?string, party: ?string, request: ?string)"))
        #expect(idl.contains("method Snooze(id: string, for: string, request: ?string)"))
    }

    @Test func theServiceIDLDeclaresTheStandardMembers() {
        let idl = VarlinkServiceInterface.description
        #expect(VarlinkServiceInterface.name == "org.varlink.service")
        #expect(idl.contains("\ninterface org.varlink.service\n"))
        #expect(
            idl.contains(
                "method GetInfo() -> (\n  vendor: string,\n  product: string,\n  version: string,\n  url: string,\n  interfaces: []string\n)"))
        #expect(idl.contains("method GetInterfaceDescription(interface: string) -> (description: string)"))
        for error in [
            "InterfaceNotFound (interface: string)", "MethodNotFound (method: string)",
            "MethodNotImplemented (method: string)", "InvalidParameter (parameter: string)",
            "PermissionDenied ()", "ExpectedMore ()"
        ] {
            #expect(idl.split(separator: "\n").contains("error \(error)"), "error \(error)")
        }
    }
}
