import Testing

@testable import AccordProtocol

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Everything the reader yields until it needs more bytes.
private func drain(_ reader: inout VarlinkFrameReader) throws -> [[UInt8]] {
    var messages: [[UInt8]] = []
    while let message = try reader.next() { messages.append(message) }
    return messages
}

@Suite struct FramingTests {
    @Test func severalMessagesInOneAppend() throws {
        var reader = VarlinkFrameReader()
        #expect(!reader.hasPartialMessage)
        #expect(try reader.next() == nil)
        reader.append(utf8("{\"a\":1}\0{\"b\":2}\0\0{\"c\""))
        #expect(reader.hasPartialMessage)
        #expect(try reader.next() == utf8("{\"a\":1}"))
        #expect(try reader.next() == utf8("{\"b\":2}"))
        #expect(try reader.next() == [])  // an empty message is a message; decoding refuses it
        #expect(try reader.next() == nil)
        #expect(reader.hasPartialMessage)
        reader.append(utf8(":3}\0"))
        #expect(try reader.next() == utf8("{\"c\":3}"))
        #expect(try reader.next() == nil)
        #expect(!reader.hasPartialMessage)
    }

    @Test func oneMessageSplitAcrossOneByteAppends() throws {
        let call = VarlinkCall(method: "io.accord.Tracker.Show", parameters: ["id": "cbsa-beea-pilot-mou"]).encode()
        var reader = VarlinkFrameReader()
        var messages: [[UInt8]] = []
        var partialAfterEachByte: [Bool] = []
        for byte in call + call {
            withUnsafeBytes(of: byte) { reader.append($0) }
            messages += try drain(&reader)
            partialAfterEachByte.append(reader.hasPartialMessage)
        }
        #expect(messages == [Array(call.dropLast()), Array(call.dropLast())])
        #expect(try VarlinkCall.decode(messages[1]).parameters["id"] == "cbsa-beea-pilot-mou")
        // Partial after every byte but each NUL.
        #expect(partialAfterEachByte.indices.filter { !partialAfterEachByte[$0] } == [call.count - 1, 2 * call.count - 1])
    }

    @Test func manyMessagesInArbitraryChunksComeOutWhole() throws {
        // Messages of very different sizes, cut at pseudo-random points, including chunks that
        // hold many messages and messages that span many chunks.
        var expected: [[UInt8]] = []
        var stream: [UInt8] = []
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for index in 0..<3_000 {
            let length = index % 97 == 0 ? 20_000 + random(30_000) : random(60)
            let message = (0..<length).map { UInt8(ascii: "a") + UInt8(($0 + index) % 26) }
            expected.append(message)
            stream += message + [0]
        }
        var reader = VarlinkFrameReader(maximumMessageSize: 64 * 1024)
        var received: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(stream.count, offset + 1 + random(random(3) == 0 ? 70_000 : 300))
            stream[offset..<end].withUnsafeBytes { reader.append($0) }
            received += try drain(&reader)
            offset = end
        }
        #expect(received.count == expected.count)
        #expect(received == expected)
        #expect(!reader.hasPartialMessage)
    }

    @Test func aPartialMessageOverTheLimitIsRefusedBeforeItsEnd() throws {
        var reader = VarlinkFrameReader(maximumMessageSize: 1024)
        #expect(reader.maximumMessageSize == 1024)
        reader.append([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
        #expect(try reader.next() == nil)
        reader.append([UInt8](repeating: UInt8(ascii: "a"), count: 24))
        #expect(try reader.next() == nil)  // exactly at the limit: still allowed
        reader.append([UInt8(ascii: "a")])
        #expect(throws: VarlinkFrameError.messageTooLarge(limit: 1024)) { try reader.next() }
        #expect(throws: VarlinkFrameError.messageTooLarge(limit: 1024)) { try reader.next() }  // and stays refused
    }

    @Test func aCompleteMessageOverTheLimitIsRefusedAfterEarlierOnesAreDelivered() throws {
        var reader = VarlinkFrameReader(maximumMessageSize: 8)
        reader.append(utf8("12345678\0") + utf8("123456789\0"))
        #expect(try reader.next() == utf8("12345678"))
        #expect(throws: VarlinkFrameError.messageTooLarge(limit: 8)) { try reader.next() }
    }

    @Test func theLimitCountsOnlyTheCurrentMessage() throws {
        var reader = VarlinkFrameReader(maximumMessageSize: 10)
        var messages: [[UInt8]] = []
        for _ in 0..<1_000 {
            reader.append(utf8("0123456789\0"))
            messages += try drain(&reader)
        }
        #expect(messages.count == 1_000)
        reader.append(utf8("01234567"))
        reader.append(utf8("89\0" + "0123"))
        #expect(try drain(&reader) == [utf8("0123456789")])
        #expect(reader.hasPartialMessage)
    }

    @Test func theDefaultLimitIsOneMebibyte() throws {
        #expect(VarlinkFrameReader().maximumMessageSize == 1 << 20)
        var reader = VarlinkFrameReader()
        reader.append([UInt8](repeating: 0x20, count: 1 << 20))
        #expect(try reader.next() == nil)
        reader.append([0x20])
        #expect(throws: VarlinkFrameError.self) { try reader.next() }
    }
}
