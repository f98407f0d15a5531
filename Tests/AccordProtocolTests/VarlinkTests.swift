import Foundation
import Testing

@testable import AccordProtocol

@Suite struct FramingTests {
    @Test func severalMessagesInOneRead() throws {
        var reader = VarlinkFrameReader()
        reader.append(Array("{\"a\":1}\0{\"b\":2}\0{\"c\"".utf8))
        #expect(try reader.next() == Array("{\"a\":1}".utf8))
        #expect(try reader.next() == Array("{\"b\":2}".utf8))
        #expect(try reader.next() == nil)
        #expect(reader.hasPartialMessage)
        reader.append(Array(":3}\0".utf8))
        #expect(try reader.next() == Array("{\"c\":3}".utf8))
        #expect(!reader.hasPartialMessage)
    }

    @Test func oneMessageSplitAcrossManyReads() throws {
        let call = VarlinkCall(method: "io.accord.Tracker.Show", parameters: ["id": "cbsa-beea-pilot-mou"]).encode()
        var reader = VarlinkFrameReader()
        var messages: [[UInt8]] = []
        for byte in call + call {
            reader.append([byte])
            while let message = try reader.next() { messages.append(message) }
        }
        #expect(messages.count == 2)
        #expect(try VarlinkCall.decode(messages[1]).parameters["id"] == "cbsa-beea-pilot-mou")
    }

    @Test func oversizedMessageIsRefusedBeforeItsEnd() throws {
        var reader = VarlinkFrameReader(maximumMessageSize: 1024)
        reader.append([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
        #expect(try reader.next() == nil)
        reader.append([UInt8](repeating: UInt8(ascii: "a"), count: 100))
        #expect(throws: VarlinkFrameReader.FrameError.messageTooLarge(limit: 1024)) { try reader.next() }
    }

    @Test func interfaceIsEmbeddedByteForByte() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/AccordProtocol/io.accord.Tracker.varlink").standardized
        #expect(try String(contentsOf: file, encoding: .utf8) == TrackerInterface.description)
        #expect(TrackerInterface.description.contains("interface io.accord.Tracker\n"))
    }
}

@Suite struct CallTests {
    @Test func decodesAValidCall() throws {
        let call = try VarlinkCall.decode(Array(#"{"method":"io.accord.Tracker.Watch","more":true,"parameters":{}}"#.utf8))
        #expect(call.method == "io.accord.Tracker.Watch" && call.more && !call.oneway)
        #expect(call.splitMethod.interface == "io.accord.Tracker" && call.splitMethod.method == "Watch")
    }

    @Test(arguments: [
        (#"[1]"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":1}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"Status"}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"io.accord.Tracker.status"}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"io.accord.Tracker.Status","parameters":[]}"#, "org.varlink.service.InvalidParameter"),
        (#"{"method":"io.accord.Tracker.Status","more":"yes"}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"io.accord.Tracker.Status","oneway":true,"more":true}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"io.accord.Tracker.Status","extra":1}"#, "io.accord.Tracker.InvalidRequest"),
        (#"{"method":"io.accord.Tracker.Status""#, "io.accord.Tracker.InvalidRequest"),
    ])
    func rejectsBadCalls(_ text: String, _ errorName: String) {
        let error = #expect(throws: VarlinkError.self) { try VarlinkCall.decode(Array(text.utf8)) }
        #expect(error?.name == errorName)
    }

    @Test func typedParameterAccessNamesTheParameter() throws {
        let parameters: JSONObject = ["id": 5, "note": "x"]
        #expect(throws: VarlinkError.invalidParameter("id")) { try parameters.string("id") }
        #expect(try parameters.optionalString("note") == "x")
        #expect(throws: VarlinkError.invalidParameter("note")) { try parameters.rejectUnknown(allowed: ["id"]) }
    }

    @Test func repliesEndInNULAndRoundTrip() throws {
        let reply = VarlinkReply(parameters: ["reminder": .object(["key": "k"])], continues: true)
        let bytes = reply.encode()
        #expect(bytes.last == 0)
        #expect(bytes.dropLast().allSatisfy { $0 != 0 })
        #expect(try VarlinkReply.decode(Array(bytes.dropLast())) == reply)
        let error = VarlinkReply(VarlinkError("io.accord.Tracker.NoSuchItem", ["id": "x"]))
        #expect(String(decoding: error.encode().dropLast(), as: UTF8.self) == #"{"error":"io.accord.Tracker.NoSuchItem","parameters":{"id":"x"}}"#)
    }
}
