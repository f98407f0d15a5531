import AccordCalendar

/// Writes iCalendar text (RFC 5545): content lines ended by CRLF (§3.1), folded so that no
/// line is longer than 75 octets, never inside a UTF-8 sequence (§3.1), TEXT values escaped
/// (§3.3.11), DATE and DATE-TIME values in their basic forms (§3.3.4, §3.3.5) and durations
/// in the form §3.3.6 allows (weeks, days and time: no years or months).
public struct ICalendarWriter {
    public private(set) var bytes: [UInt8] = []
    /// Takes the text a megabyte at a time, when set: a file need not wait for the whole
    /// calendar in memory (200 MB of text at 100,000 items). `finish()` hands over the rest.
    private let sink: ((UnsafeBufferPointer<UInt8>) -> Void)?

    public init() { sink = nil }

    public init(sink: @escaping (UnsafeBufferPointer<UInt8>) -> Void) {
        self.sink = sink
        bytes.reserveCapacity(ICalendarWriter.chunk + 4096)
    }

    static let chunk = 1 << 20

    /// Hands what is left to the sink.
    public mutating func finish() {
        guard let sink, !bytes.isEmpty else { return }
        bytes.withUnsafeBufferPointer(sink)
        bytes.removeAll(keepingCapacity: true)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func begin(_ component: String) { line("BEGIN:" + component) }
    public mutating func end(_ component: String) { line("END:" + component) }

    /// A property whose value is already in its type's form (a date, a duration, a code).
    public mutating func property(_ name: String, _ value: String) { property(name, [], value) }

    public mutating func property(_ name: String, _ parameters: [(String, String)], _ value: String) {
        var content = name
        for (parameter, parameterValue) in parameters { content += ";" + parameter + "=" + ICalendarWriter.parameterValue(parameterValue) }
        line(content + ":" + value)
    }

    /// A TEXT property: the value escaped as §3.3.11 says.
    public mutating func text(_ name: String, _ value: String) { property(name, [], ICalendarWriter.escaped(value)) }

    /// `\` `;` `,` escaped with a backslash, line breaks as `\n`; other control characters,
    /// which TEXT may not hold, become spaces (a tab stays).
    public static func escaped(_ value: String) -> String {
        var out = ""
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n": if !previousWasCR { out += "\\n" }
            case "\r": out += "\\n"
            case "\t": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// A parameter value, quoted when it holds `:`, `;` or `,` (§3.2); `"` cannot appear in one.
    static func parameterValue(_ value: String) -> String {
        let clean = String(value.unicodeScalars.filter { $0 != "\"" && $0.value >= 0x20 }.map(Character.init))
        return clean.contains(where: { $0 == ":" || $0 == ";" || $0 == "," }) ? "\"" + clean + "\"" : clean
    }

    /// One content line, folded at 75 octets: a continuation line starts with a space, which
    /// counts toward its 75.
    mutating func line(_ content: String) {
        // Most lines fit: copied whole. A scalar at a time, each made a String of its own, the
        // 250,000 events of 100,000 items took 18 s to write.
        if content.utf8.count <= 75 {
            bytes += content.utf8
        } else {
            var length = 0
            for scalar in content.unicodeScalars {
                let size = UTF8.width(scalar)
                if length + size > 75 {
                    bytes += [13, 10, 32]
                    length = 1
                }
                UTF8.encode(scalar) { bytes.append($0) }
                length += size
            }
        }
        bytes += [13, 10]
        if sink != nil, bytes.count >= ICalendarWriter.chunk { finish() }
    }

    // MARK: value forms

    /// `20170331` (§3.3.4).
    public static func date(_ date: CivilDate) -> String { digits(date.year, 4) + digits(date.month, 2) + digits(date.day, 2) }

    /// `20170331T090000`, a local time to go with TZID (§3.3.5, form 3).
    public static func localDateTime(_ reading: LocalDateTime) -> String {
        date(reading.date) + "T" + digits(reading.time.hour, 2) + digits(reading.time.minute, 2) + digits(reading.time.second, 2)
    }

    /// `20170331T130000Z` (§3.3.5, form 2).
    public static func utcDateTime(_ instant: Instant) -> String { localDateTime(Zone.utc.local(at: instant)) + "Z" }

    /// A signed duration of seconds as §3.3.6 writes it: `-P29DT15H`, `PT0S`.
    public static func duration(seconds: Int64) -> String {
        if seconds == 0 { return "PT0S" }
        let magnitude = seconds.magnitude
        let days = magnitude / 86_400, hours = magnitude % 86_400 / 3600, minutes = magnitude % 3600 / 60, rest = magnitude % 60
        var out = seconds < 0 ? "-P" : "P"
        if days > 0 { out += "\(days)D" }
        if hours > 0 || minutes > 0 || rest > 0 {
            out += "T"
            if hours > 0 { out += "\(hours)H" }
            if minutes > 0 { out += "\(minutes)M" }
            if rest > 0 { out += "\(rest)S" }
        }
        return out
    }

    /// `-0500`, `+0545` (§3.3.14).
    public static func utcOffset(_ seconds: Int) -> String {
        let minutes = abs(seconds) / 60
        return (seconds < 0 ? "-" : "+") + digits(minutes / 60, 2) + digits(minutes % 60, 2)
            + (abs(seconds) % 60 == 0 ? "" : digits(abs(seconds) % 60, 2))
    }

    private static func digits(_ value: Int, _ width: Int) -> String { pad(value, width) }
}
