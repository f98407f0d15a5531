/// A Varlink error: its fully qualified name and its parameters. Thrown by the parameter
/// accessors and by `VarlinkCall.decode`, so a server can turn any failure into the reply
/// that names it with `VarlinkReply(error)`.
public struct VarlinkError: Error, Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var parameters: JSONObject

    public init(_ name: String, _ parameters: JSONObject = [:]) {
        self.name = name
        self.parameters = parameters
    }

    /// A parameter is missing, of the wrong type, unknown, or has a value the method refuses.
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InvalidParameter", ["parameter": .string(parameter)])
    }

    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)])
    }

    /// `method` is the fully qualified name, as the client sent it.
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotFound", ["method": .string(method)])
    }

    /// The method streams its replies and was called without `more`.
    public static let expectedMore = VarlinkError("org.varlink.service.ExpectedMore")

    /// A message that is not a Varlink call at all (io.accord.Tracker.InvalidRequest): the
    /// standard interface has no error for it, and the client deserves a reason.
    public static func invalidRequest(_ reason: String) -> VarlinkError {
        Tracker.InvalidRequest(reason: reason).varlinkError
    }

    public var description: String {
        parameters.isEmpty ? name : "\(name) \(JSONValue.object(parameters).jsonText)"
    }
}

/// A call from a client.
public struct VarlinkCall: Sendable, Equatable {
    /// Fully qualified: `io.accord.Tracker.Show`.
    public var method: String
    public var parameters: JSONObject
    /// The client wants no reply.
    public var oneway: Bool
    /// The client accepts several replies, each but the last with `continues`.
    public var more: Bool
    /// The client wants to take over the connection after the reply (accord never agrees).
    public var upgrade: Bool

    public init(method: String, parameters: JSONObject = [:], oneway: Bool = false, more: Bool = false, upgrade: Bool = false) {
        self.method = method; self.parameters = parameters; self.oneway = oneway; self.more = more; self.upgrade = upgrade
    }

    /// `io.accord.Tracker.Status` → (`io.accord.Tracker`, `Status`).
    public var splitMethod: (interface: String, method: String) {
        guard let dot = method.lastIndex(of: ".") else { return ("", method) }
        return (String(method[..<dot]), String(method[method.index(after: dot)...]))
    }

    /// Reads and checks one message (without its NUL): an object with a well-formed
    /// `method`, an object for `parameters`, booleans for the flags, nothing else. `null`
    /// counts as absent, as for any optional Varlink field.
    ///
    /// The thrown error is the reply to send: `org.varlink.service.InvalidParameter`
    /// naming `parameters` when that is not an object, otherwise
    /// `io.accord.Tracker.InvalidRequest` with the reason (not JSON, not UTF-8, not an
    /// object, no valid method, a flag that is not a bool, an unknown key, or `oneway`
    /// with `more`). Framing is intact after either, so the server may keep the connection.
    public static func decode(_ bytes: [UInt8]) throws(VarlinkError) -> VarlinkCall {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw .invalidRequest("not valid JSON: \(error)")
        }
        guard case let .object(object) = value else { throw .invalidRequest("a call must be a JSON object") }
        for (key, _) in object {
            switch key {
            case "method", "parameters", "oneway", "more", "upgrade": continue
            default: throw .invalidRequest("unknown key \"\(key)\" in the call")
            }
        }
        guard let method = object["method"]?.stringValue else { throw .invalidRequest("the call has no \"method\" string") }
        guard isValidMethod(method) else { throw .invalidRequest("\"\(method)\" is not INTERFACE.Method") }
        var call = VarlinkCall(method: method)
        switch object["parameters"] {
        case nil, .null?: break
        case let .object(parameters)?: call.parameters = parameters
        default: throw .invalidParameter("parameters")
        }
        func flag(_ name: String) throws(VarlinkError) -> Bool {
            switch object[name] {
            case nil, .null?: return false
            case let .bool(value)?: return value
            default: throw .invalidRequest("\"\(name)\" must be a boolean")
            }
        }
        call.oneway = try flag("oneway")
        call.more = try flag("more")
        call.upgrade = try flag("upgrade")
        if call.oneway && call.more { throw .invalidRequest("\"oneway\" and \"more\" cannot be combined") }
        return call
    }

    /// The Varlink grammar: an interface name of at least two dot-separated parts (letters,
    /// digits, inner hyphens; the first character a letter), then `.` and a member name
    /// (a capital letter, then letters and digits).
    static func isValidMethod(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        guard utf8.count <= 255, let dot = utf8.lastIndex(of: UInt8(ascii: ".")) else { return false }
        let member = utf8[(dot + 1)...]
        guard let first = member.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z"),
            member.allSatisfy(isAlphanumeric)
        else { return false }
        let interface = utf8[..<dot]
        guard let initial = interface.first, isLetter(initial) else { return false }
        let parts = interface.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count >= 2
            && parts.allSatisfy { part in
                guard let head = part.first, let tail = part.last else { return false }
                return isAlphanumeric(head) && isAlphanumeric(tail)
                    && part.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
            }
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || isLetter(byte)
    }

    /// The message and its terminating NUL, ready to write.
    public func encode() -> [UInt8] {
        var object: JSONObject = ["method": .string(method)]
        if !parameters.isEmpty { object["parameters"] = .object(parameters) }
        if oneway { object["oneway"] = true }
        if more { object["more"] = true }
        if upgrade { object["upgrade"] = true }
        var out = JSONValue.object(object).serialized()
        out.append(0)
        return out
    }
}

/// A reply: parameters, or an error with its parameters; `continues` for `more` calls.
public struct VarlinkReply: Sendable, Equatable {
    public var parameters: JSONObject
    /// Another reply to the same call follows.
    public var continues: Bool
    /// The fully qualified error name, nil for success.
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

    /// Reads a reply (without its NUL), for clients. Refuses anything that is not an object
    /// with an optional string `error`, an optional object `parameters` and an optional
    /// bool `continues`, so a confused peer is reported rather than half-understood.
    public static func decode(_ bytes: [UInt8]) throws(VarlinkError) -> VarlinkReply {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes, maximumDepth: 256) } catch { throw .invalidRequest("reply is not valid JSON: \(error)") }
        guard case let .object(object) = value else { throw .invalidRequest("reply is not an object") }
        var reply = VarlinkReply()
        for (key, value) in object {
            switch (key, value) {
            case (_, .null): break
            case let ("parameters", .object(parameters)): reply.parameters = parameters
            case let ("continues", .bool(continues)): reply.continues = continues
            case let ("error", .string(error)): reply.error = error
            default: throw .invalidRequest("reply has an unexpected \"\(key)\" (\(value.typeName))")
            }
        }
        return reply
    }
}

/// Checks on call parameters beyond what the wire types' decoding does.
extension JSONObject {
    /// Refuses parameters the method does not take: a typo must not be silently ignored.
    public func rejectUnknown(allowed: Set<String>) throws(VarlinkError) {
        for key in keys where !allowed.contains(key) { throw .invalidParameter(key) }
    }

    /// A string parameter if present and a string, for audit lines about refused calls.
    public func stringValue(_ name: String) -> String? { self[name]?.stringValue }
}
