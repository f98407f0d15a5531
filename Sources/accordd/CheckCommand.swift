import AccordCalendar
import AccordCore
import AccordDaemon
import ArgumentParser

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration and every portfolio it names.",
        discussion: """
            Prints a one-line summary and exits 0, or prints every problem found \
            (file:line: key path: what is wrong and what is allowed) and exits 78.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        switch ConfigurationLoader.load(configFile: options.config) {
        case let .failure(problems):
            report(problems)
            throw exitBadConfig
        case let .success(loaded):
            let now = SystemClock().now()
            let plan = ReminderPlan(catalog: loaded.catalog)
            let year = plan.count(from: now, until: now.adding(seconds: 366 * 86_400))
            let portfolios = loaded.catalog.portfolios.count
            print(
                "\(loaded.configFile): ok: \(portfolios) portfolio\(portfolios == 1 ? "" : "s"), "
                    + "\(loaded.catalog.objectiveCount) objectives, \(loaded.catalog.instrumentCount) instruments, "
                    + "\(year) reminder\(year == 1 ? "" : "s") in the next year")
        }
    }
}
