import AccordCalendar
import AccordCore
import PropertyBased
import Testing

// Business days in the plan (docs/design.md §12): `adjust`, reminders moved off days that are
// not business days, `NBD` leads and the coverage and id errors of `check`. Worked cases use the
// shipped calendars with days a person checked (the 2017 Golden Week, Canada's Thanksgiving);
// the properties run over the whole range the formats accept with a calendar made for each case,
// and over the shipped calendars' years, against a brute-force reading of the calendars.

/// One dialogue, one objective due `due`, with the given extra lines on the objective.
private func dueText(_ due: String, calendars: String = "[\"ca\", \"cn\"]", _ lines: String = "") -> String {
    """
    [dialogue]
    id = "d"
    title = "T"
    time-zone = "America/Toronto"
    reminders = ["P7D", "P1D", "P0D"]
    business-days = \(calendars)

    [[objective]]
    id = "x"
    title = "X"
    due = \(due)
    \(lines)
    """
}

private let shipped = ["ca": Shipped.ca, "cn": Shipped.cn]

private func shippedPlan(_ text: String) throws -> ReminderPlan {
    ReminderPlan(catalog: try Catalog(portfolios: [PortfolioParser.parse(text, file: "b.toml", calendars: shipped)]))
}

private func brokenProblems(_ text: String, calendars: [String: BusinessCalendar] = shipped) -> [ConfigProblem] {
    do {
        _ = try PortfolioParser.parse(text, file: "b.toml", calendars: calendars)
        return []
    } catch {
        return error.problems
    }
}

@Suite("Business days in the plan: worked cases")
struct BusinessDayPlanWorkedCases {
    /// Sunday 1 October 2017 is China's National Day; Saturday 30 September was a Chinese working
    /// day (调休) but a Canadian weekend day, so the last common business day before is Friday 29.
    @Test func aReminderOnADayOffFiresOnTheBusinessDayBefore() throws {
        let plan = try shippedPlan(dueText("2017-10-01"))
        let onTheDay = plan.all(from: "2017-09-20T00:00:00Z", until: "2017-10-02T00:00:00Z").filter { $0.lead == "P0D" }
        #expect(onTheDay.map(\.fireAt) == [instant("2017-09-29T13:00:00Z")])  // 09:00 in Toronto (EDT)
        #expect(onTheDay.first?.deadlineTime == .date(day("2017-10-01")), "adjust none keeps the written date")
        // P1D (Saturday 30) also moves to Friday 29: the two fire once, as the shorter lead.
        let all = plan.all(from: "2017-09-20T00:00:00Z", until: "2017-10-02T00:00:00Z")
        #expect(all.map { "\($0.lead) \($0.fireAt.rfc3339)" } == ["P7D 2017-09-22T13:00:00Z", "P0D 2017-09-29T13:00:00Z"])
    }

    /// China is off 1–8 October 2017 (National Day and Mid-Autumn), Canada on Monday 9
    /// (Thanksgiving): the first day both work is Tuesday 10.
    @Test func followingMovesPastBothPartiesHolidays() throws {
        let plan = try shippedPlan(dueText("2017-10-01", "adjust = \"following\""))
        let status = try #require(plan.deadlines(ofItem: 0, at: instant("2017-09-01T00:00:00Z")).first)
        #expect(status.time == .date(day("2017-10-10")))
        #expect(status.written == day("2017-10-01"))
        #expect(status.at == instant("2017-10-11T04:00:00Z"), "passes at the end of the adjusted day")
        let fires = plan.all(from: "2017-09-01T00:00:00Z", until: "2017-10-12T00:00:00Z").filter { !$0.isOverdue }
        // P7D: Tuesday 3 October is a Chinese holiday, so Friday 29 September; P1D: Monday 9 is
        // Thanksgiving, so Friday 29 as well, and the two fire once; P0D on Tuesday 10 itself.
        #expect(fires.map { "\($0.lead) \($0.fireAt.rfc3339)" } == ["P1D 2017-09-29T13:00:00Z", "P0D 2017-10-10T13:00:00Z"])
        #expect(fires.allSatisfy { $0.key.hasPrefix("d/x:due:2017-10-10:") }, "keys carry the adjusted date")
    }

    @Test func modifiedFollowingStaysInTheMonth() throws {
        // Saturday 30 September 2017: following would be Tuesday 10 October, so Friday 29.
        let plan = try shippedPlan(dueText("2017-09-30", "adjust = \"modified-following\""))
        #expect(plan.deadlines(ofItem: 0, at: instant("2017-09-01T00:00:00Z")).first?.time == .date(day("2017-09-29")))
        let preceding = try shippedPlan(dueText("2017-10-01", "adjust = \"preceding\""))
        #expect(preceding.deadlines(ofItem: 0, at: instant("2017-09-01T00:00:00Z")).first?.time == .date(day("2017-09-29")))
    }

