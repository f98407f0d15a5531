import AccordCalendar
import AccordCore
import AccordStore
import Testing

@testable import AccordDaemon

/// The digest and escalations in the engine (docs/contracts.md §14), on the injected clock: the
/// digest is due on the one timer, written once per period and claimed in the ledger first; of
/// the digests missed while down only the latest is written (catch-up), or recorded missed when
/// older than catch-up; an escalation is a ledger entry like any reminder.
@Suite struct DigestEngineTests {
    static let hourly = "digest = \"PT1H\"\ndigest-at = \"2030-01-01T10:00:00Z\"\n"

    func digests(_ journal: CollectingJournal) -> [JournalEntry] { journal.entries.filter { $0["MESSAGE_ID"] == MessageID.digest } }

    @Test func theDigestFiresOnTheTimerOncePerPeriod() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, extra: Self.hourly)
        let clock = ManualClock(instant("2030-01-01T09:30:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        var handed: [String] = []
        engine.onDigest = { digest, entry in handed.append(digest.summary + "|" + (entry["ACCORD_DIGEST"] ?? "")) }
        #expect(engine.digestAt == instant("2030-01-01T10:00:00Z") && engine.nextFireAt() == instant("2030-01-01T10:00:00Z"))
        engine.processDue()
        #expect(digests(journal).isEmpty)
        clock.set(instant("2030-01-01T10:00:00Z"))
        engine.processDue()
        engine.processDue()
        let entry = try #require(digests(journal).first)
        #expect(digests(journal).count == 1)
        #expect(entry["ACCORD_DIGEST"] == "digest:2030-01-01T10:00:00Z" && entry["ACCORD_CATCHUP"] == "0")
        #expect(entry["ACCORD_FIRE_AT"] == "2030-01-01T10:00:00Z" && entry["ACCORD_UNTIL"] == "2030-01-01T11:00:00Z")
        #expect(entry["PRIORITY"] == "5" && entry["ACCORD_DUE"] == "0" && entry["ACCORD_OVERDUE"] == "0")
        #expect(entry["MESSAGE"]?.hasPrefix("accord digest 2030-01-01T10:00:00Z: 0 overdue") == true)
        #expect(handed == ["\(entry["ACCORD_SUMMARY"]!)|digest:2030-01-01T10:00:00Z"])
        #expect(engine.digestAt == instant("2030-01-01T11:00:00Z"))
        // alpha passes at 12:00: not due within [11:00, 12:00), overdue at 12:00.
        clock.set(instant("2030-01-01T11:00:00Z"))
        engine.processDue()
        #expect(digests(journal).last?["ACCORD_DUE"] == "0")
        clock.set(instant("2030-01-01T12:00:00Z"))
        engine.processDue()
        #expect(digests(journal).last?["ACCORD_OVERDUE"] == "1" && digests(journal).last?["ACCORD_DUE"] == "0")
        #expect(digests(journal).count == 3)
        #expect(engine.ledgerCounts[.fired, default: 0] >= 3)
    }

    @Test func aClockSetBackRearmsTheDigestAndNeverWritesOneTwice() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, extra: Self.hourly)
        let clock = ManualClock(instant("2030-01-01T10:00:00Z"))
        let journal = CollectingJournal()
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        clock.set(instant("2030-01-01T08:30:00Z"))  // set back 90 minutes
        try engine.replan()
        #expect(engine.digestAt == instant("2030-01-01T10:00:00Z"))
        clock.set(instant("2030-01-01T10:00:00Z"))
        engine.processDue()
        #expect(digests(journal).map { $0["ACCORD_DIGEST"] } == ["digest:2030-01-01T10:00:00Z"])
        #expect(engine.digestAt == instant("2030-01-01T11:00:00Z"))
    }

    @Test func ofTheDigestsMissedWhileDownOnlyTheLatestIsWrittenOnce() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, extra: Self.hourly)
        let clock = ManualClock(instant("2030-01-01T10:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            engine.processDue()
            try engine.store.close()
        }
        clock.set(instant("2030-01-01T13:30:00Z"))  // 11:00, 12:00, 13:00 came due meanwhile
        for _ in 0..<2 {
            let engine = try fixture.engine(clock: clock, journal: journal)
            engine.processDue()
            #expect(engine.digestAt == instant("2030-01-01T14:00:00Z"))
            try engine.store.close()
        }
        #expect(digests(journal).map { $0["ACCORD_DIGEST"] } == ["digest:2030-01-01T10:00:00Z", "digest:2030-01-01T13:00:00Z"])
        #expect(digests(journal).map { $0["ACCORD_CATCHUP"] } == ["0", "1"])
    }

    @Test func aDigestOlderThanCatchUpIsRecordedMissed() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, catchUp: "PT1H", extra: "digest = \"P1D\"\ndigest-at = \"10:00\"\n")
        let clock = ManualClock(instant("2030-01-01T10:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            engine.processDue()
            try engine.store.close()
        }
        clock.set(instant("2030-01-02T12:00:00Z"))
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        #expect(digests(journal).map { $0["ACCORD_DIGEST"] } == ["digest:2030-01-01T10:00:00Z"])
        // Digests are in the ledger under no item.
        let lines = try engine.store.ledger(item: "")
        #expect(lines.map(\.key) == ["digest:2030-01-01T10:00:00Z", "digest:2030-01-02T10:00:00Z"])
        #expect(lines.map(\.outcome) == [.fired, .missed])
        #expect(engine.digestAt == instant("2030-01-03T10:00:00Z"))
    }

    /// A crash between the claim and the journal write: the next start asks the journal; a
    /// digest it has is settled and not written again, one it lacks is written (catch-up).
    @Test func aClaimACrashInterruptedSettlesByTheJournal() throws {
        for written in [true, false] {
            let fixture = try Fixture(portfolio: twoDeadlines, extra: Self.hourly)
            let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
            let journal = CollectingJournal()
            let key = "digest:2030-01-01T10:00:00Z"
            do {
                let engine = try fixture.engine(clock: clock, journal: journal)
                engine.processDue()
                let at = instant("2030-01-01T10:00:00Z")
                _ = try engine.store.claim([LedgerEntry(key: key, itemID: "", outcome: .fired, scheduledAt: at, at: at)])
                try engine.store.close()  // the crash: claimed, pending, not in the journal
            }
            clock.set(instant("2030-01-01T10:00:30Z"))
            let engine = try fixture.engine(clock: clock, journal: journal, lookup: FixedLookup(present: written ? [key] : []))
            engine.processDue()
            #expect(try !engine.store.pendingKeys().contains(key))
            #expect(digests(journal).map { $0["ACCORD_DIGEST"] } == (written ? [] : [key]))
            #expect(digests(journal).allSatisfy { $0["ACCORD_CATCHUP"] == "1" })
        }
    }

    @Test func escalationsAreLedgerEntriesFiredOnceAndSilencedByAnAcknowledgement() throws {
        let fixture = try Fixture(portfolio: twoDeadlines, extra: "escalate-after = \"PT30M\"\n")
        let clock = ManualClock(instant("2030-01-01T09:00:00Z"))
        let journal = CollectingJournal()
        do {
            let engine = try fixture.engine(clock: clock, journal: journal)
            _ = try engine.acknowledge(id: "d/beta", deadline: "sign-by", actor: Actor(uid: 0, user: "root"))
            clock.set(instant("2030-01-01T12:30:00Z"))
            engine.processDue()
            try engine.store.close()
        }
        let escalated = journal.entries.filter { $0["MESSAGE_ID"] == MessageID.escalated }
        #expect(escalated.map { $0["ACCORD_REMINDER"] } == ["d/alpha:due:2030-01-01T12:00:00Z:escalate+PT30M"])
        #expect(escalated.first?["PRIORITY"] == "2" && escalated.first?["ACCORD_LEAD"] == "escalate+PT30M")
        clock.set(instant("2030-01-01T23:00:00Z"))  // beta's escalation (16:30) would have come by now
        let engine = try fixture.engine(clock: clock, journal: journal)
        engine.processDue()
        #expect(journal.entries.filter { $0["MESSAGE_ID"] == MessageID.escalated }.count == 1)
        #expect(try engine.store.ledger(item: "d/alpha").contains { $0.key.hasSuffix(":escalate+PT30M") && $0.outcome == .fired })
    }
}
