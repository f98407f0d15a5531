/// One zone's offsets as the system's time zone database states them: a TZif file
/// (RFC 8536), as installed in /usr/share/zoneinfo by Debian's tzdata.
///
/// Reading the system's files rather than the ICU copy inside Foundation keeps the daemon
/// on the rules `apt` updates when a country changes its clocks, and keeps ICU out of it.
struct TZifRules: Equatable, Sendable {
    /// Instants at which the offset changes, ascending.
    var transitions: [Int64]
    /// `offsets[i]` holds before `transitions[i]`; the last one after the last transition.
    var offsets: [Int32]
    /// The footer's rule for instants after the last transition, if the file has one.
    var rule: PosixZoneRule?

    struct Malformed: Error, Equatable {
        var reason: String
    }

    /// One offset for all time (UTC, which needs no file).
    init(fixedOffset: Int32) {
        transitions = []
        offsets = [fixedOffset]
        rule = nil
    }

    /// Parses a TZif file of any version, taking the 64-bit data of version 2 and later.
    init(_ bytes: [UInt8]) throws(Malformed) {
        var reader = ByteReader(bytes: bytes)
        var header = try TZifHeader(&reader)
        var timeSize = 4
        if header.version >= 2 {
            try reader.skip(header.dataLength(timeSize: 4))
            header = try TZifHeader(&reader)
            timeSize = 8
        }
        guard header.leapCount == 0 else { throw Malformed(reason: "leap-second (right/) zones are not supported") }
        guard header.typeCount > 0 else { throw Malformed(reason: "no local time types") }
        var times: [Int64] = []
        times.reserveCapacity(header.timeCount)
        for _ in 0..<header.timeCount { times.append(try timeSize == 8 ? reader.int64() : Int64(reader.int32())) }
        var typeIndices: [Int] = []
        for _ in 0..<header.timeCount { typeIndices.append(Int(try reader.byte())) }
        var typeOffsets: [Int32] = []
        for _ in 0..<header.typeCount {
            typeOffsets.append(try reader.int32())
            try reader.skip(2)  // is-DST and designation index: the offset is all a deadline needs
        }
        guard typeIndices.allSatisfy({ $0 < typeOffsets.count }) else { throw Malformed(reason: "a transition names a missing type") }
        // RFC 8536 §3.2: an offset outside -25 h..+26 h is not a clock anyone keeps (the fuzzer
        // found a file claiming 34 years); refusing it keeps every wall-clock reading sane.
        guard typeOffsets.allSatisfy({ (-89_999...93_599).contains($0) }) else {
            throw Malformed(reason: "a UT offset outside -25 h to +26 h")
        }
        guard zip(times, times.dropFirst()).allSatisfy({ $0 < $1 }) else { throw Malformed(reason: "transitions out of order") }
        try reader.skip(header.charCount + header.standardCount + header.universalCount)

        // RFC 8536 §3.2: before the first transition, local time type 0 applies.
        var transitions: [Int64] = [], offsets: [Int32] = [typeOffsets[0]]
        for (time, type) in zip(times, typeIndices) where typeOffsets[type] != offsets.last! {
            transitions.append(time)
            offsets.append(typeOffsets[type])
        }
        self.transitions = transitions
        self.offsets = offsets
        rule = nil
        if header.version >= 2 {
            let footer = reader.remaining
            guard footer.first == UInt8(ascii: "\n"), let end = footer.dropFirst().firstIndex(of: UInt8(ascii: "\n")) else {
                throw Malformed(reason: "no footer after the version 2 data")
            }
            let text = footer[(footer.startIndex + 1)..<end]
            if !text.isEmpty {
                guard let rule = PosixZoneRule(String(decoding: text, as: UTF8.self)) else {
                    throw Malformed(reason: "cannot read the footer rule \"\(String(decoding: text, as: UTF8.self))\"")
                }
                self.rule = rule
            }
        }
    }

    /// Adds the footer rule's transitions after the last listed one, through the end of `year`,
    /// so that lookups up to then are a binary search.
    mutating func extendRule(through year: Int) {
        guard let rule, rule.daylight != nil else { return }
        let last = transitions.last ?? Int64.min
        // From the last listed change, but not before 1900: a file whose last change lies in
        // the distant past (the fuzzer made one at year -9 billion) would otherwise expand the
        // rule for billions of years. Real files list changes well past 1900.
        let firstYear = last == Int64.min ? 1970 : max(1900, LocalDateTime(secondsAsIfUTC: last).date.year)
        guard firstYear <= year else { return }
        for (time, offset) in rule.transitions(from: firstYear, through: year) where time > last && offset != offsets.last! {
            transitions.append(time)
            offsets.append(offset)
        }
    }

