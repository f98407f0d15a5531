import Foundation  // only as a second opinion: ICU's copy of the tz database
import Testing

@testable import AccordCalendar

/// A TZif file built by hand: version 2, with the given transitions, types and footer.
func tzif(
    transitions: [(Int64, UInt8)] = [], types: [Int32] = [0], footer: String?, leapSeconds: Int = 0,
    version: UInt8 = UInt8(ascii: "2")
) -> [UInt8] {
    func be32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    func be64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    func block(timeSize: Int) -> [UInt8] {
        var out = Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15)
        let designations = Array("LMT\0".utf8)
        for count in [0, 0, leapSeconds, transitions.count, types.count, designations.count] { out += be32(Int32(count)) }
        for (time, _) in transitions { out += timeSize == 8 ? be64(time) : be32(Int32(clamping: time)) }
        out += transitions.map(\.1)
        for offset in types { out += be32(offset) + [0, 0] }
        out += designations
        for _ in 0..<leapSeconds { out += (timeSize == 8 ? be64(0) : be32(0)) + be32(1) }
        return out
    }
    var file = block(timeSize: 4)
    if version != 0 { file += block(timeSize: 8) + Array("\n\(footer ?? "")\n".utf8) }
    return file
}

private func at(_ text: String) -> Int64 { try! Instant(parsingRFC3339: text).seconds }

/// Hours east of UTC by a footer rule alone, as a Double so that half hours show.
private func hours(_ rule: PosixZoneRule, _ text: String) -> Double { Double(rule.offset(at: at(text)) ?? .min) / 3600 }

@Suite struct ZoneDatabaseTests {
    @Test func footerRulesOfTheShippedDatabase() throws {
        let toronto = try #require(PosixZoneRule("EST5EDT,M3.2.0,M11.1.0"))
        #expect(toronto.standard == -5 * 3600 && toronto.daylight?.offset == -4 * 3600)
        #expect(hours(toronto, "2090-03-12T06:59:59Z") == -5)  // second Sunday of March 2090 is the 12th
        #expect(hours(toronto, "2090-03-12T07:00:00Z") == -4)
        #expect(hours(toronto, "2090-11-05T05:59:59Z") == -4)
        #expect(hours(toronto, "2090-11-05T06:00:00Z") == -5)

        let shanghai = try #require(PosixZoneRule("<+08>-8"))
        #expect(Int(shanghai.standard) == 28_800 && shanghai.daylight == nil)
        #expect(PosixZoneRule("<+0545>-5:45").map { Int($0.standard) } == 20_700)

        // Dublin: "summer" is standard time and winter a negative daylight saving.
        let dublin = try #require(PosixZoneRule("IST-1GMT0,M10.5.0,M3.5.0/1"))
        #expect(hours(dublin, "2090-07-01T12:00:00Z") == 1)
        #expect(hours(dublin, "2090-12-01T12:00:00Z") == 0)

        // Sydney: daylight time spans the new year.
        let sydney = try #require(PosixZoneRule("AEST-10AEDT,M10.1.0,M4.1.0/3"))
        #expect(hours(sydney, "2090-01-15T00:00:00Z") == 11)
        #expect(hours(sydney, "2090-06-15T00:00:00Z") == 10)

        // Nuuk: rule times before midnight (negative hours, RFC 8536's extension).
        let nuuk = try #require(PosixZoneRule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"))
        #expect(hours(nuuk, "2090-03-26T00:59:59Z") == -2)  // last Sunday of March 2090: the 26th, at -1:00 local
        #expect(hours(nuuk, "2090-03-26T01:00:00Z") == -1)
        #expect(hours(nuuk, "2090-10-29T00:59:59Z") == -1)
        #expect(hours(nuuk, "2090-10-29T01:00:00Z") == -2)

        // Daylight time all year round: the end of one year is the start of the next.
        let always = try #require(PosixZoneRule("EST5EDT,0/0,J365/25"))
        for t in ["2090-01-01T05:00:00Z", "2090-06-01T00:00:00Z", "2090-12-31T23:59:59Z", "2091-01-01T04:30:00Z"] {
            #expect(hours(always, t) == -4, "\(t)")
        }

        // Jn never counts February 29; n does.
        #expect(PosixZoneRule.DayRule.julianNoLeap(60).date(in: 2092) == CivilDate(year: 2092, month: 3, day: 1))
        #expect(PosixZoneRule.DayRule.zeroBased(59).date(in: 2092) == CivilDate(year: 2092, month: 2, day: 29))
        #expect(PosixZoneRule.DayRule.monthWeekDay(month: 2, week: 5, weekday: 4).date(in: 2092) == CivilDate(year: 2092, month: 2, day: 28))
    }

