// JSON for the control socket, without Foundation: accordctl starts faster and the
// socket's hot path avoids Foundation's coders.

/// A JSON value. Integers that fit in Int64 stay exact, so ids and counts survive a round
/// trip; every other number is a double.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    public var integerValue: Int64? { if case let .integer(i) = self { return i } else { return nil } }
    public var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case let .object(o) = self { return o } else { return nil } }

    /// The kind, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .integer, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// A JSON object that keeps its keys in insertion order, so replies read as designed.
///
/// Small objects (every Varlink call) are searched linearly; past a handful of keys a hash
/// index takes over, so a hostile message with 100,000 keys costs linear time, not quadratic.
/// Equality ignores order, as JSON does.
public struct JSONObject: Equatable, Sendable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)] = []
    private var index: [String: Int]?

    private static let indexThreshold = 12

    public init() {}
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// Setting nil removes the key; setting an existing key keeps its position.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    members[position].value = newValue
                } else {
                    members.remove(at: position)
                    rebuildIndex()
                }
            } else if let newValue {
                append(key, newValue)
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { members.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count && lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }

    /// Adds a key known to be absent (the parser has checked).
    mutating func append(_ key: String, _ value: JSONValue) {
        members.append((key, value))
        if index != nil {
            index![key] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    func position(of key: String) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { $0.key == key }
    }

    private mutating func rebuildIndex() {
        guard members.count > Self.indexThreshold else { index = nil; return }
        var built = [String: Int](minimumCapacity: members.count)
        for (position, member) in members.enumerated() { built[member.key] = position }
        index = built
    }
}

/// Why a text is not JSON, and where: `offset` is the byte at which reading stopped.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Parses one JSON text (RFC 8259) strictly, because it comes from untrusted peers:
    /// valid UTF-8 only (no overlong forms, no encoded surrogates), no lone `\u` surrogates,
    /// no raw control characters in strings, no duplicate keys, no leading zeros, nothing
    /// after the value, numbers that stay finite and do not underflow to zero, and nesting
    /// no deeper than `maximumDepth`. The parser keeps its own stack rather than recursing,
    /// so no depth can overflow the thread's stack.
    public static func parse(_ bytes: some Collection<UInt8>, maximumDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        if let result = bytes.withContiguousStorageIfAvailable({ buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var parser = JSONParser(bytes: buffer, maximumDepth: maximumDepth)
                return try parser.parseDocument()
            }
        }) {
            return try result.get()
        }
        return try parse(Array(bytes), maximumDepth: maximumDepth)
    }

    public static func parse(_ text: String, maximumDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maximumDepth: maximumDepth)
    }
}

private enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")
    static let colon = UInt8(ascii: ":")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")
}

