// The io.accord.Tracker interface and org.varlink.service: one handler per method, a table of
// who may call each, and typed errors from the engine to the reply. A call is decoded and its
// parameters checked first (a bad call costs nothing more), then authorized, then run.
import AccordCalendar
import AccordCore
import AccordProtocol
import AccordStore

/// What a handler gives back to the connection.
enum CallOutcome {
    case reply(VarlinkReply)
    /// A reply already encoded, its NUL included: a Status reply made before from equal StatusFacts.
    case encoded([UInt8])
    /// Watch: the connection joins the watchers and gets one reply per firing.
    case subscribe
}

/// Who may call a method: anyone who can open the socket, or root and the admin group.
enum Permission: Sendable {
    case read
    case admin
}

final class TrackerService {
    /// The daemon owns the control server, which owns this service: unowned, no cycle.
    unowned let backend: any TrackerBackend
    let version: String
    let url: String
    private var refusals = RefusalLimiter()
    /// The last Status reply, encoded, and what it was made of. Under 16 clients calling Status,
    /// perf put 22% of the daemon's samples in making the reply's JSON and 6.5% in formatting
    /// its instants; within one second and one state, every reply is the same bytes.
    private var lastStatus: (facts: StatusFacts, encoded: [UInt8])?
    /// The last message decoded, its call and the call's method split at the last dot: clients
    /// repeat the same bytes (a status poller, a load), and decoding and splitting them took 10%
    /// of the samples.
    private var lastCall: DecodedCall?
    /// A class, so that finding it again costs one reference, not a copy of each field.
    private final class DecodedCall {
        let message: [UInt8]
        let call: VarlinkCall
        let interface: String
        let method: String
        init(message: [UInt8], call: VarlinkCall, interface: String, method: String) {
            self.message = message; self.call = call; self.interface = interface; self.method = method
        }
    }

    init(backend: any TrackerBackend, version: String, url: String) {
        self.backend = backend
        self.version = version
        self.url = url
    }

    /// One method: who may call it and what runs.
    struct Handler: Sendable {
        var permission: Permission
        var run: @Sendable (TrackerService, VarlinkCall, Peer) throws(VarlinkError) -> CallOutcome
    }

    /// The permissions table (docs/contracts.md §7: reads for group accord, writes for the admin group).
    static let handlers: [String: Handler] = [
        Tracker.Status.name: Handler(permission: .read) { service, call, peer throws(VarlinkError) in
            _ = try NoParameters.decode(call.parameters)
            try service.authorize(.read, Tracker.Status.name, call: call, peer: peer)
            return .encoded(service.handleStatus())
        },
        Tracker.List.name: handler(Tracker.List.self, .read) { service, parameters, _ throws(VarlinkError) in try service.handleList(parameters) },
        Tracker.Show.name: handler(Tracker.Show.self, .read) { service, parameters, _ throws(VarlinkError) in try service.handleShow(parameters) },
        Tracker.Upcoming.name: handler(Tracker.Upcoming.self, .read) { service, parameters, _ throws(VarlinkError) in
            try service.handleUpcoming(parameters)
        },
        Tracker.History.name: handler(Tracker.History.self, .read) { service, parameters, _ throws(VarlinkError) in
            try service.handleHistory(parameters)
        },
        Tracker.VerifyAudit.name: handler(Tracker.VerifyAudit.self, .read) { service, _, _ throws(VarlinkError) in try service.handleVerifyAudit() },
        Tracker.Record.name: handler(Tracker.Record.self, .admin) { service, parameters, peer throws(VarlinkError) in
            try service.handleRecord(parameters, peer: peer)
        },
        Tracker.Acknowledge.name: handler(Tracker.Acknowledge.self, .admin) { service, parameters, peer throws(VarlinkError) in
            try service.handleAcknowledge(parameters, peer: peer)
        },
        Tracker.Snooze.name: handler(Tracker.Snooze.self, .admin) { service, parameters, peer throws(VarlinkError) in
            try service.handleSnooze(parameters, peer: peer)
        },
        Tracker.Reload.name: handler(Tracker.Reload.self, .admin) { service, _, peer throws(VarlinkError) in try service.handleReload(peer: peer) },
        Tracker.Export.name: handler(Tracker.Export.self, .read) { service, parameters, _ throws(VarlinkError) in
            try service.handleExport(parameters)
        },
        Tracker.Digest.name: handler(Tracker.Digest.self, .read) { service, parameters, _ throws(VarlinkError) in
            try service.handleDigest(parameters)
        },
        Tracker.Watch.name: Handler(permission: .read) { service, call, peer throws(VarlinkError) in
            _ = try NoParameters.decode(call.parameters)
            try service.authorize(.read, Tracker.Watch.name, call: call, peer: peer)
            guard call.more else { throw .expectedMore }
            return .subscribe
        }
    ]

