import TOMLKit

/// Finds the line of a table header or key in TOML text.
///
/// TOMLKit reports lines only for syntax errors; a problem found later (a bad zone, an
/// unknown key) still deserves a line, so the text is scanned once for headers and keys.
struct SourceLines {
    /// `section` is `""` for the top level, `dialogue`, `notify`, or `objective#0`, `instrument#2`.
    private var headers: [String: Int] = [:]
    private var keys: [String: Int] = [:]

    init(text: String) {
        var section = ""
        var arrayCounts: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[[") {
                let name = SourceLines.headerName(line.dropFirst(2))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                section = "\(name)#\(index)"
                headers[section] = lineNumber
            } else if line.hasPrefix("[") {
                section = SourceLines.headerName(line.dropFirst())
                headers[section] = lineNumber
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                var key = line[..<equals].trimmingCharacters(in: " \t")
                if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
                if keys["\(section)|\(key)"] == nil { keys["\(section)|\(key)"] = lineNumber }
            }
        }
    }

    private static func headerName(_ rest: Substring) -> String {
        let name = rest.prefix { $0 != "]" }
        return name.trimmingCharacters(in: " \t")
    }

    func line(section: String, key: String? = nil) -> Int? {
        if let key, let line = keys["\(section)|\(key)"] { return line }
        return headers[section]
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Reads typed values out of one TOML table, collecting every problem rather than
/// stopping at the first, and refusing keys it was not asked about.
final class TableReader {
    let table: TOMLTable
    let file: String
    /// Human key path prefix: `instrument "cbsa-beea-pilot-mou"`.
    let path: String
    let section: String
    let lines: SourceLines
    private(set) var problems: [ConfigProblem]
    private var consulted: Set<String> = []

    init(table: TOMLTable, file: String, path: String, section: String, lines: SourceLines) {
        self.table = table; self.file = file; self.path = path; self.section = section
        self.lines = lines; self.problems = []
    }

    func problem(_ key: String?, _ message: String) {
        let keyPath = [path, key].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " › ")
        problems.append(ConfigProblem(file: file, line: lines.line(section: section, key: key),
                                      keyPath: keyPath, message: message))
    }

    func value(_ key: String) -> TOMLValueConvertible? {
        consulted.insert(key)
        return table[key]
    }

    /// Every key not asked for is an error: a typo must not switch a reminder off.
    func rejectUnknownKeys(allowed: [String]) {
        for key in table.keys where !consulted.contains(key) {
            problem(key, "unknown key; allowed here: \(allowed.joined(separator: ", "))")
        }
    }

    func string(_ key: String, required: Bool = false) -> String? {
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

    func identifier(_ key: String) -> String? {
        guard let text = string(key, required: true) else { return nil }
        let valid = !text.isEmpty && text.count <= 64 && text.utf8.allSatisfy {
            ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45
        } && !text.hasPrefix("-")
        if !valid {
            problem(key, "\"\(text)\" is not a valid id: use 1 to 64 of a-z, 0-9 and -, not starting with -")
            return nil
        }
        return text
    }

    func strings(_ key: String) -> [String]? {
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

    func duration(_ key: String) -> ISODuration? {
        guard let text = string(key) else { return nil }
        do {
            return try ISODuration(parsing: text)
        } catch {
            problem(key, error.description)
            return nil
        }
    }

    func durations(_ key: String) -> [ISODuration]? {
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

    func zone(_ key: String) -> Zone? {
        guard let name = string(key) else { return nil }
        do {
            return try Zone.named(name)
        } catch {
            problem(key, error.description)
            return nil
        }
    }

    func time(_ key: String) -> LocalTime? {
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

    func date(_ key: String) -> CivilDate? {
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
    func deadline(_ key: String, zone: Zone?) -> DeadlineTime? {
        guard let value = value(key) else { return nil }
        if value.type == .date { return date(key).map { .date($0) } }
        if let dateTime = value.dateTime {
            guard let day = CivilDate(year: dateTime.date.year, month: dateTime.date.month, day: dateTime.date.day),
                  let time = LocalTime(hour: dateTime.time.hour, minute: dateTime.time.minute, second: dateTime.time.second) else {
                problem(key, "is not a valid date-time")
                return nil
            }
            let local = LocalDateTime(date: day, time: time)
            if let offset = dateTime.offset {
                return .instant(Instant(seconds: local.secondsAsIfUTC - Int64(offset.offset) * 60))
            }
            guard let zone else { return nil }  // the zone's own problem is reported already
            return .instant(zone.instant(for: local))
        }
        problem(key, "must be a date (2017-03-31) or a date-time with offset (2017-03-31T17:00:00-04:00), not \(value.type)")
        return nil
    }
}