/// A byte-level, non-recursive JSON parser over contiguous memory.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var index = 0
    /// Open containers, innermost last: true for an object, false for an array.
    var containers: [Bool] = []
    var arrays: [[JSONValue]] = []
    var objects: [JSONObject] = []
    /// The key awaiting its value, one per open object.
    var pendingKeys: [String] = []
    /// Scratch space for strings with escapes.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(message: message, offset: offset ?? index)
    }

    @inline(__always) var atEnd: Bool { index >= bytes.count }

    @inline(__always) mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipSpace()
        valueLoop: while true {
            // Read the start of a value: a scalar completes at once, a container opens.
            guard !atEnd else { throw fail("unexpected end of input") }
            var value: JSONValue
            switch bytes[index] {
            case ASCII.openBrace:
                try open()
                index += 1
                skipSpace()
                if !atEnd, bytes[index] == ASCII.closeBrace {
                    index += 1
                    containers.removeLast()
                    value = .object(JSONObject())
                } else {
                    objects.append(JSONObject())
                    try readKey()
                    continue valueLoop
                }
            case ASCII.openBracket:
                try open()
                index += 1
                skipSpace()
                if !atEnd, bytes[index] == ASCII.closeBracket {
                    index += 1
                    containers.removeLast()
                    value = .array([])
                } else {
                    arrays.append([])
                    continue valueLoop
                }
            case ASCII.quote: value = .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); value = .bool(true)
            case UInt8(ascii: "f"): try literal("false"); value = .bool(false)
            case UInt8(ascii: "n"): try literal("null"); value = .null
            case ASCII.minus, ASCII.zero...ASCII.nine: value = try parseNumber()
            default: throw fail("unexpected character")
            }
            // Hand the finished value to its container; close containers that end here.
            while true {
                skipSpace()
                guard let isObject = containers.last else {
                    guard atEnd else { throw fail("unexpected data after the JSON value") }
                    return value
                }
                guard !atEnd else { throw fail("unexpected end of input") }
                let byte = bytes[index]
                if isObject {
                    objects[objects.count - 1].append(pendingKeys.removeLast(), value)
                    if byte == ASCII.comma {
                        index += 1
                        skipSpace()
                        try readKey()
                        continue valueLoop
                    }
                    guard byte == ASCII.closeBrace else { throw fail("expected ',' or '}'") }
                    index += 1
                    containers.removeLast()
                    value = .object(objects.removeLast())
                } else {
                    arrays[arrays.count - 1].append(value)
                    if byte == ASCII.comma {
                        index += 1
                        skipSpace()
                        continue valueLoop
                    }
                    guard byte == ASCII.closeBracket else { throw fail("expected ',' or ']'") }
                    index += 1
                    containers.removeLast()
                    value = .array(arrays.removeLast())
                }
            }
        }
    }

    mutating func open() throws(JSONParseError) {
        guard containers.count < maximumDepth else { throw fail("nesting deeper than \(maximumDepth)") }
        containers.append(bytes[index] == ASCII.openBrace)
    }

    /// Reads `"key" :` inside the innermost object, refusing a key it already has: two
    /// readers of one message must never disagree about which value counts.
    mutating func readKey() throws(JSONParseError) {
        guard !atEnd, bytes[index] == ASCII.quote else { throw fail("expected a string key") }
        let keyOffset = index
        let key = try parseString()
        if objects[objects.count - 1].position(of: key) != nil {
            throw fail("duplicate key \"\(key)\"", at: keyOffset)
        }
        skipSpace()
        guard !atEnd, bytes[index] == ASCII.colon else { throw fail("expected ':'") }
        index += 1
        skipSpace()
        pendingKeys.append(key)
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("invalid literal") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("invalid literal")
        }
        index += count
    }

    /// A string, with `index` on its opening quote. Validates UTF-8 as it scans, so the
    /// error points at the offending byte.
    mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        var usedScratch = false
        var runStart = index
        while true {
            guard index < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[index]
            if byte == ASCII.quote {
                let end = index
                index += 1
                if !usedScratch {
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<end]))
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte < 0x20 { throw fail("control character in a string") }
            if byte >= 0x80 { try skipUTF8Sequence(); continue }
            if byte != ASCII.backslash { index += 1; continue }
            if !usedScratch { scratch.removeAll(keepingCapacity: true); usedScratch = true }
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            try readEscape()
            runStart = index
        }
    }

    /// Checks one multi-byte UTF-8 sequence (RFC 3629 table 4) and steps over it.
    @inline(__always) mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F  // D800...DFFF would be surrogates
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F  // nothing above U+10FFFF
        default: throw fail("invalid UTF-8")
        }
        guard index + length <= bytes.count else { throw fail("invalid UTF-8") }
        let second = bytes[index + 1]
        guard second >= low, second <= high else { throw fail("invalid UTF-8") }
        var offset = 2
        while offset < length {
            guard bytes[index + offset] & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            offset += 1
        }
        index += length
    }

    mutating func readEscape() throws(JSONParseError) {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { throw fail("unterminated string") }
        let escape = bytes[index]
        index += 1
        switch escape {
        case ASCII.quote, ASCII.backslash, UInt8(ascii: "/"): scratch.append(escape)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == ASCII.backslash, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("lone surrogate in a \\u escape", at: escapeStart)
                }
                index += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in a \\u escape", at: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("lone surrogate in a \\u escape", at: escapeStart)
            }
            UTF8.encode(Unicode.Scalar(scalar)!) { scratch.append($0) }
        default:
            throw fail("invalid escape", at: escapeStart)
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case ASCII.zero...ASCII.nine: digit = UInt32(byte - ASCII.zero)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    @inline(__always) func isDigit(_ position: Int) -> Bool {
        position < bytes.count && bytes[position] >= ASCII.zero && bytes[position] <= ASCII.nine
    }

    /// A number per the RFC 8259 grammar. Plain integers accumulate without allocating; a
    /// fraction, an exponent or an integer beyond Int64 goes through the standard library's
    /// correctly rounded Double parser.
    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        let negative = bytes[index] == ASCII.minus
        if negative { index += 1 }
        guard isDigit(index) else { throw fail("invalid number") }
        var magnitude: UInt64 = 0
        var overflow = false
        var nonZero = false
        if bytes[index] == ASCII.zero {
            index += 1
            if isDigit(index) { throw fail("leading zero in a number") }
        } else {
            nonZero = true
            while isDigit(index) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[index] - ASCII.zero))
                overflow = overflow || o1 || o2
                magnitude = sum
                index += 1
            }
        }
        var isInteger = true
        if index < bytes.count, bytes[index] == ASCII.dot {
            index += 1
            isInteger = false
            guard isDigit(index) else { throw fail("invalid number") }
            while isDigit(index) {
                if bytes[index] != ASCII.zero { nonZero = true }
                index += 1
            }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            isInteger = false
            if index < bytes.count, bytes[index] == ASCII.plus || bytes[index] == ASCII.minus { index += 1 }
            guard isDigit(index) else { throw fail("invalid number") }
            while isDigit(index) { index += 1 }
        }
        if isInteger, !overflow {
            if !negative, magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
            if negative, magnitude <= UInt64(Int64.max) + 1 { return .integer(Int64(truncatingIfNeeded: 0 &- magnitude)) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite, value != 0 || !nonZero else {
            throw fail("number out of range", at: start)
        }
        return .double(value)
    }
}

