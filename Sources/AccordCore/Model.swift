import AccordCalendar

/// A deadline given either as a calendar date in the item's zone or as an exact instant.
public enum DeadlineTime: Hashable, Sendable, CustomStringConvertible {
    case date(CivilDate)
    case instant(Instant)

    public var isInstant: Bool {
        if case .instant = self { return true }
        return false
    }

    /// As it appears in reminder keys: the date, or the RFC 3339 UTC instant.
    public var description: String {
        switch self {
        case let .date(date): return date.description
        case let .instant(instant): return instant.rfc3339
        }
    }
}

public enum ItemKind: String, Sendable, CaseIterable {
    case objective, treaty, agreement, mou, arrangement
    public var isInstrument: Bool { self != .objective }
}

public enum ObjectiveStatus: String, Sendable, CaseIterable {
    case open, inProgress = "in-progress", done, dropped
}

/// The deadlines of docs/contracts.md §1.
public enum DeadlineKind: String, Sendable, CaseIterable, Comparable {
    case due, signBy = "sign-by", expiry, renewalNotice = "renewal-notice"

    public static func < (lhs: DeadlineKind, rhs: DeadlineKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// What a date or duration rests on (docs/contracts.md §10). The order is from strongest to
/// weakest; `recorded` is for dates that come from recorded events, never from a file.
public enum Basis: String, Sendable, CaseIterable {
    case statement, confirmed, planned, assumed, recorded

    /// The bases a portfolio file may give.
    public static let inFiles: [Basis] = [.statement, .confirmed, .planned, .assumed]

    /// A date with this basis may change an item's state; a planned or assumed one never does.
    public var isFact: Bool { self == .statement || self == .confirmed || self == .recorded }

    /// Weakness for combining: a deadline counted from two values rests on the weaker one.
    var weakness: Int {
        switch self {
        case .recorded, .statement, .confirmed: return 0
        case .planned: return 1
        case .assumed: return 2
        }
    }
}

/// What one value rests on and where that is written.
public struct Provenance: Hashable, Sendable {
    public var basis: Basis
    /// Free text: the founding text's own words, or the reason for an assumption.
    public var source: String?
    public init(basis: Basis, source: String? = nil) { self.basis = basis; self.source = source }

    /// A deadline counted from several values (in-force, term, notice) rests on the weakest;
    /// its source names each part, so that `show` can say why.
    public static func combined(_ parts: [(key: String, provenance: Provenance)]) -> Provenance {
        guard let weakest = parts.max(by: { $0.provenance.basis.weakness < $1.provenance.basis.weakness }) else {
            return Provenance(basis: .planned)
        }
        let sources = parts.compactMap { part in part.provenance.source.map { "\(part.key) (\(part.provenance.basis.rawValue)): \($0)" } }
        return Provenance(basis: weakest.provenance.basis, source: sources.isEmpty ? nil : sources.joined(separator: "; "))
    }
}

/// An objective's link to the instrument event that fulfils it (§11).
public struct FulfilledBy: Hashable, Sendable {
    /// As written: a bare id in the same dialogue, or a full id.
    public var item: String
    public var event: EventType
    public var source: SourceLocation
}

/// `renews = "ITEM"` or `supersedes = "ITEM"` on an instrument, with where it is written.
public struct ItemLink: Hashable, Sendable {
    public var item: String
    public var source: SourceLocation
}

/// Where something was written, for error messages and `accordctl show`.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public init(file: String, line: Int? = nil) { self.file = file; self.line = line }
    public var description: String { line.map { "\(file):\($0)" } ?? file }
}

/// The settings an item inherits from its dialogue unless it overrides them.
public struct ReminderSettings: Hashable, Sendable {
    public var zone: Zone
    public var remindAt: LocalTime
    public var leads: [Lead]
    public var overdueEvery: ISODuration?
    /// Overdue reminders stop this long after the deadline, and one last "lapsed" entry fires (§11).
    public var overdueFor: ISODuration
    /// `business-days`: the calendars whose common business days the item keeps (§12); none
    /// (the default) makes every day a business day.
    public var businessDays: BusinessDays
    /// `adjust`: how a date deadline on a day off moves (§12); `none` by default.
    public var adjust: Adjustment

