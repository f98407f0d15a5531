// AccordCalendar: what time it is where, and how far away — civil dates, wall-clock readings,
// instants, ISO 8601 durations, IANA zones read from the system's TZif files, and the wording
// of relative times ("in 3 days", "overdue by 20 minutes").
//
// No dependencies: not AccordCore, not Foundation (only Glibc for open/read/getenv and
// Synchronization for the cache's Mutex), so that the reminder plan, the daemon, accordd's
// plan and accordctl all share one calendar and none of them is needed to test it.
//
// Its only I/O is in Zone.swift: `Zone.named` reads a zone's TZif file (from $TZDIR or
// /usr/share/zoneinfo, 1 MiB at most) the first time the zone is asked for, and keeps it in
// a process-wide cache that `Zone.forgetReadZones()` empties on reload. Everything else is a
// pure function of its arguments; the current time is never read here but passed in.
//
// Range: the text formats (YYYY-MM-DD, RFC 3339) accept years 0001-9999; the arithmetic is
// total beyond them (a date plus P1000000Y, a zone rule in year 1,009,999), so no input the
// formats or the duration parser (numbers up to 1,000,000) accept can trap.