extension JSONValue {
    /// Compact JSON text. Control characters in strings are escaped (NUL as `\u0000`), so
    /// the output never contains a raw NUL and can always be framed for Varlink.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }

    /// How the text is laid out: `compact` for the wire, `spaced` for one readable line per
    /// value (`{"key": "value", "n": 1}`), as `accordd plan --json` prints each reminder.
    public enum Style: Sendable {
        case compact
        case spaced
    }

    /// Appends the JSON text, so a reply can be built in one buffer.
    /// Non-finite doubles, which JSON cannot express, are written as `null`.
    public func write(to out: inout [UInt8], style: Style = .compact) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case let .integer(value): JSONValue.writeInteger(value, to: &out)
        case let .double(value): out.append(contentsOf: (value.isFinite ? value.description : "null").utf8)
        case let .string(value): JSONValue.writeString(value, to: &out)
        case let .array(values):
            out.append(ASCII.openBracket)
            var first = true
            for value in values {
                if !first { JSONValue.writeSeparator(style, to: &out) }
                first = false
                value.write(to: &out, style: style)
            }
            out.append(ASCII.closeBracket)
        case let .object(object):
            out.append(ASCII.openBrace)
            var first = true
            for member in object.members {
                if !first { JSONValue.writeSeparator(style, to: &out) }
                first = false
                JSONValue.writeString(member.key, to: &out)
                out.append(ASCII.colon)
                if style == .spaced { out.append(UInt8(ascii: " ")) }
                member.value.write(to: &out, style: style)
            }
            out.append(ASCII.closeBrace)
        }
    }

    private static func writeSeparator(_ style: Style, to out: inout [UInt8]) {
        out.append(ASCII.comma)
        if style == .spaced { out.append(UInt8(ascii: " ")) }
    }

    static func writeInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(ASCII.minus) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = ASCII.zero + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ value: String, to out: inout [UInt8]) {
        out.append(ASCII.quote)
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for position in 0..<utf8.count {
                let byte = utf8[position]
                guard byte < 0x20 || byte == ASCII.quote || byte == ASCII.backslash else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<position]))
                runStart = position + 1
                out.append(ASCII.backslash)
                switch byte {
                case ASCII.quote, ASCII.backslash: out.append(byte)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                default:
                    out.append(UInt8(ascii: "u"))
                    out.append(ASCII.zero)
                    out.append(ASCII.zero)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        out.append(ASCII.quote)
    }
}
