// The interface descriptions served by GetInterfaceDescription. TrackerInterface.description
// must stay byte-identical to io.accord.Tracker.varlink beside this file (a test checks it);
// regenerate with scripts/embed-interface.sh after editing the .varlink file.

public enum TrackerInterface {
    public static let name = "io.accord.Tracker"
    public static let description = #"""
        # accord keeps watch over the commitments made in a bilateral dialogue:
        # objectives with target dates and instruments (treaties, agreements, MOUs)
        # with lifecycles and fixed terms. Instants are RFC 3339 UTC strings ending
        # in Z, dates are YYYY-MM-DD, durations are ISO 8601 (P7D, P1Y, PT36H).
        interface io.accord.Tracker

        # One firing of a reminder, `lead` before a deadline.
        type Reminder (
          # Stable key: ITEM:DEADLINE:DATE_OR_INSTANT:LEAD (overdue repeats: +P7D, +P14D, ...).
          key: string,
          item: string,
          dialogue: string,
          # due, sign-by, expiry or renewal-notice
          deadline: string,
          deadlineAt: string,
          lead: string,
          fireAt: string,
          daysLeft: int,
          # journal priority: 5 notice, 4 warning, 3 error
          priority: int,
          message: string,
          # true when fired late after downtime (Watch only)
          catchUp: ?bool,
          # what the deadline's date rests on: statement, confirmed, planned, assumed or recorded
          basis: ?string,
          # where that is said: the founding text's words, the reason for an assumption, or who recorded it
          source: ?string,
          # the item's owner (or its dialogue's), and its title
          owner: ?string,
          title: ?string
        )

        # A deadline of an item as it stands now.
        type Deadline (
          kind: string,
          at: string,
          # the calendar date when the deadline is a date, null for an instant
          date: ?string,
          daysLeft: int,
          passed: bool,
          acknowledged: bool,
          # statement, confirmed, planned, assumed or recorded, and where that is said
          basis: ?string,
          source: ?string,
          # true when counted from a planned or assumed in-force date: shown, never reminded
          projected: ?bool,
          # true when passed longer ago than overdue-for, neither acknowledged nor resolved
          lapsed: ?bool,
          # the date as written, when adjust moved the deadline off a day that is not a
          # business day (date is then the adjusted date)
          written: ?string
        )

        # An objective or an instrument, in summary.
        type Item (
          id: string,
          dialogue: string,
          # objective, treaty, agreement, mou or arrangement
          kind: string,
          title: string,
          # objectives: open, in-progress, done, dropped;
          # instruments: planned, negotiating, concluded, signed, in-force, expired, terminated
          state: string,
          nextDeadline: ?Deadline,
          snoozedUntil: ?string,
          owner: ?string
        )

        # What the portfolio file says about an item.
        type Definition (
          file: string,
          title: string,
          kind: string,
          parties: []string,
          timeZone: string,
          remindAt: string,
          reminders: []string,
          overdueEvery: ?string,
          due: ?string,
          status: ?string,
          signBy: ?string,
          term: ?string,
          inForce: ?string,
          notice: ?string,
          overdueFor: ?string,
          # when an instrument without a term (terms of reference) was adopted
          adopted: ?string,
          # what each date and duration above rests on
          dates: ?[]DatedValue,
          # the calendars whose common business days the item keeps, and how its
          # deadlines move off other days: none, following, preceding, modified-following
          businessDays: ?[]string,
          adjust: ?string,
          # a recurring objective: "every P1Y from 2017-09-12 until 2026-12-31"
          recurrence: ?string,
          description: ?string,
          owner: ?string,
          contacts: ?[]string,
          # "ITEM EVENT": the instrument event that fulfils this objective
          fulfilledBy: ?string,
          renews: ?string,
          supersedes: ?string
        )

        # One date or duration of a portfolio and what it rests on.
        type DatedValue (
          # due, sign-by, term, in-force, notice or adopted
          key: string,
          value: string,
          # statement, confirmed, planned or assumed
          basis: string,
          source: ?string
        )

        # One line of the reminder ledger: what happened to a reminder.
        type LedgerEntry (
          key: string,
          # fired, skipped or missed
          outcome: string,
          at: string,
          catchUp: bool,
          # missed: why, when the journal refused the entry through every retry
          reason: ?string
        )

        # Something that happened to an item, recorded through Record.
        type Event (
          id: int,
          item: string,
          event: string,
          on: string,
          recordedAt: string,
          uid: int,
          user: string,
          note: ?string,
          term: ?string,
          # recorded: the dates this event gives rest on it, and on who recorded it (user)
          basis: ?string,
          # notified: the party whose notification it is
          party: ?string
        )

        # One audited write or refused write.
        type AuditEntry (
          at: string,
          uid: int,
          user: string,
          # record, acknowledge, snooze or reload
          action: string,
          item: ?string,
          detail: string,
          allowed: bool
        )

        # One problem in a configuration or portfolio file.
        type ConfigProblem (
          file: string,
          line: ?int,
          key: string,
          message: string
        )

        # One deadline in a digest. section: overdue, lapsed, unacknowledged or due;
        # at: when the deadline counts as passed; text: the line as the digest shows it.
        type DigestLine (
          section: string,
          item: string,
          title: string,
          owner: ?string,
          deadline: string,
          at: string,
          text: string
        )

