/// Splits a Varlink byte stream into messages: each is a JSON object ended by a NUL.
///
/// Bytes are scanned once: a partial message remembers how far it was searched, so a
/// message arriving one byte at a time costs linear time, not quadratic.
public struct VarlinkFrameReader: Sendable {
    public let maximumMessageSize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0

    public init(maximumMessageSize: Int = 1 << 20) {
        self.maximumMessageSize = maximumMessageSize
    }

    public enum FrameError: Error, Equatable, Sendable { case messageTooLarge(limit: Int) }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message without its NUL, nil when none is complete yet.
    public mutating func next() throws(FrameError) -> [UInt8]? {
        var index = max(start, scanned)
        while index < buffer.count {
            if buffer[index] == 0 {
                let message = Array(buffer[start..<index])
                start = index + 1
                scanned = start
                compact()
                if message.count > maximumMessageSize { throw .messageTooLarge(limit: maximumMessageSize) }
                return message
            }
            index += 1
        }
        scanned = index
        if buffer.count - start > maximumMessageSize { throw .messageTooLarge(limit: maximumMessageSize) }
        compact()
        return nil
    }

    /// Some bytes of a message have arrived, but not its end.
    public var hasPartialMessage: Bool { buffer.count > start }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
            scanned = 0
        } else if start > 1 << 16 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
    }
}