    public init(
        zone: Zone, remindAt: LocalTime = .nineAM, leads: [Lead], overdueEvery: ISODuration?,
        overdueFor: ISODuration = ReminderSettings.defaultOverdueFor,
        businessDays: BusinessDays = BusinessDays([]), adjust: Adjustment = .none
    ) {
        self.zone = zone; self.remindAt = remindAt; self.leads = leads; self.overdueEvery = overdueEvery
        self.overdueFor = overdueFor; self.businessDays = businessDays; self.adjust = adjust
    }

    /// 180 days: long enough for two quarterly follow-ups, short enough that a fresh install
    /// of a 2016 portfolio does not nag about deadlines that lapsed years ago.
    public static let defaultOverdueFor = ISODuration(days: 180)

    public static let defaultLeads: [Lead] = [
        .duration(ISODuration(days: 30)), .duration(ISODuration(days: 7)), .duration(ISODuration(days: 1)), .zero
    ]
}

public struct Dialogue: Sendable {
    public var id: String
    public var title: String
    public var parties: [String]
    public var established: CivilDate?
    public var settings: ReminderSettings
    public var source: SourceLocation
    /// What bare dates in this file rest on (`default-basis`, default planned).
    public var defaultBasis: Basis = .planned
    /// Provenance of `established`, `established-until`, `inaugural-meeting`.
    public var provenance: [String: Provenance] = [:]
    /// The last day of an establishment that took several days (a visit), if given.
    public var establishedUntil: CivilDate?
    public var inauguralMeeting: CivilDate?
    public var venue: String?
    public var coChairs: [String] = []
    public var description: String?
    /// Default owner and contacts of the dialogue's items.
    public var owner: String?
    public var contacts: [String] = []
}

/// An objective or an instrument, as its portfolio file defines it.
public struct Item: Sendable {
    public var dialogueID: String
    public var localID: String
    public var fullID: String { dialogueID + "/" + localID }
    public var kind: ItemKind
    public var title: String
    public var parties: [String]
    public var settings: ReminderSettings
    public var source: SourceLocation
    // objectives
    public var due: DeadlineTime?
    public var status: ObjectiveStatus?
    /// `every`/`first`/`until`: a recurring objective has one due deadline per occurrence (§13).
    public var recurrence: Recurrence?
    // instruments
    public var signBy: DeadlineTime?
    public var term: ISODuration?
    public var inForce: CivilDate?
    public var notice: ISODuration?
    /// `auto-renew = true`: a new term of `term` starts at each expiry unless `not-renewed` or
    /// `terminated` is recorded (§13).
    public var autoRenew = false
    /// `enters-into-force = { after = "P30D", from = "last-notification" }` (§13): in force
    /// `after` the last party's `notified` event.
    public var entersIntoForce: ISODuration?
    /// Whose notifications `enters-into-force` waits for: the instrument's parties, else its dialogue's.
    public var notifyingParties: [String] = []
    /// A date on which an instrument without a term (terms of reference) was adopted.
    public var adopted: CivilDate?
    /// What each date or duration rests on, by key (`due`, `sign-by`, `term`, `in-force`,
    /// `notice`, `adopted`): every key the file gives has one, bare ones the default basis.
    public var provenance: [String: Provenance] = [:]
    public var description: String?
    /// The item's own, else the dialogue's.
    public var owner: String?
    public var contacts: [String] = []
    public var fulfilledBy: FulfilledBy?
    public var renews: ItemLink?
    public var supersedes: ItemLink?

    /// What a key's value rests on; a key without one is planned (the contract's default).
    public func provenance(of key: String) -> Provenance { provenance[key] ?? Provenance(basis: .planned) }