    /// A handler that decodes the method's parameters, checks the caller, runs `body` and
    /// encodes its reply.
    private static func handler<Method: TrackerMethod>(
        _ method: Method.Type, _ permission: Permission,
        _ body: @escaping @Sendable (TrackerService, Method.Parameters, Peer) throws(VarlinkError) -> Method.Reply
    ) -> Handler {
        Handler(permission: permission) { service, call, peer throws(VarlinkError) in
            let parameters = try Method.Parameters.decode(call.parameters)
            try service.authorize(permission, Method.name, call: call, peer: peer)
            return .reply(VarlinkReply(parameters: try body(service, parameters, peer).wireObject()))
        }
    }

    /// The outcome of one message; nil for a oneway call, which gets no reply.
    func handle(_ message: [UInt8], from peer: Peer) -> CallOutcome? {
        let call: VarlinkCall, interface: String, method: String
        if let last = lastCall, last.message == message {
            (call, interface, method) = (last.call, last.interface, last.method)
        } else {
            do {
                call = try VarlinkCall.decode(message)
            } catch {
                return .reply(VarlinkReply(error))
            }
            (interface, method) = call.splitMethod
            lastCall = DecodedCall(message: message, call: call, interface: interface, method: method)
        }
        let outcome: CallOutcome
        do {
            outcome = try dispatch(call, interface: interface, method: method, peer: peer)
        } catch {
            outcome = .reply(VarlinkReply(error))
        }
        switch outcome {
        case .reply, .encoded: return call.oneway ? nil : outcome
        case .subscribe: return outcome
        }
    }

    private func dispatch(_ call: VarlinkCall, interface: String, method: String, peer: Peer) throws(VarlinkError) -> CallOutcome {
        if call.upgrade { throw .invalidParameter("upgrade") }
        switch interface {
        case VarlinkService.interfaceName:
            return .reply(VarlinkReply(parameters: try handleService(method, call)))
        case Tracker.interfaceName:
            guard let handler = TrackerService.handlers[method] else { throw .methodNotFound(call.method) }
            return try handler.run(self, call, peer)
        default:
            throw .interfaceNotFound(interface)
        }
    }

    // MARK: org.varlink.service

    private func handleService(_ method: String, _ call: VarlinkCall) throws(VarlinkError) -> JSONObject {
        switch method {
        case VarlinkService.GetInfo.name:
            _ = try NoParameters.decode(call.parameters)
            return VarlinkService.GetInfo.Reply(
                vendor: "accord", product: "accordd", version: version, url: url,
                interfaces: [VarlinkService.interfaceName, Tracker.interfaceName]
            ).wireObject()
        case VarlinkService.GetInterfaceDescription.name:
            let name = try VarlinkService.GetInterfaceDescription.Parameters.decode(call.parameters).interface
            switch name {
            case Tracker.interfaceName: return VarlinkService.GetInterfaceDescription.Reply(description: TrackerInterface.description).wireObject()
            case VarlinkService.interfaceName:
                return VarlinkService.GetInterfaceDescription.Reply(description: VarlinkServiceInterface.description).wireObject()
            default: throw .interfaceNotFound(name)
            }
        default:
            throw .methodNotFound(call.method)
        }
    }

    // MARK: authorization

    /// Root or the admin group: whom the reserved connections are for.
    func isAdmin(_ peer: Peer) -> Bool { peer.belongs(to: backend.configuration.config.adminGroup) }

