import Testing

@testable import AccordProtocol

@Suite struct JSONTests {
    @Test func roundTripsValues() throws {
        let text = #"{"a":1,"b":-2.5,"c":"x\"y\\z\n","d":[true,false,null],"e":{},"big":9223372036854775807}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?["a"] == .integer(1))
        #expect(value.objectValue?["b"] == .double(-2.5))
        #expect(value.objectValue?["c"] == .string("x\"y\\z\n"))
        #expect(value.objectValue?["big"] == .integer(Int64.max))
        #expect(try JSONValue.parse(value.serialized()) == value)
        #expect(value.objectValue?.keys == ["a", "b", "c", "d", "e", "big"])
    }

    @Test func escapedNULRoundTripsWithoutARawNUL() throws {
        let value = try JSONValue.parse(#"{"s":"a\u0000b"}"#)
        #expect(value.objectValue?["s"] == .string("a\u{0}b"))
        let bytes = value.serialized()
        #expect(!bytes.contains(0))
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"s":"a\u0000b"}"#)
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#""\ud83d""#) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#""\ude00x""#) }
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "-", "1.", "1e", "+1", "tru", "nul", "\"abc", "\"a\tb\"",
        "{\"a\" 1}", "{1:2}", "[1 2]", "1 2", "\"\\x\"", "1e999", "-1e400", "NaN", "Infinity",
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test(arguments: [
        [0x22, 0xC0, 0xAF, 0x22],              // overlong "/"
        [0x22, 0xED, 0xA0, 0x80, 0x22],        // UTF-16 surrogate encoded in UTF-8
        [0x22, 0xFF, 0x22],                    // never valid
        [0x22, 0xE2, 0x82, 0x22],              // truncated sequence
        [0x7B, 0xFF, 0x7D],                    // outside a string
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect(error?.message.contains("nesting") == true)
        #expect(throws: Never.self) { try JSONValue.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) }
    }

    @Test func hugeNumbersBecomeDoublesOrErrors() throws {
        #expect(try JSONValue.parse("92233720368547758070") == .double(92233720368547758070))
        #expect(throws: JSONParseError.self) { try JSONValue.parse("1" + String(repeating: "0", count: 400)) }
    }
}
