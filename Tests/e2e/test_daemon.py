"""accordd end to end: reminders in the real journal, exactly once across kill -9, catch-up and
missed, reload, the systemd notify protocol and the notify hook."""
import os
import subprocess
import time

from conftest import (ACCORDD, epoch, instrument, journal_entries, objective, portfolio, reminder_entries, utc,
                      wait_for)

APPROACHING = "db24cfe239bd40298ba9e58943ddbf50"
REACHED = "d5617cbd1e784413882d23c8eabc57bd"
OVERDUE = "ce5134ff8f724784b33bf159f42040f5"
STARTED = "7542c2242e404e4f9c425c8a0fdab1da"
STOPPING = "e3a87e3eb6b945f08382de3e7ef49db5"
RELOADED = "a24e9dbbfa61448d85f3a92f695d8a2c"
REJECTED = "9d8a5b038ac74d818278025ffacfe2ab"

FIELDS = ["MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "ACCORD_ITEM", "ACCORD_DIALOGUE", "ACCORD_DEADLINE",
          "ACCORD_DEADLINE_AT", "ACCORD_LEAD", "ACCORD_DAYS_LEFT", "ACCORD_REMINDER", "ACCORD_CATCHUP"]


def lateness(entry):
    return int(entry["__REALTIME_TIMESTAMP"]) / 1e6 - epoch(entry["ACCORD_FIRE_AT"])


def test_every_field_priority_and_message_id(make_daemon):
    due = utc(5)
    far10 = utc(10 * 86400 + 3)
    far5 = utc(5 * 86400 + 3)
    daemon = make_daemon(portfolio([
        objective("soon", due, reminders='["PT3S", "P0D"]'),
        instrument("pilot", sign_by=far10, reminders='["P10D"]'),
        instrument("treaty", kind="treaty", sign_by=far5, reminders='["P5D"]'),
    ], dialogue="fields", overdue="PT2S")).start()
    entries = wait_for(lambda: (lambda e: e if len(e) >= 5 else None)(reminder_entries("ACCORD_DIALOGUE=fields")), timeout=20)
    daemon.stop()
    by_key = {e["ACCORD_REMINDER"]: e for e in entries}
    for entry in entries:
        for field in FIELDS:
            assert field in entry, f"{field} missing from {entry['ACCORD_REMINDER']}"
        assert entry["SYSLOG_IDENTIFIER"] == "accordd"
        assert entry["ACCORD_CATCHUP"] == "0"
        assert lateness(entry) < 1.0, f"{entry['ACCORD_REMINDER']} was {lateness(entry):.3f} s late"

    lead = by_key[f"fields/soon:due:{due}:PT3S"]
    assert lead["MESSAGE_ID"] == APPROACHING and lead["PRIORITY"] == "3" and lead["ACCORD_DAYS_LEFT"] == "0"
    assert lead["ACCORD_ITEM"] == "fields/soon" and lead["ACCORD_DIALOGUE"] == "fields"
    assert lead["ACCORD_DEADLINE"] == "due" and lead["ACCORD_DEADLINE_AT"] == due and lead["ACCORD_LEAD"] == "PT3S"
    assert lead["MESSAGE"] == f"fields/soon: due in 3 seconds ({due})"
    today = by_key[f"fields/soon:due:{due}:P0D"]
    assert today["MESSAGE_ID"] == REACHED and today["MESSAGE"] == f"fields/soon: due today ({due})"
    overdue = by_key[f"fields/soon:due:{due}:+PT2S"]
    assert overdue["MESSAGE_ID"] == OVERDUE and overdue["ACCORD_LEAD"] == "+PT2S" and overdue["PRIORITY"] == "3"
    ten = by_key[f"fields/pilot:sign-by:{far10}:P10D"]
    assert ten["ACCORD_DAYS_LEFT"] == "10" and ten["PRIORITY"] == "5" and ten["ACCORD_DEADLINE"] == "sign-by"
    assert ten["MESSAGE"] == f"fields/pilot: to be signed in 10 days (by {far10})"
    five = by_key[f"fields/treaty:sign-by:{far5}:P5D"]
    assert five["ACCORD_DAYS_LEFT"] == "5" and five["PRIORITY"] == "4"
    assert len(by_key) == len(entries), "a reminder key appeared twice"


