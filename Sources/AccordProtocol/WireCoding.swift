// Swift's Codable over `JSONValue`, so that every wire type of io.accord.Tracker is one struct
// whose stored properties are its fields: the compiler writes the encoding and the decoding,
// and a field added to a struct reaches the daemon's replies, `accordd plan --json` and
// accordctl at once. No Foundation: accordctl starts faster without it.
//
// Encoding keeps the order in which a type encodes its properties (declaration order for the
// synthesized code), and leaves out optionals that are nil, as the hand-built replies did.
// Decoding counts `null` as absent, as Varlink's optional fields allow; a wrong type or a missing
// required field is `org.varlink.service.InvalidParameter` naming the field.

/// A wire value: encodes to and decodes from `JSONValue`.
public typealias WireCodable = Codable & Sendable & Equatable

extension Encodable {
    /// This value as JSON, in the order its properties encode.
    public func wireValue() -> JSONValue {
        let encoder = WireEncoder(codingPath: [])
        // Every WireEncoder container is total: nothing it is given can fail to encode.
        try? encode(to: encoder)
        return encoder.root.value
    }

    /// This value as a JSON object (an empty one for a value that is not an object).
    public func wireObject() -> JSONObject { wireValue().objectValue ?? [:] }
}

extension Decodable {
    /// Reads a value; the error names the first field that is missing or of the wrong type.
    public init(wire value: JSONValue) throws(VarlinkError) {
        do {
            self = try Self(from: WireDecoder(value: value, codingPath: []))
        } catch let error as WireDecodingError {
            throw .invalidParameter(error.path)
        } catch {
            throw .invalidParameter("\(error)")
        }
    }

    public init(wire object: JSONObject) throws(VarlinkError) { try self.init(wire: .object(object)) }
}

/// Method parameters: like any wire value, and a call that names a parameter the method does
/// not take is refused (a typo must not be silently ignored).
public protocol CallParameters: WireCodable {
    associatedtype Keys: CodingKey & CaseIterable
    /// The parameters as a call sends them: `wireObject()`, unless a type knows a shorter way.
    func wireParameters() -> JSONObject
    /// The parameter names the IDL gives this method: its `Keys`, unless it says otherwise (a
    /// requirement, so that NoParameters' none is what `decode` checks against).
    static var parameterNames: [String] { get }
    /// The parameters of a call, or the error to reply with: a requirement, so that a type that
    /// knows a shorter way (NoParameters) is asked for it by generic callers too.
    static func decode(_ parameters: JSONObject) throws(VarlinkError) -> Self
}

extension CallParameters {
    public func wireParameters() -> JSONObject { wireObject() }

    public static var parameterNames: [String] { Keys.allCases.map { $0.stringValue } }

    /// Checks for unknown names first, then reads each parameter. A call without parameters
    /// (every Status) has no name to check: building the set of allowed names was 9.5% of the
    /// daemon's perf samples under 16 clients calling Status, most of it instantiating the key
    /// path `\.stringValue` (swift_getKeyPath), which the closure above no longer needs.
    public static func decode(_ parameters: JSONObject) throws(VarlinkError) -> Self {
        if !parameters.isEmpty { try parameters.rejectUnknown(allowed: Set(parameterNames)) }
        return try Self(wire: parameters)
    }
}

/// A method without parameters.
public struct NoParameters: CallParameters {
    public enum Keys: String, CodingKey, CaseIterable { case none }
    public init() {}
    public init(from decoder: any Decoder) throws {}
    public func encode(to encoder: any Encoder) throws { _ = encoder.container(keyedBy: Keys.self) }
    /// What encode(to:) gives, without it: its first keyed container costs the runtime a metadata
    /// lookup by mangled name and a conformance scan, 2.7% of the perf samples of a cold
    /// `accordctl status` (Status takes no parameters).
    public func wireParameters() -> JSONObject { [:] }
    public static var parameterNames: [String] { [] }
    /// Without the Decoder that `init(from:)` would be handed: building one for nothing was
    /// 1.5% of the daemon's samples under 16 clients calling Status. Any name is refused.
    public static func decode(_ parameters: JSONObject) throws(VarlinkError) -> NoParameters {
        if !parameters.isEmpty { try parameters.rejectUnknown(allowed: []) }
        return NoParameters()
    }
}