        # The daemon at a glance.
        method Status() -> (
          version: string,
          startedAt: string,
          now: string,
          configFile: string,
          stateFile: string,
          portfolios: int,
          objectives: int,
          instruments: int,
          nextReminder: ?Reminder,
          fired: int,
          skipped: int,
          missed: int,
          # single (SQLite: the only daemon), active (holds the shared database's leader lock and
          # fires) or standby (answers reads; writes go to the active one)
          role: ?string,
          # the active daemon, accordd@HOST (PID), when the state is shared and one is active
          activeHost: ?string
        )

        # Items, optionally filtered. dueWithin is a duration: items with a deadline
        # that is passed or falls within it. state may also be lapsed: items with a
        # deadline passed longer ago than overdue-for. owner: items whose owner
        # contains the text (case-insensitive); basis: items with a date of that basis.
        # Paged: at most limit items (never more than 1000, limit or not); when more
        # follow, next is set, and passing it as after gives the next page.
        method List(kind: ?string, state: ?string, dialogue: ?string, dueWithin: ?string, owner: ?string, basis: ?string, limit: ?int, after: ?string) -> (items: []Item, next: ?string)

        # Everything about one item; id is a full or bare item id.
        method Show(id: string) -> (
          item: Item,
          definition: Definition,
          deadlines: []Deadline,
          upcoming: []Reminder,
          ledger: []LedgerEntry,
          events: []Event
        )

        # Reminders that will fire within a duration (default P30D), in firing order.
        # Paged as List is.
        method Upcoming(within: ?string, limit: ?int, after: ?string) -> (reminders: []Reminder, next: ?string)

        # The audit trail, optionally for one item and since a date, oldest first.
        # Paged as List is.
        method History(id: ?string, since: ?string, limit: ?int, after: ?string) -> (entries: []AuditEntry, next: ?string)

        # Records an event: objectives started, completed, dropped, reopened;
        # instruments negotiation-started, concluded, signed, in-force,
        # renewed (with term), terminated, not-renewed (auto-renew ones) and
        # notified (with party, for enters-into-force). on defaults to today.
        # request: the client's id for this write (1 to 128 letters, digits, - or _);
        # a retry with the same id gets the first reply and records nothing more.
        method Record(id: string, event: string, on: ?string, note: ?string, term: ?string, party: ?string, request: ?string) -> (event: Event, state: string)

        # Silences the remaining reminders of a deadline (default: the item's most
        # pressing one). request as for Record.
        method Acknowledge(id: string, deadline: ?string, request: ?string) -> (item: string, deadline: string, deadlineAt: string)

        # Holds an item's reminders for a duration; the latest held one per deadline
        # fires when the snooze ends. request as for Record.
        method Snooze(id: string, for: string, request: ?string) -> (item: string, until: string)

        # Re-reads the configuration and portfolios; nothing changes on an error.
        method Reload() -> (portfolios: int, objectives: int, instruments: int)

        # With more: one reply per reminder as it fires.
        method Watch() -> (reminder: Reminder)

        # The deadlines as an iCalendar (RFC 5545) text: one event per deadline falling
        # within the duration from now (passed ones included; default all), optionally
        # of one dialogue, or of items whose owner contains the text (case-insensitive).
        # The same events, UIDs and SEQUENCEs as the subscription file.
        method Export(within: ?string, dialogue: ?string, owner: ?string) -> (calendar: string)

        # What is overdue, lapsed, unacknowledged (a term expired, not acknowledged)
        # and due before until, grouped by owner: the text the daemon writes to the
        # journal each period (digest in accordd.toml), as it stands now. within
        # replaces the configured period (default: the digest's period, else P7D).
        # nextDigest: when the daemon writes the next one (none without digest).
        method Digest(within: ?string) -> (
          at: string,
          until: string,
          period: string,
          overdue: int,
          lapsed: int,
          unacknowledged: int,
          due: int,
          summary: string,
          text: string,
          lines: []DigestLine,
          nextDigest: ?string
        )

        # One hash chain of the state database, the event or the audit table: each row
        # holds SHA-256 over the previous row's hash and its own content.
        type AuditChain (
          # event or audit
          table: string,
          # rows that verified, from the first on (all of them when the chain is not broken)
          rows: int,
          # the hash of the last row that verified (64 zeros when none did): the chain's
          # head when it is not broken, as the journal's ACCORD_AUDIT_HEAD and
          # ACCORD_EVENT_HEAD carry it
          head: string,
          headRow: ?int,
          # the first row that does not verify (changed, removed or inserted by hand), and why
          brokenRow: ?int,
          reason: ?string
        )

        # Walks the hash chains of the event and audit tables; ok when every row of
        # both verifies.
        method VerifyAudit() -> (ok: bool, chains: []AuditChain)

        error NoSuchItem (id: string)
        error AmbiguousItem (id: string, candidates: []string)
        error InvalidEvent (id: string, event: string, state: string, allowed: []string, reason: string)
        error InvalidConfig (problems: []ConfigProblem)
        error PermissionDenied (method: string, uid: int, user: string, requiredGroup: string)
        # A request that could not be read: not JSON, not UTF-8, or not a Varlink call.
        error InvalidRequest (reason: string)
        # A message longer than the server accepts; the connection is closed after this reply.
        error RequestTooLarge (limit: int)
        # The state database could not be read or written (full or read-only file system);
        # nothing was recorded.
        error StateUnavailable (reason: string)
        # A write sent to a standby daemon (several share one PostgreSQL database): the active one,
        # named by activeHost (null when none is active right now), takes it.
        error NotActive (method: string, activeHost: ?string)

        """#
}

public enum VarlinkServiceInterface {
    public static let name = "org.varlink.service"
    public static let description = #"""
        # The Varlink service interface implemented by every service.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()
        """#
}