    /// Seconds east of UTC at an instant.
    func offset(at t: Int64) -> Int32 {
        // RFC 8536 §3.3: the footer rule applies after the last transition, or always without one.
        if let rule, t >= transitions.last ?? Int64.min { return rule.offset(at: t) ?? offsets.last! }
        var low = 0, high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= t { low = middle + 1 } else { high = middle }
        }
        return offsets[low]
    }
}

private struct TZifHeader {
    var version: Int
    var universalCount: Int, standardCount: Int, leapCount: Int, timeCount: Int, typeCount: Int, charCount: Int

    init(_ reader: inout ByteReader) throws(TZifRules.Malformed) {
        guard Array(try reader.take(4)) == Array("TZif".utf8) else { throw .init(reason: "not a TZif file") }
        let versionByte = try reader.byte()
        version = versionByte == 0 ? 1 : Int(versionByte) - Int(UInt8(ascii: "0"))
        guard (1...9).contains(version) else { throw .init(reason: "unknown TZif version") }
        try reader.skip(15)
        var counts: [Int] = []
        for _ in 0..<6 {
            let count = try reader.int32()
            guard count >= 0, count < 1 << 20 else { throw .init(reason: "implausible count \(count)") }
            counts.append(Int(count))
        }
        (universalCount, standardCount, leapCount, timeCount, typeCount, charCount) =
            (counts[0], counts[1], counts[2], counts[3], counts[4], counts[5])
    }

    func dataLength(timeSize: Int) -> Int {
        timeCount * timeSize + timeCount + typeCount * 6 + charCount + leapCount * (timeSize + 4) + standardCount + universalCount
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    var remaining: ArraySlice<UInt8> { bytes[position...] }

    mutating func take(_ count: Int) throws(TZifRules.Malformed) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - position >= count else { throw .init(reason: "the file ends early") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func skip(_ count: Int) throws(TZifRules.Malformed) { _ = try take(count) }
    mutating func byte() throws(TZifRules.Malformed) -> UInt8 { try take(1).first! }

    mutating func int32() throws(TZifRules.Malformed) -> Int32 {
        Int32(bitPattern: try take(4).reduce(0) { $0 << 8 | UInt32($1) })
    }

    mutating func int64() throws(TZifRules.Malformed) -> Int64 {
        Int64(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) })
    }
}

/// The POSIX TZ string of a TZif footer ("EST5EDT,M3.2.0,M11.1.0", "<+08>-8",
/// "IST-1GMT0,M10.5.0,M3.5.0/1"), with RFC 8536's extensions: hours up to 167 and
/// negative in the rule times, and daylight time all year round.
struct PosixZoneRule: Equatable, Sendable {
    /// Seconds east of UTC in standard time.
    var standard: Int32
    var daylight: Daylight?

    struct Daylight: Equatable, Sendable {
        /// Seconds east of UTC in daylight time.
        var offset: Int32
        var start: DayRule, startTime: Int32
        var end: DayRule, endTime: Int32
    }

    enum DayRule: Equatable, Sendable {
        /// `Jn`: day 1...365, February 29 never counted.
        case julianNoLeap(Int)
        /// `n`: day 0...365, February 29 counted.
        case zeroBased(Int)
        /// `Mm.w.d`: weekday d (0 Sunday) of week w (5: the last) of month m.
        case monthWeekDay(month: Int, week: Int, weekday: Int)

        /// Total over every year, 9999 and beyond included (the rule is evaluated for the year
        /// around an instant, so a deadline in 9999 asks for 10000).
        func date(in year: Int) -> CivilDate {
            switch self {
            case let .julianNoLeap(n):
                let leapShift = CivilDate.isLeap(year) && n >= 60 ? 1 : 0
                return CivilDate(unchecked: year, 1, 1).adding(days: n - 1 + leapShift)
            case let .zeroBased(n):
                return CivilDate(unchecked: year, 1, 1).adding(days: n)
            case let .monthWeekDay(month, week, weekday):
                let first = CivilDate(unchecked: year, month, 1)
                let firstWeekday = ((first.daysSinceEpoch + 4) % 7 + 7) % 7  // 1970-01-01 was a Thursday
                var day = 1 + (weekday - firstWeekday + 7) % 7 + (week - 1) * 7
                let length = CivilDate.daysIn(year: year, month: month)
                while day > length { day -= 7 }
                return CivilDate(unchecked: year, month, day)
            }
        }
    }

