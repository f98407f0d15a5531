import AccordCalendar
import AccordCore
import Testing

// `auto-renew` (docs/design.md §13): terms that roll over at each expiry until `not-renewed`
// or `terminated` is recorded, the renewal notice read as the last day to give notice of
// non-renewal, and the lifecycle's refusals.

private func mou(_ extra: String = "auto-renew = true") -> String {
    """
    [dialogue]
    id = "d"
    title = "T"
    time-zone = "UTC"
    reminders = ["P0D"]

    [[instrument]]
    id = "mou"
    kind = "mou"
    title = "A renewable MOU"
    in-force = { date = 2017-01-15, basis = "statement" }
    term = "P1Y"
    notice = "P90D"
    \(extra)
    """
}

private func event(_ type: EventType, _ on: String, id: Int64 = 1) -> ItemEvent {
    ItemEvent(id: id, itemID: "d/mou", type: type, on: day(on), recordedAt: instant("\(on)T12:00:00Z"), recordedBy: "desk")
}

@Suite("Auto-renewal")
struct AutoRenewTests {
    @Test func termsRollOverAndTheNoticeIsTheLastDayToDecline() throws {
        let plan = try plan(mou())
        let fires = plan.all(from: "2017-01-01T00:00:00Z", until: "2020-02-01T00:00:00Z")
        #expect(
            fires.map(\.key) == [
                "d/mou:renewal-notice:2017-10-17:P0D", "d/mou:expiry:2018-01-15:P0D", "d/mou:renewal-notice:2018-10-17:P0D",
                "d/mou:expiry:2019-01-15:P0D", "d/mou:renewal-notice:2019-10-17:P0D", "d/mou:expiry:2020-01-15:P0D"
            ])
        #expect(fires[0].message.contains("last day to give notice of non-renewal"))
        #expect(fires[1].message.contains("renews by itself for P1Y"))
        #expect(plan.state(ofItem: 0, at: instant("2030-06-01T00:00:00Z")) == .inForce)
        #expect(plan.timelines[0].terms.count == ItemTimeline.maximumAutomaticTerms + 1)
        #expect(plan.timelines[0].terms.last?.provenance.source?.hasPrefix("rolled over by auto-renew at") == true)
    }

    @Test func notRenewedMakesTheCurrentTermTheLast() throws {
        let plan = try plan(mou(), history: History(events: [event(.notRenewed, "2019-06-01")]))
        let fires = plan.all(from: "2019-01-16T00:00:00Z", until: "2022-01-01T00:00:00Z")
        // The 2019-10-17 notice deadline is met by the notice itself; the term ends 2020-01-15.
        #expect(fires.map(\.key) == ["d/mou:expiry:2020-01-15:P0D"])
        #expect(!fires[0].message.contains("renews by itself"))
        #expect(plan.state(ofItem: 0, at: instant("2020-02-01T00:00:00Z")) == .expired)
        #expect(plan.timelines[0].renewalDeclined)
        let item = plan.catalog.items[0]
        #expect(!Lifecycle.allowedEvents(item: item, timeline: plan.timelines[0]).contains(.notRenewed), "notice is given once")
    }

    /// Three terms written (2017, 2018, 2019 by rolling over), notice given in the second:
    /// the second is the last, ending 2019-01-15, and its renewal notice of 2018-10-17 is met.
    @Test func nonRenewalRecordedInTheSecondTerm() throws {
        let plan = try plan(mou(), history: History(events: [event(.notRenewed, "2018-06-01")]))
        let fires = plan.all(from: "2017-01-01T00:00:00Z", until: "2022-01-01T00:00:00Z").map(\.key)
        #expect(fires == ["d/mou:renewal-notice:2017-10-17:P0D", "d/mou:expiry:2018-01-15:P0D", "d/mou:expiry:2019-01-15:P0D"])
        #expect(plan.timelines[0].terms.map(\.start.description) == ["2017-01-15", "2018-01-15"])
        #expect(plan.state(ofItem: 0, at: instant("2019-01-16T00:00:00Z")) == .expired)
    }

    @Test func terminatedStopsTheRolling() throws {
        let plan = try plan(mou(), history: History(events: [event(.terminated, "2018-03-01")]))
        #expect(plan.all(from: "2018-03-02T00:00:00Z", until: "2030-01-01T00:00:00Z").isEmpty)
        #expect(plan.state(ofItem: 0, at: instant("2019-01-01T00:00:00Z")) == .terminated)
    }

    @Test func notRenewedIsOnlyForAutoRenewingInstruments() throws {
        let fixed = try catalog(mou("")).items[0]
        let timeline = ItemTimeline(item: fixed, events: [])
        #expect(!Lifecycle.allowedEvents(item: fixed, timeline: timeline).contains(.notRenewed))
        #expect(throws: LifecycleError.self) { try Lifecycle.validate(.notRenewed, item: fixed, timeline: timeline, term: nil) }
        let renewing = try catalog(mou()).items[0]
        let rolling = ItemTimeline(item: renewing, events: [])
        #expect((try? Lifecycle.validate(.notRenewed, item: renewing, timeline: rolling, term: nil)) == .inForce)
        // Without auto-renew nothing rolls: the term expires 2018-01-15.
        let plain = try plan(mou(""))
        #expect(plain.state(ofItem: 0, at: instant("2018-02-01T00:00:00Z")) == .expired)
    }

    @Test func theParserSaysWhatIsWrong() {
        let noTerm = problems(
            mou().replacingOccurrences(of: "term = \"P1Y\"\n", with: "").replacingOccurrences(of: "notice = \"P90D\"\n", with: "")
                .replacingOccurrences(of: "in-force = { date = 2017-01-15, basis = \"statement\" }\n", with: ""))
        #expect(noTerm.map(\.message).contains { $0.hasPrefix("needs a term") })
        #expect(problems(mou("auto-renew = \"yes\"")).map(\.message) == ["must be true or false, not string"])
    }
}