    /// Back from Tuesday 10 October 2017: 9 Thanksgiving, 2–8 Golden Week, 30 Saturday, so
    /// 1BD is Friday 29 September and 5BD Monday 25.
    @Test func businessDayLeadsCountBackFromTheAdjustedDate() throws {
        let plan = try shippedPlan(dueText("2017-10-01", "adjust = \"following\"\nreminders = [\"5BD\", \"1BD\", \"0BD\"]"))
        let fires = plan.all(from: "2017-09-01T00:00:00Z", until: "2017-10-11T00:00:00Z").filter { !$0.isOverdue }
        #expect(
            fires.map { "\($0.lead) \($0.fireAt.rfc3339)" } == [
                "5BD 2017-09-25T13:00:00Z", "1BD 2017-09-29T13:00:00Z", "0BD 2017-10-10T13:00:00Z"
            ])
    }

    /// Daily repeats after Friday 29 September 2017 fall on ten days off in a row: none fires
    /// before the deadline has passed, and one fires on Tuesday 10 October, not ten.
    @Test func dailyOverdueRepeatsOverAHolidayWeekFireOnce() throws {
        let plan = try shippedPlan(dueText("2017-09-29", "overdue-every = \"P1D\""))
        let overdue = plan.all(from: "2017-09-29T14:00:00Z", until: "2017-10-12T00:00:00Z").filter(\.isOverdue)
        #expect(overdue.map(\.fireAt) == [instant("2017-10-10T13:00:00Z"), instant("2017-10-11T13:00:00Z")])
        #expect(overdue.map(\.lead) == ["+P11D", "+P12D"])
    }

    /// Saturday 14 February 2026 is a Chinese adjusted working day (调休) and a Canadian weekend
    /// day; Sunday 15 to Monday 23 are the Spring Festival holiday.
    @Test func aDeadlineOnSaturday14February2026() throws {
        let cnOnly = try shippedPlan(dueText("2026-02-14", calendars: "[\"cn\"]", "adjust = \"following\""))
        #expect(cnOnly.deadlines(ofItem: 0, at: instant("2026-01-01T00:00:00Z")).first?.time == .date(day("2026-02-14")))
        let onTheDay = cnOnly.all(from: "2026-02-01T00:00:00Z", until: "2026-02-15T00:00:00Z").filter { $0.lead == "P0D" }
        #expect(onTheDay.map(\.fireAt) == [instant("2026-02-14T14:00:00Z")], "09:00 in Toronto on the Saturday itself")
        let both = try shippedPlan(dueText("2026-02-14", "adjust = \"following\""))
        let moved = try #require(both.deadlines(ofItem: 0, at: instant("2026-01-01T00:00:00Z")).first)
        #expect(moved.time == .date(day("2026-02-24")) && moved.written == day("2026-02-14"))
        let unmoved = try shippedPlan(dueText("2026-02-14"))
        let fires = unmoved.all(from: "2026-02-01T00:00:00Z", until: "2026-02-15T00:00:00Z").map { "\($0.lead) \($0.fireAt.rfc3339)" }
        // P7D on Saturday 7 and P1D, P0D on Friday 13 and Saturday 14: all to Friday 6 and 13.
        #expect(fires == ["P7D 2026-02-06T14:00:00Z", "P0D 2026-02-13T14:00:00Z"])
    }

    /// The shipped portfolio, from the Dialogue's founding to the end of the calendars' years:
    /// no date-based reminder fires on a day off in Canada or China.
    @Test func theShippedPortfolioNeverRemindsOnADayOff() throws {
        let path = ReminderPlanTests.shippedFile
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let plan = ReminderPlan(catalog: try Catalog(portfolios: [PortfolioParser.parse(text, file: path, calendars: shipped)]))
        let both = BusinessDays([Shipped.ca, Shipped.cn])
        let reminders = plan.all(from: "2016-09-12T00:00:00Z", until: "2026-12-31T00:00:00Z")
        #expect(reminders.count > 200)
        for reminder in reminders where !(reminder.deadlineTime.isInstant) {
            let day = reminder.zone.local(at: reminder.fireAt).date
            #expect(try both.isBusinessDay(day), "\(reminder.key) fires on \(day), a day off")
        }
    }

    @Test func checkNamesADateOutsideACalendarsYearsOnItsLine() {
        let found = brokenProblems(dueText("2031-05-01"))
        #expect(found.map(\.description) == ["b.toml:11: objective \"x\" › due: calendar ca covers 2016–2027; d/x due 2031-05-01 is outside"])
        // Before 2016 too, and an adjustment's walk that leaves the years is caught as well.
        #expect(brokenProblems(dueText("2015-12-31")).count == 1)
        // 1 January 2016, a Friday, is a Chinese holiday: the day before it is in 2015.
        #expect(
            brokenProblems(dueText("2016-01-01", calendars: "[\"cn\"]", "adjust = \"preceding\"")).map(\.message) == [
                "calendar cn covers 2016–2026; d/x due 2016-01-01 moves preceding past 2015-12-31, outside"
            ])
    }

    @Test func checkNamesACalendarNoFileDefines() {
        let found = brokenProblems(dueText("2017-05-01", calendars: "[\"ca\", \"us\"]"))
        #expect(found.map(\.message) == ["no calendar file defines \"us\" (loaded: ca, cn)"])
        #expect(found.first?.line == 6)
        let none = brokenProblems(dueText("2017-05-01"), calendars: [:])
        #expect(none.first?.message.contains("no calendar is loaded") == true)
        #expect(brokenProblems(dueText("2017-05-01", calendars: "[\"ca\", \"ca\"]")).map(\.message) == ["\"ca\" is listed twice"])
        #expect(brokenProblems(dueText("2017-05-01", "adjust = \"nearest\"")).first?.message.contains("modified-following") == true)
    }

    @Test func businessDayLeadsAreReadStrictly() {
        for bad in ["BD", "5bd", "-1BD", "1000BD", "261BD", "5 BD", "５BD"] {
            #expect(!brokenProblems(dueText("2017-05-01", "reminders = [\"\(bad)\"]")).isEmpty, "\(bad)")
        }
        #expect(brokenProblems(dueText("2017-05-01", "reminders = [\"260BD\", \"0BD\", \"P1D\"]")).isEmpty)
        #expect(brokenProblems(dueText("2017-05-01", "reminders = [\"3BD\", \"3BD\"]")).map(\.message) == ["\"3BD\" is listed twice"])
    }

    @Test func withoutCalendarsNothingMoves() throws {
        let text = dueText("2017-10-01", calendars: "[]", "adjust = \"following\"")
        let plan = try shippedPlan(text)
        #expect(plan.deadlines(ofItem: 0, at: instant("2017-09-01T00:00:00Z")).first?.time == .date(day("2017-10-01")))
        let onTheDay = plan.all(from: "2017-09-20T00:00:00Z", until: "2017-10-02T00:00:00Z").filter { $0.lead == "P0D" }
        #expect(onTheDay.map(\.fireAt) == [instant("2017-10-01T13:00:00Z")])
    }
}

