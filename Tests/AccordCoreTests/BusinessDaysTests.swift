import AccordCalendar
import AccordCore
import Foundation
import PropertyBased
import Testing

// The business-day rules (docs/design.md §12) over the shipped calendars, Config/calendars/cn.toml
// and ca.toml, read through the parser: worked cases with dates a person checked against the
// 2026 State Council notice and the Canadian federal list, properties over random dates of the
// covered years against a brute-force reading of the same files, and the parser's errors.

enum Shipped {
    static func load(_ id: String) -> BusinessCalendar {
        let path = repositoryRoot.appendingPathComponent("Config/calendars/\(id).toml").path
        let text = try! String(contentsOfFile: path, encoding: .utf8)
        do { return try BusinessCalendarParser.parse(text, file: path) } catch { fatalError("\(error)") }
    }
    static let cn = load("cn")
    static let ca = load("ca")
    /// Each list the properties run over: both calendars alone and their union.
    static let lists: [[BusinessCalendar]] = [[cn], [ca], [ca, cn]]
    /// Years every calendar of every list covers.
    static let years = max(cn.years.lowerBound, ca.years.lowerBound)...min(cn.years.upperBound, ca.years.upperBound)
}

/// Business in every calendar, by the definition and nothing else: the oracle of the properties.
private func bruteBusiness(_ date: CivilDate, _ calendars: [BusinessCalendar]) -> Bool {
    calendars.allSatisfy { calendar in
        calendar.holidays[date] == nil
            && (calendar.workingDays[date] != nil || !calendar.weekend.contains(date.weekday))
    }
}

@Suite("Business days: worked cases")
struct BusinessDaysWorkedCases {
    let cn = BusinessDays([Shipped.cn])
    let caCN = BusinessDays([Shipped.ca, Shipped.cn])
    let ca = BusinessDays([Shipped.ca])

    @Test func theShippedFilesReadAsTheyShould() {
        #expect(Shipped.cn.id == "cn" && Shipped.ca.id == "ca")
        #expect(Shipped.cn.years == 2016...2026)  // no PyPI source has the 2027 notice yet
        #expect(Shipped.ca.years == 2016...2027)
        #expect(Shipped.cn.weekend == [.saturday, .sunday])
        #expect(Shipped.cn.workingDays[day("2026-02-14")] == "Spring Festival")
        #expect(Shipped.cn.holidays[day("2026-10-01")] == "National Day")
        #expect(Shipped.ca.holidays[day("2021-09-30")] == "National Day for Truth and Reconciliation")
        #expect(Shipped.ca.workingDays.isEmpty)
    }

    @Test func weekdays() {
        #expect(day("1970-01-01").weekday == .thursday)
        #expect(day("2026-02-14").weekday == .saturday)
        #expect(day("2018-07-01").weekday == .sunday)
        #expect(day("1969-12-31").weekday == .wednesday)
    }

    /// Saturday 14 February 2026 is a working day in China (调休 for the Spring Festival), not in Canada.
    @Test func saturday14February2026() throws {
        let saturday = day("2026-02-14")
        #expect(try cn.isBusinessDay(saturday))
        #expect(try cn.adjust(saturday, .following) == saturday)
        #expect(try cn.adjust(saturday, .modifiedFollowing) == saturday)
        #expect(try cn.onOrBefore(saturday) == saturday)

        #expect(try !caCN.isBusinessDay(saturday))
        let explained = try caCN.explain(saturday)
        #expect(explained.map(\.calendar) == ["ca", "cn"])
        #expect(explained.map(\.status) == [.weekend(.saturday), .adjustedWorkingDay("Spring Festival")])
        // After it: the Sunday and the Spring Festival, 15–23 February, off in China.
        #expect(try caCN.adjust(saturday, .following) == day("2026-02-24"))
        #expect(try caCN.adjust(saturday, .modifiedFollowing) == day("2026-02-24"))
        #expect(try caCN.adjust(saturday, .preceding) == day("2026-02-13"))
        #expect(try caCN.adjust(saturday, .none) == saturday)
        #expect(try caCN.onOrBefore(saturday) == day("2026-02-13"))
    }

