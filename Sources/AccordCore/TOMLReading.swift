import AccordCalendar
import AccordTOML

/// Parses TOML text, turning a syntax error into a problem with its line. The document is
/// freed when the last reader of it is gone.
func parseTOML(_ text: String, file: String) throws(ConfigProblems) -> TOMLTable {
    do {
        return try TOMLDocument(parsing: text).root
    } catch {
        throw ConfigProblems([
            ConfigProblem(file: file, line: error.line, keyPath: "", message: "TOML syntax: \(error.description)")
        ])
    }
}

/// Finds the line of a table header or key in TOML text.
///
/// A problem found after parsing (a bad zone, an unknown key) deserves a line, including one
/// about a key that is missing, which has no value to carry a line: the text is scanned once,
/// as bytes, for table headers. Keys are looked for only when a problem names one.
struct SourceLines {
    /// `section` is `""` for the top level, `dialogue`, `notify`, or `objective#0`, `instrument#2`.
    private var tables: [String: Int] = [:]
    private var arrays: [String: [Int]] = [:]
    /// Byte offset of the start of each line (line n starts at lineStarts[n - 1]).
    private var lineStarts: [Int] = [0]
    private let bytes: [UInt8]

    init(text: String) {
        bytes = Array(text.utf8)
        var index = 0
        let count = bytes.count
        while index < count {
            var position = index
            while position < count, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
            if position < count, bytes[position] == UInt8(ascii: "[") {
                let isArray = position + 1 < count && bytes[position + 1] == UInt8(ascii: "[")
                let nameStart = position + (isArray ? 2 : 1)
                var nameEnd = nameStart
                while nameEnd < count, bytes[nameEnd] != UInt8(ascii: "]"), bytes[nameEnd] != 0x0A { nameEnd += 1 }
                let name = SourceLines.trimmed(bytes[nameStart..<nameEnd])
                if isArray { arrays[name, default: []].append(lineStarts.count) } else { tables[name] = lineStarts.count }
            }
            while index < count, bytes[index] != 0x0A { index += 1 }
            index += 1
            if index <= count { lineStarts.append(index) }
        }
    }

