import AccordCalendar
/// A deadline given either as a calendar date in the item's zone or as an exact instant.
public enum DeadlineTime: Hashable, Sendable, CustomStringConvertible {
    case date(CivilDate)
    case instant(Instant)

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

/// The deadlines of DESIGN §1.
public enum DeadlineKind: String, Sendable, CaseIterable, Comparable {
    case due, signBy = "sign-by", expiry, renewalNotice = "renewal-notice"

    public static func < (lhs: DeadlineKind, rhs: DeadlineKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
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
    public var leads: [ISODuration]
    public var overdueEvery: ISODuration?

    public init(zone: Zone, remindAt: LocalTime = .nineAM, leads: [ISODuration], overdueEvery: ISODuration?) {
        self.zone = zone; self.remindAt = remindAt; self.leads = leads; self.overdueEvery = overdueEvery
    }

    public static let defaultLeads = [ISODuration(days: 30), ISODuration(days: 7), ISODuration(days: 1), ISODuration.zero]
}

public struct Dialogue: Sendable {
    public var id: String
    public var title: String
    public var parties: [String]
    public var established: CivilDate?
    public var settings: ReminderSettings
    public var source: SourceLocation
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
    // instruments
    public var signBy: DeadlineTime?
    public var term: ISODuration?
    public var inForce: CivilDate?
    public var notice: ISODuration?

    public init(dialogueID: String, localID: String, kind: ItemKind, title: String, parties: [String] = [],
                settings: ReminderSettings, source: SourceLocation,
                due: DeadlineTime? = nil, status: ObjectiveStatus? = nil, signBy: DeadlineTime? = nil,
                term: ISODuration? = nil, inForce: CivilDate? = nil, notice: ISODuration? = nil) {
        self.dialogueID = dialogueID; self.localID = localID; self.kind = kind; self.title = title
        self.parties = parties; self.settings = settings; self.source = source; self.due = due
        self.status = status; self.signBy = signBy; self.term = term; self.inForce = inForce; self.notice = notice
    }
}

public struct Portfolio: Sendable {
    public var dialogue: Dialogue
    public var items: [Item]
    public var file: String
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
    public let portfolios: [Portfolio]
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
        var index: [String: Int] = [:]
        var byLocal: [String: [String]] = [:]
        var problems: [ConfigProblem] = []
        var dialogues: [String: SourceLocation] = [:]
        for portfolio in portfolios {
            if let first = dialogues[portfolio.dialogue.id] {
                problems.append(ConfigProblem(file: portfolio.file, line: portfolio.dialogue.source.line,
                                              keyPath: "dialogue › id",
                                              message: "dialogue id \"\(portfolio.dialogue.id)\" is already used by \(first)"))
                continue
            }
            dialogues[portfolio.dialogue.id] = portfolio.dialogue.source
            for item in portfolio.items {
                if let existing = index[item.fullID] {
                    problems.append(ConfigProblem(file: item.source.file, line: item.source.line,
                                                  keyPath: "\(item.kind.isInstrument ? "instrument" : "objective") \"\(item.localID)\" › id",
                                                  message: "id \"\(item.localID)\" is already used by \(items[existing].source)"))
                    continue
                }
                index[item.fullID] = items.count
                byLocal[item.localID, default: []].append(item.fullID)
                items.append(item)
            }
        }
        if !problems.isEmpty { throw ConfigProblems(problems) }
        self.portfolios = portfolios
        self.items = items
        self.indexByFullID = index
        self.fullIDsByLocalID = byLocal
        objectiveCount = items.count { $0.kind == .objective }
        instrumentCount = items.count - objectiveCount
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
