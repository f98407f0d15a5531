import AccordDaemon
import AccordVersion
import ArgumentParser

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon in the foreground (the default).",
        discussion: """
            Loads the configuration and portfolios, opens the state database, fires what came due \
            while the daemon was down, then sleeps until the next reminder. Each reminder goes to \
            the systemd journal (to standard error where there is no journal).

            Signals: SIGHUP re-reads everything (an invalid configuration changes nothing); \
            SIGTERM and SIGINT stop cleanly.
            Environment: STATE_DIRECTORY, RUNTIME_DIRECTORY, LISTEN_FDS, NOTIFY_SOCKET and \
            WATCHDOG_USEC as set by systemd.
            """
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        Daemon(configFile: options.config, version: accordVersion).runForever()
    }
}
