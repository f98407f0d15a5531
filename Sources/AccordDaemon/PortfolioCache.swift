// What the daemon's last load parsed, so that a reload re-parses only the portfolio files that
// changed (issue 15). At 100,000 items in 10 files a full load parses for about 1.2 s; a reload
// after one file changed parses one, and a reload after none changed returns the last catalog,
// which the engine then keeps with its plan.
//
// A file is kept while its SHA-256 is the same, the calendars are the same as when it was
// parsed (coverage checks and business days depend on them) and every zone it uses has the
// same rules as the zone database gives now (a reload re-reads the database, so that a tzdata
// update reaches the plan). Used on the daemon's queue only.
import AccordCalendar
import AccordCore
import Crypto

public final class PortfolioCache: @unchecked Sendable {
    /// A file's items are kept as a slice of the catalog's own array once a load has finished,
    /// so that the cache holds no second copy of them (an item is about 1 KB).
    private struct Entry {
        var digest: SHA256.Digest
        var dialogue: Dialogue
        var items: ArraySlice<Item>

    }
    private var entries: [String: Entry] = [:]
    private var calendars: [BusinessCalendar]?
    private var catalog: (files: [String], catalog: Catalog)?
    /// Digests of the files read during the load under way.
    private var pending: [String: SHA256.Digest] = [:]
    /// Of the load under way: files parsed anew, and files taken from the cache.
    public private(set) var parsed = 0
    public private(set) var reused = 0
    /// The last load found every file, calendar and zone as before and returned the last catalog.
    public private(set) var lastLoadChangedNothing = false

    public init() {}

    /// Starts a load: entries parsed against other calendars, or with zones whose rules have
    /// changed since, are dropped.
    func begin(calendars: [BusinessCalendar]) {
        parsed = 0
        reused = 0
        pending = [:]
        lastLoadChangedNothing = false
        if self.calendars != calendars {
            entries = [:]
            catalog = nil
            self.calendars = calendars
        }
        var changedZones: Set<String> = []
        var checked: Set<String> = []
        for entry in entries.values {
            for zone in PortfolioCache.zones(of: entry) where checked.insert(zone.identifier).inserted {
                let current = try? Zone.named(zone.identifier)
                if current.map({ !$0.hasSameRules(as: zone) }) ?? true { changedZones.insert(zone.identifier) }
            }
        }
        if !changedZones.isEmpty {
            entries = entries.filter { entry in
                PortfolioCache.zones(of: entry.value).allSatisfy { !changedZones.contains($0.identifier) }
            }
            catalog = nil
        }
    }

    /// The portfolio parsed from these very bytes at an earlier load, if there is one.
    func portfolio(_ file: String, text: String) -> Portfolio? {
        let digest = SHA256.hash(data: Array(text.utf8))
        pending[file] = digest
        guard let entry = entries[file], entry.digest == digest else { return nil }
        reused += 1
        return Portfolio(dialogue: entry.dialogue, items: Array(entry.items), file: file)
    }

    func store(_ portfolio: Portfolio, file: String) {
        parsed += 1
        guard let digest = pending[file] else { return }
        entries[file] = Entry(digest: digest, dialogue: portfolio.dialogue, items: portfolio.items[...])
    }

    /// The last catalog, when this load read the same files and parsed none of them.
    func unchangedCatalog(files: [String]) -> Catalog? {
        guard parsed == 0, let last = catalog, last.files == files else { return nil }
        lastLoadChangedNothing = true
        return last.catalog
    }

    /// Ends a load that made a new catalog from these files, whose items it holds in this
    /// order: files no longer named are forgotten, the others point into the catalog's items.
    func finish(files: [String], itemCounts: [Int], catalog: Catalog) {
        var kept: [String: Entry] = [:]
        var start = 0
        for (file, count) in zip(files, itemCounts) {
            if var entry = entries[file] {
                entry.items = catalog.items[start..<start + count]
                kept[file] = entry
            }
            start += count
        }
        entries = kept
        self.catalog = (files, catalog)
    }

    private static func zones(of entry: Entry) -> [Zone] {
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(entry.dialogue.settings.zone)]
        var zones = [entry.dialogue.settings.zone]
        for item in entry.items where seen.insert(ObjectIdentifier(item.settings.zone)).inserted {
            zones.append(item.settings.zone)
        }
        return zones
    }
}