// MARK: encoding

/// A value under construction: objects and arrays are filled in by their containers.
private final class WireNode {
    enum Content {
        case scalar(JSONValue)
        case object([(String, WireNode)])
        case array([WireNode])
    }
    var content: Content = .scalar(.null)

    var value: JSONValue {
        switch content {
        case let .scalar(value): return value
        case let .object(members):
            var object = JSONObject()
            for (key, node) in members { object[key] = node.value }
            return .object(object)
        case let .array(nodes): return .array(nodes.map(\.value))
        }
    }

    func appendMember(_ key: String, _ node: WireNode) {
        if case var .object(members) = content {
            content = .scalar(.null)  // let go of the array's only reference before appending
            members.append((key, node))
            content = .object(members)
        } else {
            content = .object([(key, node)])
        }
    }

    func appendElement(_ node: WireNode) {
        if case var .array(nodes) = content {
            content = .scalar(.null)
            nodes.append(node)
            content = .array(nodes)
        } else {
            content = .array([node])
        }
    }
}

private struct WireEncoder: Encoder {
    let root = WireNode()
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = root.content {} else { root.content = .object([]) }
        return KeyedEncodingContainer(KeyedWireEncoder<Key>(node: root, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = root.content {} else { root.content = .array([]) }
        return UnkeyedWireEncoder(node: root, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleWireEncoder(node: root, codingPath: codingPath) }

    /// A scalar's JSON, or nil for a value that encodes itself through containers.
    static func scalar(_ value: some Encodable) -> JSONValue? {
        switch value {
        case let value as String: return .string(value)
        case let value as Bool: return .bool(value)
        case let value as Int: return .integer(Int64(value))
        case let value as Int64: return .integer(value)
        case let value as Int32: return .integer(Int64(value))
        case let value as UInt32: return .integer(Int64(value))
        case let value as Double: return .double(value)
        case let value as JSONValue: return value
        default: return nil
        }
    }

    static func node(for value: some Encodable, at codingPath: [any CodingKey]) -> WireNode {
        if let scalar = scalar(value) {
            let node = WireNode()
            node.content = .scalar(scalar)
            return node
        }
        let encoder = WireEncoder(codingPath: codingPath)
        try? value.encode(to: encoder)
        return encoder.root
    }
}

private struct KeyedWireEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: WireNode
    var codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) { append(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) { append(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) { append(key, .string(value)) }
    mutating func encode(_ value: Int, forKey key: Key) { append(key, .integer(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) { append(key, .integer(value)) }
    mutating func encode(_ value: Double, forKey key: Key) { append(key, .double(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) {
        node.appendMember(key.stringValue, WireEncoder.node(for: value, at: codingPath + [key]))
    }

    private func append(_ key: Key, _ value: JSONValue) {
        let child = WireNode()
        child.content = .scalar(value)
        node.appendMember(key.stringValue, child)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = WireNode()
        child.content = .object([])
        node.appendMember(key.stringValue, child)
        return KeyedEncodingContainer(KeyedWireEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = WireNode()
        child.content = .array([])
        node.appendMember(key.stringValue, child)
        return UnkeyedWireEncoder(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { WireEncoder(codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { WireEncoder(codingPath: codingPath + [key]) }
}

private struct UnkeyedWireEncoder: UnkeyedEncodingContainer {
    let node: WireNode
    var codingPath: [any CodingKey]
    var count: Int {
        if case let .array(nodes) = node.content { return nodes.count }
        return 0
    }

    mutating func encodeNil() { append(.null) }
    mutating func encode(_ value: Bool) { append(.bool(value)) }
    mutating func encode(_ value: String) { append(.string(value)) }
    mutating func encode(_ value: Int) { append(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) { append(.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) { node.appendElement(WireEncoder.node(for: value, at: codingPath)) }

    private func append(_ value: JSONValue) {
        let child = WireNode()
        child.content = .scalar(value)
        node.appendElement(child)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = WireNode()
        child.content = .object([])
        node.appendElement(child)
        return KeyedEncodingContainer(KeyedWireEncoder<NestedKey>(node: child, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = WireNode()
        child.content = .array([])
        node.appendElement(child)
        return UnkeyedWireEncoder(node: child, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder { WireEncoder(codingPath: codingPath) }
}

private struct SingleWireEncoder: SingleValueEncodingContainer {
    let node: WireNode
    var codingPath: [any CodingKey]

    mutating func encodeNil() { node.content = .scalar(.null) }
    mutating func encode(_ value: Bool) { node.content = .scalar(.bool(value)) }
    mutating func encode(_ value: String) { node.content = .scalar(.string(value)) }
    mutating func encode(_ value: Int) { node.content = .scalar(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) { node.content = .scalar(.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) { node.content = WireEncoder.node(for: value, at: codingPath).content }
}

// MARK: decoding

/// Where decoding stopped: the dotted path of the field (`id`, `reminder.fireAt`).
struct WireDecodingError: Error {
    var path: String

    init(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) {
        let keys = codingPath + (key.map { [$0] } ?? [])
        path = keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        if path.isEmpty { path = "parameters" }
    }
}

private struct WireDecoder: Decoder {
    let value: JSONValue
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case let .object(object) = value else { throw WireDecodingError(codingPath) }
        return KeyedDecodingContainer(KeyedWireDecoder<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case let .array(values) = value else { throw WireDecodingError(codingPath) }
        return UnkeyedWireDecoder(values: values, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleWireDecoder(value: value, codingPath: codingPath) }

    /// Scalars read directly; anything else through its own `init(from:)`.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, at codingPath: [any CodingKey]) throws -> T {
        // The error only when it is thrown: its path is a string joined from the coding path,
        // which built for every scalar was 267 of 34,890 perf samples of `accordctl status`.
        var fail: WireDecodingError { WireDecodingError(codingPath) }
        switch type {
        case is String.Type:
            guard case let .string(text) = value else { throw fail }
            return text as! T
        case is Bool.Type:
            guard case let .bool(flag) = value else { throw fail }
            return flag as! T
        case is Int.Type:
            guard case let .integer(number) = value, let int = Int(exactly: number) else { throw fail }
            return int as! T
        case is Int64.Type:
            guard case let .integer(number) = value else { throw fail }
            return number as! T
        case is Double.Type:
            switch value {
            case let .double(number): return number as! T
            case let .integer(number): return Double(number) as! T
            default: throw fail
            }
        case is JSONValue.Type:
            return value as! T
        default:
            return try T(from: WireDecoder(value: value, codingPath: codingPath))
        }
    }
}

private struct KeyedWireDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    var codingPath: [any CodingKey]
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    /// `null` counts as absent.
    func contains(_ key: Key) -> Bool {
        if let value = object[key.stringValue], value != .null { return true }
        return false
    }

    private func present(_ key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue], value != .null else { throw WireDecodingError(codingPath, key) }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try WireDecoder.decode(type, from: try present(key), at: codingPath + [key])
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        return try decode(type, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try WireDecoder(value: try present(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try WireDecoder(value: try present(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { WireDecoder(value: .object(object), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { WireDecoder(value: try present(key), codingPath: codingPath + [key]) }
}

private struct ArrayIndex: CodingKey {
    var intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedWireDecoder: UnkeyedDecodingContainer {
    let values: [JSONValue]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { values.count }
    var isAtEnd: Bool { currentIndex >= values.count }

    init(values: [JSONValue], codingPath: [any CodingKey]) {
        self.values = values
        self.codingPath = codingPath
    }

    mutating func next() throws -> (JSONValue, [any CodingKey]) {
        let path = codingPath + [ArrayIndex(currentIndex)]
        guard !isAtEnd else { throw WireDecodingError(path) }
        defer { currentIndex += 1 }
        return (values[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, values[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next()
        return try WireDecoder.decode(type, from: value, at: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next()
        return try WireDecoder(value: value, codingPath: path).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next()
        return try WireDecoder(value: value, codingPath: path).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next()
        return WireDecoder(value: value, codingPath: path)
    }
}

private struct SingleWireDecoder: SingleValueDecodingContainer {
    let value: JSONValue
    var codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try WireDecoder.decode(type, from: value, at: codingPath) }
}