    private static func trimmed(_ slice: ArraySlice<UInt8>) -> String {
        var slice = slice
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 || last == 0x0D { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    /// The line of a section's header.
    func header(_ section: String) -> Int? {
        if section.isEmpty { return nil }
        if let hash = section.lastIndex(of: "#"), let index = Int(section[section.index(after: hash)...]) {
            let list = arrays[String(section[..<hash])] ?? []
            return index < list.count ? list[index] : nil
        }
        return tables[section]
    }

    func line(section: String, key: String? = nil) -> Int? {
        let headerLine = header(section)
        guard let key else { return headerLine }
        // The section runs from its header to the next line that starts a table.
        var line = (headerLine ?? 0) + 1
        while line <= lineStarts.count {
            let start = lineStarts[line - 1]
            let end = line < lineStarts.count ? lineStarts[line] : bytes.count
            var text = SourceLines.trimmed(bytes[start..<end])
            if text.hasPrefix("[") { break }
            if let equals = text.firstIndex(of: "=") {
                text = String(text[..<equals]).trimmingCharacters(in: " \t\"")
                if text == key { return line }
            }
            line += 1
        }
        return headerLine
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Reads typed values out of one TOML table, collecting every problem rather than
/// stopping at the first, and refusing keys it was not asked about. Public for the other
/// formats read this way (the daemon's accordd.toml), so that all report alike.
public final class TableReader {
    let table: TOMLTable
    let file: String
    /// Human key path prefix: `instrument "cbsa-beea-pilot-mou"`.
    let path: String
    let section: String
    let lines: SourceLines
    public private(set) var problems: [ConfigProblem]
    /// The keys asked for, by position in the table: a bit each for the first 64 (an item's
    /// table has about 20), a set past them. A Set of the key strings was 15% of `accordd check`
    /// at 100,000 items: a hash, an insert and four resizes per reader.
    private var consulted: UInt64 = 0
    private var consultedBeyond: Set<Int> = []
    /// For an inline table: every problem is on the line of the key that holds it.
    let fixedLine: Int?

    init(table: TOMLTable, file: String, path: String, section: String, lines: SourceLines, fixedLine: Int? = nil) {
        self.table = table; self.file = file; self.path = path; self.section = section
        self.lines = lines; self.problems = []; self.fixedLine = fixedLine
    }

    public func problem(_ key: String?, _ message: String) {
        let keyPath = [path, key].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " › ")
        problems.append(
            ConfigProblem(
                file: file, line: fixedLine ?? lines.line(section: section, key: key),
                keyPath: keyPath, message: message))
    }

    /// Takes over the problems of a reader of an inline table.
    public func absorb(_ other: TableReader) { problems += other.problems }

    /// Where a key is written, for checks made later (links between items).
    public func location(_ key: String) -> SourceLocation {
        SourceLocation(file: file, line: fixedLine ?? lines.line(section: section, key: key))
    }

    /// A value written bare, or as `{ VALUEKEY = …, basis = "…", source = "…" }` (§10). A bare
    /// value rests on `defaultBasis`. `read` reads the value from a reader and key.
    public func provenanced<T>(
        _ key: String, valueKey: String, defaultBasis: Basis,
        _ read: (TableReader, String) -> T?
    ) -> (value: T, provenance: Provenance)? {
        guard let entry = table.entry(key), let inline = entry.value.table else {
            guard let result = read(self, key) else { return nil }
            return (result, Provenance(basis: defaultBasis))
        }
        consult(entry.position)
        let sub = TableReader(
            table: inline, file: file, path: [path, key].filter { !$0.isEmpty }.joined(separator: " › "),
            section: section, lines: lines, fixedLine: fixedLine ?? lines.line(section: section, key: key))
        var result: T?
        if inline[valueKey] == nil {
            sub.problem(valueKey, "is required in a table with basis and source, e.g. { \(valueKey) = …, basis = \"statement\", source = \"…\" }")
        } else {
            result = read(sub, valueKey)
        }
        var basis = defaultBasis
        if let text = sub.string("basis") {
            if let parsed = Basis(rawValue: text), Basis.inFiles.contains(parsed) {
                basis = parsed
            } else {
                sub.problem("basis", "\"\(text)\" is not a basis; allowed: statement, confirmed, planned, assumed (recorded is for recorded events)")
            }
        }
        let source = sub.string("source")
        sub.rejectUnknownKeys(allowed: [valueKey, "basis", "source"])
        problems += sub.problems
        guard let result, sub.problems.isEmpty else { return nil }
        return (result, Provenance(basis: basis, source: source))
    }

    public func value(_ key: String) -> TOMLValue? {
        guard let entry = table.entry(key) else { return nil }
        consult(entry.position)
        return entry.value
    }

    private func consult(_ position: Int) {
        if position < 64 { consulted |= 1 << UInt64(position) } else { consultedBeyond.insert(position) }
    }

    private func wasConsulted(_ position: Int) -> Bool {
        position < 64 ? consulted & (1 << UInt64(position)) != 0 : consultedBeyond.contains(position)
    }

    /// Every key not asked for is an error: a typo must not switch a reminder off.
    public func rejectUnknownKeys(allowed: [String]) {
        for position in 0..<table.count where !wasConsulted(position) {
            problem(table.key(at: position), "unknown key; allowed here: \(allowed.joined(separator: ", "))")
        }
    }

    public func string(_ key: String, required: Bool = false) -> String? {
        guard let value = value(key) else {
            if required { problem(key, "is required") }
            return nil
        }
        guard let text = value.string else {
            problem(key, "must be a string, not \(value.type)")
            return nil
        }
        return text
    }

    public func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let flag = value.bool else {
            problem(key, "must be true or false, not \(value.type)")
            return nil
        }
        return flag
    }

    public func identifier(_ key: String) -> String? {
        guard let text = string(key, required: true) else { return nil }
        let valid =
            !text.isEmpty && text.count <= 64
            && text.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45
            } && !text.hasPrefix("-")
        if !valid {
            problem(key, "\"\(text)\" is not a valid id: use 1 to 64 of a-z, 0-9 and -, not starting with -")
            return nil
        }
        return text
    }

    public func strings(_ key: String) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else {
            problem(key, "must be an array of strings, not \(value.type)")
            return nil
        }
        var result: [String] = []
        for element in array {
            guard let text = element.string else {
                problem(key, "must be an array of strings; found \(element.type)")
                return nil
            }
            result.append(text)
        }
        return result
    }

