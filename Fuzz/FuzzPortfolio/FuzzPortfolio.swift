// libFuzzer harness: the portfolio parser and the plan built from whatever it accepts.
// Every input must end in a portfolio or a list of problems — never a crash — and an
// accepted portfolio must plan a sorted sequence of reminders.
import AccordCalendar
import AccordCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPortfolio(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let text = String(validating: UnsafeBufferPointer(start: data, count: size), as: UTF8.self),
        !text.utf8.contains(0)
    else { return 0 }
    do {
        let portfolio = try PortfolioParser.parse(text, file: "fuzz.toml")
        let catalog = try Catalog(portfolios: [portfolio])
        let plan = ReminderPlan(catalog: catalog)
        let from = Instant(seconds: 1_451_606_400)  // 2016-01-01
        var cursor = plan.cursor(from: from)
        var previous = from
        var count = 0
        while count < 2000, let next = cursor.peekFireAt(), next < Instant(seconds: 1_893_456_000), let reminder = cursor.next() {
            precondition(reminder.fireAt >= previous, "the plan must be sorted")
            previous = reminder.fireAt
            count += 1
        }
    } catch {
        precondition(!error.description.isEmpty)
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

@_cdecl("fuzz_portfolio_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzPortfolio)
}
