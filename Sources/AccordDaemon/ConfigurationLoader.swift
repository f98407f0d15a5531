import AccordCalendar
import AccordCore
import Glibc

/// Everything the daemon reads from files, loaded and checked as one unit, so that a
/// reload either takes all of it or none of it.
public struct LoadedConfiguration: Sendable {
    public var configFile: String
    public var config: DaemonConfig
    public var portfolioFiles: [String]
    /// The calendar files `calendars` names, in the order listed (§12).
    public var calendars: [BusinessCalendar] = []
    public var catalog: Catalog
    /// The catalog is the one the previous load made: no file, calendar or zone changed.
    public var catalogUnchanged = false
}

/// Reads `accordd.toml` and the portfolios it names (docs/contracts.md §2, §3).
public enum ConfigurationLoader {
    /// Larger files are refused: a portfolio is a few kilobytes; 100,000 items fit in 16 MB.
    public static let maximumFileSize = 16 * 1024 * 1024

    /// Loads a daemon configuration file and every portfolio it names.
    public static func load(configFile: String, cache: PortfolioCache? = nil) -> Result<LoadedConfiguration, ConfigProblems> {
        let config: DaemonConfig
        do throws(ConfigProblems) {
            config = try DaemonConfig.parse(try readText(configFile), file: configFile)
        } catch {
            return .failure(error)
        }
        let base = directory(of: configFile)
        let calendarPaths = config.calendars.map { $0.hasPrefix("/") ? $0 : base + "/" + $0 }
        let calendars: [BusinessCalendar]
        switch loadCalendars(calendarPaths, origin: configFile) {
        case let .success(loaded): calendars = loaded
        case let .failure(problems): return .failure(problems)
        }
        let paths = config.portfolios.map { $0.hasPrefix("/") ? $0 : base + "/" + $0 }
        return loadPortfolios(paths, origin: configFile, calendars: calendars, cache: cache).map { files, catalog in
            LoadedConfiguration(
                configFile: configFile, config: config, portfolioFiles: files, calendars: calendars, catalog: catalog,
                catalogUnchanged: cache?.lastLoadChangedNothing ?? false)
        }
    }

    /// Loads calendar files, or folders of `*.toml` (§12); one id may be defined once.
    public static func loadCalendars(_ paths: [String], origin: String? = nil) -> Result<[BusinessCalendar], ConfigProblems> {
        var problems: [ConfigProblem] = []
        let files = expand(paths, key: "calendars", origin: origin, problems: &problems)
        var calendars: [BusinessCalendar] = []
        var definedIn: [String: String] = [:]
        for file in files {
            do throws(ConfigProblems) {
                let calendar = try BusinessCalendarParser.parse(try readText(file), file: file)
                if let first = definedIn[calendar.id] {
                    problems.append(
                        ConfigProblem(file: file, keyPath: "calendar › id", message: "calendar id \"\(calendar.id)\" is already defined by \(first)"))
                    continue
                }
                definedIn[calendar.id] = file
                calendars.append(calendar)
            } catch {
                problems += error.problems
            }
        }
        return problems.isEmpty ? .success(calendars) : .failure(ConfigProblems(problems))
    }

