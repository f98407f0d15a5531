import AccordCore
import AccordProtocol
import AccordStore
import Dispatch
import Glibc

/// The `io.accord.Tracker` interface and `org.varlink.service`: decodes each call, checks
/// who may make it, runs it against the engine and encodes the reply (DESIGN §7).
final class TrackerService: @unchecked Sendable {
    unowned let daemon: Daemon
    var queue: DispatchQueue { daemon.queue }
    var engine: ReminderEngine { daemon.engine }
    static let interfaceName = "io.accord.Tracker"
    static let writeMethods: Set<String> = ["Record", "Acknowledge", "Snooze", "Reload"]
    static let version = accordVersion

    init(daemon: Daemon) { self.daemon = daemon }

    func handle(_ message: [UInt8], from connection: Connection) {
        let call: VarlinkCall
        do {
            call = try VarlinkCall.decode(message)
        } catch {
            connection.send(VarlinkReply(error).encode())
            return
        }
        let reply: VarlinkReply?
        do {
            reply = try dispatch(call, connection: connection)
        } catch let error as VarlinkError {
            reply = VarlinkReply(error)
        } catch {
            reply = VarlinkReply(error: "org.varlink.service.InvalidParameter", parameters: ["parameter": .string("\(error)")])
        }
        if let reply, !call.oneway { connection.send(reply.encode()) }
    }

