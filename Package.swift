// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "accord",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "accordd", targets: ["accordd"]),
        .executable(name: "accordctl", targets: ["accordctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // SHA-256 for the audit trail's hash chains (AccordStore's HashChain). Measured cost:
        // see the commit that added it and docs/design.md §7.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // libsystemd through pkg-config: sd-journal and sd-daemon.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // libpq (Debian: libpq-dev to build, libpq5 to run), for the PostgreSQL state store, loaded
        // with dlopen only when [state] asks for it, so that SQLite users load none of its 22
        // libraries. Chosen over postgres-nio: the engine is synchronous on one Dispatch queue,
        // which libpq's blocking calls fit, and it adds no package to compile (postgres-nio
        // brings SwiftNIO).
        .target(name: "CLibpq"),
        // GNU-only socket and timer calls that Glibc's module hides (struct ucred, accept4, timerfd).
        .target(name: "CAccordShim"),
        // TOML through toml++ (Debian's libtomlplusplus-dev, header-only): the document flattened
        // into C records that Swift reads in place, freed whole (Sources/AccordTOML says why).
        .target(name: "CAccordTOML"),
        .target(name: "AccordTOML", dependencies: ["CAccordTOML"]),
        // Civil dates, instants, ISO durations, IANA zones from the system's TZif files, and the
        // wording of relative times. No dependencies; reading zone files is its only I/O.
        .target(name: "AccordCalendar"),
        // Pure model: portfolio format, lifecycle, reminder plan. No I/O.
        .target(
            name: "AccordCore",
            dependencies: [
                "AccordCalendar",
                "AccordTOML",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // The state (items, events, reminder ledger, acknowledgements, audit) behind one protocol:
        // SQLite through GRDB (the default) or PostgreSQL through libpq; the audit hash chains.
        .target(
            name: "AccordStore",
            dependencies: [
                "AccordCalendar", "AccordCore", "CLibpq", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Varlink framing, JSON values and the io.accord.Tracker types, shared by both sides.
        .target(name: "AccordProtocol", exclude: ["io.accord.Tracker.varlink"]),
        // The running daemon: scheduler, journal, control server, sd_notify, reload.
        .target(
            name: "AccordDaemon",
            dependencies: [
                "AccordCalendar", "AccordCore", "AccordStore", "AccordProtocol", "CSystemd", "CAccordShim",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Plain-text presentation shared by the two command-line tools.
        .target(name: "AccordText"),
        // The release string, printed by both programs and reported by the daemon.
        .target(name: "AccordVersion"),
        // The executables only parse arguments and wire the modules together.
        .executableTarget(
            name: "accordd",
            dependencies: [
                "AccordCalendar", "AccordCore", "AccordDaemon", "AccordProtocol", "AccordText", "AccordVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "accordctl",
            dependencies: [
                "AccordCalendar", "AccordProtocol", "AccordText", "AccordVersion",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Calendar rules, zone files and full-range properties (0001-9999, every zone kind), with no plan.
        .testTarget(
            name: "AccordCalendarTests",
            dependencies: [
                "AccordCalendar",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // Portfolio parsing, lifecycle and the reminder plan, with plan properties over random portfolios.
        .testTarget(
            name: "AccordCoreTests",
            dependencies: [
                "AccordCalendar", "AccordCore", "AccordTOML",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // The state store on real SQLite.
        .testTarget(name: "AccordStoreTests", dependencies: ["AccordCalendar", "AccordCore", "AccordStore"]),
        // Varlink framing and client, JSON, the wire types against the IDL, private directories.
        .testTarget(name: "AccordProtocolTests", dependencies: ["AccordProtocol"]),
        // The engine, the clock-change watch, the hook sandbox and a scripted session over the socket.
        // accordctl's hand parser for its common commands against ArgumentParser's parse.
        .testTarget(
            name: "AccordctlTests",
            dependencies: ["accordctl", "AccordProtocol", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "AccordDaemonTests", dependencies: ["AccordCalendar", "AccordCore", "AccordDaemon", "AccordProtocol", "AccordStore"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)

// Fuzzing harnesses (libFuzzer): only with ACCORD_FUZZ=1, since they have no main of their own.
// scripts/fuzz.sh builds them with -sanitize=fuzzer.
if Context.environment["ACCORD_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "fuzz-portfolio", dependencies: ["AccordCalendar", "AccordCore"], path: "Fuzz/FuzzPortfolio"))
    package.products.append(.executable(name: "fuzz-portfolio", targets: ["fuzz-portfolio"]))
    package.targets.append(.executableTarget(name: "fuzz-plan", dependencies: ["AccordCalendar", "AccordCore"], path: "Fuzz/FuzzPlan"))
    package.products.append(.executable(name: "fuzz-plan", targets: ["fuzz-plan"]))
}
