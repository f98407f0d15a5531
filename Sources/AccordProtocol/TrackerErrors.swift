// The errors of io.accord.Tracker, each a struct of its parameters as the IDL declares them:
// the daemon throws them (as `VarlinkError`), accordctl reads them back by name.

/// An error of the interface: its member name and its parameters.
public protocol TrackerErrorReply: WireCodable, Error {
    static var name: String { get }
}

extension TrackerErrorReply {
    public static var qualifiedName: String { Tracker.interfaceName + "." + name }

    /// The reply to send.
    public var varlinkError: VarlinkError { VarlinkError(Self.qualifiedName, wireObject()) }

    /// This error, if `error` is it and its parameters read as the IDL says.
    public init?(_ error: VarlinkError) {
        guard error.name == Self.qualifiedName, let value = try? Self(wire: error.parameters) else { return nil }
        self = value
    }
}

extension Tracker {
    public struct NoSuchItem: TrackerErrorReply {
        public static let name = "NoSuchItem"
        public var id: String
        public init(id: String) { self.id = id }
    }

    public struct AmbiguousItem: TrackerErrorReply {
        public static let name = "AmbiguousItem"
        public var id: String
        public var candidates: [String]
        public init(id: String, candidates: [String]) { self.id = id; self.candidates = candidates }
    }

    public struct InvalidEvent: TrackerErrorReply, CustomStringConvertible {
        public static let name = "InvalidEvent"
        public var id: String
        public var event: String
        public var state: String
        public var allowed: [String]
        public var reason: String
        public init(id: String, event: String, state: String, allowed: [String], reason: String) {
            self.id = id; self.event = event; self.state = state; self.allowed = allowed; self.reason = reason
        }

        /// The one sentence the daemon's log and accordctl both print.
        public var description: String {
            "\(id): cannot record \(event): \(reason) (state \(state); allowed: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", ")))"
        }
    }

    public struct InvalidConfig: TrackerErrorReply {
        public static let name = "InvalidConfig"
        public var problems: [ConfigProblem]
        public init(problems: [ConfigProblem]) { self.problems = problems }
    }

    public struct PermissionDenied: TrackerErrorReply {
        public static let name = "PermissionDenied"
        public var method: String
        public var uid: Int
        public var user: String
        public var requiredGroup: String
        public init(method: String, uid: Int, user: String, requiredGroup: String) {
            self.method = method; self.uid = uid; self.user = user; self.requiredGroup = requiredGroup
        }
    }

    /// A request that could not be read: not JSON, not UTF-8, or not a Varlink call.
    public struct InvalidRequest: TrackerErrorReply {
        public static let name = "InvalidRequest"
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// A message longer than the server accepts; the connection is closed after this reply.
    public struct RequestTooLarge: TrackerErrorReply {
        public static let name = "RequestTooLarge"
        public var limit: Int
        public init(limit: Int) { self.limit = limit }
    }

    /// The state database could not be read or written; nothing was recorded.
    public struct StateUnavailable: TrackerErrorReply {
        public static let name = "StateUnavailable"
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// A write sent to a standby daemon (docs/contracts.md §15); `activeHost` names the active one.
    public struct NotActive: TrackerErrorReply {
        public static let name = "NotActive"
        public var method: String
        public var activeHost: String?
        public init(method: String, activeHost: String?) { self.method = method; self.activeHost = activeHost }
    }

    /// Every error type of the interface, for the test that holds them to the IDL.
    public static let errorTypes: [any TrackerErrorReply.Type] = [
        NoSuchItem.self, AmbiguousItem.self, InvalidEvent.self, InvalidConfig.self, PermissionDenied.self,
        InvalidRequest.self, RequestTooLarge.self, StateUnavailable.self, NotActive.self
    ]
}