/// A calendar covering every year the formats accept, with random holidays and weekend working
/// days around `center`, so that the properties meet every kind of day anywhere in the range.
private func madeCalendar(around center: CivilDate, seed: UInt64) -> BusinessCalendar {
    var state = seed | 1
    func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    var holidays: [CivilDate: String] = [:]
    var working: [CivilDate: String] = [:]
    for offset in -60...60 where next() % 4 == 0 {
        let date = center.adding(days: offset)
        if date.weekday >= .saturday, next() % 3 == 0 { working[date] = "made" } else { holidays[date] = "made" }
    }
    return BusinessCalendar(id: "made", title: "made", source: "the test", years: 1...9999, holidays: holidays, workingDays: working)
}

/// Business in every calendar, by the definition alone.
private func isBusiness(_ date: CivilDate, _ calendars: [BusinessCalendar]) -> Bool {
    calendars.allSatisfy { calendar in
        calendar.holidays[date] == nil && (calendar.workingDays[date] != nil || !calendar.weekend.contains(date.weekday))
    }
}

@Suite("Business days in the plan: properties")
struct BusinessDayPlanProperties {
    static let zones = ["UTC", "America/Toronto", "Asia/Shanghai", "Australia/Sydney", "Pacific/Chatham"]
    static let rules = Adjustment.allCases
    static let leadSets = [["P7D", "P1D", "P0D"], ["5BD", "1BD", "0BD"], ["P30D", "10BD", "PT12H", "P0D"], ["P1M", "2BD"]]

