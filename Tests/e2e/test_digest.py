"""Digest and escalation against the real journald (issue 13, items 3 and 4; docs/contracts.md
§14): digests fire on their period from an RFC 3339 `digest-at` a few seconds ahead, with their
MESSAGE_ID, counts and text, and the notify hook gets ACCORD_KIND=digest and the text on stdin;
of the digests missed while the daemon was down only the latest is written, once; a deadline
neither acknowledged nor resolved escalate-after past it escalates once at PRIORITY 2, with the
[escalate] hook, exactly once across kill -9 and restart; `accordctl digest` prints the text;
bad values are refused naming file and key."""
import json
import os
import re
import subprocess
import time

from accordtest import (CATALOG, DIGEST, ESCALATED, accordctl, epoch, instant, instrument, journal_entries,
                        objective, portfolio, quoted, run, utc, wait_for, ACCORDD)

# Writes what a hook got, one JSON file per run: its argv, the ACCORD_* environment and stdin.
HOOK = """#!/usr/bin/python3
import json, os, sys, time
out = {out!r}
record = dict(argv=sys.argv[1:], env={{k: v for k, v in os.environ.items() if k.startswith("ACCORD_") or k == "PATH"}},
              stdin=sys.stdin.read())
name = os.path.join(out, "%s-%d-%d.json" % (sys.argv[1], time.time_ns(), os.getpid()))
with open(name + ".tmp", "w") as f:
    json.dump(record, f)
os.rename(name + ".tmp", name)
"""


def make_hook(scratch):
    """A hook script and the folder it writes to (not the daemon's own folder, which holds the
    state and socket directories a hook may not write to)."""
    out = os.path.join(scratch, "hook-out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(scratch, "record-hook")
    with open(path, "w") as f:
        f.write(HOOK.format(out=out))
    os.chmod(path, 0o755)
    return path, out


def hook_runs(out, name):
    runs = []
    for file in sorted(os.listdir(out)):
        if file.startswith(name + "-") and file.endswith(".json"):
            with open(os.path.join(out, file)) as f:
                runs.append(json.load(f))
    return runs


def digests(daemon):
    return [e for e in daemon.journal(MESSAGE_ID=DIGEST)]


def escalations(daemon):
    return [e for e in daemon.journal(MESSAGE_ID=ESCALATED)]


def received(entry):
    return int(entry["__REALTIME_TIMESTAMP"]) / 1e6


def ago(days):
    """A date `days` before today (UTC), as a TOML date."""
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() - days * 86400))