    private func dispatch(_ call: VarlinkCall, connection: Connection) throws -> VarlinkReply? {
        if call.upgrade { throw VarlinkError.invalidParameter("upgrade") }
        let (interface, method) = call.splitMethod
        if interface == "org.varlink.service" {
            switch method {
            case "GetInfo":
                try call.parameters.rejectUnknown(allowed: [])
                return VarlinkReply(parameters: [
                    "vendor": "accord", "product": "accordd", "version": .string(TrackerService.version),
                    "url": "https://github.com/accord/accord",
                    "interfaces": .array([.string("org.varlink.service"), .string(TrackerService.interfaceName)]),
                ])
            case "GetInterfaceDescription":
                try call.parameters.rejectUnknown(allowed: ["interface"])
                let name = try call.parameters.string("interface")
                switch name {
                case TrackerService.interfaceName: return VarlinkReply(parameters: ["description": .string(TrackerInterface.description)])
                case "org.varlink.service": return VarlinkReply(parameters: ["description": .string(VarlinkServiceInterface.description)])
                default: throw VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": .string(name)])
                }
            default:
                throw VarlinkError("org.varlink.service.MethodNotFound", ["method": .string(call.method)])
            }
        }
        guard interface == TrackerService.interfaceName else {
            throw VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)])
        }
        if TrackerService.writeMethods.contains(method) {
            try authorize(method, call: call, connection: connection)
        }
        let p = call.parameters
        switch method {
        case "Status":
            try p.rejectUnknown(allowed: [])
            return VarlinkReply(parameters: status())
        case "List":
            try p.rejectUnknown(allowed: ["kind", "state", "dialogue", "dueWithin"])
            return VarlinkReply(parameters: try list(kind: p.optionalString("kind"), state: p.optionalString("state"),
                                                     dialogue: p.optionalString("dialogue"),
                                                     dueWithin: try duration(p.optionalString("dueWithin"), "dueWithin")))
        case "Show":
            try p.rejectUnknown(allowed: ["id"])
            return VarlinkReply(parameters: try show(p.string("id")))
        case "Upcoming":
            try p.rejectUnknown(allowed: ["within"])
            return VarlinkReply(parameters: upcoming(try duration(p.optionalString("within"), "within") ?? ISODuration(days: 30)))
        case "History":
            try p.rejectUnknown(allowed: ["id", "since"])
            return VarlinkReply(parameters: try history(id: p.optionalString("id"), since: date(p.optionalString("since"), "since")))
        case "Record":
            try p.rejectUnknown(allowed: ["id", "event", "on", "note", "term"])
            return VarlinkReply(parameters: try record(id: p.string("id"), event: p.string("event"), on: date(p.optionalString("on"), "on"),
                                                       note: p.optionalString("note"), term: duration(p.optionalString("term"), "term"),
                                                       connection: connection))
        case "Acknowledge":
            try p.rejectUnknown(allowed: ["id", "deadline"])
            return VarlinkReply(parameters: try acknowledge(id: p.string("id"), deadline: p.optionalString("deadline"), connection: connection))
        case "Snooze":
            try p.rejectUnknown(allowed: ["id", "for"])
            guard let length = try duration(p.string("for"), "for") else { throw VarlinkError.invalidParameter("for") }
            return VarlinkReply(parameters: try snooze(id: p.string("id"), for: length, connection: connection))
        case "Reload":
            try p.rejectUnknown(allowed: [])
            return try reload(connection: connection)
        case "Watch":
            try p.rejectUnknown(allowed: [])
            guard call.more else { throw VarlinkError("org.varlink.service.ExpectedMore") }
            connection.watching = true
            daemon.control?.subscribe(connection)
            return nil
        default:
            throw VarlinkError("org.varlink.service.MethodNotFound", ["method": .string(call.method)])
        }
    }

    // MARK: parameters

    private func duration(_ text: String?, _ name: String) throws -> ISODuration? {
        guard let text else { return nil }
        do { return try ISODuration(parsing: text) } catch { throw VarlinkError.invalidParameter(name) }
    }

    private func date(_ text: String?, _ name: String) throws -> CivilDate? {
        guard let text else { return nil }
        do { return try CivilDate(parsing: text) } catch { throw VarlinkError.invalidParameter(name) }
    }

    // MARK: authorization and audit

    private func authorize(_ method: String, call: VarlinkCall, connection: Connection) throws {
        let group = engine.configuration.config.adminGroup
        let peer = connection.peer
        guard !peer.belongs(to: group) else { return }
        // The audit trail names items by full id, refused or not, whenever the id resolves.
        let typed = call.parameters.stringValue("id")
        let item = typed.map { id -> String in
            if case let .found(index) = engine.plan.catalog.lookup(id) { return engine.plan.catalog.items[index].fullID }
            return id
        }
        audit(action: method.lowercased(), item: item, detail: "refused: uid \(peer.uid) (\(peer.user)) is not root nor in \(group)",
              allowed: false, peer: peer)
        throw VarlinkError("io.accord.Tracker.PermissionDenied", [
            "method": .string(method), "uid": .integer(Int64(peer.uid)), "user": .string(peer.user), "requiredGroup": .string(group),
        ])
    }

    /// Every write and every refused write: a line in the database and an entry in the journal.
    private func audit(action: String, item: String?, detail: String, allowed: Bool, peer: Peer, storeToo: Bool = true) {
        let now = engine.now
        if storeToo {
            do {
                try engine.store.audit(at: now, actor: Actor(uid: peer.uid, user: peer.user), action: action, item: item,
                                       detail: detail, allowed: allowed)
            } catch {
                daemon.logger.error("cannot write the audit trail", metadata: ["ERROR": "\(error)"])
            }
        }
        var fields: [(String, String)] = [("ACCORD_ACTION", action), ("ACCORD_UID", String(peer.uid)), ("ACCORD_USER", peer.user),
                                          ("ACCORD_PID", String(peer.pid)), ("ACCORD_ALLOWED", allowed ? "1" : "0"),
                                          ("ACCORD_AT", now.rfc3339)]
        if let item { fields.append(("ACCORD_ITEM", item)) }
        daemon.journal.send(JournalEntry(message: "\(peer.user) (uid \(peer.uid)) \(allowed ? "" : "was refused: ")\(action)\(item.map { " \($0)" } ?? ""): \(detail)",
                                         priority: allowed ? 5 : 4, messageID: MessageID.eventRecorded, fields: fields))
    }

    // MARK: reads

    private func status() -> JSONObject {
        let catalog = engine.configuration.catalog
        let counts = engine.ledgerCounts
        var reply: JSONObject = [
            "version": .string(TrackerService.version),
            "startedAt": .string(daemon.startedAt.rfc3339),
            "now": .string(engine.now.rfc3339),
            "configFile": .string(engine.configuration.configFile),
            "stateFile": .string(engine.store.path),
            "portfolios": .integer(Int64(catalog.portfolios.count)),
            "objectives": .integer(Int64(catalog.objectiveCount)),
            "instruments": .integer(Int64(catalog.instrumentCount)),
            "fired": .integer(Int64(counts[.fired] ?? 0)),
            "skipped": .integer(Int64(counts[.skipped] ?? 0)),
            "missed": .integer(Int64(counts[.missed] ?? 0)),
        ]
        if let next = engine.peekNext() { reply["nextReminder"] = .object(TrackerService.reminderJSON(next, catchUp: nil)) }
        return reply
    }

    private func itemJSON(_ index: Int, now: Instant) -> JSONObject {
        let item = engine.plan.catalog.items[index]
        var object: JSONObject = [
            "id": .string(item.fullID), "dialogue": .string(item.dialogueID), "kind": .string(item.kind.rawValue),
            "title": .string(item.title), "state": .string(engine.plan.state(ofItem: index, at: now).rawValue),
        ]
        if let deadline = engine.plan.mostPressingDeadline(ofItem: index, at: now) {
            object["nextDeadline"] = .object(TrackerService.deadlineJSON(deadline))
        }
        if let until = engine.plan.snoozedUntil(ofItem: index, at: now) { object["snoozedUntil"] = .string(until.rfc3339) }
        return object
    }

    private func list(kind: String?, state: String?, dialogue: String?, dueWithin: ISODuration?) throws -> JSONObject {
        if let kind, kind != "instrument", ItemKind(rawValue: kind) == nil { throw VarlinkError.invalidParameter("kind") }
        if let state, ItemState(rawValue: state) == nil { throw VarlinkError.invalidParameter("state") }
        let now = engine.now
        let horizon = dueWithin.map { Zone.utc.adding($0, to: now) }
        var items: [JSONValue] = []
        for (index, item) in engine.plan.catalog.items.enumerated() {
            if let kind, kind == "instrument" ? !item.kind.isInstrument : item.kind.rawValue != kind { continue }
            if let dialogue, item.dialogueID != dialogue { continue }
            if let state, engine.plan.state(ofItem: index, at: now).rawValue != state { continue }
            if let horizon {
                guard let deadline = engine.plan.mostPressingDeadline(ofItem: index, at: now),
                      deadline.passed || deadline.at <= horizon else { continue }
            }
            items.append(.object(itemJSON(index, now: now)))
        }
        return ["items": .array(items)]
    }

    private func resolve(_ id: String) throws -> Int {
        do {
            return try engine.resolve(id)
        } catch {
            throw TrackerService.callError(error)
        }
    }

    private func show(_ id: String) throws -> JSONObject {
        let index = try resolve(id)
        let now = engine.now
        let item = engine.plan.catalog.items[index]
        let settings = item.settings
        var definition: JSONObject = [
            "file": .string(item.source.description), "title": .string(item.title), "kind": .string(item.kind.rawValue),
            "parties": .array(item.parties.map { .string($0) }), "timeZone": .string(settings.zone.identifier),
            "remindAt": .string(settings.remindAt.description), "reminders": .array(settings.leads.map { .string($0.description) }),
        ]
        if let every = settings.overdueEvery { definition["overdueEvery"] = .string(every.description) }
        if let due = item.due { definition["due"] = .string(due.description) }
        if let status = item.status { definition["status"] = .string(status.rawValue) }
        if let signBy = item.signBy { definition["signBy"] = .string(signBy.description) }
        if let term = item.term { definition["term"] = .string(term.description) }
        if let inForce = item.inForce { definition["inForce"] = .string(inForce.description) }
        if let notice = item.notice { definition["notice"] = .string(notice.description) }
        let upcoming = engine.plan.reminders(ofItem: index, from: now, until: Zone.utc.adding(ISODuration(years: 2), to: now), limit: 50)
        let ledger = (try? engine.store.ledger(item: item.fullID)) ?? []
        let events = (try? engine.store.events(item: item.fullID)) ?? []
        return [
            "item": .object(itemJSON(index, now: now)),
            "definition": .object(definition),
            "deadlines": .array(engine.plan.deadlines(ofItem: index, at: now).map { .object(TrackerService.deadlineJSON($0)) }),
            "upcoming": .array(upcoming.map { .object(TrackerService.reminderJSON($0, catchUp: nil)) }),
            "ledger": .array(ledger.map { entry in
                .object(["key": .string(entry.key), "outcome": .string(entry.outcome.rawValue), "at": .string(entry.at.rfc3339),
                         "catchUp": .bool(entry.catchUp)])
            }),
            "events": .array(events.map { .object(TrackerService.eventJSON($0)) }),
        ]
    }

    private func upcoming(_ within: ISODuration) -> JSONObject {
        let now = engine.now
        let until = Zone.utc.adding(within, to: now)
        var cursor = engine.plan.cursor(from: now.adding(seconds: 1))
        var reminders: [JSONValue] = []
        while reminders.count < 10_000, let next = cursor.peekFireAt(), next < until, let reminder = cursor.next() {
            reminders.append(.object(TrackerService.reminderJSON(reminder, catchUp: nil)))
        }
        return ["reminders": .array(reminders)]
    }

    private func history(id: String?, since: CivilDate?) throws -> JSONObject {
        let itemID = try id.map { engine.plan.catalog.items[try resolve($0)].fullID }
        let records: [AuditRecord]
        do {
            records = try engine.store.auditTrail(item: itemID, since: since.map { Zone.utc.startOfDay($0) })
        } catch {
            throw TrackerService.callError(EngineError.storage(error))
        }
        return ["entries": .array(records.map { record in
            var object: JSONObject = ["at": .string(record.at.rfc3339), "uid": .integer(Int64(record.uid)), "user": .string(record.user),
                                      "action": .string(record.action), "detail": .string(record.detail), "allowed": .bool(record.allowed)]
            if let item = record.item { object["item"] = .string(item) }
            return .object(object)
        })]
    }

    // MARK: writes

    private func record(id: String, event: String, on: CivilDate?, note: String?, term: ISODuration?,
                        connection: Connection) throws -> JSONObject {
        let peer = connection.peer
        do {
            let (stored, state) = try engine.record(id: id, event: event, on: on, note: note, term: term,
                                                     actor: Actor(uid: peer.uid, user: peer.user))
            audit(action: "record", item: stored.itemID, detail: "\(event) on \(stored.on)" + (term.map { " term \($0)" } ?? ""),
                  allowed: true, peer: peer, storeToo: false)
            daemon.armTimer()
            return ["event": .object(TrackerService.eventJSON(stored)), "state": .string(state.rawValue)]
        } catch {
            throw TrackerService.callError(error)
        }
    }

    private func acknowledge(id: String, deadline: String?, connection: Connection) throws -> JSONObject {
        let peer = connection.peer
        do {
            let (item, status) = try engine.acknowledge(id: id, deadline: deadline, actor: Actor(uid: peer.uid, user: peer.user))
            audit(action: "acknowledge", item: item.fullID, detail: "\(status.kind.rawValue) \(status.time)", allowed: true,
                  peer: peer, storeToo: false)
            daemon.armTimer()
            return ["item": .string(item.fullID), "deadline": .string(status.kind.rawValue), "deadlineAt": .string(status.at.rfc3339)]
        } catch {
            throw TrackerService.callError(error)
        }
    }

    private func snooze(id: String, for length: ISODuration, connection: Connection) throws -> JSONObject {
        let peer = connection.peer
        do {
            let (item, until) = try engine.snooze(id: id, for: length, actor: Actor(uid: peer.uid, user: peer.user))
            audit(action: "snooze", item: item.fullID, detail: "for \(length) until \(until.rfc3339)", allowed: true,
                  peer: peer, storeToo: false)
            daemon.armTimer()
            return ["item": .string(item.fullID), "until": .string(until.rfc3339)]
        } catch {
            throw TrackerService.callError(error)
        }
    }

    private func reload(connection: Connection) throws -> VarlinkReply {
        let problems = daemon.reload()
        audit(action: "reload", item: nil, detail: problems.isEmpty ? "accepted" : "rejected: \(problems.count) problem(s)",
              allowed: true, peer: connection.peer)
        guard problems.isEmpty else {
            throw VarlinkError("io.accord.Tracker.InvalidConfig", ["problems": .array(problems.map { problem in
                var object: JSONObject = ["file": .string(problem.file), "key": .string(problem.keyPath), "message": .string(problem.message)]
                if let line = problem.line { object["line"] = .integer(Int64(line)) }
                return .object(object)
            })])
        }
        let catalog = engine.configuration.catalog
        return VarlinkReply(parameters: ["portfolios": .integer(Int64(catalog.portfolios.count)),
                                         "objectives": .integer(Int64(catalog.objectiveCount)),
                                         "instruments": .integer(Int64(catalog.instrumentCount))])
    }

    // MARK: encoding

    static func callError(_ error: EngineError) -> VarlinkError {
        switch error {
        case let .noSuchItem(id):
            return VarlinkError("io.accord.Tracker.NoSuchItem", ["id": .string(id)])
        case let .ambiguousItem(id, candidates):
            return VarlinkError("io.accord.Tracker.AmbiguousItem",
                                ["id": .string(id), "candidates": .array(candidates.map { .string($0) })])
        case let .invalidEvent(id, event, state, allowed, reason):
            return VarlinkError("io.accord.Tracker.InvalidEvent", [
                "id": .string(id), "event": .string(event), "state": .string(state),
                "allowed": .array(allowed.map { .string($0) }), "reason": .string(reason),
            ])
        case let .invalidParameter(name, _):
            return .invalidParameter(name)
        case let .storage(store):
            return VarlinkError("io.accord.Tracker.StateUnavailable", ["reason": .string(store.description)])
        }
    }

    static func reminderJSON(_ reminder: Reminder, catchUp: Bool?) -> JSONObject {
        var object: JSONObject = [
            "key": .string(reminder.key), "item": .string(reminder.itemID), "dialogue": .string(reminder.dialogueID),
            "deadline": .string(reminder.deadline.rawValue), "deadlineAt": .string(reminder.deadlineAt.rfc3339),
            "lead": .string(reminder.lead), "fireAt": .string(reminder.fireAt.rfc3339),
            "daysLeft": .integer(Int64(reminder.daysLeft)), "priority": .integer(Int64(reminder.priority)),
            "message": .string(reminder.message),
        ]
        if let catchUp { object["catchUp"] = .bool(catchUp) }
        return object
    }

    static func deadlineJSON(_ deadline: DeadlineStatus) -> JSONObject {
        var object: JSONObject = [
            "kind": .string(deadline.kind.rawValue), "at": .string(deadline.at.rfc3339), "daysLeft": .integer(Int64(deadline.daysLeft)),
            "passed": .bool(deadline.passed), "acknowledged": .bool(deadline.acknowledged),
        ]
        if case let .date(date) = deadline.time { object["date"] = .string(date.description) }
        return object
    }

    static func eventJSON(_ event: StoredEvent) -> JSONObject {
        var object: JSONObject = [
            "id": .integer(event.id), "item": .string(event.itemID), "event": .string(event.type.rawValue),
            "on": .string(event.on.description), "recordedAt": .string(event.recordedAt.rfc3339),
            "uid": .integer(Int64(event.uid)), "user": .string(event.user),
        ]
        if let note = event.note { object["note"] = .string(note) }
        if let term = event.term { object["term"] = .string(term.description) }
        return object
    }
}