def test_kill9_restart_catch_up_and_missed(make_daemon):
    due_a = utc(10)   # leads PT7S (t+3), PT5S (t+5), P0D (t+10)
    due_b = utc(4)    # leads PT2S (t+2): fires before the kill; P0D (t+4): missed later
    daemon = make_daemon(portfolio([
        objective("a", due_a, reminders='["PT7S", "PT5S", "P0D"]'),
        objective("b", due_b, reminders='["PT2S", "P0D"]'),
    ], dialogue="crash"), catch_up="PT4S").start()
    first = f"crash/b:due:{due_b}:PT2S"
    assert wait_for(lambda: [e for e in reminder_entries("ACCORD_DIALOGUE=crash") if e["ACCORD_REMINDER"] == first])
    daemon.kill9()
    # Down while a's PT7S and PT5S and b's P0D come due; restart 1.5 s after a's P0D.
    time.sleep(max(0, epoch(due_a) + 1.5 - time.time()))
    daemon.start()
    catch_up_key = f"crash/a:due:{due_a}:P0D"
    assert wait_for(lambda: any(e["ACCORD_REMINDER"] == catch_up_key for e in reminder_entries("ACCORD_DIALOGUE=crash")))
    entries = reminder_entries("ACCORD_DIALOGUE=crash")
    keys = [e["ACCORD_REMINDER"] for e in entries]
    assert len(keys) == len(set(keys)), f"a reminder fired twice: {keys}"
    assert keys.count(first) == 1
    caught = [e for e in entries if e["ACCORD_REMINDER"] == catch_up_key][0]
    assert caught["ACCORD_CATCHUP"] == "1"
    ledger = daemon.ledger()
    assert ledger[catch_up_key] == {"outcome": "fired", "catch_up": True}
    assert ledger[f"crash/a:due:{due_a}:PT7S"]["outcome"] == "missed"
    assert ledger[f"crash/a:due:{due_a}:PT5S"]["outcome"] == "missed"
    assert ledger[f"crash/b:due:{due_b}:P0D"]["outcome"] == "missed"
    assert f"crash/a:due:{due_a}:PT5S" not in keys
    assert daemon.stop() == 0


def test_only_the_latest_late_reminder_per_deadline_catches_up(make_daemon):
    due = utc(6)  # leads PT4S (t+2), PT3S (t+3): both come due while down, within catch-up
    daemon = make_daemon(portfolio([objective("c", due, reminders='["PT4S", "PT3S"]')], dialogue="latest")).start()
    daemon.kill9()
    time.sleep(max(0, epoch(due) - 2 - time.time()) + 1.2)
    daemon.start()
    key = f"latest/c:due:{due}:PT3S"
    assert wait_for(lambda: any(e["ACCORD_REMINDER"] == key for e in reminder_entries("ACCORD_DIALOGUE=latest")))
    keys = [e["ACCORD_REMINDER"] for e in reminder_entries("ACCORD_DIALOGUE=latest")]
    assert keys == [key]
    assert daemon.ledger()[f"latest/c:due:{due}:PT4S"]["outcome"] == "skipped"


def test_sighup_broken_then_fixed(make_daemon):
    due = utc(6)
    good = portfolio([objective("old", due, reminders='["PT2S"]')], dialogue="reload")
    daemon = make_daemon(good).start()
    daemon.write_portfolio(good + '\n[[objective]]\nid = "new"\ntitle = "x"\ndue = 2030-01-01\ntypo = 1\n')
    sent = time.monotonic()
    daemon.sighup()
    assert daemon.notify.wait_for("RELOADING=1", after=sent)
    rejected = wait_for(lambda: journal_entries(f"MESSAGE_ID={REJECTED}"))
    assert rejected and "typo" in rejected[-1]["MESSAGE"] and "test.toml" in rejected[-1]["MESSAGE"]
    assert daemon.notify.wait_for("READY=1", after=sent)
    old_key = f"reload/old:due:{due}:PT2S"
    assert wait_for(lambda: any(e["ACCORD_REMINDER"] == old_key for e in reminder_entries("ACCORD_DIALOGUE=reload")))

    new_due = utc(4)
    daemon.write_portfolio(portfolio([objective("old", due, reminders='["PT2S"]'),
                                      objective("new", new_due, reminders='["PT1S"]')], dialogue="reload"))
    daemon.sighup()
    assert wait_for(lambda: journal_entries(f"MESSAGE_ID={RELOADED}"))
    new_key = f"reload/new:due:{new_due}:PT1S"
    assert wait_for(lambda: any(e["ACCORD_REMINDER"] == new_key for e in reminder_entries("ACCORD_DIALOGUE=reload")))
    assert daemon.stop() == 0