    /// The group that may open the socket and read (systemd/accordd.socket's SocketGroup=).
    static let socketGroup = "accord"

    private func authorize(_ permission: Permission, _ method: String, call: VarlinkCall, peer: Peer) throws(VarlinkError) {
        switch permission {
        case .read:
            guard !peer.mayRead(socketGroup: TrackerService.socketGroup, adminGroup: backend.configuration.config.adminGroup) else {
                return
            }
            throw Tracker.PermissionDenied(method: method, uid: Int(peer.uid), user: peer.user, requiredGroup: TrackerService.socketGroup)
                .varlinkError
        case .admin:
            try authorizeWrite(method, call: call, peer: peer, group: backend.configuration.config.adminGroup)
        }
    }

    /// Longest id a refused call may leave in the audit trail (the real ones are a few dozen bytes).
    static let refusedIDLimit = 128

    private func authorizeWrite(_ method: String, call: VarlinkCall, peer: Peer, group: String) throws(VarlinkError) {
        guard !peer.belongs(to: group) else { return }
        let refusal = Tracker.PermissionDenied(method: method, uid: Int(peer.uid), user: peer.user, requiredGroup: group).varlinkError
        let (audited, unlisted) = refusals.admit(uid: peer.uid, at: backend.now)
        guard audited else { throw refusal }
        // The audit trail names items by full id whenever the id resolves; anything else the
        // client typed is stored bounded and with its control characters visible.
        let item = call.parameters.stringValue("id").map { id -> String in
            guard let index = try? backend.resolve(id) else {
                return id.escapingControlCharacters.truncated(toBytes: TrackerService.refusedIDLimit)
            }
            return backend.plan.catalog.items[index].fullID
        }
        let more = unlisted > 0 ? "; \(unlisted) more refusal(s) of this user were not listed one by one" : ""
        backend.audit(
            AuditLine(
                action: method.lowercased(), item: item,
                detail: "refused: uid \(peer.uid) (\(peer.user)) is not root nor in \(group)" + more, allowed: false, peer: peer))
        throw refusal
    }

    // MARK: parameters

    private func duration(_ text: String?, _ name: String) throws(VarlinkError) -> ISODuration? {
        guard let text else { return nil }
        do { return try ISODuration(parsing: text) } catch { throw .invalidParameter(name) }
    }

    private func date(_ text: String?, _ name: String) throws(VarlinkError) -> CivilDate? {
        guard let text else { return nil }
        do { return try CivilDate(parsing: text) } catch { throw .invalidParameter(name) }
    }

    private func resolve(_ id: String) throws(VarlinkError) -> Int {
        do { return try backend.resolve(id) } catch { throw error.varlinkError }
    }

    // MARK: reads

    private func handleStatus() -> [UInt8] {
        let facts = backend.statusFacts
        if let last = lastStatus, last.facts == facts { return last.encoded }
        let reply = Tracker.Status.Reply(
            version: version, startedAt: facts.startedAt.rfc3339, now: facts.now.rfc3339, configFile: facts.configFile,
            stateFile: facts.stateFile, portfolios: facts.portfolios, objectives: facts.objectives,
            instruments: facts.instruments, fired: facts.fired, skipped: facts.skipped, missed: facts.missed,
            nextReminder: facts.nextReminder.map { Tracker.Reminder($0) }, role: facts.role.rawValue,
            activeHost: facts.activeHost)
        let encoded = VarlinkReply(parameters: reply.wireObject()).encode()
        lastStatus = (facts, encoded)
        return encoded
    }

    private func summary(ofItem index: Int, at now: Instant) -> Tracker.Item {
        let plan = backend.plan
        let item = plan.catalog.items[index]
        return Tracker.Item(
            id: item.fullID, dialogue: item.dialogueID, kind: item.kind.rawValue, title: item.title,
            state: plan.state(ofItem: index, at: now).rawValue,
            nextDeadline: plan.mostPressingDeadline(ofItem: index, at: now).map(Tracker.Deadline.init),
            snoozedUntil: plan.snoozedUntil(ofItem: index, at: now)?.rfc3339, owner: item.owner)
    }

