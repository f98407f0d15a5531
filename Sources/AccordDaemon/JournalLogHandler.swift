import Logging

/// A swift-log handler for the daemon's own messages: each becomes a journal entry,
/// metadata as fields with names journald accepts.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let sink: any JournalSink
    let label: String

    public init(label: String, sink: any JournalSink) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = []
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        var messageID: String?
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            if key == "MESSAGE_ID" { messageID = "\(value)"; continue }
            fields.append((key, "\(value)"))
        }
        if let error = event.error { fields.append(("ERROR", "\(error)")) }
        fields.append(("CODE_FILE", event.file))
        fields.append(("CODE_LINE", String(event.line)))
        fields.append(("CODE_FUNC", event.function))
        sink.send(
            JournalEntry(
                message: event.message.description, priority: JournalLogHandler.priority(event.level),
                messageID: messageID, fields: fields))
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