def test_notify_protocol_and_watchdog(make_daemon):
    daemon = make_daemon(portfolio([objective("w", utc(3600), reminders='["PT10M"]')], dialogue="notify"),
                         watchdog_usec=1_000_000).start()
    pid = daemon.process.pid
    time.sleep(2.2)
    lines = daemon.notify.lines()
    assert "READY=1" in lines
    status = [l for l in lines if l.startswith("STATUS=")]
    assert status and "1 items" in status[0] and "next reminder" in status[0]
    pings = [m for m in daemon.notify.messages if m[2] == "WATCHDOG=1"]
    assert len(pings) >= 4, f"only {len(pings)} watchdog pings in 2.2 s at WATCHDOG_USEC=1s"
    assert all(m[1] == pid for m in daemon.notify.messages), "a notify message came from another pid"
    daemon.sighup()
    assert daemon.notify.wait_for("RELOADING=1")
    assert daemon.stop() == 0
    assert "STOPPING=1" in daemon.notify.lines()
    assert journal_entries(f"MESSAGE_ID={STARTED}") and journal_entries(f"MESSAGE_ID={STOPPING}")


def test_slow_or_failing_hook_never_delays_a_reminder(make_daemon, scratch):
    slow = os.path.join(scratch, "slow-hook")
    failing = os.path.join(scratch, "failing-hook")
    marker = os.path.join(scratch, "hook-ran")
    with open(slow, "w") as f:
        f.write(f"#!/bin/sh\necho \"$ACCORD_REMINDER $ACCORD_DAYS_LEFT\" >> {marker}\nexec sleep 30\n")
    with open(failing, "w") as f:
        f.write("#!/bin/sh\nexit 3\n")
    os.chmod(slow, 0o755)
    os.chmod(failing, 0o755)
    due = utc(4)
    items = [objective(f"h{i}", due, reminders='["PT2S", "P0D"]') for i in range(5)]
    daemon = make_daemon(portfolio(items, dialogue="hook"),
                         extra_config=f'[notify]\nexec = ["{slow}"]\ntimeout = "PT1S"\n').start()
    assert wait_for(lambda: len(reminder_entries("ACCORD_DIALOGUE=hook")) >= 10, timeout=15)
    entries = reminder_entries("ACCORD_DIALOGUE=hook")
    worst = max(lateness(e) for e in entries)
    assert worst < 1.0, f"a reminder was {worst:.3f} s late behind a slow hook"
    assert wait_for(lambda: [e for e in journal_entries() if "timed out" in e.get("MESSAGE", "")])
    assert len(open(marker).read().splitlines()) >= 5
    daemon.stop()

    with open(daemon.config, "w") as f:
        f.write(f'portfolios = ["portfolios"]\n[notify]\nexec = ["{failing}"]\ntimeout = "PT5S"\n')
    due = utc(3)
    daemon.write_portfolio(portfolio([objective("f", due, reminders='["PT1S"]')], dialogue="hookfail"))
    daemon.start()
    assert wait_for(lambda: reminder_entries("ACCORD_DIALOGUE=hookfail"))
    assert wait_for(lambda: [e for e in journal_entries() if "failed with exit status 3" in e.get("MESSAGE", "")])
    assert lateness(reminder_entries("ACCORD_DIALOGUE=hookfail")[0]) < 1.0
    daemon.stop()


def test_check_exit_codes(make_daemon, scratch):
    daemon = make_daemon(portfolio([objective("ok", "2030-01-01")], dialogue="check"))
    ok = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert ok.returncode == 0 and "ok: 1 portfolio" in ok.stdout
    daemon.write_portfolio('[dialogue]\nid = "x"\ntitle = "x"\ntime-zone = "Mars/Olympus"\ncolour = 1\n')
    bad = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert bad.returncode == 78
    assert "test.toml:4: dialogue › time-zone" in bad.stderr and "Mars/Olympus" in bad.stderr
    assert "dialogue › colour: unknown key" in bad.stderr


def test_without_a_journal_lines_go_to_stderr(make_daemon, scratch):
    daemon = make_daemon(portfolio([objective("s", utc(2), reminders='["PT1S"]')], dialogue="stderr"))
    script = (f'mount -t tmpfs tmpfs /run/systemd/journal && '
              f'STATE_DIRECTORY={daemon.state} RUNTIME_DIRECTORY={daemon.runtime} timeout -s TERM 4 {ACCORDD} run --config {daemon.config}')
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    assert "accordd started" in result.stderr
    assert "stderr/s: due in 1 second" in result.stderr
    assert "accordd stopping (SIGTERM)" in result.stderr
