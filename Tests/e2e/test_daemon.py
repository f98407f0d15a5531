"""accordd end to end (issue 3): reminders in the real journal with every field of docs/contracts.md §6,
exactly once across kill -9, catch-up and missed, reload with a broken and a fixed portfolio,
the systemd notify protocol and watchdog, the notify hook, `accordd check`, and stderr when
there is no journal. Deadlines are datetimes a few seconds ahead, so every test waits for
real reminders from the real timer."""
import os
import re
import signal
import subprocess
import time

import pytest

from accordtest import (ACCORDD, APPROACHING, CATALOG, OVERDUE, REACHED, REJECTED, RELOADED, STARTED, STOPPING,
                        epoch, instant, instrument, journal_entries, objective, portfolio, reminder_entries,
                        STATE, wait_for)

FIELDS = ["MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "ACCORD_ITEM", "ACCORD_DIALOGUE",
          "ACCORD_DEADLINE", "ACCORD_DEADLINE_AT", "ACCORD_LEAD", "ACCORD_DAYS_LEFT", "ACCORD_REMINDER",
          "ACCORD_CATCHUP", "ACCORD_FIRE_AT", "ACCORD_BASIS", "ACCORD_OWNER", "ACCORD_TITLE"]
DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def seconds(duration):
    """Seconds of a day/time ISO 8601 duration (the leads these tests use)."""
    match = DURATION.match(duration)
    assert match, f"unexpected duration {duration!r}"
    d, h, m, s = (int(g or 0) for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def lateness(entry):
    """How long after its scheduled instant (ACCORD_FIRE_AT) journald received the entry."""
    return int(entry["__REALTIME_TIMESTAMP"]) / 1e6 - epoch(entry["ACCORD_FIRE_AT"])


def priority_for(days_left):
    return 5 if days_left > 7 else 4 if days_left >= 1 else 3


def by_item_and_lead(entries):
    return {(e["ACCORD_ITEM"], e["ACCORD_LEAD"]): e for e in entries}


def keys(entries):
    return [e["ACCORD_REMINDER"] for e in entries]


def catalog_subject(message_id):
    """The Subject: template of `message_id` in systemd/accord.catalog, or None."""
    if not os.path.exists(CATALOG):
        return None
    current = None
    for line in open(CATALOG):
        if line.startswith("-- "):
            current = line[3:].split()[0].strip()
        elif current == message_id and line.startswith("Subject:"):
            return line[len("Subject:"):].strip()
    return None


def test_every_field_priority_and_message_id(make_daemon):
    """One objective due in ~6 s (leads PT4S and P0D, overdue every PT2S), one due at an
    instant written with an offset, and sign-by deadlines 8, 7 and 1 days ahead fired at their
    lead, so that each PRIORITY band and each reminder MESSAGE_ID shows up."""
    due = instant(6)
    zoned = instant(5, offset="+05:30")
    far = {8: instant(8 * 86400 + 3), 7: instant(7 * 86400 + 3), 1: instant(86400 + 3)}
    daemon = make_daemon(portfolio([
        objective("soon", due, reminders=["PT4S", "P0D"]),
        objective("zoned", zoned, reminders=["PT2S"], time_zone='"Asia/Kathmandu"'),
        instrument("pilot", sign_by=far[8], reminders=["P8D"]),
        instrument("treaty", kind="treaty", sign_by=far[7], reminders=["P7D"]),
        instrument("accord", kind="agreement", sign_by=far[1], reminders=["P1D"]),
    ], dialogue="fields", leads=["P0D"], overdue="PT2S")).start()

    def enough():
        found = reminder_entries(ACCORD_DIALOGUE="fields")
        overdue = [e for e in found if e["MESSAGE_ID"] == OVERDUE and e["ACCORD_ITEM"] == "fields/soon"]
        return found if len(found) >= 7 and overdue else None

    entries = wait_for(enough, timeout=25)
    assert entries, f"reminders seen: {keys(reminder_entries(ACCORD_DIALOGUE='fields'))}\n{daemon.stderr()}"
    assert daemon.stop() == 0
    entries = reminder_entries(ACCORD_DIALOGUE="fields")
    assert len(set(keys(entries))) == len(entries), f"a reminder key appeared twice: {keys(entries)}"
    ledger = daemon.ledger()

    for e in entries:
        name = e["ACCORD_REMINDER"]
        for field in FIELDS:
            assert field in e, f"{field} missing from {name}: {e}"
        assert e["SYSLOG_IDENTIFIER"] == "accordd"
        assert e["ACCORD_DIALOGUE"] == "fields" and e["ACCORD_ITEM"].startswith("fields/")
        assert e["ACCORD_CATCHUP"] == "0", name
        days = int(e["ACCORD_DAYS_LEFT"])
        assert e["PRIORITY"] == str(priority_for(days)), f"{name}: PRIORITY {e['PRIORITY']} for {days} days left"
        # the scheduled instant is the deadline minus the lead (plus n x overdue-every)
        lead = e["ACCORD_LEAD"]
        offset = seconds(lead.lstrip("+")) * (1 if lead.startswith("+") else -1)
        assert epoch(e["ACCORD_FIRE_AT"]) == epoch(e["ACCORD_DEADLINE_AT"]) + offset, name
        assert 0 <= lateness(e) < 1.0, f"{name} was {lateness(e):.3f} s off its instant"
        assert e["MESSAGE"].startswith(e["ACCORD_ITEM"] + ": ") and "\n" not in e["MESSAGE"], e["MESSAGE"]
        assert ledger.get(name, {}).get("outcome") == "fired", f"{name} is not in the ledger as fired"
        assert ledger[name]["catch_up"] is False

    got = by_item_and_lead(entries)
    lead = got[("fields/soon", "PT4S")]
    assert lead["MESSAGE_ID"] == APPROACHING and lead["ACCORD_DAYS_LEFT"] == "0" and lead["PRIORITY"] == "3"
    assert lead["ACCORD_DEADLINE"] == "due" and lead["ACCORD_DEADLINE_AT"] == due
    today = got[("fields/soon", "P0D")]
    assert today["MESSAGE_ID"] == REACHED and today["ACCORD_DAYS_LEFT"] == "0" and today["PRIORITY"] == "3"
    overdue = got[("fields/soon", "+PT2S")]
    assert overdue["MESSAGE_ID"] == OVERDUE and overdue["PRIORITY"] == "3"
    assert int(overdue["ACCORD_DAYS_LEFT"]) <= 0
    assert epoch(overdue["ACCORD_FIRE_AT"]) == epoch(due) + 2

    z = got[("fields/zoned", "PT2S")]
    assert epoch(z["ACCORD_DEADLINE_AT"]) == epoch(zoned), f"{z['ACCORD_DEADLINE_AT']} is not {zoned}"
    assert z["MESSAGE_ID"] == APPROACHING

    for days, item, deadline_lead in ((8, "fields/pilot", "P8D"), (7, "fields/treaty", "P7D"), (1, "fields/accord", "P1D")):
        e = got[(item, deadline_lead)]
        assert e["ACCORD_DEADLINE"] == "sign-by" and e["ACCORD_DEADLINE_AT"] == far[days]
        assert e["ACCORD_DAYS_LEFT"] == str(days) and e["MESSAGE_ID"] == APPROACHING
    assert got[("fields/pilot", "P8D")]["PRIORITY"] == "5"
    assert got[("fields/treaty", "P7D")]["PRIORITY"] == "4"
    assert got[("fields/accord", "P1D")]["PRIORITY"] == "4"

    # no watchdog without WATCHDOG_USEC; started and stopping entries of this daemon
    assert "WATCHDOG=1" not in daemon.notify.lines()
    assert daemon.journal(MESSAGE_ID=STARTED) and daemon.journal(MESSAGE_ID=STOPPING)

    # journalctl -x explains the entry with the catalog shipped in systemd/accord.catalog
    subject = catalog_subject(APPROACHING)
    if subject:
        expected = re.sub(r"@([A-Z0-9_]+)@", lambda m: lead.get(m.group(1), m.group(0)), subject)
        out = subprocess.run(["journalctl", "--no-pager", "-x", f"ACCORD_REMINDER={lead['ACCORD_REMINDER']}"],
                             capture_output=True, text=True).stdout
        assert "Subject: " + expected in out, f"journalctl -x does not show the catalog:\n{out}"


def test_kill9_restart_exactly_once_catch_up_and_missed(make_daemon):
    """Killed with SIGKILL after its first reminder; down while one reminder comes due (fires
    at start-up, once, ACCORD_CATCHUP=1) and another goes stale beyond catch-up = PT5S (recorded
    missed, never in the journal); a later one fires on time; a second restart fires nothing."""
    due_a = instant(11)   # PT9S at t+2 (before the kill), P0D at t+11 (during the downtime)
    due_b = instant(4)    # P0D at t+4: 8.5 s late at the restart, beyond catch-up
    due_c = instant(17)   # P0D at t+17: after the restart, on time
    daemon = make_daemon(portfolio([
        objective("a", due_a, reminders=["PT9S", "P0D"]),
        objective("b", due_b, reminders=["P0D"]),
        objective("c", due_c, reminders=["P0D"]),
    ], dialogue="crash"), catch_up="PT5S").start()

    def seen(item, lead):
        return [e for e in reminder_entries(ACCORD_DIALOGUE="crash")
                if e["ACCORD_ITEM"] == f"crash/{item}" and e["ACCORD_LEAD"] == lead]

    first = wait_for(lambda: seen("a", "PT9S"), timeout=15)
    assert first, daemon.stderr()
    daemon.kill9()
    assert time.time() < epoch(due_b) - 0.5, "too slow: b's reminder was not yet due at the kill"

    time.sleep(max(0.0, epoch(due_a) + 1.5 - time.time()))
    restarted = time.time()
    daemon.start()
    caught = wait_for(lambda: seen("a", "P0D"), timeout=10)
    assert caught, f"a's P0D reminder did not catch up:\n{daemon.stderr()}"
    assert len(caught) == 1 and caught[0]["ACCORD_CATCHUP"] == "1"
    assert int(caught[0]["__REALTIME_TIMESTAMP"]) / 1e6 - restarted < 5, "catch-up did not fire at start-up"
    on_time = wait_for(lambda: seen("c", "P0D"), timeout=15)
    assert on_time and on_time[0]["ACCORD_CATCHUP"] == "0" and lateness(on_time[0]) < 1.0

    entries = reminder_entries(ACCORD_DIALOGUE="crash")
    assert len(keys(entries)) == len(set(keys(entries))), f"a reminder fired twice: {keys(entries)}"
    assert len(seen("a", "PT9S")) == 1
    assert not seen("b", "P0D"), "a reminder older than catch-up reached the journal"
    ledger = daemon.ledger()
    assert ledger[first[0]["ACCORD_REMINDER"]] == {"outcome": "fired", "catch_up": False}
    assert ledger[caught[0]["ACCORD_REMINDER"]] == {"outcome": "fired", "catch_up": True}
    missed = [k for k, v in ledger.items() if k.startswith("crash/b:") and v["outcome"] == "missed"]
    assert len(missed) == 1, f"b's reminder is not recorded as missed: {ledger}"

    # a clean restart fires nothing again
    count = len(entries)
    daemon.restart()
    time.sleep(1.5)
    assert daemon.stop() == 0
    assert len(reminder_entries(ACCORD_DIALOGUE="crash")) == count


def test_only_the_latest_late_reminder_per_deadline_catches_up(make_daemon):
    due = instant(6)  # PT4S at t+2 and PT3S at t+3 both come due while the daemon is down
    daemon = make_daemon(portfolio([objective("c", due, reminders=["PT4S", "PT3S"])], dialogue="latest")).start()
    daemon.kill9()
    assert time.time() < epoch(due) - 4, "too slow: the first reminder was due before the kill"
    time.sleep(max(0.0, epoch(due) - 3 + 1.2 - time.time()))
    daemon.start()
    fired = wait_for(lambda: reminder_entries(ACCORD_DIALOGUE="latest"), timeout=10)
    time.sleep(0.5)
    fired = reminder_entries(ACCORD_DIALOGUE="latest")
    assert [(e["ACCORD_LEAD"], e["ACCORD_CATCHUP"]) for e in fired] == [("PT3S", "1")]
    older = [v["outcome"] for k, v in daemon.ledger().items() if k != fired[0]["ACCORD_REMINDER"]]
    assert older and all(o in ("skipped", "missed") for o in older), older
    assert daemon.stop() == 0


def test_sighup_broken_portfolio_is_rejected_then_fixed_one_is_live(make_daemon):
    due_old = instant(7)
    old = objective("old", due_old, reminders=["PT2S"])        # fires at t+5
    daemon = make_daemon(portfolio([old], dialogue="reload")).start()

    # a valid new item beside a broken file: nothing of it may take effect
    due_ghost = instant(4)
    daemon.write_portfolio(portfolio([old, objective("ghost", due_ghost, reminders=["PT1S"])], dialogue="reload"))
    daemon.write_portfolio('[dialogue]\nid = "broken"\ntitle = "x"\ntime-zone = "Mars/Olympus"\ncolour = 1\n',
                           name="bad.toml")
    sent = time.monotonic()
    daemon.sighup()
    assert daemon.notify.wait_for("RELOADING=1", after=sent), daemon.notify.lines()
    assert daemon.notify.wait_for("READY=1", after=sent), "no READY=1 after a rejected reload"
    rejected = wait_for(lambda: daemon.journal(MESSAGE_ID=REJECTED), timeout=10)
    assert len(rejected) == 1, f"expected one rejected entry, got {[e['MESSAGE'] for e in rejected]}"
    text = rejected[0]["MESSAGE"]
    assert "bad.toml" in text and "Mars/Olympus" in text and "colour" in text, text
    assert not daemon.journal(MESSAGE_ID=RELOADED)

    fired = wait_for(lambda: reminder_entries(ACCORD_ITEM="reload/old"), timeout=15)
    assert fired and lateness(fired[0]) < 1.0, "the old plan stopped after a rejected reload"
    assert not reminder_entries(ACCORD_ITEM="reload/ghost"), "a rejected reload changed the plan"
    assert daemon.process.poll() is None

    due_new = instant(4)
    daemon.remove_portfolio("bad.toml")
    daemon.write_portfolio(portfolio([old, objective("ghost", due_ghost, reminders=["PT1S"]),
                                      objective("new", due_new, reminders=["PT1S"])], dialogue="reload"))
    sent = time.monotonic()
    daemon.sighup()
    assert daemon.notify.wait_for("READY=1", after=sent)
    assert wait_for(lambda: daemon.journal(MESSAGE_ID=RELOADED), timeout=10)
    new = wait_for(lambda: reminder_entries(ACCORD_ITEM="reload/new"), timeout=15)
    assert new and lateness(new[0]) < 1.0, "the reloaded plan is not live"
    # ghost's time passed before it was first loaded: skipped, never fired; old fired once only
    assert not reminder_entries(ACCORD_ITEM="reload/ghost")
    assert len(reminder_entries(ACCORD_ITEM="reload/old")) == 1
    assert len(daemon.journal(MESSAGE_ID=REJECTED)) == 1
    status = daemon.notify.lines(after=sent)
    assert [line for line in status if line.startswith("STATUS=") and re.search(r"\b3\b", line)], \
        f"STATUS= after the reload does not count 3 items: {status}"
    assert daemon.stop() == 0


def test_notify_protocol_and_watchdog(make_daemon):
    daemon = make_daemon(portfolio([objective("w", instant(3600), reminders=["PT10M"])], dialogue="notify"),
                         watchdog_usec=1_000_000).start()
    pid = daemon.pid
    time.sleep(2.2)
    lines = daemon.notify.lines()
    assert lines.count("READY=1") == 1
    status = [line for line in lines if line.startswith("STATUS=")]
    assert status and re.search(r"\b1\b", status[-1]), f"STATUS= does not count the item: {status}"
    pings = daemon.notify.times("WATCHDOG=1")
    assert len(pings) >= 4, f"{len(pings)} WATCHDOG=1 in 2.2 s with WATCHDOG_USEC=1000000"
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    # sd_watchdog_enabled() advises half the interval; what systemd enforces is the whole second.
    assert max(gaps) < 1.0, f"watchdog gaps {gaps}: systemd would have killed the daemon (WatchdogSec=1)"
    assert {m[1] for m in daemon.notify.messages} == {pid}, "a notify message came from another pid"

    sent = time.monotonic()
    daemon.sighup()
    assert daemon.notify.wait_for("RELOADING=1", after=sent)
    reloading = daemon.notify.times("RELOADING=1", after=sent)[0]
    assert daemon.notify.wait_for("READY=1", after=reloading), "no READY=1 after RELOADING=1"
    assert wait_for(lambda: daemon.journal(MESSAGE_ID=RELOADED), timeout=10)

    sent = time.monotonic()
    assert daemon.stop() == 0
    assert "STOPPING=1" in daemon.notify.lines(after=sent)
    assert daemon.journal(MESSAGE_ID=STARTED) and daemon.journal(MESSAGE_ID=STOPPING)

    # WATCHDOG_PID naming another process: the watchdog is not for accordd, no pings
    other = make_daemon(portfolio([objective("w", instant(3600), reminders=["PT10M"])], dialogue="notify2"),
                        watchdog_usec=1_000_000, watchdog_pid=1).start()
    time.sleep(1.5)
    assert "WATCHDOG=1" not in other.notify.lines()
    # SIGINT (Ctrl-C in a terminal) stops as cleanly as SIGTERM
    sent = time.monotonic()
    other.process.send_signal(signal.SIGINT)
    assert other.process.wait(15) == 0
    assert "STOPPING=1" in other.notify.lines(after=sent)


def test_slow_or_failing_hook_never_delays_a_reminder(make_daemon, scratch):
    """Six reminders due at the same instant; the hook sleeps 10 s (timeout PT1S) for some
    and fails for others. Every entry is on time, each hook runs once with the fields in its
    environment, the slow ones are killed at the limit, and both problems are logged."""
    # In a folder of its own: the hook may not create files in the daemon's folder, which
    # holds the state and socket directories (accordd(8), "Notify hook").
    os.mkdir(os.path.join(scratch, "hook-out"))
    marker = os.path.join(scratch, "hook-out", "hook-ran")
    hook = os.path.join(scratch, "hook")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\n"
                f'echo "$$ $ACCORD_REMINDER $ACCORD_ITEM $ACCORD_DAYS_LEFT $ACCORD_CATCHUP" >> {marker}\n'
                'case "$ACCORD_ITEM" in\n'
                '  */slow*) exec sleep 10 ;;\n'
                '  */fail*) exit 3 ;;\n'
                "esac\n")
    os.chmod(hook, 0o755)
    due = instant(4)
    names = ["slow1", "fail1", "plain1", "slow2", "fail2", "plain2"]
    daemon = make_daemon(portfolio([objective(n, due, reminders=["PT2S"]) for n in names], dialogue="hook"),
                         extra_config=f'[notify]\nexec = ["{hook}"]\ntimeout = "PT1S"\n').start()

    entries = wait_for(lambda: (lambda e: e if len(e) >= 6 else None)(reminder_entries(ACCORD_DIALOGUE="hook")),
                       timeout=15)
    assert entries, daemon.stderr()
    late = {e["ACCORD_ITEM"]: round(lateness(e), 3) for e in entries}
    assert max(late.values()) < 1.0, f"reminders late behind the hook: {late}"

    by_key = {e["ACCORD_REMINDER"]: e["ACCORD_ITEM"] for e in entries}
    slow_keys = [k for k, item in by_key.items() if "/slow" in item]
    fail_keys = [k for k, item in by_key.items() if "/fail" in item]

    def logged(key, words):
        return [e for e in journal_entries(ACCORD_REMINDER=key)
                if e.get("MESSAGE_ID") is None and any(w in e["MESSAGE"].lower() for w in words)]

    for key in slow_keys:
        assert wait_for(lambda: logged(key, ("timed out", "timeout")), timeout=5), f"no timeout logged for {key}"
    for key in fail_keys:
        found = wait_for(lambda: logged(key, ("fail", "exit")), timeout=5)
        assert found and "3" in found[0]["MESSAGE"], f"no failure logged for {key}"

    runs = [line.split() for line in open(marker).read().splitlines()]
    assert sorted(r[1] for r in runs) == sorted(by_key), "the hook did not run exactly once per reminder"
    for pid, key, item, days, catch_up in runs:
        assert by_key[key] == item and days == "0" and catch_up == "0"
    # killed at the limit, and reaped
    time.sleep(max(0.0, epoch(entries[0]["ACCORD_FIRE_AT"]) + 2.5 - time.time()))
    for pid, key, item, *_ in runs:
        if "/slow" in item:
            assert not os.path.exists(f"/proc/{pid}"), f"the slow hook {pid} still exists after its time limit"
    assert daemon.stop() == 0