    @Test(arguments: [
        "", "E5", "EST", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,J0,J365", "EST99", "<+08", "EST5EDT,M3.2.0/200,M11.1.0", "EST5 ", "EST5EDT4,M3.2.0,M11.1.0,x"
    ])
    func malformedFooterRules(text: String) {
        #expect(PosixZoneRule(text) == nil)
    }

    @Test func aSlimFileTakesEverythingAfterItsLastTransitionFromTheFooter() throws {
        // Slim files (zic -b slim) stop listing transitions where the footer rule takes over.
        let file = tzif(
            transitions: [(at("2007-03-11T07:00:00Z"), 1)], types: [-5 * 3600, -4 * 3600],
            footer: "EST5EDT,M3.2.0,M11.1.0")
        let zone = try Zone(identifier: "Test/Slim", tzif: file)
        #expect(zone.offset(at: Instant(seconds: at("2000-01-01T00:00:00Z"))) == -5 * 3600)
        #expect(zone.offset(at: Instant(seconds: at("2007-11-04T05:59:59Z"))) == -4 * 3600)
        #expect(zone.offset(at: Instant(seconds: at("2007-11-04T06:00:00Z"))) == -5 * 3600)
        #expect(zone.offset(at: Instant(seconds: at("2017-03-12T07:00:00Z"))) == -4 * 3600)
        #expect(zone.offset(at: Instant(seconds: at("2099-11-01T06:00:00Z"))) == -5 * 3600)
        #expect(zone.offset(at: Instant(seconds: at("2150-07-01T00:00:00Z"))) == -4 * 3600)  // past the table
        // 2150-03-08 is the second Sunday of March: 02:30 does not exist there and moves forward.
        let gap = LocalDateTime(date: CivilDate(year: 2150, month: 3, day: 8)!, time: LocalTime(hour: 2, minute: 30)!)
        #expect(zone.instant(for: gap) == Instant(seconds: at("2150-03-08T07:30:00Z")))
        let after = LocalDateTime(date: CivilDate(year: 2150, month: 3, day: 10)!, time: LocalTime(hour: 2, minute: 30)!)
        #expect(zone.instant(for: after) == Instant(seconds: at("2150-03-10T06:30:00Z")))
    }

    @Test func versionOneFilesAndFilesWithoutTransitions() throws {
        let v1 = tzif(transitions: [(at("1990-01-01T00:00:00Z"), 1)], types: [3600, 7200], footer: nil, version: 0)
        let zone = try Zone(identifier: "Test/V1", tzif: v1)
        #expect(zone.offset(at: Instant(seconds: at("1989-12-31T23:59:59Z"))) == 3600)
        #expect(zone.offset(at: Instant(seconds: at("2090-01-01T00:00:00Z"))) == 7200)
        let fixed = try Zone(identifier: "Test/Fixed", tzif: tzif(types: [0], footer: "<+0530>-5:30"))
        #expect(fixed.offset(at: Instant(seconds: 0)) == 5 * 3600 + 1800)  // the footer covers all time
    }

    @Test func brokenFilesAreRefusedWithAReason() {
        let good = tzif(transitions: [(0, 0)], types: [0], footer: "UTC0")
        let cases: [([UInt8], String)] = [
            (Array("# zone.tab\n".utf8), "not a TZif file"),
            (Array(good.prefix(60)), "the file ends early"),
            (tzif(types: [0], footer: "UTC0", leapSeconds: 2), "leap-second (right/) zones are not supported"),
            (tzif(transitions: [(0, 3)], types: [0], footer: "UTC0"), "a transition names a missing type"),
            (tzif(transitions: [(10, 0), (5, 0)], types: [0], footer: "UTC0"), "transitions out of order"),
            (tzif(types: [0], footer: "nonsense"), "cannot read the footer rule \"nonsense\""),
            (Array(good.dropLast(1)), "no footer after the version 2 data"),
            (tzif(types: [], footer: "UTC0"), "no local time types")
        ]
        for (bytes, reason) in cases {
            #expect(throws: TZifRules.Malformed(reason: reason)) { try TZifRules(bytes) }
        }
    }

    @Test func namesThatCouldLeaveTheDatabaseAreNotLookedUp() {
        for name in [
            "../../etc/passwd", "/etc/localtime", "America/../Asia/Tokyo", "America//Toronto", "America/",
            "posixrules", "zone.tab", "America/Toronto\u{0}", "Europe/Kyiv ", String(repeating: "A", count: 300)
        ] {
            #expect(!Zone.isZoneName(name), "\(name)")
            #expect(throws: CalendarError.unknownTimeZone(name)) { try Zone.named(name) }
        }
        for name in ["America/Toronto", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC", "America/Port-au-Prince"] {
            #expect(Zone.isZoneName(name), "\(name)")
        }
        #expect(throws: CalendarError.unknownTimeZone("Etc")) { try Zone.named("Etc") }  // a directory, not a zone
    }

