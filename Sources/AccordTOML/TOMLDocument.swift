// TOML documents read without a Swift object per value.
//
// toml++ parses; CAccordTOML flattens its tree into one array of C records and frees it; this
// file gives Swift read-only views (a document, an index) over that array. accord used TOMLKit
// before: it wraps every value it hands out in a class, copies every string with strdup and
// frees neither, nor the parsed tree. At 100,000 items that left 1.7 KB per item behind after
// each parse (170 MB, and as much again at every reload), and its wrappers were a third of the
// load time. The records here are freed with the document, once its last view is gone.
import CAccordTOML

/// A parsed document: the root table and the records every view reads.
public final class TOMLDocument: @unchecked Sendable {
    // Immutable after init: views on any thread only read.
    private let raw: UnsafeMutablePointer<accord_toml_document>
    let nodes: UnsafeBufferPointer<accord_toml_node>
    let strings: UnsafeBufferPointer<UInt8>

    /// Parses UTF-8 TOML text; a syntax error gives its line and column.
    public init(parsing text: String) throws(TOMLParseError) {
        var text = text
        raw = text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { accord_toml_parse($0.baseAddress, $0.count) }
        }
        let document = raw.pointee
        if document.failed != 0 {
            let error = TOMLParseError(
                description: document.error.map { String(cString: $0) } ?? "not TOML",
                line: Int(document.error_line), column: Int(document.error_column))
            accord_toml_free(raw)
            throw error
        }
        nodes = UnsafeBufferPointer(start: document.nodes, count: document.node_count)
        strings = UnsafeBufferPointer(
            start: UnsafeRawPointer(document.strings).assumingMemoryBound(to: UInt8.self), count: document.strings_length)
    }

    deinit { accord_toml_free(raw) }

    public var root: TOMLTable { TOMLTable(document: self, index: 0) }

    func text(_ offset: UInt32, _ length: UInt32) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: strings[Int(offset)..<Int(offset + length)]), as: UTF8.self)
    }

    /// Whether the bytes at `offset` are `key`'s, without making a String.
    func equals(_ offset: UInt32, _ length: UInt32, _ key: String) -> Bool {
        var key = key
        return key.withUTF8 { wanted in
            wanted.count == Int(length)
                && (wanted.isEmpty || memcmp(wanted.baseAddress!, strings.baseAddress! + Int(offset), wanted.count) == 0)
        }
    }
}

@_silgen_name("memcmp")
private func memcmp(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int32

/// A syntax error: toml++'s words, and where.
public struct TOMLParseError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public let line: Int
    public let column: Int
}

/// A value's type, named as in error messages ("must be a string, not integer").
public enum TOMLType: String, Sendable, CustomStringConvertible {
    case table, array, string, int, double, bool, date, time, dateTime

    public var description: String {
        switch self {
        case .int: return "integer"
        case .double: return "floating-point number"
        case .dateTime: return "date-time"
        default: return rawValue
        }
    }
}

public struct TOMLDate: Sendable, Hashable {
    public let year: Int, month: Int, day: Int
    public init(year: Int, month: Int, day: Int) { self.year = year; self.month = month; self.day = day }
}

public struct TOMLTime: Sendable, Hashable {
    public let hour: Int, minute: Int, second: Int, nanosecond: Int
    public init(hour: Int, minute: Int, second: Int, nanosecond: Int) {
        self.hour = hour; self.minute = minute; self.second = second; self.nanosecond = nanosecond
    }
}

public struct TOMLDateTime: Sendable, Hashable {
    public let date: TOMLDate
    public let time: TOMLTime
    /// Minutes east of UTC, nil for a local date-time.
    public let offsetMinutes: Int?
}

/// One value of a document.
public struct TOMLValue {
    let document: TOMLDocument
    let index: Int
    private var node: accord_toml_node { document.nodes[index] }

    public var type: TOMLType {
        switch UInt32(node.type) {
        case ACCORD_TOML_TABLE.rawValue: return .table
        case ACCORD_TOML_ARRAY.rawValue: return .array
        case ACCORD_TOML_STRING.rawValue: return .string
        case ACCORD_TOML_INTEGER.rawValue: return .int
        case ACCORD_TOML_FLOAT.rawValue: return .double
        case ACCORD_TOML_BOOLEAN.rawValue: return .bool
        case ACCORD_TOML_DATE.rawValue: return .date
        case ACCORD_TOML_TIME.rawValue: return .time
        default: return .dateTime
        }
    }

    /// The line where the value is written.
    public var line: Int { Int(node.line) }

    public var string: String? {
        let node = self.node
        return type == .string ? document.text(node.first, node.count) : nil
    }
    public var int: Int? { type == .int ? Int(node.integer) : nil }
    public var double: Double? { type == .double ? node.number : nil }
    public var bool: Bool? { type == .bool ? node.integer != 0 : nil }
    public var date: TOMLDate? { type == .date ? Self.date(node) : nil }
    public var time: TOMLTime? { type == .time ? Self.time(node) : nil }
    public var dateTime: TOMLDateTime? {
        let node = self.node
        guard type == .dateTime else { return nil }
        return TOMLDateTime(date: Self.date(node), time: Self.time(node), offsetMinutes: node.has_offset != 0 ? Int(node.offset_minutes) : nil)
    }
    public var table: TOMLTable? { type == .table ? TOMLTable(document: document, index: index) : nil }
    public var array: TOMLArray? { type == .array ? TOMLArray(document: document, index: index) : nil }

    private static func date(_ node: accord_toml_node) -> TOMLDate {
        TOMLDate(year: Int(node.year), month: Int(node.month), day: Int(node.day))
    }
    private static func time(_ node: accord_toml_node) -> TOMLTime {
        TOMLTime(hour: Int(node.hour), minute: Int(node.minute), second: Int(node.second), nanosecond: Int(node.nanosecond))
    }
}

/// A table: its values by key.
public struct TOMLTable {
    let document: TOMLDocument
    let index: Int

    private var children: Range<Int> {
        let node = document.nodes[index]
        return Int(node.first)..<Int(node.first + node.count)
    }

    public subscript(key: String) -> TOMLValue? { entry(key)?.value }

    /// The key's value and its position among the table's keys (the order of `keys`).
    public func entry(_ key: String) -> (value: TOMLValue, position: Int)? {
        let children = self.children
        for child in children {
            let node = document.nodes[child]
            if document.equals(node.key, node.key_length, key) {
                return (TOMLValue(document: document, index: child), child - children.lowerBound)
            }
        }
        return nil
    }

    /// The key at `position` among the table's keys.
    public func key(at position: Int) -> String {
        let node = document.nodes[children.lowerBound + position]
        return document.text(node.key, node.key_length)
    }

    /// The keys, in byte order (toml++ keeps a table sorted).
    public var keys: [String] {
        children.map { child in
            let node = document.nodes[child]
            return document.text(node.key, node.key_length)
        }
    }

    public var count: Int { children.count }
}

/// An array: its values in the document's order.
public struct TOMLArray: RandomAccessCollection {
    let document: TOMLDocument
    let index: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { Int(document.nodes[index].count) }
    public subscript(position: Int) -> TOMLValue {
        precondition(position >= 0 && position < endIndex, "TOML array index out of range")
        return TOMLValue(document: document, index: Int(document.nodes[index].first) + position)
    }
}