def test_digest_fires_each_period_with_its_fields_text_and_hook(make_daemon, scratch):
    """Period PT4S from an instant 3 s ahead: two digests at exactly anchor and anchor + 4 s.
    The portfolio has one deadline in each section, under two owners and none."""
    hook, out = make_hook(scratch)
    anchor = utc(3)
    text = portfolio([
        objective("late", ago(3), owner=quoted("Desk B")),                                     # overdue
        objective("stale", ago(10), overdue_every=quoted("P1D"), overdue_for=quoted("P2D")),   # lapsed
        instrument("old-mou", term=quoted("P1Y"), in_force=ago(400)),                          # expired term
        objective("soon", instant(5), owner=quoted("Desk B")),                                 # due within 4 s
        objective("later", ago(-30)),                                                          # not due this period
        objective("handled", ago(5), status=quoted("done")),                                   # resolved
    ], dialogue="dig", owner=quoted("Desk A"), default_basis=quoted("statement"))
    daemon = make_daemon(text, extra_config=f'digest = "PT4S"\ndigest-at = "{anchor}"\n'
                                            f'[notify]\nexec = ["{hook}", "notify"]\n').start()

    found = wait_for(lambda: (lambda d: d if len(d) >= 2 else None)(digests(daemon)), timeout=15)
    assert found, f"digests seen: {digests(daemon)}\n{daemon.stderr()}"
    first, second = found[:2]
    assert first["ACCORD_FIRE_AT"] == anchor and epoch(second["ACCORD_FIRE_AT"]) == epoch(anchor) + 4
    for entry in (first, second):
        assert 0 <= received(entry) - epoch(entry["ACCORD_FIRE_AT"]) < 1.0, "a digest was off its instant"
        assert entry["PRIORITY"] == "5" and entry["SYSLOG_IDENTIFIER"] == "accordd" and entry["ACCORD_CATCHUP"] == "0"
        assert entry["ACCORD_PERIOD"] == "PT4S" and entry["ACCORD_DIGEST"] == "digest:" + entry["ACCORD_FIRE_AT"]
        assert entry["ACCORD_LAPSED"] == "1" and entry["ACCORD_UNACKNOWLEDGED"] == "1"
    # "soon" (due at t+5) is within the first digest's period and passed by the second's
    assert first["ACCORD_OVERDUE"] == "1" and first["ACCORD_DUE"] == "1"
    assert second["ACCORD_OVERDUE"] == "2" and second["ACCORD_DUE"] == "0"

    message = first["MESSAGE"]
    lines = message.splitlines()
    assert lines[0] == first["ACCORD_SUMMARY"]
    assert lines[0] == f"accord digest {first['ACCORD_FIRE_AT']}: 1 overdue, 1 lapsed, 1 unacknowledged, 1 due by {first['ACCORD_UNTIL']}"
    assert epoch(first["ACCORD_UNTIL"]) == epoch(first["ACCORD_FIRE_AT"]) + 4
    # grouped by owner: named owners in order, each with its count, then the lines without one
    headings = [line for line in lines if line and not line.startswith(" ") and line != lines[0]]
    assert headings == ["Owner: Desk A (2)", "Owner: Desk B (2)"], message
    body = "\n".join(lines)
    assert re.search(r"^  overdue +dig/late: due \S+, 3 days overdue — Objective late$", body, re.M), body
    assert re.search(r"^  lapsed +dig/stale: due ", body, re.M) and re.search(r"^  unacknowledged +dig/old-mou: expiry ", body, re.M)
    assert re.search(r"^  due +dig/soon: due \S+, in [1-3] seconds? — Objective soon$", body, re.M), body
    assert "dig/later" not in body and "dig/handled" not in body

    # the hook: once per digest, ACCORD_KIND=digest, the one-line summary as ACCORD_MESSAGE, the text on stdin
    def digest_runs():
        return [r for r in hook_runs(out, "notify") if r["env"]["ACCORD_KIND"] == "digest"]

    runs = wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(digest_runs()), timeout=5)
    assert runs and len(runs) == 2, f"hook runs: {runs}"
    assert {r["env"]["ACCORD_KIND"] for r in hook_runs(out, "notify")} == {"digest", "reminder"}
    by_key = {r["env"]["ACCORD_DIGEST"]: r for r in runs}
    run_first = by_key[first["ACCORD_DIGEST"]]
    assert run_first["env"]["ACCORD_KIND"] == "digest" and run_first["env"]["ACCORD_MESSAGE"] == first["ACCORD_SUMMARY"]
    assert run_first["stdin"] == message + "\n" and run_first["env"]["ACCORD_PRIORITY"] == "5"
    assert run_first["env"]["ACCORD_OVERDUE"] == "1"

    # accordctl digest prints the same text, as it stands now; --json the counts and lines
    rc, shown, err = accordctl("--socket", daemon.socket_path, "digest", "--within", "P60D")
    assert rc == 0, err
    assert "2 overdue, 1 lapsed, 1 unacknowledged, 1 due by" in shown.splitlines()[0] and "dig/later" in shown
    assert "next digest" in shown
    rc, out_json, err = accordctl("--socket", daemon.socket_path, "--json", "digest")
    reply = json.loads(out_json)
    assert rc == 0 and reply["period"] == "PT4S" and reply["overdue"] == 2 and reply["due"] == 0
    assert {line["item"] for line in reply["lines"]} == {"dig/late", "dig/stale", "dig/old-mou", "dig/soon"}
    assert epoch(reply["nextDigest"]) > epoch(second["ACCORD_FIRE_AT"])
    assert (epoch(reply["nextDigest"]) - epoch(anchor)) % 4 == 0

    ledger = daemon.ledger()
    assert ledger[first["ACCORD_DIGEST"]] == {"outcome": "fired", "catch_up": False}
    assert daemon.stop() == 0

    # journalctl -x explains the entry with the catalog
    if os.path.exists(CATALOG):
        explained = subprocess.run(["journalctl", "--no-pager", "-x", f"ACCORD_DIGEST={first['ACCORD_DIGEST']}"],
                                   capture_output=True, text=True).stdout
        assert "Subject: accord digest: 1 overdue, 1 lapsed, 1 unacknowledged, 1 due by" in explained, explained