    /// Checks every reminder of one objective against the brute-force reading of `calendars`.
    static func check(due: CivilDate, zoneName: String, rule: Adjustment, leads: [String], calendars: [BusinessCalendar]) throws {
        let ids = calendars.map { "\"\($0.id)\"" }.joined(separator: ", ")
        let text = """
            [dialogue]
            id = "d"
            title = "T"
            time-zone = "\(zoneName)"
            remind-at = 10:30:00
            reminders = [\(leads.map { "\"\($0)\"" }.joined(separator: ", "))]
            overdue-every = "P1D"
            overdue-for = "P20D"
            business-days = [\(ids)]
            adjust = "\(rule.rawValue)"

            [[objective]]
            id = "x"
            title = "X"
            due = \(due)
            """
        var byID: [String: BusinessCalendar] = [:]
        for calendar in calendars { byID[calendar.id] = calendar }
        let plan = ReminderPlan(catalog: try Catalog(portfolios: [PortfolioParser.parse(text, file: "p.toml", calendars: byID)]))
        let zone = try Zone.named(zoneName)
        let adjustedTime = try #require(plan.deadlines(ofItem: 0, at: zone.startOfDay(due.adding(days: -400))).first?.time)
        guard case let .date(adjusted) = adjustedTime else { Issue.record("a date deadline became \(adjustedTime)"); return }
        // The adjustment: a business day, moved the rule's way, nothing business skipped.
        switch rule {
        case .none: #expect(adjusted == due)
        case .following: #expect(adjusted >= due)
        case .preceding: #expect(adjusted <= due)
        case .modifiedFollowing: #expect(adjusted.month == due.month && adjusted.year == due.year)
        }
        if rule != .none {
            #expect(isBusiness(adjusted, calendars), "\(due) → \(adjusted) is not a business day")
            let (low, high) = adjusted < due ? (adjusted, due) : (due, adjusted)
            for offset in 1..<max(1, low.days(until: high)) where rule != .modifiedFollowing {
                #expect(!isBusiness(low.adding(days: offset), calendars), "a business day skipped between \(due) and \(adjusted)")
            }
        }
        let reminders = plan.reminders(from: zone.startOfDay(due.adding(days: -400)), until: zone.startOfDay(adjusted.adding(days: 25)))
        var lastOverdueFire: Instant?
        for reminder in reminders {
            let local = zone.local(at: reminder.fireAt)
            if reminder.lead.hasSuffix("BD"), let count = Int(reminder.lead.dropLast(2)) {
                // NBD: a business day, with exactly count business days in [it, deadline) (0BD: none in (it, deadline]).
                #expect(isBusiness(local.date, calendars))
                let span = (0..<local.date.days(until: adjusted)).map { local.date.adding(days: $0) }
                if count == 0 {
                    #expect(
                        local.date <= adjusted && span.dropFirst().allSatisfy { !isBusiness($0, calendars) }
                            && (local.date == adjusted || !isBusiness(adjusted, calendars)))
                } else {
                    #expect(span.filter { isBusiness($0, calendars) }.count == count, "\(reminder.lead) before \(adjusted) fired \(local.date)")
                }
            } else if !reminder.isOverdue {
                // A duration lead: never later than written, on the nearest business day at or before it.
                let written = zone.adding(try ISODuration(parsing: reminder.lead), to: adjusted, at: LocalTime(hour: 10, minute: 30)!, sign: -1)
                #expect(reminder.fireAt <= written, "\(reminder.lead) fired after its written time")
                #expect(isBusiness(local.date, calendars), "\(reminder.lead) fired on \(local.date), a day off")
                let writtenDay = zone.local(at: written).date
                for offset in 1..<max(1, local.date.days(until: writtenDay) + 1) {
                    #expect(!isBusiness(local.date.adding(days: offset), calendars), "a nearer business day before \(writtenDay)")
                }
            } else {
                #expect(isBusiness(local.date, calendars), "an overdue repeat on \(local.date), a day off")
                if let last = lastOverdueFire { #expect(reminder.fireAt > last, "two overdue repeats at one instant") }
                lastOverdueFire = reminder.fireAt
            }
        }
    }

    @Test func overTheWholeRangeWithAMadeCalendar() async {
        let days = Gen.int(in: day("0003-01-01").daysSinceEpoch...day("9998-10-01").daysSinceEpoch)
        await propertyCheck(
            count: 150, input: days, Gen.int(in: 0..<Self.zones.count), Gen.int(in: 0..<4), Gen.int(in: 0..<4), Gen.int(in: 1...Int.max)
        ) {
            days, zone, rule, leads, seed throws in
            let due = CivilDate(daysSinceEpoch: days)
            try Self.check(
                due: due, zoneName: Self.zones[zone], rule: Self.rules[rule], leads: Self.leadSets[leads],
                calendars: [madeCalendar(around: due, seed: UInt64(seed))])
        }
    }

    @Test func overTheShippedCalendarsYears() async {
        // Inside the covered years with a margin for the walks and the 400 days of leads.
        let days = Gen.int(in: day("2017-03-01").daysSinceEpoch...day("2026-10-31").daysSinceEpoch)
        await propertyCheck(count: 150, input: days, Gen.int(in: 0..<Self.zones.count), Gen.int(in: 0..<4), Gen.int(in: 0..<4), Gen.int(in: 0...2)) {
            days, zone, rule, leads, list throws in
            try Self.check(
                due: CivilDate(daysSinceEpoch: days), zoneName: Self.zones[zone], rule: Self.rules[rule], leads: Self.leadSets[leads],
                calendars: Shipped.lists[list])
        }
    }
}