    @Test func canadaDay2018IsObservedMonday2July() throws {
        #expect(try ca.explain(day("2018-07-01")).map(\.status) == [.holiday("Canada Day")])
        #expect(try ca.explain(day("2018-07-02")).map(\.status) == [.holiday("Canada Day (observed)")])
        #expect(try ca.adjust(day("2018-07-01"), .following) == day("2018-07-03"))
        #expect(try ca.adjust(day("2018-07-02"), .preceding) == day("2018-06-29"))
        #expect(try ca.onOrBefore(day("2018-07-02")) == day("2018-06-29"))
        #expect(try ca.businessDays(1, before: day("2018-07-03")) == day("2018-06-29"))
    }

    @Test func chineseNewYear2026Week() throws {
        for text in ["2026-02-15", "2026-02-16", "2026-02-18", "2026-02-23"] {
            #expect(try !cn.isBusinessDay(day(text)), "\(text)")
            #expect(try cn.explain(day(text)).map(\.status) == [.holiday("Spring Festival")])
        }
        #expect(try cn.adjust(day("2026-02-18"), .following) == day("2026-02-24"))
        // Going back from the festival lands on the working Saturday, not on Friday 13.
        #expect(try cn.adjust(day("2026-02-18"), .preceding) == day("2026-02-14"))
        #expect(try cn.businessDays(1, before: day("2026-02-24")) == day("2026-02-14"))
        #expect(try cn.businessDays(2, before: day("2026-02-24")) == day("2026-02-13"))
        // Saturday 28 February is the other working Saturday of the festival.
        #expect(try cn.isBusinessDay(day("2026-02-28")))
        #expect(try cn.adjust(day("2026-02-28"), .modifiedFollowing) == day("2026-02-28"))
        #expect(try caCN.adjust(day("2026-02-28"), .modifiedFollowing) == day("2026-02-27"))
    }

    /// 5BD across Christmas and New Year. cn stops at 2026 (the 2027 notice is not in its
    /// source), so a lead that needs January 2027 with cn is a coverage error, and one in
    /// Canada alone counts back over Christmas (Friday 25), Boxing Day observed (Monday 28)
    /// and New Year's Day (Friday 1).
    @Test func fiveBusinessDaysOverChristmasAndNewYear() throws {
        #expect(try ca.businessDays(5, before: day("2027-01-08")) == day("2026-12-31"))
        #expect(try caCN.businessDays(5, before: day("2026-12-31")) == day("2026-12-22"))
        // 2025/26 in both: Thursday 1 and Friday 2 January off in China, Sunday 4 a Chinese
        // working day but a Canadian weekend day, so the fifth is Wednesday 31 December.
        #expect(try caCN.businessDays(5, before: day("2026-01-09")) == day("2025-12-31"))
        #expect(try caCN.businessDays(0, before: day("2026-01-03")) == day("2025-12-31"))
        #expect(throws: CoverageError.self) { try caCN.businessDays(5, before: day("2027-01-08")) }
    }

    @Test func coverageErrorsNameTheCalendarAndItsYears() throws {
        #expect(caCN.coverage(day("2026-12-31")) == nil)
        let error = caCN.coverage(day("2031-05-01"))
        #expect(error?.calendar == "ca")
        #expect(error?.describing("ca-cn-nsrl/x due") == "calendar ca covers 2016–2027; ca-cn-nsrl/x due 2031-05-01 is outside")
        #expect(cn.coverage(day("2027-03-01"))?.description == "calendar cn covers 2016–2026; 2027-03-01 is outside")
        do {
            _ = try caCN.adjust(day("2026-12-31"), .following)  // a Thursday, business in both
            _ = try caCN.adjust(day("2015-12-31"), .none)
            Issue.record("2015 is outside both calendars")
        } catch {
            #expect(error.calendar == "ca" && error.date == day("2015-12-31"))
        }
        // A walk that leaves the covered years fails too: Friday 1 January 2016 is covered but
        // off in Canada, and the day before it is not covered.
        #expect(throws: CoverageError.self) { try ca.onOrBefore(day("2016-01-01")) }
        #expect(try ca.adjust(day("2016-01-01"), .following) == day("2016-01-04"))
        #expect(try cn.adjust(day("2026-12-26"), .following) == day("2026-12-28"))
    }

