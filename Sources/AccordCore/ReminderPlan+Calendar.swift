import AccordCalendar

extension ReminderPlan {
    /// Every deadline occurrence as a calendar event, item by item in time order, with the
    /// status it has at `now` (see CalendarExport).
    public func calendarEntries(at now: Instant) -> [CalendarExport.Entry] {
        var entries: [CalendarExport.Entry] = []
        for (index, item) in catalog.items.enumerated() {
            var ordinal: [DeadlineKind: Int] = [:]
            let ordered = occurrencesByItem[index].map { occurrences[Int($0)] }.sorted { $0.passesAt < $1.passesAt }
            // A lapse is a last firing of its deadline, not a deadline of its own; so is an escalation.
            for occurrence in ordered where !occurrence.isLapse && !occurrence.isEscalation {
                let count = ordinal[occurrence.kind, default: 0] + 1
                ordinal[occurrence.kind] = count
                let status: CalendarExport.Status
                if now >= occurrence.silencedFrom {
                    status = .confirmed  // acknowledged: still the deadline it was
                } else {
                    switch verdict(occurrence, at: now, overdue: false) {
                    case .fires: status = .confirmed
                    case .suppressed: status = .tentative
                    case .finished: status = .cancelled
                    }
                }
                let uid = "\(item.fullID):\(occurrence.kind.rawValue)\(count > 1 ? "#\(count)" : "")@accord"
                let words: String
                switch occurrence.kind {
                case .due: words = "due"
                case .signBy: words = "to be signed"
                case .expiry: words = "term expires"
                case .renewalNotice: words = "renewal decision due"
                }
                var description = [item.title, "Item: \(item.fullID)", "Deadline: \(occurrence.kind.rawValue) \(occurrence.time)"]
                if !item.parties.isEmpty { description.append("Parties: " + item.parties.joined(separator: "; ")) }
                description.append("Basis: \(occurrence.provenance.basis.rawValue)" + (occurrence.provenance.source.map { " (\($0))" } ?? ""))
                if let owner = item.owner { description.append("Owner: \(owner)") }
                description.append("Defined in: \(item.source.file)")
                entries.append(
                    CalendarExport.Entry(
                        uid: uid, item: index, kind: occurrence.kind, time: occurrence.time,
                        leads: occurrence.leadFires.map { item.settings.leads[Int($0.leadIndex)] },
                        alarms: occurrence.leadFires.map(\.fireAt), status: status,
                        summary: "\(item.title): \(words) (\(item.fullID))", description: description.joined(separator: "\n")))
            }
        }
        return entries
    }
}