    /// The full id a link names: bare ids are in the item's own dialogue.
    public func resolve(link id: String) -> String { id.contains("/") ? id : dialogueID + "/" + id }

    public init(
        dialogueID: String, localID: String, kind: ItemKind, title: String, parties: [String] = [],
        settings: ReminderSettings, source: SourceLocation,
        due: DeadlineTime? = nil, status: ObjectiveStatus? = nil, signBy: DeadlineTime? = nil,
        term: ISODuration? = nil, inForce: CivilDate? = nil, notice: ISODuration? = nil
    ) {
        self.dialogueID = dialogueID; self.localID = localID; self.kind = kind; self.title = title
        self.parties = parties; self.settings = settings; self.source = source; self.due = due
        self.status = status; self.signBy = signBy; self.term = term; self.inForce = inForce; self.notice = notice
    }
}

public struct Portfolio: Sendable {
    public var dialogue: Dialogue
    public var items: [Item]
    public var file: String
    public init(dialogue: Dialogue, items: [Item], file: String) { self.dialogue = dialogue; self.items = items; self.file = file }
}

/// One problem found in a configuration or portfolio file.
public struct ConfigProblem: Hashable, Sendable, CustomStringConvertible, Error {
    public var file: String
    public var line: Int?
    /// Where in the document: `instrument "cbsa-beea-pilot-mou" › term`.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int? = nil, keyPath: String, message: String) {
        self.file = file; self.line = line; self.keyPath = keyPath; self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return keyPath.isEmpty ? "\(place): \(message)" : "\(place): \(keyPath): \(message)"
    }
}

/// Every loaded portfolio, with items found by full or bare id.
public struct Catalog: Sendable {
    /// The dialogue of each portfolio file, in load order. The files' items are in `items`
    /// alone: keeping them in their portfolios too held every item twice (92 MB at 100,000).
    public let dialogues: [Dialogue]
    public var portfolioCount: Int { dialogues.count }
    public let items: [Item]
    private let indexByFullID: [String: Int]
    private let fullIDsByLocalID: [String: [String]]
    /// Counted once: the daemon's status line and Status ask at every firing and call, and
    /// counting 100,000 items there cost tens of milliseconds each time.
    public let objectiveCount: Int
    public let instrumentCount: Int

    /// Fails with one problem per duplicate id across portfolios.
    public init(portfolios: [Portfolio]) throws(ConfigProblems) {
        var items: [Item] = []
        items.reserveCapacity(portfolios.reduce(0) { $0 + $1.items.count })
        var index: [String: Int] = [:]
        index.reserveCapacity(items.capacity)
        var byLocal: [String: [String]] = [:]
        var problems: [ConfigProblem] = []
        var dialogues: [String: SourceLocation] = [:]
        for portfolio in portfolios {
            if let first = dialogues[portfolio.dialogue.id] {
                problems.append(
                    ConfigProblem(
                        file: portfolio.file, line: portfolio.dialogue.source.line,
                        keyPath: "dialogue › id",
                        message: "dialogue id \"\(portfolio.dialogue.id)\" is already used by \(first)"))
                continue
            }
            dialogues[portfolio.dialogue.id] = portfolio.dialogue.source
            for item in portfolio.items {
                if let existing = index[item.fullID] {
                    problems.append(
                        ConfigProblem(
                            file: item.source.file, line: item.source.line,
                            keyPath: "\(item.kind.isInstrument ? "instrument" : "objective") \"\(item.localID)\" › id",
                            message: "id \"\(item.localID)\" is already used by \(items[existing].source)"))
                    continue
                }
                index[item.fullID] = items.count
                byLocal[item.localID, default: []].append(item.fullID)
                items.append(item)
            }
        }
        if problems.isEmpty { problems = Catalog.checkLinks(items: items, index: index) }
        if !problems.isEmpty { throw ConfigProblems(problems) }
        self.dialogues = portfolios.map(\.dialogue)
        self.items = items
        self.indexByFullID = index
        self.fullIDsByLocalID = byLocal
        objectiveCount = items.count { $0.kind == .objective }
        instrumentCount = items.count - objectiveCount
    }