    /// Loads portfolio files, or folders of `*.toml`, without a daemon configuration. With a
    /// cache (the daemon's, across reloads), a file whose bytes, calendars and zones are as at
    /// the last load is not parsed again, and when nothing changed the last catalog is returned.
    public static func loadPortfolios(
        _ paths: [String], origin: String? = nil, calendars: [BusinessCalendar] = [], cache: PortfolioCache? = nil
    ) -> Result<([String], Catalog), ConfigProblems> {
        var problems: [ConfigProblem] = []
        let files = expand(paths, key: "portfolios", origin: origin, problems: &problems)
        var byID: [String: BusinessCalendar] = [:]
        for calendar in calendars { byID[calendar.id] = calendar }
        cache?.begin(calendars: calendars)
        // Read in order, each file's text checked against the cache; what changed is parsed below.
        var slots: [Result<Portfolio, ConfigProblems>?] = []
        var texts: [(slot: Int, file: String, text: String)] = []
        for file in files {
            do throws(ConfigProblems) {
                let text = try readText(file)
                if let kept = cache?.portfolio(file, text: text) {
                    slots.append(.success(kept))
                } else {
                    texts.append((slots.count, file, text))
                    slots.append(nil)
                }
            } catch {
                slots.append(.failure(error))
            }
        }
        for (index, result) in parseAll(texts, calendars: byID).enumerated() {
            if case let .success(portfolio) = result { cache?.store(portfolio, file: texts[index].file) }
            slots[texts[index].slot] = result
        }
        var portfolios: [Portfolio] = []
        for slot in slots {
            switch slot {
            case let .success(portfolio)?: portfolios.append(portfolio)
            case let .failure(error)?: problems += error.problems
            case nil: break
            }
        }
        if !problems.isEmpty { return .failure(ConfigProblems(problems)) }
        if let catalog = cache?.unchangedCatalog(files: files) { return .success((files, catalog)) }
        do {
            let counts = portfolios.map(\.items.count)
            let catalog = try Catalog(portfolios: portfolios)
            cache?.finish(files: files, itemCounts: counts, catalog: catalog)
            return .success((files, catalog))
        } catch {
            return .failure(error)
        }
    }

    /// Parses the files on every core: parsing is 55% of `accordd check` at 100,000 items in
    /// 10 files (1.55 s of 2.8 s on one core), and each file parses on its own. Results come back
    /// by position in `texts`, so the catalog and its problems keep the files' order.
    static func parseAll(
        _ texts: [(slot: Int, file: String, text: String)], calendars: [String: BusinessCalendar]
    ) -> [Result<Portfolio, ConfigProblems>] {
        Parallel.map(texts.count) { index in
            do throws(ConfigProblems) {
                return .success(try PortfolioParser.parse(texts[index].text, file: texts[index].file, calendars: calendars))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Files as named, and the `*.toml` files of folders, with a problem per path that cannot
    /// be read (named under `key` of the configuration file `origin`).
    static func expand(_ paths: [String], key: String, origin: String?, problems: inout [ConfigProblem]) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            if stat(path, &info) != 0 {
                let reason = String(cString: strerror(errno))
                problems.append(
                    ConfigProblem(
                        file: origin ?? path, keyPath: origin == nil ? "" : key,
                        message: "cannot read \(path): \(reason)"))
                continue
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                switch tomlFiles(in: path) {
                case let .success(found):
                    if found.isEmpty {
                        problems.append(
                            ConfigProblem(
                                file: origin ?? path, keyPath: origin == nil ? "" : key,
                                message: "\(path) holds no *.toml file"))
                    }
                    files += found
                case let .failure(problem): problems.append(problem)
                }
            } else {
                files.append(path)
            }
        }
        return files
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The `*.toml` files of a folder, sorted so that every load sees the same order.
    static func tomlFiles(in folder: String) -> Result<[String], ConfigProblem> {
        guard let dir = opendir(folder) else {
            return .failure(ConfigProblem(file: folder, keyPath: "", message: "cannot list the folder: \(String(cString: strerror(errno)))"))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name.hasSuffix(".toml"), !name.hasPrefix(".") { names.append(name) }
        }
        return .success(names.sorted().map { folder + "/" + $0 })
    }

    /// Reads a whole file as UTF-8, with errors that name the file and the reason.
    static func readText(_ path: String) throws(ConfigProblems) -> String {
        func fail(_ message: String) -> ConfigProblems {
            ConfigProblems([ConfigProblem(file: path, keyPath: "", message: message)])
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw fail("cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot stat: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail("is not a regular file") }
        guard Int(info.st_size) <= maximumFileSize else {
            throw fail("is \(info.st_size) bytes, more than the \(maximumFileSize) allowed")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { throw fail("cannot read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            filled += n
        }
        bytes.removeLast(bytes.count - filled)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("is not valid UTF-8") }
        if text.utf8.contains(0) { throw fail("contains a NUL byte") }
        return text
    }
}