    private func handleList(_ parameters: Tracker.List.Parameters) throws(VarlinkError) -> Tracker.List.Reply {
        let kind = parameters.kind, state = parameters.state, dialogue = parameters.dialogue
        if let kind, kind != "instrument", ItemKind(rawValue: kind) == nil { throw .invalidParameter("kind") }
        if let state, state != "lapsed", ItemState(rawValue: state) == nil { throw .invalidParameter("state") }
        let basis = try parameters.basis.map { text throws(VarlinkError) -> Basis in
            guard let basis = Basis(rawValue: text) else { throw .invalidParameter("basis") }
            return basis
        }
        let owner = parameters.owner?.lowercased()
        let dueWithin = try duration(parameters.dueWithin, "dueWithin")
        let now = backend.now
        let plan = backend.plan
        let horizon = dueWithin.map { Zone.utc.adding($0, to: now) }
        let size = try Paging.size(parameters.limit)
        let start = try Paging.listStart(after: parameters.after, in: plan.catalog)
        let matching = (start..<plan.catalog.items.count).lazy.filter { index in
            let item = plan.catalog.items[index]
            if let kind, kind == "instrument" ? !item.kind.isInstrument : item.kind.rawValue != kind { return false }
            if let dialogue, item.dialogueID != dialogue { return false }
            if let state {
                if state == "lapsed" {
                    guard plan.deadlines(ofItem: index, at: now).contains(where: \.lapsed) else { return false }
                } else if plan.state(ofItem: index, at: now).rawValue != state {
                    return false
                }
            }
            if let owner, !(item.owner?.lowercased().contains(owner) ?? false) { return false }
            if let basis, !plan.bases(ofItem: index).contains(basis) { return false }
            if let horizon {
                guard let deadline = plan.mostPressingDeadline(ofItem: index, at: now),
                    deadline.passed || deadline.at <= horizon
                else { return false }
            }
            return true
        }
        let page = Paging.cut(matching, size: size)
        return Tracker.List.Reply(
            items: page.rows.map { summary(ofItem: $0, at: now) },
            next: page.more ? page.rows.last.map { plan.catalog.items[$0].fullID } : nil)
    }

    private func handleShow(_ parameters: Tracker.Show.Parameters) throws(VarlinkError) -> Tracker.Show.Reply {
        let index = try resolve(parameters.id)
        let now = backend.now
        let plan = backend.plan
        let item = plan.catalog.items[index]
        let upcoming = plan.reminders(ofItem: index, from: now, until: Zone.utc.adding(ISODuration(years: 2), to: now), limit: 50)
        // Show still answers from the plan when the database cannot be read.
        let ledger = (try? backend.ledger(item: item.fullID)) ?? []
        let events = (try? backend.events(item: item.fullID)) ?? []
        let reasons = (try? backend.missedReasons(item: item.fullID)) ?? [:]
        return Tracker.Show.Reply(
            item: summary(ofItem: index, at: now), definition: Tracker.Definition(item),
            deadlines: plan.deadlines(ofItem: index, at: now).map(Tracker.Deadline.init),
            upcoming: upcoming.map { Tracker.Reminder($0) }, ledger: ledger.map { Tracker.LedgerEntry($0, reason: reasons[$0.key]) },
            events: events.map(Tracker.Event.init))
    }

    private func handleUpcoming(_ parameters: Tracker.Upcoming.Parameters) throws(VarlinkError) -> Tracker.Upcoming.Reply {
        let within = try duration(parameters.within, "within") ?? ISODuration(days: 30)
        let size = try Paging.size(parameters.limit)
        let after = try parameters.after.map { text throws(VarlinkError) in try Paging.ReminderPosition(parsing: text) }
        let now = backend.now
        let until = Zone.utc.adding(within, to: now)
        let page = Paging.cut(Paging.reminders(backend.plan, from: now.adding(seconds: 1), until: until, after: after), size: size)
        return Tracker.Upcoming.Reply(
            reminders: page.rows.map { Tracker.Reminder($0) },
            next: page.more ? page.rows.last.map { Paging.ReminderPosition(fireAt: $0.fireAt, key: $0.key).text } : nil)
    }