    @Test func aMissingDatabaseOrADamagedFileIsSaidSo() throws {
        var template = Array("/tmp/accord-zoneinfo-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        #expect(
            throws: CalendarError.unreadableTimeZone(
                "America/Toronto", "no time zone database in \(directory) (install tzdata, or set TZDIR)")
        ) {
            try Zone.load("America/Toronto", from: directory)
        }
        try FileManager.default.createDirectory(atPath: directory + "/Test", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/UTC", contents: Data(tzif(types: [0], footer: "UTC0")))
        FileManager.default.createFile(atPath: directory + "/Test/Broken", contents: Data("TZif2".utf8))
        #expect(throws: CalendarError.unreadableTimeZone("Test/Broken", "\(directory)/Test/Broken: the file ends early")) {
            try Zone.load("Test/Broken", from: directory)
        }
        #expect(throws: CalendarError.unknownTimeZone("Test/Missing")) { try Zone.load("Test/Missing", from: directory) }
        #expect(try Zone.load("UTC", from: directory).offset(at: Instant(seconds: 0)) == 0)
        let message = CalendarError.unreadableTimeZone("Asia/Shanghai", "no time zone database in /x").description
        #expect(message == "time zone \"Asia/Shanghai\" cannot be read: no time zone database in /x")
    }

    @Test func forgettingReadZonesReadsTheDatabaseAgain() throws {
        // (Whether a zone is shared between two lookups is not asserted here: daemon tests that
        // reload in parallel forget the cache at any moment.)
        let first = try Zone.named("Europe/Lisbon")
        Zone.forgetReadZones()
        let again = try Zone.named("Europe/Lisbon")
        #expect(again !== first && again == first)
        #expect(try Zone.named("UTC") === Zone.utc)
    }

    /// Every zone both databases know, at a sample every 9 days and 7 hours from 1970 to 2100
    /// and at a second either side of each change: ICU's copy inside Foundation and the system's
    /// files must agree, but for zones whose rules changed between their tzdata releases.
    @Test func theSystemDatabaseAgreesWithICUsCopy() throws {
        let step: Int64 = 9 * 86_400 + 7 * 3600
        let start = at("1970-01-01T00:00:00Z"), end = at("2100-01-01T00:00:00Z")
        var compared = 0, disagreeing: [String: String] = [:]
        for name in TimeZone.knownTimeZoneIdentifiers {
            guard let zone = try? Zone.named(name), let reference = TimeZone(identifier: name) else { continue }
            compared += 1
            var samples = Array(stride(from: start, to: end, by: Int(step)))
            for t in zone.transitionsForTesting where t > start && t < end { samples += [t - 1, t] }
            for t in samples {
                let expected = reference.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t)))
                let actual = zone.offset(at: Instant(seconds: t))
                if actual != expected {
                    disagreeing[name] = "\(Instant(seconds: t).rfc3339): system \(actual), ICU \(expected)"
                    break
                }
            }
        }
        print("zones compared with ICU: \(compared); disagreeing: \(disagreeing.count) \(disagreeing)")
        #expect(compared > 300)
        #expect(disagreeing.count <= 5, "\(disagreeing)")
        for name in ["America/Toronto", "Asia/Shanghai", "Europe/Dublin", "Australia/Lord_Howe", "Asia/Kolkata"] {
            #expect(disagreeing[name] == nil, "\(name): \(disagreeing[name] ?? "")")
        }
    }
}

@Suite struct ZoneFileLimitsTests {
    @Test func anOffsetNoClockKeepsIsRefused() {
        // Found by the TZif fuzzer: a type claiming a UT offset of 34 years was accepted.
        #expect(throws: TZifRules.Malformed(reason: "a UT offset outside -25 h to +26 h")) {
            try TZifRules(tzif(types: [1_098_019_328], footer: nil))
        }
        #expect(throws: Never.self) { try TZifRules(tzif(types: [93_599, -89_999], footer: nil)) }
    }

    @Test func aLastChangeInTheDistantPastDoesNotExpandTheRuleForEver() throws {
        // Found by the TZif fuzzer: a last transition at year -9 billion made extendRule loop
        // over every year since (a timeout, 14 s and counting).
        var rules = try TZifRules(tzif(transitions: [(-(1 << 59), 1)], types: [-5 * 3600, -4 * 3600], footer: "EST5EDT,M3.2.0,M11.1.0"))
        rules.extendRule(through: 2100)
        #expect(rules.offset(at: try Instant(parsingRFC3339: "2030-07-01T00:00:00Z").seconds) == -4 * 3600)
        #expect(rules.offset(at: try Instant(parsingRFC3339: "2030-01-01T00:00:00Z").seconds) == -5 * 3600)
    }
}