def test_check_exit_codes_and_problems(make_daemon):
    daemon = make_daemon(portfolio([objective("ok", "2030-01-01")], dialogue="check"))
    ok = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr

    daemon.write_portfolio('[dialogue]\nid = "x"\ntitle = "x"\ntime-zone = "Mars/Olympus"\ncolour = 1\n',
                           name="bad.toml")
    bad = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert bad.returncode == 78
    problems = bad.stdout + bad.stderr
    assert "bad.toml" in problems and "Mars/Olympus" in problems and "colour" in problems, problems
    assert "time-zone" in problems and re.search(r"bad\.toml:4\b", problems), "the line of the bad zone is not named"

    daemon.remove_portfolio("bad.toml")
    daemon.write_config(extra='colour = "blue"')
    bad = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert bad.returncode == 78 and "colour" in bad.stdout + bad.stderr


def test_without_a_journal_lines_go_to_stderr(make_daemon):
    """In a mount namespace of its own with an empty tmpfs over /run/systemd/journal, accordd
    finds no journal socket and writes the same lines to stderr."""
    daemon = make_daemon(portfolio([objective("s", instant(3), reminders=["PT1S"])], dialogue="stderr"))
    script = ('mount -t tmpfs tmpfs /run/systemd/journal && test ! -e /run/systemd/journal/socket && '
              '{ "$0" run --config "$1" & pid=$!; sleep 4; kill -TERM $pid; wait $pid; }')
    env = dict(os.environ, STATE_DIRECTORY=daemon.state, RUNTIME_DIRECTORY=daemon.runtime)
    env.pop("NOTIFY_SOCKET", None)
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                             ACCORDD, daemon.config], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stderr}"
    assert "accordd started" in result.stderr, result.stderr
    assert "stderr/s:" in result.stderr, "the reminder did not go to stderr"
    assert "stopping" in result.stderr, result.stderr
    assert not reminder_entries(ACCORD_DIALOGUE="stderr"), "a reminder reached the journal it should not see"


