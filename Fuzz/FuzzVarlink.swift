// libFuzzer harness: Varlink framing and request decoding. Any input must end in a message,
// an error value or "need more bytes" — never a crash, a hang or unbounded memory.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVarlink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var reader = VarlinkFrameReader(maximumMessageSize: 4096)
    // Feed in uneven pieces, as a socket would.
    var offset = 0
    var piece = 1
    while offset < size {
        let end = min(size, offset + piece)
        reader.append(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[offset..<end]))
        offset = end
        piece = piece * 3 % 17 + 1
        while true {
            do {
                guard let message = try reader.next() else { break }
                if let call = try? VarlinkCall.decode(message) {
                    _ = try? Tracker.Show.Parameters.decode(call.parameters)
                    _ = try? Tracker.List.Parameters.decode(call.parameters)
                    let echoed = try? VarlinkCall.decode(Array(call.encode().dropLast()))
                    precondition(echoed == call, "a decoded call must survive encoding")
                }
                if let value = try? JSONValue.parse(message) {
                    let text = value.serialized()
                    precondition(!text.contains(0), "serialized JSON must never contain a raw NUL")
                    precondition((try? JSONValue.parse(text)) == value, "JSON must round-trip")
                }
            } catch {
                return 0
            }
        }
    }
    return 0
}
