import Testing

@testable import AccordProtocol

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func parseError(_ input: [UInt8], maximumDepth: Int = 64) -> JSONParseError? {
    do {
        _ = try JSONValue.parse(input, maximumDepth: maximumDepth)
        return nil
    } catch {
        return error
    }
}

@Suite struct JSONParsingTests {
    @Test func roundTripsValuesAndKeepsKeyOrder() throws {
        let text = #"{"z":1,"b":-2.5,"c":"x\"y\\z\n","d":[true,false,null],"e":{},"f":[],"a":{"k":[1,{"m":"n"}]}}"#
        let value = try JSONValue.parse(text)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["z", "b", "c", "d", "e", "f", "a"])
        #expect(object["z"] == .integer(1))
        #expect(object["b"] == .double(-2.5))
        #expect(object["c"] == .string("x\"y\\z\n"))
        #expect(object["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(object["e"] == .object([:]))
        #expect(object["f"] == .array([]))
        #expect(object["missing"] == nil)
        #expect(value.jsonText == text)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func acceptsTheFourWhitespaceCharactersAndNoOthers() throws {
        #expect(try JSONValue.parse(" \t\r\n[ 1 ,\n2 ]\r\n\t ") == .array([1, 2]))
        #expect(parseError([0x0C, 0x31]) != nil)  // form feed
        #expect(parseError([0xC2, 0xA0, 0x31]) != nil)  // no-break space
        #expect(parseError([0xEF, 0xBB, 0xBF] + bytes("1")) != nil)  // byte-order mark
    }

    @Test func integersStayExactWithinInt64() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .integer(Int64.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .integer(Int64.min))
        #expect(try JSONValue.parse("-0") == .integer(0))
        #expect(try JSONValue.parse("0") == .integer(0))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try JSONValue.parse("-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try JSONValue.parse("18446744073709551616") == .double(18446744073709551616.0))
    }

    @Test func fractionsAndExponentsAreDoubles() throws {
        #expect(try JSONValue.parse("1.0") == .double(1))
        #expect(try JSONValue.parse("1e2") == .double(100))
        #expect(try JSONValue.parse("1E+2") == .double(100))
        #expect(try JSONValue.parse("-1.5e-3") == .double(-0.0015))
        #expect(try JSONValue.parse("0e-999") == .double(0))
        #expect(try JSONValue.parse("1.7976931348623157e308") == .double(Double.greatestFiniteMagnitude))
        #expect(try JSONValue.parse("5e-324") == .double(Double.leastNonzeroMagnitude))
    }

    @Test(arguments: [
        "1e999", "-1e400", "1E309", "1e99999999999999999999", "1e-400", "-0.1e-400",
        "1" + String(repeating: "0", count: 400), "-" + String(repeating: "9", count: 310),
        "0." + String(repeating: "0", count: 400) + "1"
    ])
    func numbersOutOfRangeAreErrorsAtTheirStart(_ text: String) {
        let error = parseError(bytes("[" + text + "]"))
        #expect(error?.message == "number out of range")
        #expect(error?.offset == 1)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "01", "-01", "00", "-", "--1", "+1", ".5", "1.",
        "1.e3", "1e", "1e+", "0x10", "tru", "True", "nul", "nulll", "\"abc", "{\"a\" 1}", "{1:2}", "{\"a\"}",
        "{\"a\":}", "[1 2]", "1 2", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\\"", "NaN", "Infinity", "-Infinity",
        "'a'", "[1]]", "{}}", "/* */1", "// c\n1"
    ])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func errorsSayWhereReadingStopped() {
        #expect(parseError(bytes("[1,2,x]")) == JSONParseError(message: "unexpected character", offset: 5))
        #expect(parseError(bytes("{\"a\":1} x")) == JSONParseError(message: "unexpected data after the JSON value", offset: 8))
        #expect(parseError(bytes("[\"ab\u{01}\"]"))?.offset == 4)
        #expect(parseError(bytes("[\"ab\u{01}\"]"))?.message == "control character in a string")
        #expect(parseError([0x5B, 0x22, 0x61, 0xC0, 0xAF, 0x22, 0x5D]) == JSONParseError(message: "invalid UTF-8", offset: 3))
        #expect(parseError(bytes("007"))?.message == "leading zero in a number")
        #expect(JSONParseError(message: "m", offset: 3).description == "m at byte 3")
    }

    @Test func duplicateKeysAreRefusedAtTheSecondKey() {
        let error = parseError(bytes(#"{"method":"a.b.C","method":"a.b.D"}"#))
        #expect(error == JSONParseError(message: "duplicate key \"method\"", offset: 18))
        // Also once the object is large enough to be indexed.
        let many = (0..<50).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(parseError(bytes("{" + many + ",\"k7\":0}"))?.message == "duplicate key \"k7\"")
        // The same key in different objects is fine.
        #expect(parseError(bytes(#"{"a":{"a":1},"b":{"a":2}}"#)) == nil)
    }

    @Test func largeObjectsParseInLinearTime() throws {
        let count = 100_000
        var text = "{"
        for index in 0..<count { text += index == 0 ? "\"k\(index)\":\(index)" : ",\"k\(index)\":\(index)" }
        text += "}"
        let started = ContinuousClock.now
        let object = try #require(try JSONValue.parse(text).objectValue)
        let elapsed = ContinuousClock.now - started
        #expect(object.count == count)
        #expect(object["k\(count - 1)"] == .integer(Int64(count - 1)))
        #expect(object.keys.first == "k0" && object.keys.last == "k\(count - 1)")
        // Quadratic key checks would take minutes here; linear work takes well under a second.
        #expect(elapsed < .seconds(10))
    }

    @Test func parsesNonContiguousCollectionsAndSlices() throws {
        let text = bytes(#"xx{"a":[1,"b"]}yy"#)
        #expect(try JSONValue.parse(text[2..<(text.count - 2)]) == .object(["a": .array([1, "b"])]))
        #expect(try JSONValue.parse(text.dropFirst(2).dropLast(2).lazy.map { $0 }) == .object(["a": .array([1, "b"])]))
    }
}

@Suite struct JSONStringTests {
    @Test func escapesDecode() throws {
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u0041\u00e9\u4E2D\uffff""#) == .string("Aé中\u{FFFF}"))
        #expect(try JSONValue.parse(#""\ud83d\ude00 and \uD83D\uDE00""#) == .string("😀 and 😀"))
        #expect(try JSONValue.parse(#""plain ascii""#) == .string("plain ascii"))
        #expect(try JSONValue.parse(#""""#) == .string(""))
    }

    @Test(arguments: [
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#, #""\ud800\ud800""#, #""\udfff\ud800""#,
        #""\ud800\""#, #""a\uDBFF""#
    ])
    func loneSurrogateEscapesAreRejected(_ text: String) {
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        #expect(error?.message.contains("surrogate") == true || error?.message.contains("unterminated") == true)
    }

    @Test func everyRawControlCharacterIsRejectedAndEveryEscapedOneRoundTrips() throws {
        for byte in UInt8(0)..<0x20 {
            #expect(parseError([0x22, 0x61, byte, 0x62, 0x22])?.message == "control character in a string", "byte \(byte)")
            let escaped = "\"a\\u00" + String(byte, radix: 16).leftPadded(2) + "b\""
            let value = try JSONValue.parse(escaped)
            #expect(value == .string("a" + String(Unicode.Scalar(byte)) + "b"))
            let out = value.serialized()
            #expect(!out.contains { $0 < 0x20 }, "byte \(byte) must be escaped")
            #expect(try JSONValue.parse(out) == value)
        }
        // DEL is not a control character to JSON.
        #expect(try JSONValue.parse([0x22, 0x7F, 0x22]) == .string("\u{7F}"))
    }

    @Test func escapedNULRoundTripsAndNeverAppearsRaw() throws {
        let value = try JSONValue.parse(#"{"s":"a\u0000b","\u0000":"\u0000"}"#)
        #expect(value.objectValue?["s"] == .string("a\u{0}b"))
        #expect(value.objectValue?["\u{0}"] == .string("\u{0}"))
        let out = value.serialized()
        #expect(!out.contains(0))
        #expect(String(decoding: out, as: UTF8.self) == #"{"s":"a\u0000b","\u0000":"\u0000"}"#)
        #expect(try JSONValue.parse(out) == value)
    }

    @Test(
        arguments: [
            [0xC0, 0xAF],  // overlong "/" in two bytes
            [0xC1, 0xBF],  // overlong in two bytes
            [0xE0, 0x80, 0xAF],  // overlong "/" in three bytes
            [0xE0, 0x9F, 0xBF],  // overlong U+07FF
            [0xF0, 0x80, 0x80, 0xAF],  // overlong "/" in four bytes
            [0xF0, 0x8F, 0xBF, 0xBF],  // overlong U+FFFF
            [0xED, 0xA0, 0x80],  // U+D800, a surrogate, encoded in UTF-8
            [0xED, 0xBF, 0xBF],  // U+DFFF
            [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80],  // a surrogate pair encoded as CESU-8
            [0xF4, 0x90, 0x80, 0x80],  // U+110000, beyond Unicode
            [0xF5, 0x80, 0x80, 0x80],  // never a lead byte
            [0xF8, 0x88, 0x80, 0x80, 0x80],  // five-byte form
            [0xFE], [0xFF],  // never valid
            [0x80],  // continuation without a lead
            [0xBF, 0x41],
            [0xC3, 0x28],  // lead followed by ASCII
            [0xE2, 0x82],  // truncated three-byte sequence
            [0xE2, 0x82, 0x41],
            [0xF0, 0x9F, 0x98]  // truncated four-byte sequence
        ] as [[UInt8]])
    func invalidUTF8IsRejectedInStringsAndKeys(_ sequence: [UInt8]) {
        #expect(parseError([0x22] + sequence + [0x22])?.message == "invalid UTF-8")
        #expect(parseError([0x7B, 0x22] + sequence + [0x22, 0x3A, 0x31, 0x7D])?.message == "invalid UTF-8")
        #expect(parseError([0x22] + sequence) != nil)  // and at the very end of the input
        #expect(parseError(sequence) != nil)  // and outside strings
    }

    @Test func validUTF8AtEveryBoundaryIsAccepted() throws {
        let sequences: [[UInt8]] = [
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
            [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]
        ]
        for sequence in sequences {
            let value = try JSONValue.parse([0x22] + sequence + [0x22])
            #expect(value == .string(String(decoding: sequence, as: UTF8.self)))
            #expect(value.serialized() == [0x22] + sequence + [0x22])
        }
    }
}

@Suite struct JSONDepthTests {
    @Test func tenThousandLevelsAreAnErrorNotACrash() {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let deep = String(repeating: open, count: 10_000) + "1" + String(repeating: close, count: 10_000)
            let error = parseError(bytes(deep))
            #expect(error?.message == "nesting deeper than 64")
        }
        let unclosed = String(repeating: "[", count: 1_000_000)
        #expect(parseError(bytes(unclosed))?.message == "nesting deeper than 64")
    }

    @Test func theLimitIsExactAndAdjustable() throws {
        let atLimit = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(parseError(bytes(atLimit)) == nil)
        let overLimit = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(parseError(bytes(overLimit)) == JSONParseError(message: "nesting deeper than 64", offset: 64))
        #expect(parseError(bytes("[[1]]"), maximumDepth: 2) == nil)
        #expect(parseError(bytes("[{\"a\":[1]}]"), maximumDepth: 2)?.message == "nesting deeper than 2")
        #expect(parseError(bytes("1"), maximumDepth: 0) == nil)
        #expect(parseError(bytes("[]"), maximumDepth: 0) != nil)
        // The parser itself does not recurse: a deep limit is a matter of memory, not stack.
        let deep = String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000)
        #expect(parseError(bytes(deep), maximumDepth: 2_000) == nil)
    }
}

@Suite struct JSONSerializationTests {
    @Test func writesCompactTextWithTheEscapesJSONRequires() {
        let value: JSONValue = .object([
            "s": .string("q\"b\\s/\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}é😀"),
            "i": .integer(Int64.min), "j": .integer(Int64.max), "z": .integer(0), "n": .integer(-7),
            "d": .double(0.1), "e": .double(1e300), "f": .double(-2.5), "nan": .double(.nan), "inf": .double(.infinity),
            "a": .array([.null, .bool(true), .bool(false)])
        ])
        #expect(
            value.jsonText == #"{"s":"q\"b\\s/\b\f\n\r\t\u0001\u001f"# + "\u{7F}é😀"
                + #"","i":-9223372036854775808,"j":9223372036854775807,"z":0,"n":-7,"d":0.1,"e":1e+300,"f":-2.5,"nan":null,"inf":null,"a":[null,true,false]}"#
        )
    }

    @Test func doublesRoundTripExactly() throws {
        for double in [
            0.1, -0.0, 1.0 / 3.0, 123456789.125, 1e-300, Double(bitPattern: 0x4340_0000_0000_0001), Double.greatestFiniteMagnitude,
            Double.leastNonzeroMagnitude
        ] {
            let out = JSONValue.double(double).serialized()
            #expect(try JSONValue.parse(out) == .double(double), "\(double)")
        }
    }

    @Test func writeAppendsToAnExistingBuffer() {
        var out: [UInt8] = Array("x=".utf8)
        JSONValue.array([1, "two"]).write(to: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"x=[1,"two"]"#)
    }
}

@Suite struct JSONObjectTests {
    @Test func assignmentKeepsPositionAndNilRemoves() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = "two"
        object["d"] = 4
        object["a"] = nil
        object["absent"] = nil
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["b"] == "two" && object["a"] == nil)
        #expect(object.count == 3 && !object.isEmpty)
        #expect(Array(object.map(\.key)) == ["b", "c", "d"])
    }

    @Test func indexedObjectsStayConsistentThroughRemovals() {
        var object = JSONObject()
        for index in 0..<40 { object["k\(index)"] = .integer(Int64(index)) }
        for index in stride(from: 0, to: 40, by: 3) { object["k\(index)"] = nil }
        object["k1"] = "changed"
        object["new"] = true
        #expect(object.count == 40 - 14 + 1)
        #expect(object["k0"] == nil && object["k39"] == nil && object["k38"] == 38 && object["k1"] == "changed")
        #expect(object.keys.prefix(3) == ["k1", "k2", "k4"] && object.keys.last == "new")
        for index in 0..<40 where index % 3 != 0 && index != 1 {
            #expect(object["k\(index)"] == .integer(Int64(index)))
        }
        while let key = object.keys.first { object[key] = nil }
        #expect(object.isEmpty && object["k2"] == nil)
    }

    @Test func equalityIgnoresOrderButNotContent() {
        #expect(JSONObject(["a": 1, "b": 2]) == ["b": 2, "a": 1])
        #expect(JSONObject(["a": 1, "b": 2]) != ["a": 1, "b": 3])
        #expect(JSONObject(["a": 1, "b": 2]) != ["a": 1])
        #expect(JSONObject(["a": 1]) != ["b": 1])
        #expect(JSONValue.integer(1) != .double(1))
    }

    @Test func typedViewsAnswerOnlyForTheirCase() {
        let value: JSONValue = "text"
        #expect(value.stringValue == "text" && value.integerValue == nil && value.boolValue == nil)
        #expect(JSONValue.integer(3).integerValue == 3 && JSONValue.double(3).integerValue == nil)
        #expect(JSONValue.array([]).arrayValue == [] && JSONValue.object([:]).objectValue == [:])
        #expect(
            [JSONValue.null, true, 1, .double(1), "s", .array([]), .object([:])].map(\.typeName)
                == ["null", "bool", "number", "number", "string", "array", "object"])
    }
}

extension JSONObject {
    fileprivate init(_ object: JSONObject) { self = object }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