    init?(_ text: String) {
        var scanner = TZScanner(Array(text.utf8))
        guard scanner.name(), let standardWest = scanner.offset(maximumHours: 24) else { return nil }
        standard = Int32(-standardWest)
        if scanner.atEnd {
            daylight = nil
            return
        }
        guard scanner.name() else { return nil }
        var daylightOffset = standard + 3600
        if !scanner.peek(","), !scanner.atEnd {
            guard let west = scanner.offset(maximumHours: 24) else { return nil }
            daylightOffset = Int32(-west)
        }
        var start = DayRule.monthWeekDay(month: 3, week: 2, weekday: 0), startTime: Int32 = 7200
        var end = DayRule.monthWeekDay(month: 11, week: 1, weekday: 0), endTime: Int32 = 7200
        if scanner.consume(",") {
            guard let s = scanner.dayRule() else { return nil }
            start = s
            if scanner.consume("/") {
                guard let time = scanner.offset(maximumHours: 167) else { return nil }
                startTime = Int32(time)
            }
            guard scanner.consume(","), let e = scanner.dayRule() else { return nil }
            end = e
            if scanner.consume("/") {
                guard let time = scanner.offset(maximumHours: 167) else { return nil }
                endTime = Int32(time)
            }
        }
        guard scanner.atEnd else { return nil }
        daylight = Daylight(offset: daylightOffset, start: start, startTime: startTime, end: end, endTime: endTime)
    }

    /// The changes of offset in these years, in order: (instant, offset from then on).
    func transitions(from firstYear: Int, through lastYear: Int) -> [(Int64, Int32)] {
        guard let daylight else { return [] }
        var result: [(Int64, Int32)] = []
        for year in firstYear...lastYear {
            // Each change is given in the local time in effect just before it.
            let starts = Int64(daylight.start.date(in: year).daysSinceEpoch) * 86_400 + Int64(daylight.startTime) - Int64(standard)
            let ends = Int64(daylight.end.date(in: year).daysSinceEpoch) * 86_400 + Int64(daylight.endTime) - Int64(daylight.offset)
            result += [(ends, standard), (starts, daylight.offset)]
        }
        // Equal instants (daylight time all year: this year's end is next year's start): the
        // later change wins, which a stable order by instant keeps last.
        return result.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
    }

    /// Seconds east of UTC at an instant, by the rule alone.
    func offset(at t: Int64) -> Int32? {
        guard daylight != nil else { return standard }
        let year = LocalDateTime(secondsAsIfUTC: t).date.year
        var current: Int32? = nil
        for (time, offset) in transitions(from: year - 1, through: year + 1) where time <= t { current = offset }
        return current
    }
}

private struct TZScanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    func peek(_ character: Character) -> Bool { !atEnd && bytes[position] == character.asciiValue! }

    mutating func consume(_ character: Character) -> Bool {
        guard peek(character) else { return false }
        position += 1
        return true
    }

    /// A zone abbreviation: three or more letters, or anything but `>` inside `<…>`.
    mutating func name() -> Bool {
        if consume("<") {
            let start = position
            while !atEnd, bytes[position] != UInt8(ascii: ">") { position += 1 }
            guard position - start >= 3, consume(">") else { return false }
            return true
        }
        let start = position
        while !atEnd, (bytes[position] | 0x20) >= UInt8(ascii: "a"), (bytes[position] | 0x20) <= UInt8(ascii: "z") { position += 1 }
        return position - start >= 3
    }

    mutating func number(maximum: Int) -> Int? {
        let start = position
        var value = 0
        while !atEnd, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9"), position - start < 4 {
            value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
            position += 1
        }
        return position > start && value <= maximum ? value : nil
    }

    /// `[+-]hh[:mm[:ss]]` in seconds, sign applied.
    mutating func offset(maximumHours: Int) -> Int? {
        let sign = consume("-") ? -1 : 1
        if sign == 1 { _ = consume("+") }
        guard let hours = number(maximum: maximumHours) else { return nil }
        var seconds = hours * 3600
        if consume(":") {
            guard let minutes = number(maximum: 59) else { return nil }
            seconds += minutes * 60
            if consume(":") {
                guard let s = number(maximum: 59) else { return nil }
                seconds += s
            }
        }
        return sign * seconds
    }

    mutating func dayRule() -> PosixZoneRule.DayRule? {
        if consume("J") {
            guard let n = number(maximum: 365), n >= 1 else { return nil }
            return .julianNoLeap(n)
        }
        if consume("M") {
            guard let month = number(maximum: 12), month >= 1, consume("."),
                let week = number(maximum: 5), week >= 1, consume("."),
                let weekday = number(maximum: 6)
            else { return nil }
            return .monthWeekDay(month: month, week: week, weekday: weekday)
        }
        guard let n = number(maximum: 365) else { return nil }
        return .zeroBased(n)
    }
}
