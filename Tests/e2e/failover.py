#!/usr/bin/env python3
"""Two daemons, one PostgreSQL database, one reminder (docs/contracts.md §15): the failover round
that Tests/e2e/test_failover.py runs once per fault kind, and, run as a program, the harness that
runs ROUNDS of them with random faults and prints the takeover times (`make failover ROUNDS=20`).
Stdlib only, beside accordtest.py; run under scripts/with-journald.sh (one private journald for
both daemons: their entries are told apart by _PID).

A round: a portfolio whose reminders fall due every second for SECONDS (instant deadlines, leads
PT1S and P0D), daemon A started first (it takes the leader lock), daemon B beside it (standby);
at a random moment A gets one of the faults
  kill9      SIGKILL: its session ends, the lock with it
  sigstop    SIGSTOP: its session stays open but silent; the server ends it after half of
             `takeover` (idle_session_timeout); once B is active, A is SIGCONTed and must fire
             nothing more
  terminate  pg_terminate_backend on its lock session: it is cut off while running
  outage     the database server itself stops at once (pg_ctl -m immediate, as a crash) for
             `takeover`, on a server of the round's own: both daemons lose it; nothing fires
             while it is away, and one of them is active again within `takeover` of its return
then both run to the end and stop. The checks: every reminder that came due was fired once
(on time or caught up), or skipped as superseded, or recorded missed, exactly as §5 says, and
is in the journal once across both daemons; none is lost; the fault's daemon fired nothing after
the takeover; the takeover came within `takeover`.

usage: failover.py [--rounds N] [--seconds S] [--seed N] [--faults kill9,sigstop,terminate,outage]"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import accordtest  # noqa: E402
from accordtest import (BECAME_ACTIVE, POSTGRES_SCRATCH, REMINDER_IDS, STANDING_BY, Daemon, binary, call,  # noqa: E402
                        epoch, journal_entries, objective, portfolio, postgres_query, psql, quoted, utc_at, wait_for)

FAULTS = ("kill9", "sigstop", "terminate", "outage")
TAKEOVER = 3  # seconds: PT3S, the shortest accordd.toml allows, so that rounds are quick


def _entries(dialogue, cursor):
    """The round's reminder entries and its two daemons' role entries, oldest first."""
    reminders = [e for e in journal_entries(ACCORD_DIALOGUE=dialogue, cursor=cursor)
                 if "ACCORD_REMINDER" in e and e.get("MESSAGE_ID") in REMINDER_IDS]
    roles = journal_entries(f"MESSAGE_ID={BECAME_ACTIVE}", f"MESSAGE_ID={STANDING_BY}", cursor=cursor)
    return reminders, roles


def _at(entry):
    return int(entry["__REALTIME_TIMESTAMP"]) / 1e6


def status(daemon):
    return call(daemon.socket_path, "io.accord.Tracker.Status", {})["parameters"]


def run_round(work, server_url, fault, seconds=20, rng=None, log=print):
    """One round in `work` (made, not removed); returns {"fault", "takeover", "problems": [...],
    "fired", "caught_up", "skipped", "missed"}."""
    rng = rng or random.Random()
    own_server = None
    if fault == "outage":  # a server of its own, since it goes away
        own_server = tempfile.mkdtemp(prefix="accord-fo-pg-", dir="/tmp")
        server_url = subprocess.run([POSTGRES_SCRATCH, "start", own_server], capture_output=True, text=True,
                                    check=True).stdout.strip()
    database = "failover_" + os.urandom(6).hex()
    psql(server_url, f"CREATE DATABASE {database}")
    url = _with_database(server_url, database)
    dialogue = "fo" + os.urandom(3).hex()
    start = time.time() + 4
    # Due every second from start + 2 on, each with a reminder one second ahead and one at the
    # deadline: two reminders a second, for `seconds`.
    items = [objective(f"o{i}", utc_at(start + 2 + i), title=f"o{i}") for i in range(seconds)]
    text = portfolio(items, dialogue=dialogue, title="failover", leads=("PT1S", "P0D"), zone="UTC")
    extra = f"[state]\nurl = {quoted(url)}\ntakeover = \"PT{TAKEOVER}S\"\n"
    cursor = accordtest.journal_cursor()
    a = Daemon(os.path.join(work, "a"), text, extra_config=extra)
    b = Daemon(os.path.join(work, "b"), text, extra_config=extra)
    a.state_url = b.state_url = url
    problems = []
    result = {"fault": fault, "takeover": None, "problems": problems}
    back_at = restarting_at = None
    try:
        a.start()
        if status(a).get("role") != "active":
            problems.append(f"the first daemon started is {status(a).get('role')}, not active")
        b.start()
        st = status(b)
        if st.get("role") != "standby" or not (st.get("activeHost") or "").endswith(f"({a.pid})"):
            problems.append(f"the second daemon: role {st.get('role')}, active {st.get('activeHost')}; expected standby, A")
        # The fault at a random moment while reminders fall due, a few seconds in.
        end = start + 2 + seconds
        time.sleep(max(0.0, rng.uniform(start + 1, end - TAKEOVER - 4) - time.time()))
        faulted_at = time.time()
        if fault == "kill9":
            a.kill9()
        elif fault == "sigstop":
            os.kill(a.pid, signal.SIGSTOP)
        elif fault == "terminate":
            psql(url, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '%({a.pid})'")
        elif fault == "outage":
            subprocess.run([POSTGRES_SCRATCH, "down", own_server], check=True, capture_output=True)
            time.sleep(TAKEOVER)
            # The server answers somewhere between the two: nothing may fire before the first,
            # the takeover is counted from the second (pg_ctl -w returns once it accepts).
            restarting_at = time.time()
            subprocess.run([POSTGRES_SCRATCH, "up", own_server], check=True, capture_output=True)
            back_at = time.time()
        else:
            raise ValueError(fault)

        def took_over():
            _, roles = _entries(dialogue, cursor)
            return [e for e in roles if e.get("MESSAGE_ID") == BECAME_ACTIVE and _at(e) > faulted_at]

        became = wait_for(took_over, timeout=TAKEOVER * 4)
        if not became:
            problems.append(f"no daemon became active within {TAKEOVER * 4} s of the fault")
        else:
            # After an outage: from the database's return, when taking over became possible.
            result["takeover"] = max(0.0, _at(became[0]) - (back_at or faulted_at))
            result["new_active"] = int(became[0]["_PID"])
            if fault in ("kill9", "sigstop") and result["new_active"] != b.pid:
                problems.append(f"pid {result['new_active']} became active, not B ({b.pid})")
        if fault == "sigstop":
            os.kill(a.pid, signal.SIGCONT)
        time.sleep(max(0.0, end + 2 - time.time()))
        for d in (a, b):
            if d.running():
                code = d.stop()
                if code != 0:
                    problems.append(f"pid {d.pid} exited with {code} on SIGTERM")
        stopped_at = time.time() - 1
        reminders, roles = _entries(dialogue, cursor)
        if fault in ("sigstop", "terminate") and became:
            late = [e["ACCORD_REMINDER"] for e in reminders if int(e["_PID"]) == a.pid and _at(e) > _at(became[0])
                    and result.get("new_active") != a.pid]
            if late:
                problems.append(f"A (pid {a.pid}) fired {len(late)} reminder(s) after the takeover: {late[:3]}")
            if result.get("new_active") != a.pid and not any(
                    e.get("MESSAGE_ID") == STANDING_BY and int(e["_PID"]) == a.pid and _at(e) > faulted_at for e in roles):
                problems.append(f"A (pid {a.pid}) never said it stood by after the {fault}")
        if back_at:
            # 0.2 s: an armed batch may go out just as the server stops, its lock asked just before.
            away = [e["ACCORD_REMINDER"] for e in reminders if faulted_at + 0.2 < _at(e) < restarting_at]
            if away:
                problems.append(f"{len(away)} reminder(s) fired while the database was away: {away[:3]}")
            if not any(e.get("MESSAGE_ID") == STANDING_BY and int(e["_PID"]) == a.pid and _at(e) > faulted_at for e in roles):
                problems.append(f"A (pid {a.pid}) never said it stood by when the database went away")
        counts = _check_ledger(a, url, dialogue, start, stopped_at, reminders, problems)
        result.update(counts)
    finally:
        a.close()
        b.close()
        if own_server:
            subprocess.run([POSTGRES_SCRATCH, "stop", own_server], capture_output=True)
    return result


def _with_database(server_url, database):
    """The server's URL with `database` in place of its maintenance database."""
    head, _, query = server_url.partition("?")
    return head.rsplit("/", 1)[0] + "/" + database + ("?" + query if query else "")


