import AccordDaemon
import ArgumentParser

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (the default)."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        printError("accordd run: the daemon is not built yet (see issue 3); use `accordd check` or `accordd plan`")
        throw ExitCode(69)
    }
}