def test_digests_missed_while_down_catch_up_once(make_daemon):
    """Period PT3S: killed with SIGKILL after the first digest, down across two more; at the
    restart only the latest missed one is written (ACCORD_CATCHUP=1), once; the next on time."""
    anchor = utc(2)
    daemon = make_daemon(portfolio([objective("x", ago(1))], dialogue="dig2"),
                         extra_config=f'digest = "PT3S"\ndigest-at = "{anchor}"\n').start()
    assert wait_for(lambda: digests(daemon), timeout=10), daemon.stderr()
    daemon.kill9()
    t0 = epoch(anchor)
    # t0+3 and t0+6 come due meanwhile; restarted in the second after t0+6 (the start's whole
    # second must be past the digest's, or it counts as on time, as a reminder would)
    time.sleep(max(0.0, t0 + 7.1 - time.time()))
    daemon.start()
    on_time = t0 + 9 if time.time() < t0 + 8.5 else None
    found = wait_for(lambda: (lambda d: d if len(d) >= 3 else None)(digests(daemon)), timeout=10)
    assert found, f"{digests(daemon)}\n{daemon.stderr()}"
    fire_times = [epoch(e["ACCORD_FIRE_AT"]) for e in found]
    assert fire_times[0] == t0 and t0 + 3 not in fire_times, fire_times
    caught = found[1]
    assert epoch(caught["ACCORD_FIRE_AT"]) == t0 + 6 and caught["ACCORD_CATCHUP"] == "1"
    if on_time:
        assert epoch(found[2]["ACCORD_FIRE_AT"]) == on_time and found[2]["ACCORD_CATCHUP"] == "0"
    assert len(set(e["ACCORD_DIGEST"] for e in found)) == len(found), "a digest was written twice"
    ledger = daemon.ledger()
    assert f"digest:{utc_text(t0 + 3)}" not in ledger and ledger[caught["ACCORD_DIGEST"]]["catch_up"] is True
    assert daemon.stop() == 0