    /// `fulfilled-by`, `renews` and `supersedes` must name an instrument that exists, and
    /// renewals and supersessions must not go round in a circle (§11).
    static func checkLinks(items: [Item], index: [String: Int]) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        func name(_ item: Item) -> String { "\(item.kind.isInstrument ? "instrument" : "objective") \"\(item.localID)\"" }
        func target(_ item: Item, _ key: String, _ id: String, _ at: SourceLocation) -> Int? {
            guard let found = index[item.resolve(link: id)] else {
                problems.append(
                    ConfigProblem(
                        file: at.file, line: at.line, keyPath: "\(name(item)) › \(key)",
                        message: "\"\(id)\" is not an item of dialogue \"\(item.dialogueID)\""))
                return nil
            }
            guard items[found].kind.isInstrument else {
                problems.append(
                    ConfigProblem(
                        file: at.file, line: at.line, keyPath: "\(name(item)) › \(key)",
                        message: "\"\(id)\" is an objective; \(key) names an instrument"))
                return nil
            }
            return found
        }
        // Each instrument has at most one renews and one supersedes edge; follow them from each.
        var next: [Int: [(Int, String, SourceLocation)]] = [:]
        for (position, item) in items.enumerated() {
            if let link = item.fulfilledBy { _ = target(item, "fulfilled-by", link.item, link.source) }
            for (key, link) in [("renews", item.renews), ("supersedes", item.supersedes)] {
                guard let link, let found = target(item, key, link.item, link.source) else { continue }
                if found == position {
                    problems.append(
                        ConfigProblem(
                            file: link.source.file, line: link.source.line, keyPath: "\(name(item)) › \(key)",
                            message: "an instrument cannot \(key == "renews" ? "renew" : "supersede") itself"))
                    continue
                }
                next[position, default: []].append((found, key, link.source))
            }
        }
        var reported: Set<Int> = []
        for start in next.keys.sorted() where !reported.contains(start) {
            // Depth-first from `start`; a path back to `start` is a cycle, reported at its first edge.
            var stack: [(Int, [Int])] = [(start, [start])]
            var seen: Set<Int> = [start]
            while let (node, path) = stack.popLast() {
                for (to, _, _) in next[node] ?? [] {
                    if to == start {
                        let edge = next[start]!.first { $0.0 == path.dropFirst().first ?? to }!
                        let cycle = (path + [start]).map { items[$0].localID }.joined(separator: " → ")
                        problems.append(
                            ConfigProblem(
                                file: edge.2.file, line: edge.2.line, keyPath: "\(name(items[start])) › \(edge.1)",
                                message: "renews/supersedes go round in a circle: \(cycle)"))
                        reported.formUnion(path)
                        stack.removeAll()
                        break
                    }
                    if seen.insert(to).inserted { stack.append((to, path + [to])) }
                }
            }
        }
        return problems
    }

    public enum Lookup: Equatable, Sendable {
        case found(Int)
        case notFound
        case ambiguous([String])
    }

    /// Resolves a full id `DIALOGUE/ITEM`, or a bare `ITEM` when only one dialogue has it.
    public func lookup(_ id: String) -> Lookup {
        if let index = indexByFullID[id] { return .found(index) }
        guard !id.contains("/"), let candidates = fullIDsByLocalID[id] else { return .notFound }
        if candidates.count == 1, let index = indexByFullID[candidates[0]] { return .found(index) }
        return .ambiguous(candidates.sorted())
    }

    public func item(fullID: String) -> Item? { indexByFullID[fullID].map { items[$0] } }

}

/// Several problems at once: a file is reported whole, not stopped at its first error.
public struct ConfigProblems: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]
    public init(_ problems: [ConfigProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