    @Test func noCalendarsMeansEveryDay() throws {
        let none = BusinessDays([])
        let sunday = day("2031-06-01")
        #expect(try none.isBusinessDay(sunday))
        #expect(try none.adjust(sunday, .following) == sunday)
        #expect(try none.businessDays(3, before: sunday) == day("2031-05-29"))
        #expect(try none.businessDays(0, before: sunday) == sunday)
    }
}

@Suite("Business days: properties")
struct BusinessDaysProperties {
    /// A day of the covered years and one of the three calendar lists.
    static let input = Gen.int(in: day("\(Shipped.years.lowerBound)-01-01").daysSinceEpoch...day("\(Shipped.years.upperBound)-12-31").daysSinceEpoch)

    @Test func isBusinessDayIsTheDefinition() async {
        await propertyCheck(count: 400, input: Self.input, Gen.int(in: 0...2)) { days, list throws in
            let date = CivilDate(daysSinceEpoch: days), calendars = Shipped.lists[list]
            #expect(try BusinessDays(calendars).isBusinessDay(date) == bruteBusiness(date, calendars))
        }
    }

    @Test func anAdjustedDeadlineIsABusinessDayMovedTheRightWay() async {
        await propertyCheck(count: 400, input: Self.input, Gen.int(in: 0...2)) { days, list throws in
            let date = CivilDate(daysSinceEpoch: days), calendars = Shipped.lists[list]
            let rules = BusinessDays(calendars)
            // A walk may reach past the covered years at their ends: then it must say so.
            guard let following = try? rules.adjust(date, .following),
                let preceding = try? rules.adjust(date, .preceding),
                let modified = try? rules.adjust(date, .modifiedFollowing)
            else {
                #expect(date.year == Shipped.years.lowerBound || date.year == Shipped.years.upperBound)
                return
            }
            #expect(bruteBusiness(following, calendars) && bruteBusiness(preceding, calendars) && bruteBusiness(modified, calendars))
            #expect(following >= date && preceding <= date)
            // Nothing skipped: every day strictly between the date and its adjustment is off.
            for offset in 0..<date.days(until: following) { #expect(!bruteBusiness(date.adding(days: offset), calendars)) }
            for offset in 0..<preceding.days(until: date) { #expect(!bruteBusiness(date.adding(days: -offset), calendars)) }
            #expect(modified == following || modified == preceding)
            #expect(modified.month == date.month && modified.year == date.year, "modified-following left the month: \(date) → \(modified)")
            if bruteBusiness(date, calendars) { #expect(following == date && preceding == date && modified == date) }
            #expect(try rules.adjust(date, .none) == date)
        }
    }

    @Test func theBusinessDayBeforeIsNeverLater() async {
        await propertyCheck(count: 400, input: Self.input, Gen.int(in: 0...2)) { days, list throws in
            let date = CivilDate(daysSinceEpoch: days), calendars = Shipped.lists[list]
            guard let before = try? BusinessDays(calendars).onOrBefore(date) else {
                #expect(date.year == Shipped.years.lowerBound)
                return
            }
            #expect(before <= date && bruteBusiness(before, calendars))
            #expect(date.days(until: before) > -31, "more than a month of days off before \(date)")
        }
    }

    @Test func businessDayLeadsAgreeWithABruteForceCount() async {
        await propertyCheck(count: 300, input: Self.input, Gen.int(in: 0...2), Gen.int(in: 0...25)) { days, list, count throws in
            let date = CivilDate(daysSinceEpoch: days), calendars = Shipped.lists[list]
            guard let lead = try? BusinessDays(calendars).businessDays(count, before: date) else {
                #expect(date.year == Shipped.years.lowerBound)
                return
            }
            #expect(lead <= date && bruteBusiness(lead, calendars))
            if count == 0 {
                #expect(lead == (try BusinessDays(calendars).onOrBefore(date)))
            } else {
                // Exactly `count` business days in [lead, date), and lead is one of them.
                let between = (0..<lead.days(until: date)).filter { bruteBusiness(lead.adding(days: $0), calendars) }.count
                #expect(between == count)
                #expect(lead < date)
            }
        }
    }
}

@Suite("Calendar files: problems")
struct BusinessCalendarParserTests {
    static let good = """
        [calendar]
        id = "xx"
        title = "Test"
        source = "typed in a test"
        years = [2026, 2026]
        weekend = ["friday", "saturday"]
        holidays = [2026-01-01]
        working-days = [2026-01-03]

        [calendar.names]
        2026-01-01 = "New Year's Day"
        """

    func problems(_ text: String) -> [String] {
        do {
            _ = try BusinessCalendarParser.parse(text, file: "xx.toml")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func aGoodFileReads() throws {
        let calendar = try BusinessCalendarParser.parse(Self.good, file: "xx.toml")
        #expect(calendar.weekend == [.friday, .saturday])
        #expect(calendar.holidays == [day("2026-01-01"): "New Year's Day"])
        #expect(calendar.workingDays == [day("2026-01-03"): "holiday"])
        #expect(calendar.isBusinessDay(day("2026-01-03")) && !calendar.isBusinessDay(day("2026-01-02")))
        #expect(calendar.isBusinessDay(day("2026-01-04")))  // a Sunday, not in this weekend
    }

    @Test func unknownKeysAreErrorsWithTheirLine() {
        let text = Self.good.replacingOccurrences(of: "weekend =", with: "weekends = [\"sunday\"]\nweekend =")
        #expect(
            problems(text) == [
                "xx.toml:6: calendar › weekends: unknown key; allowed here: id, title, source, years, weekend, holidays, working-days, names"
            ])
        // SourceLines finds keys, not table headers, at the top level: no line for [extra].
        #expect(problems(Self.good + "\n[extra]\n") == ["xx.toml: extra: unknown key; allowed here: calendar"])
    }

    @Test func datesOutsideTheYearsOrTwiceAreNamedOnTheirLine() {
        let text = Self.good.replacingOccurrences(of: "holidays = [2026-01-01]", with: "holidays = [\n  2026-01-01,\n  2027-01-01,\n  2026-01-01,\n]")
        #expect(
            problems(text) == [
                "xx.toml:9: calendar › holidays: 2027-01-01 is outside the years the file covers, 2026–2026",
                "xx.toml:8: calendar › holidays: 2026-01-01 is listed twice"
            ])
    }

    @Test func badValues() {
        #expect(
            problems(Self.good.replacingOccurrences(of: "working-days = [2026-01-03]", with: "working-days = [2026-01-05]"))
                == [
                    "xx.toml:8: calendar › working-days: 2026-01-05 is a Monday, not a weekend day; working-days lists the weekend days that are working days"
                ])
        #expect(
            problems(Self.good.replacingOccurrences(of: "years = [2026, 2026]", with: "years = [2027, 2026]"))
                == ["xx.toml:5: calendar › years: the first year, 2027, is after the last, 2026"])
        #expect(
            problems(Self.good.replacingOccurrences(of: "[\"friday\", \"saturday\"]", with: "[\"Friday\"]"))
                == ["xx.toml:6: calendar › weekend: \"Friday\" is not a day of the week: use monday … sunday, in lower case"])
        #expect(problems(Self.good.replacingOccurrences(of: "holidays = [2026-01-01]", with: "holidays = [\"2026-01-01\"]")).count == 1)
        #expect(
            problems(Self.good.replacingOccurrences(of: "2026-01-01 = ", with: "2026-01-02 = "))
                == ["xx.toml:11: calendar › names › 2026-01-02: 2026-01-02 is in neither holidays nor working-days"])
        #expect(
            problems(Self.good.replacingOccurrences(of: "source = \"typed in a test\"\n", with: ""))
                == ["xx.toml:1: calendar › source: is required"])
        #expect(
            problems("id = \"xx\"\n").first
                == "xx.toml: the [calendar] table is missing; it needs id, title, source, years, weekend, holidays and working-days")
    }
}
