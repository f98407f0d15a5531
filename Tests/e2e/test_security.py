"""Security regressions of issue 16 at the journal and the hook: crash recovery trusts only
entries journald attributes to the daemon (defect 3), and the notify hook runs with an empty
signal mask, default dispositions, a process group of its own that the time limit kills whole,
and no write access to the state and socket directories (defect 7)."""
import os
import pwd
import sqlite3
import subprocess
import time

from conftest import (REACHED, ensure_user, epoch, instant, journal_entries, objective, portfolio, reminder_entries,
                      run, wait_for)


def pending_keys(daemon):
    return [row[0] for row in daemon.query("SELECT key FROM ledger WHERE pending = 1")]


def forge(key, user=None):
    """Sends an entry with ACCORD_REMINDER=key, SYSLOG_IDENTIFIER=accordd and a reminder
    MESSAGE_ID through `logger --journald`, as `user` (or root)."""
    fields = (f"MESSAGE=forged reminder {key}\nMESSAGE_ID={REACHED}\nSYSLOG_IDENTIFIER=accordd\n"
              f"PRIORITY=5\nACCORD_REMINDER={key}\nACCORD_ITEM={key.split(':')[0]}\n")
    rc, _, err = run(["logger", "--journald"], user=user, input=fields)
    assert rc == 0, f"logger --journald failed: {err}"


def test_forged_journal_entries_do_not_settle_a_claim(make_daemon):
    """A reminder claimed but not written when the daemon is killed; another user, and root
    through another program, then send ACCORD_REMINDER=<key>. After the restart the reminder
    still fires, from the daemon, once. Before the fix the forged entry settled the claim and
    the reminder never fired."""
    due = instant(12)
    daemon = make_daemon(portfolio([objective("x", due, reminders=["P0D"])], dialogue="forged")).start()
    claimed = wait_for(lambda: pending_keys(daemon), timeout=5)
    assert claimed, "the next batch was not claimed ahead of its second"
    daemon.kill9()
    assert time.time() < epoch(due), "too slow: the reminder was due before the kill"
    key = claimed[0]
    assert pending_keys(daemon) == [key]

    forger = ensure_user("accord-e2e-forger")
    forge(key, user=forger)
    forge(key)  # root, but through logger: _COMM and _EXE are not the daemon's
    forged = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(journal_entries(ACCORD_REMINDER=key)), timeout=5)
    assert forged and len(forged) == 2, f"the forged entries did not reach the journal: {forged}"
    assert {e["_UID"] for e in forged} == {str(pwd.getpwnam(forger).pw_uid), "0"}
    assert {e["_COMM"] for e in forged} == {"logger"}

    daemon.start()
    pid = daemon.process.pid
    fired = wait_for(lambda: [e for e in reminder_entries(ACCORD_REMINDER=key) if e["_PID"] == str(pid)],
                     timeout=max(5, epoch(due) - time.time() + 5))
    assert fired, daemon.describe(f"the claimed reminder {key} never fired: the forged entries settled it")
    time.sleep(0.5)
    assert len([e for e in reminder_entries(ACCORD_REMINDER=key) if e["_COMM"] == "accordd"]) == 1
    assert daemon.ledger()[key]["outcome"] == "fired"
    assert "1 will fire again" in daemon.stderr() + "".join(
        e["MESSAGE"] for e in journal_entries(f"_PID={pid}") if "settled" in e["MESSAGE"])
    assert daemon.stop() == 0


def test_the_daemons_own_entry_still_settles_a_claim(make_daemon):
    """The other side: the daemon wrote the entry but could not record it (the database was
    locked) when it was killed; after the restart the claim is settled by that entry, so the
    reminder does not fire a second time. The identity match must not be too narrow."""
    due = instant(5)
    daemon = make_daemon(portfolio([objective("y", due, reminders=["P0D"])], dialogue="settled")).start()
    claimed = wait_for(lambda: pending_keys(daemon), timeout=5)
    assert claimed
    key = claimed[0]
    lock = sqlite3.connect(daemon.database, isolation_level=None, timeout=10)
    try:
        lock.execute("BEGIN EXCLUSIVE")  # the daemon's ledger update waits, then fails
        written = wait_for(lambda: reminder_entries(ACCORD_REMINDER=key), timeout=15)
        assert written and written[0]["_PID"] == str(daemon.process.pid), daemon.describe("the reminder did not fire")
        daemon.kill9()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert pending_keys(daemon) == [key], "the claim was recorded despite the lock: nothing to settle"
    daemon.start()
    time.sleep(1.5)
    assert len(reminder_entries(ACCORD_REMINDER=key)) == 1, "the reminder fired again although its entry was written"
    assert daemon.ledger()[key]["outcome"] == "fired" and not pending_keys(daemon)
    assert daemon.stop() == 0
