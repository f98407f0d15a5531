// libFuzzer harness: the TZif reader (RFC 8536) and the POSIX footer rule, on any bytes. A file
// either fails with a reason or gives a zone whose offsets are in range at every instant asked,
// from year 1 to far past 9999: a damaged or hostile file in the zone database never crashes
// the daemon.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTZif(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard var rules = try? TZifRules(bytes) else { return 0 }
    rules.extendRule(through: 2100)
    for seconds: Int64 in [-62_135_596_800, -2_000_000_000, 0, 1_000_000_000, 4_102_444_800, 253_402_300_799, 300_000_000_000] {
        let offset = rules.offset(at: seconds)
        precondition(abs(Int(offset)) <= 7 * 86_400, "offset \(offset) at \(seconds)")
    }
    if let text = String(validating: bytes.suffix(64), as: UTF8.self), let rule = PosixZoneRule(text) {
        _ = rule.transitions(from: 9998, through: 10_001)
        _ = rule.offset(at: 253_402_300_799)
    }
    return 0
}
