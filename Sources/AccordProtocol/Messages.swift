/// A Varlink error: its fully qualified name and its parameters.
public struct VarlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var parameters: JSONObject

    public init(_ name: String, _ parameters: JSONObject = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InvalidParameter", ["parameter": .string(parameter)])
    }

    public static func invalidRequest(_ reason: String) -> VarlinkError {
        VarlinkError("io.accord.Tracker.InvalidRequest", ["reason": .string(reason)])
    }

    public var description: String {
        parameters.isEmpty ? name : "\(name) \(JSONValue.object(parameters).jsonText)"
    }
}

/// A call from a client.
public struct VarlinkCall: Sendable, Equatable {
    public var method: String
    public var parameters: JSONObject
    public var oneway: Bool
    public var more: Bool
    public var upgrade: Bool

    public init(method: String, parameters: JSONObject = [:], oneway: Bool = false, more: Bool = false, upgrade: Bool = false) {
        self.method = method; self.parameters = parameters; self.oneway = oneway; self.more = more; self.upgrade = upgrade
    }

    /// `io.accord.Tracker.Status` → (`io.accord.Tracker`, `Status`).
    public var splitMethod: (interface: String, method: String) {
        guard let dot = method.lastIndex(of: ".") else { return ("", method) }
        return (String(method[..<dot]), String(method[method.index(after: dot)...]))
    }

    /// Reads and checks one message: an object with a well-formed `method`, an object for
    /// `parameters`, booleans for the flags, nothing else.
    public static func decode(_ bytes: [UInt8]) throws(VarlinkError) -> VarlinkCall {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .invalidRequest("not valid JSON: \(error)")
        }
        guard case let .object(object) = value else { throw .invalidRequest("a call must be a JSON object") }
        for key in object.keys where !["method", "parameters", "oneway", "more", "upgrade"].contains(key) {
            throw .invalidRequest("unknown key \"\(key)\" in the call")
        }
        guard let method = object["method"]?.stringValue else { throw .invalidRequest("the call has no \"method\" string") }
        guard isValidMethod(method) else { throw .invalidRequest("\"\(method)\" is not INTERFACE.Method") }
        var call = VarlinkCall(method: method)
        switch object["parameters"] {
        case nil, .null?: break
        case let .object(parameters)?: call.parameters = parameters
        default: throw .invalidParameter("parameters")
        }
        for flag in ["oneway", "more", "upgrade"] {
            switch object[flag] {
            case nil, .null?: break
            case let .bool(value)?:
                if flag == "oneway" { call.oneway = value } else if flag == "more" { call.more = value } else { call.upgrade = value }
            default: throw .invalidRequest("\"\(flag)\" must be a boolean")
            }
        }
        if call.oneway && call.more { throw .invalidRequest("\"oneway\" and \"more\" cannot be combined") }
        return call
    }

    /// `reverse.domain.Interface.Method`: lower-case interface words, capitalised method.
    static func isValidMethod(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3, text.utf8.count <= 255, let method = parts.last, let first = method.utf8.first,
              first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z"),
              method.utf8.allSatisfy({ isAlphanumeric($0) }) else { return false }
        return parts.dropLast().allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    public func encode() -> [UInt8] {
        var object: JSONObject = ["method": .string(method)]
        if !parameters.isEmpty { object["parameters"] = .object(parameters) }
        if oneway { object["oneway"] = true }
        if more { object["more"] = true }
        if upgrade { object["upgrade"] = true }
        return JSONValue.object(object).serialized() + [0]
    }
}

/// A reply: parameters, or an error with its parameters; `continues` for `more` calls.
public struct VarlinkReply: Sendable, Equatable {
    public var parameters: JSONObject
    public var continues: Bool
    public var error: String?

    public init(parameters: JSONObject = [:], continues: Bool = false) {
        self.parameters = parameters
        self.continues = continues
        self.error = nil
    }

    public init(error: String, parameters: JSONObject = [:]) {
        self.parameters = parameters
        self.continues = false
        self.error = error
    }

    public init(_ error: VarlinkError) { self.init(error: error.name, parameters: error.parameters) }

    /// The JSON text and its terminating NUL.
    public func encode() -> [UInt8] {
        var object = JSONObject()
        if let error { object["error"] = .string(error) }
        object["parameters"] = .object(parameters)
        if continues { object["continues"] = true }
        var out = JSONValue.object(object).serialized()
        out.append(0)
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(VarlinkError) -> VarlinkReply {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes, maximumDepth: 256) } catch { throw .invalidRequest("reply is not valid JSON: \(error)") }
        guard case let .object(object) = value else { throw .invalidRequest("reply is not an object") }
        var reply = VarlinkReply(parameters: object["parameters"]?.objectValue ?? [:], continues: object["continues"]?.boolValue ?? false)
        reply.error = object["error"]?.stringValue
        return reply
    }
}

extension JSONObject {
    /// Refuses parameters the method does not take (a typo must not be ignored).
    public func rejectUnknown(allowed: Set<String>) throws(VarlinkError) {
        for key in keys where !allowed.contains(key) { throw .invalidParameter(key) }
    }

    public func string(_ name: String) throws(VarlinkError) -> String {
        guard let value = self[name], case let .string(text) = value else { throw .invalidParameter(name) }
        return text
    }

    public func optionalString(_ name: String) throws(VarlinkError) -> String? {
        switch self[name] {
        case nil, .null?: return nil
        case let .string(text)?: return text
        default: throw .invalidParameter(name)
        }
    }

    public func optionalInteger(_ name: String) throws(VarlinkError) -> Int64? {
        switch self[name] {
        case nil, .null?: return nil
        case let .integer(value)?: return value
        default: throw .invalidParameter(name)
        }
    }

    /// A string parameter if present and a string, for audit lines about refused calls.
    public func stringValue(_ name: String) -> String? { self[name]?.stringValue }
}