    /// A whole number in `range`, or nil with the problem said.
    public func integer(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.int else {
            problem(key, "must be a whole number")
            return nil
        }
        guard range.contains(number) else {
            problem(key, "must be from \(range.lowerBound) to \(range.upperBound), not \(number)")
            return nil
        }
        return number
    }

    public func duration(_ key: String) -> ISODuration? {
        guard let text = string(key) else { return nil }
        do {
            return try ISODuration(parsing: text)
        } catch {
            problem(key, error.description)
            return nil
        }
    }

    public func durations(_ key: String) -> [ISODuration]? {
        guard let texts = strings(key) else { return nil }
        var result: [ISODuration] = []
        var ok = true
        for text in texts {
            do {
                let duration = try ISODuration(parsing: text)
                if result.contains(duration) {
                    problem(key, "\"\(text)\" is listed twice")
                    ok = false
                }
                result.append(duration)
            } catch {
                problem(key, error.description)
                ok = false
            }
        }
        return ok ? result : nil
    }

    public func zone(_ key: String) -> Zone? {
        guard let name = string(key) else { return nil }
        do {
            return try Zone.named(name)
        } catch {
            problem(key, error.description)
            return nil
        }
    }

    public func time(_ key: String) -> LocalTime? {
        guard let value = value(key) else { return nil }
        if let time = value.time {
            guard let local = LocalTime(hour: time.hour, minute: time.minute, second: time.second) else {
                problem(key, "is not a valid time of day")
                return nil
            }
            return local
        }
        if let text = value.string {
            do { return try LocalTime(parsing: text) } catch {
                problem(key, error.description)
                return nil
            }
        }
        problem(key, "must be a time of day such as 09:00:00, not \(value.type)")
        return nil
    }

    public func date(_ key: String) -> CivilDate? {
        guard let value = value(key) else { return nil }
        guard let date = value.date else {
            problem(key, "must be a date such as 2017-01-15 (no quotes), not \(value.type)")
            return nil
        }
        guard let civil = CivilDate(year: date.year, month: date.month, day: date.day) else {
            problem(key, "is not a date in the calendar")
            return nil
        }
        return civil
    }

    /// A date, a date-time with offset, or a local date-time read in `zone`.
    public func deadline(_ key: String, zone: Zone?) -> DeadlineTime? {
        guard let value = value(key) else { return nil }
        if value.type == .date { return date(key).map { .date($0) } }
        if let dateTime = value.dateTime {
            guard let day = CivilDate(year: dateTime.date.year, month: dateTime.date.month, day: dateTime.date.day),
                let time = LocalTime(hour: dateTime.time.hour, minute: dateTime.time.minute, second: dateTime.time.second)
            else {
                problem(key, "is not a valid date-time")
                return nil
            }
            let local = LocalDateTime(date: day, time: time)
            if let offset = dateTime.offsetMinutes {
                return .instant(Instant(seconds: local.secondsAsIfUTC - Int64(offset) * 60))
            }
            guard let zone else { return nil }  // the zone's own problem is reported already
            return .instant(zone.instant(for: local))
        }
        problem(key, "must be a date (2017-03-31) or a date-time with offset (2017-03-31T17:00:00-04:00), not \(value.type)")
        return nil
    }

    /// A string, or a TOML date-time with offset given as its RFC 3339 UTC text (`digest-at`
    /// takes either); anything else is a problem naming `expected`.
    public func stringOrInstant(_ key: String, expected: String) -> String? {
        guard let value = value(key) else { return nil }
        if let text = value.string { return text }
        if let dateTime = value.dateTime, dateTime.offsetMinutes != nil, case let .instant(at)? = deadline(key, zone: nil) { return at.rfc3339 }
        problem(key, "must be \(expected), not \(value.type)")
        return nil
    }

    /// The top-level reader of a whole document.
    public static func document(_ text: String, file: String) throws(ConfigProblems) -> TableReader {
        TableReader(table: try parseTOML(text, file: file), file: file, path: "", section: "", lines: SourceLines(text: text))
    }

    /// Whether the key is there at all (it is consulted: not reported as unknown).
    public func has(_ key: String) -> Bool { value(key) != nil }

    /// A reader of the table `[key]`, nil when the key holds something else (or nothing).
    public func subtable(_ key: String) -> TableReader? {
        guard let table = value(key)?.table else { return nil }
        let name = path.isEmpty ? key : path + "." + key
        return TableReader(table: table, file: file, path: name, section: name, lines: lines)
    }
}