def _check_ledger(daemon, url, dialogue, start, end, reminders, problems):
    """The chaos test's accounting (Tests/chaos/chaos.py), over both daemons' journal entries."""
    plan = json.loads(subprocess.run([binary("accordd"), "plan", "--config", daemon.config, "--from", utc_at(start - 10),
                                      "--until", utc_at(end + 60), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    ledger = {row[0]: (row[1], row[2], row[3])
              for row in postgres_query(url, "SELECT key, outcome, catch_up, pending FROM ledger")}
    loaded = postgres_query(url, "SELECT min(first_loaded_at) FROM item")[0][0]
    in_journal = {}
    for e in reminders:
        in_journal[e["ACCORD_REMINDER"]] = in_journal.get(e["ACCORD_REMINDER"], 0) + 1
    counts = {"due": 0, "fired": 0, "caught_up": 0, "skipped": 0, "missed": 0}
    by_occurrence = {}
    for r in plan:
        by_occurrence.setdefault(r["key"].rsplit(":", 1)[0], []).append(r["key"])
    for r in plan:
        key = r["key"]
        if not loaded <= epoch(r["fireAt"]) < end:
            continue
        counts["due"] += 1
        if key not in ledger:
            problems.append(f"never fired nor recorded: {key}")
            continue
        outcome, catch_up, pending = ledger[key]
        if pending:
            problems.append(f"still pending after both stopped: {key}")
        if outcome == "fired":
            counts["caught_up" if catch_up else "fired"] += 1
            if in_journal.get(key, 0) != 1:
                problems.append(f"fired in the ledger, {in_journal.get(key, 0)} time(s) in the journal: {key}")
        else:
            counts[outcome] += 1
            if key in in_journal:
                problems.append(f"{outcome} in the ledger but in the journal: {key}")
            if outcome == "skipped":
                later = by_occurrence[key.rsplit(":", 1)[0]]
                later = later[later.index(key) + 1:]
                if not any(ledger.get(k, ("",))[0] in ("fired", "missed") for k in later):
                    problems.append(f"skipped without a later reminder of its deadline fired: {key}")
    twice = [k for k, n in in_journal.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} reminder(s) in the journal more than once: {twice[:3]}")
    if counts["due"] < 10:
        problems.append(f"only {counts['due']} reminders came due: the round tested little")
    return counts


def summary(results):
    """p50 and max of the takeover times, per fault and over all."""
    lines = []
    for fault in FAULTS + ("all",):
        times = [r["takeover"] for r in results if r["takeover"] is not None and fault in (r["fault"], "all")]
        if times:
            lines.append(f"{fault:9} {len(times):3} round(s): takeover p50 {statistics.median(times):.2f} s, "
                         f"max {max(times):.2f} s (takeover = PT{TAKEOVER}S)")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "20")))
    ap.add_argument("--seconds", type=int, default=20, help="how long reminders fall due in a round")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--faults", default=",".join(FAULTS))
    a = ap.parse_args()
    if accordtest.JOURNAL_PROBLEM:
        sys.exit(f"failover: {accordtest.JOURNAL_PROBLEM}")
    rng = random.Random(a.seed)
    faults = a.faults.split(",")
    server = accordtest.start_postgres()
    results = []
    try:
        with accordtest.scratch_directory("accord-failover-") as work:
            for n in range(1, a.rounds + 1):
                fault = faults[(n - 1) % len(faults)] if len(faults) > 1 else faults[0]
                result = run_round(os.path.join(work, f"r{n}"), server, fault, a.seconds, rng)
                results.append(result)
                took = f"{result['takeover']:.2f} s" if result["takeover"] is not None else "none"
                print(f"round {n:2} {fault:9}: takeover {took}; {result.get('fired', 0)} fired, "
                      f"{result.get('caught_up', 0)} caught up, {result.get('skipped', 0)} skipped, "
                      f"{result.get('missed', 0)} missed" + ("" if not result["problems"] else
                                                             "; FAIL: " + "; ".join(result["problems"][:5])),
                      flush=True)
    finally:
        accordtest.stop_postgres()
    for line in summary(results):
        print(line)
    slow = [r for r in results if r["takeover"] is not None and r["takeover"] > TAKEOVER]
    failed = [r for r in results if r["problems"]]
    print(f"failover: {len(results)} round(s) (seed {a.seed}): {len(failed)} failed, "
          f"{len(slow)} took longer than PT{TAKEOVER}S")
    return 1 if failed or slow else 0


if __name__ == "__main__":
    sys.exit(main())