    private func handleHistory(_ parameters: Tracker.History.Parameters) throws(VarlinkError) -> Tracker.History.Reply {
        let since = try date(parameters.since, "since")
        var itemID: String?
        if let id = parameters.id { itemID = backend.plan.catalog.items[try resolve(id)].fullID }
        let size = try Paging.size(parameters.limit)
        let after = try Paging.historyAfter(parameters.after)
        do {
            let page = try backend.auditPage(item: itemID, since: since.map { Zone.utc.startOfDay($0) }, after: after, limit: size)
            return Tracker.History.Reply(entries: page.records.map(Tracker.AuditEntry.init), next: page.next.map { String($0) })
        } catch {
            throw error.varlinkError
        }
    }

    private func handleVerifyAudit() throws(VarlinkError) -> Tracker.VerifyAudit.Reply {
        do {
            let reports = try backend.verifyChains()
            return Tracker.VerifyAudit.Reply(ok: reports.allSatisfy(\.ok), chains: reports.map(Tracker.AuditChain.init))
        } catch {
            throw error.varlinkError
        }
    }

    private func handleExport(_ parameters: Tracker.Export.Parameters) throws(VarlinkError) -> Tracker.Export.Reply {
        let within = try duration(parameters.within, "within")
        let now = backend.now
        return Tracker.Export.Reply(
            calendar: backend.calendar(
                CalendarExport.Filter(until: within.map { Zone.utc.adding($0, to: now) }, dialogue: parameters.dialogue, owner: parameters.owner)))
    }

    /// The digest as it stands now (docs/contracts.md §14), the same text the journal gets.
    private func handleDigest(_ parameters: Tracker.Digest.Parameters) throws(VarlinkError) -> Tracker.Digest.Reply {
        let within = try duration(parameters.within, "within")
        if let within, within.isZero { throw .invalidParameter("within") }
        let schedule = backend.configuration.config.digest
        let digest = Digest.make(
            plan: backend.plan, at: backend.now, period: within ?? schedule?.period ?? ISODuration(days: 7), zone: schedule?.zone ?? .utc)
        return Tracker.Digest.Reply(digest, next: backend.digestAt)
    }

    // MARK: writes