def utc_text(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def test_escalation_fires_once_at_priority_2_with_its_hook_across_kill9(make_daemon, scratch):
    """escalate-after PT3S. "up" escalates while the daemon runs; "acked" is acknowledged and
    "done" completed before theirs, so they never escalate; the daemon is killed with SIGKILL,
    "down" escalates while it is down and fires once as catch-up at the restart; killed again
    and restarted, nothing escalates a second time."""
    hook, out = make_hook(scratch)
    due_up, due_down = instant(3), instant(9)
    daemon = make_daemon(portfolio([
        objective("up", due_up, owner=quoted("Desk E")),
        objective("acked", due_up),
        objective("done", due_up),
        objective("down", due_down),
    ], dialogue="esc", leads=["P0D"]), extra_config=(
        'escalate-after = "PT3S"\n'
        f'[notify]\nexec = ["{hook}", "notify"]\n'
        f'[escalate]\nexec = ["{hook}", "escalate", "--page"]\ntimeout = "PT5S"\n')).start()
    socket = daemon.socket_path
    assert accordctl("--socket", socket, "ack", "acked")[0] == 0
    assert accordctl("--socket", socket, "record", "done", "completed")[0] == 0

    first = wait_for(lambda: escalations(daemon), timeout=12)
    assert first, f"no escalation:\n{daemon.stderr()}"
    up = first[0]
    assert up["ACCORD_ITEM"] == "esc/up" and up["PRIORITY"] == "2" and up["ACCORD_CATCHUP"] == "0"
    assert up["ACCORD_LEAD"] == "escalate+PT3S" and up["ACCORD_REMINDER"] == f"esc/up:due:{due_up}:escalate+PT3S"
    assert epoch(up["ACCORD_FIRE_AT"]) == epoch(due_up) + 3 and 0 <= received(up) - epoch(up["ACCORD_FIRE_AT"]) < 1.0
    assert up["ACCORD_OWNER"] == "Desk E" and up["ACCORD_DEADLINE"] == "due" and up["ACCORD_DEADLINE_AT"] == due_up
    assert up["MESSAGE"].startswith("esc/up: overdue by 3 seconds (due ") and up["MESSAGE"].endswith(": escalated")
    escalate_runs = wait_for(lambda: hook_runs(out, "escalate"), timeout=5)
    assert escalate_runs and escalate_runs[0]["argv"] == ["escalate", "--page"]
    env = escalate_runs[0]["env"]
    assert env["ACCORD_KIND"] == "escalate" and env["ACCORD_REMINDER"] == up["ACCORD_REMINDER"] and env["ACCORD_PRIORITY"] == "2"
    assert env["ACCORD_MESSAGE"] == up["MESSAGE"] and escalate_runs[0]["stdin"] == ""
    notify = wait_for(lambda: [r for r in hook_runs(out, "notify") if r["env"]["ACCORD_KIND"] == "escalate"], timeout=5)
    assert notify and notify[0]["env"]["ACCORD_REMINDER"] == up["ACCORD_REMINDER"]
    assert {r["env"]["ACCORD_KIND"] for r in hook_runs(out, "notify")} <= {"reminder", "escalate"}

    daemon.kill9()
    assert time.time() < epoch(due_down) + 3 - 0.5, "too slow: down's escalation came before the kill"
    time.sleep(max(0.0, epoch(due_down) + 3 + 1.5 - time.time()))
    restarted = time.time()
    daemon.start()
    caught = wait_for(lambda: [e for e in escalations(daemon) if e["ACCORD_ITEM"] == "esc/down"], timeout=10)
    assert caught and len(caught) == 1 and caught[0]["ACCORD_CATCHUP"] == "1", f"{caught}\n{daemon.stderr()}"
    assert received(caught[0]) - restarted < 5 and caught[0]["PRIORITY"] == "2"
    assert wait_for(lambda: len(hook_runs(out, "escalate")) >= 2, timeout=5)

    daemon.kill9()
    daemon.start()
    time.sleep(1.5)
    assert daemon.stop() == 0
    all_escalations = escalations(daemon)
    assert sorted(e["ACCORD_ITEM"] for e in all_escalations) == ["esc/down", "esc/up"], all_escalations
    assert len(hook_runs(out, "escalate")) == 2
    ledger = daemon.ledger()
    assert ledger[up["ACCORD_REMINDER"]] == {"outcome": "fired", "catch_up": False}
    assert ledger[caught[0]["ACCORD_REMINDER"]] == {"outcome": "fired", "catch_up": True}
    assert not [k for k in ledger if k.startswith(("esc/acked:", "esc/done:")) and "escalate" in k]


def test_bad_digest_and_escalation_settings_name_file_and_key(make_daemon):
    daemon = make_daemon(portfolio([objective("x", ago(-3))], dialogue="bad"),
                         extra_config='digest = "P1M"\ndigest-at = "moonday 09:00"\nescalate-after = "P0D"\n'
                                      '[escalate]\nexec = ["relative/hook"]\n')
    rc, out, err = run([ACCORDD, "check", "--config", daemon.config])
    assert rc == 78, (rc, out, err)
    problems = (out + err).splitlines()
    config = daemon.config
    assert any(p.startswith(f"{config}:") and "digest-at" in p and "moonday 09:00" in p for p in problems), problems
    assert any(p.startswith(f"{config}:") and "escalate-after: must be longer than zero" in p for p in problems), problems
    assert any("escalate › exec" in p and "absolute path" in p for p in problems), problems
    daemon.write_config(extra='digest = "P10D"\ndigest-at = "monday 09:00 Europe/Berlin"\n')
    rc, out, err = run([ACCORDD, "check", "--config", daemon.config])
    assert rc == 78 and "digest: P10D is not whole weeks" in out + err, (out, err)
    daemon.write_config(extra='digest = "P14D"\ndigest-at = "monday 09:00 Europe/Berlin"\nescalate-after = "P3D"\n')
    rc, out, err = run([ACCORDD, "check", "--config", daemon.config])
    assert rc == 0, (out, err)
