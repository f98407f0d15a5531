// libFuzzer harness: a random portfolio and a random "now". The first 8 bytes are the instant
// (any second from year 1 to 9999), the rest the TOML. Whatever parses must plan (with
// escalations, as escalate-after = "P3D" would), answer every query the control socket makes
// (state, deadlines, the most pressing one, the calendar export, the digest) at that instant,
// and give reminders in order from it, without a crash.
import AccordCalendar
import AccordCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 8 else { return 0 }
    let raw = UnsafeRawPointer(data).loadUnaligned(as: UInt64.self)
    // 0001-01-01 to 9999-12-31, as the formats accept.
    let span: UInt64 = 253_402_300_799 + 62_135_596_800
    let now = Instant(seconds: Int64(raw % span) - 62_135_596_800)
    guard let text = String(validating: UnsafeBufferPointer(start: data + 8, count: size - 8), as: UTF8.self),
        !text.utf8.contains(0)
    else { return 0 }
    guard let portfolio = try? PortfolioParser.parse(text, file: "fuzz.toml"),
        let catalog = try? Catalog(portfolios: [portfolio])
    else { return 0 }
    let plan = ReminderPlan(catalog: catalog, escalateAfter: ISODuration(days: 3))
    for index in catalog.items.indices {
        _ = plan.state(ofItem: index, at: now)
        _ = plan.deadlines(ofItem: index, at: now)
        _ = plan.mostPressingDeadline(ofItem: index, at: now)
        _ = plan.reminders(ofItem: index, from: now, until: now.adding(seconds: 2 * 366 * 86_400), limit: 50)
    }
    let entries = CalendarExport.entries(plan, at: now)
    precondition(CalendarExport.calendar(entries, plan: plan, at: now).hasSuffix("END:VCALENDAR\r\n"))
    let digest = Digest.make(plan: plan, at: now, period: ISODuration(weeks: 1))
    precondition(Digest.Section.allCases.reduce(0) { $0 + digest.count($1) } == digest.lines.count)
    precondition(digest.text.hasPrefix(digest.summary + "\n"), "the digest starts with its summary")
    var cursor = plan.cursor(from: now)
    var previous = now
    var count = 0
    while count < 500, let reminder = cursor.next() {
        precondition(reminder.fireAt >= previous, "the plan must be sorted")
        previous = reminder.fireAt
        count += 1
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("fuzz_plan_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzPlan)
}