    /// A write's request id: 1 to 128 letters, digits, `-` or `_` (accordctl sends 32 hex digits).
    static func requestID(_ text: String?) throws(VarlinkError) -> String? {
        guard let text else { return nil }
        let valid =
            (1...128).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x5f
            }
        guard valid else { throw .invalidParameter("request") }
        return text
    }

    /// The first outcome of a write retried with the same request id, decoded as its method's
    /// reply; nil when no write was made with it. Nothing is written again, nor audited twice.
    private func replayed<Method: TrackerMethod>(
        _ method: Method.Type, _ request: String?, _ action: String, peer: Peer
    ) throws(VarlinkError)
        -> Method.Reply?
    {
        guard let request else { return nil }
        let json: String?
        do {
            json = try backend.priorReply(request: request, action: action, actor: Actor(uid: peer.uid, user: peer.user))
        } catch {
            throw error.varlinkError
        }
        guard let json else { return nil }
        guard let value = try? JSONValue.parse(json), let reply = try? Method.Reply(wire: value) else {
            throw Tracker.StateUnavailable(reason: "the stored reply of request \(request) cannot be read").varlinkError
        }
        return reply
    }

    private func handleRecord(_ parameters: Tracker.Record.Parameters, peer: Peer) throws(VarlinkError) -> Tracker.Record.Reply {
        let on = try date(parameters.on, "on")
        let term = try duration(parameters.term, "term")
        let request = try TrackerService.requestID(parameters.request)
        if let first = try replayed(Tracker.Record.self, request, "record", peer: peer) { return first }
        do {
            let (stored, state) = try backend.record(
                id: parameters.id, event: parameters.event, on: on, note: parameters.note, term: term, party: parameters.party,
                actor: Actor(uid: peer.uid, user: peer.user), request: request)
            backend.audit(
                AuditLine(
                    action: "record", item: stored.itemID, detail: "\(parameters.event) on \(stored.on)" + (term.map { " term \($0)" } ?? ""),
                    allowed: true, peer: peer, storeToo: false))
            // §11: the objectives this event fulfils are completed by it; their history says so and by whom.
            let catalog = backend.plan.catalog
            for objective in catalog.items
            where objective.fulfilledBy.map({
                objective.resolve(link: $0.item) == stored.itemID && $0.event == stored.type
            }) == true {
                backend.audit(
                    AuditLine(
                        action: "record", item: objective.fullID,
                        detail:
                            "completed on \(stored.on): derived from \(stored.itemID) \(stored.type.rawValue), recorded by \(peer.user) (uid \(peer.uid))",
                        allowed: true, peer: peer))
            }
            // §13: the last party's notification puts the instrument in force; audited as derived.
            if stored.type == .notified, let item = catalog.item(fullID: stored.itemID),
                let derived = Lifecycle.derivedEntryIntoForce(
                    of: item, events: (try? backend.events(item: item.fullID))?.map(\.asItemEvent) ?? [])
            {
                backend.audit(
                    AuditLine(
                        action: "record", item: item.fullID,
                        detail: "in-force on \(derived.on): derived (\(derived.derivedFrom ?? "")), recorded by \(peer.user) (uid \(peer.uid))",
                        allowed: true, peer: peer))
            }
            return Tracker.Record.Reply(event: Tracker.Event(stored), state: state.rawValue)
        } catch {
            throw error.varlinkError
        }
    }

    private func handleAcknowledge(_ parameters: Tracker.Acknowledge.Parameters, peer: Peer) throws(VarlinkError) -> Tracker.Acknowledge.Reply {
        let request = try TrackerService.requestID(parameters.request)
        if let first = try replayed(Tracker.Acknowledge.self, request, "acknowledge", peer: peer) { return first }
        do {
            let (item, status) = try backend.acknowledge(
                id: parameters.id, deadline: parameters.deadline, actor: Actor(uid: peer.uid, user: peer.user), request: request)
            backend.audit(
                AuditLine(
                    action: "acknowledge", item: item.fullID, detail: "\(status.kind.rawValue) \(status.time)", allowed: true,
                    peer: peer, storeToo: false))
            return Tracker.Acknowledge.Reply(item: item.fullID, deadline: status.kind.rawValue, deadlineAt: status.at.rfc3339)
        } catch {
            throw error.varlinkError
        }
    }

    private func handleSnooze(_ parameters: Tracker.Snooze.Parameters, peer: Peer) throws(VarlinkError) -> Tracker.Snooze.Reply {
        guard let length = try duration(parameters.for, "for") else { throw .invalidParameter("for") }
        let request = try TrackerService.requestID(parameters.request)
        if let first = try replayed(Tracker.Snooze.self, request, "snooze", peer: peer) { return first }
        do {
            let (item, until) = try backend.snooze(
                id: parameters.id, for: length, actor: Actor(uid: peer.uid, user: peer.user), request: request)
            backend.audit(
                AuditLine(
                    action: "snooze", item: item.fullID, detail: "for \(length) until \(until.rfc3339)", allowed: true,
                    peer: peer, storeToo: false))
            return Tracker.Snooze.Reply(item: item.fullID, until: until.rfc3339)
        } catch {
            throw error.varlinkError
        }
    }

    private func handleReload(peer: Peer) throws(VarlinkError) -> Tracker.Reload.Reply {
        let problems = backend.reload()
        backend.audit(
            AuditLine(
                action: "reload", item: nil, detail: problems.isEmpty ? "accepted" : "rejected: \(problems.count) problem(s)",
                allowed: true, peer: peer))
        guard problems.isEmpty else { throw Tracker.InvalidConfig(problems: problems.map(Tracker.ConfigProblem.init)).varlinkError }
        let catalog = backend.configuration.catalog
        return Tracker.Reload.Reply(
            portfolios: catalog.portfolioCount, objectives: catalog.objectiveCount,
            instruments: catalog.instrumentCount)
    }
}