@pytest.mark.skipif(STATE != "sqlite", reason="looks inside the SQLite state file")
def test_sigterm_closes_the_state_database(make_daemon):
    """Issue 3, item 6: SIGTERM finishes what is in flight, closes the database and exits 0. SQLite
    checkpoints and removes the write-ahead log when the last connection closes cleanly, so a
    stopped daemon leaves one self-contained state.sqlite (what an administrator backs up).
    (Found here: the last connection to close was a read-only reader, which cannot checkpoint.)"""
    daemon = make_daemon(portfolio([objective("db", instant(2), reminders=["PT1S"])], dialogue="closing")).start()
    assert wait_for(lambda: reminder_entries(ACCORD_DIALOGUE="closing"), timeout=10)
    assert daemon.stop() == 0
    left = [name for name in os.listdir(daemon.state) if name.endswith(("-wal", "-shm"))]
    assert not left, f"the database was not closed: {left} left in {daemon.state}"


def geographic_zones():
    """The IANA zones of zone1970.tab (one per region of the world), from the system's tzdata."""
    path = "/usr/share/zoneinfo/zone1970.tab"
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return sorted(line.split("\t")[2].strip() for line in f if line.strip() and not line.startswith("#"))


def test_check_accepts_every_geographic_iana_zone(make_daemon):
    """Every zone of the system's zone1970.tab is a valid `time-zone`. (Found here: Asia/Kolkata
    was refused, since ICU's list of known names has only its old name, Asia/Calcutta.)"""
    zones = geographic_zones()
    if not zones:
        pytest.skip("no /usr/share/zoneinfo/zone1970.tab (tzdata)")
    daemon = make_daemon()
    for i, zone in enumerate(zones):
        daemon.write_portfolio(f'[dialogue]\nid = "z{i}"\ntitle = "{zone}"\ntime-zone = "{zone}"\n', name=f"z{i}.toml")
    result = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    refused = re.findall(r'"([^"]+)" is not an IANA', result.stdout + result.stderr)
    assert result.returncode == 0, f"{len(refused)} of {len(zones)} zones refused: {refused}"


def test_the_state_is_where_the_config_says(make_daemon):
    """Issue 14: with [state] url the state lives in PostgreSQL and no state.sqlite is made;
    without it, in the state directory's state.sqlite. The started entry names where."""
    daemon = make_daemon(portfolio([objective("where", instant(2), reminders=["PT1S"])], dialogue="where")).start()
    assert wait_for(lambda: reminder_entries(ACCORD_DIALOGUE="where"), timeout=10)
    started = daemon.journal(MESSAGE_ID=STARTED)
    assert started, daemon.stderr()
    expected = daemon.state_url if STATE == "postgresql" else daemon.database
    assert started[0]["ACCORD_STATE"] == expected and expected in started[0]["MESSAGE"]
    assert wait_for(lambda: daemon.query("SELECT outcome FROM ledger WHERE item = ?", "where/where"), timeout=5)
    assert daemon.stop() == 0
    assert os.path.exists(daemon.database) == (STATE == "sqlite"), os.listdir(daemon.state)
