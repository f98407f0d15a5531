import Glibc

/// The stream broke the framing rules; the connection cannot be trusted after this.
public enum VarlinkFrameError: Error, Equatable, Sendable {
    /// More than `limit` bytes arrived without the NUL that ends a message.
    case messageTooLarge(limit: Int)
}

/// Splits a Varlink byte stream into messages: each is a JSON object ended by a NUL.
///
/// Bytes are scanned once: a partial message remembers how far it was searched, so a
/// message arriving one byte at a time costs linear time, not quadratic; consumed bytes are
/// dropped only once they are at least half the buffer, so many small messages in one read
/// cost linear time too.
public struct VarlinkFrameReader: Sendable {
    public typealias FrameError = VarlinkFrameError

    /// The longest message accepted, not counting its NUL.
    public let maximumMessageSize: Int
    private var buffer: [UInt8] = []
    /// Where the first unconsumed message starts.
    private var start = 0
    /// Bytes before this (and after `start`) are known not to be NUL.
    private var scanned = 0

    public init(maximumMessageSize: Int = 1 << 20) {
        precondition(maximumMessageSize > 0, "a Varlink message needs at least one byte")
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message without its NUL, nil when none is complete yet. Throws as
    /// soon as the message being read is longer than the limit, whether or not its NUL has
    /// arrived, so a client cannot make the reader buffer without bound.
    public mutating func next() throws(VarlinkFrameError) -> [UInt8]? {
        let from = scanned
        let nul: Int? = buffer.withUnsafeBufferPointer { buffer in
            guard from < buffer.count, let base = buffer.baseAddress,
                let found = memchr(base + from, 0, buffer.count - from)
            else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        guard let nul else {
            scanned = buffer.count
            if buffer.count - start > maximumMessageSize { throw .messageTooLarge(limit: maximumMessageSize) }
            return nil
        }
        guard nul - start <= maximumMessageSize else { throw .messageTooLarge(limit: maximumMessageSize) }
        let message = Array(buffer[start..<nul])
        start = nul + 1
        scanned = start
        compact()
        return message
    }

    /// Some bytes of a message have arrived, but not its end: the caller's cue to time out
    /// a client that stops half-way.
    public var hasPartialMessage: Bool { buffer.count > start }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
            start = 0
            scanned = 0
        } else if start >= 4096, start * 2 >= buffer.count {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
    }
}
