#!/usr/bin/env python3
"""Crash-consistency chaos test (issue 7): a daemon with reminders falling due several times a
second, clients writing concurrently, and kill -9 at random moments, round after round. After
every restart it checks that every write the daemon answered as done is in the database, that no
reminder key is in the journal twice and that the database passes integrity_check; at the end,
that every reminder that fell due was fired, caught up, skipped as superseded or recorded missed
exactly as docs/contracts.md §5 says, and never lost, and that the audit trail's hash chains
(docs/design.md §7) verify, both as the daemon's VerifyAudit says and as recomputed here. Run
under scripts/with-journald.sh.
With STATE=postgresql (make chaos STATE=postgresql) the state is in a throwaway PostgreSQL
server (scripts/postgres-scratch.sh) instead of SQLite, with takeover PT3S: a restarted daemon
may find its killed predecessor's lock session not yet gone, stand by, and take over within
the takeover; the same checks hold, and the integrity check is that the ledger's keys are unique
and every table of the schema answers.
usage: chaos.py [--rounds N] [--seed S]"""
import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import accordtest  # noqa: E402
from accordtest import (ACCORDD, STATE, call, chain_check, connect, daemon_config, epoch, instrument, journal_entries, objective,  # noqa: E402
                        portfolio, postgres_query, postgres_url, psql, quoted, read_reply, request, scratch_directory,
                        utc_at)


def journal_keys(dialogue):
    return [(e["ACCORD_REMINDER"], e.get("ACCORD_CATCHUP"))
            for e in journal_entries(ACCORD_DIALOGUE=dialogue) if "ACCORD_REMINDER" in e]


class Writer(threading.Thread):
    """Snoozes an item without deadlines over and over; remembers each write answered as done."""

    def __init__(self, socket_path, name):
        super().__init__(daemon=True)
        self.socket_path, self.name = socket_path, name
        self.done = []  # "until" instants the daemon confirmed
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                with contextlib.closing(connect(self.socket_path, timeout=2)) as s:
                    while not self.stop.is_set():
                        s.sendall(request("io.accord.Tracker.Snooze", {"id": self.name, "for": "PT1H"}))
                        reply = read_reply(s)
                        if "error" not in reply:
                            self.done.append(reply["parameters"]["until"])
                        time.sleep(0.005)
            except (OSError, ValueError):  # ConnectionError is an OSError; ValueError: a reply cut short
                time.sleep(0.02)


class State:
    """The state database as the checks read it: the SQLite file, or a PostgreSQL database."""

    def __init__(self, work):
        self.url = None
        self.path = os.path.join(work, "state", "state.sqlite")
        if STATE == "postgresql":
            database = "chaos_" + os.urandom(6).hex()
            psql(accordtest._postgres["url"], f"CREATE DATABASE {database}")
            self.url = postgres_url(database)

    def config_extra(self):
        return f"[state]\nurl = {quoted(self.url)}\ntakeover = \"PT3S\"\n" if self.url else ""

    def exists(self):
        if self.url:
            return postgres_query(self.url, "SELECT to_regclass('ledger') IS NOT NULL")[0][0]
        return os.path.exists(self.path)

    def query(self, sql):
        if self.url:
            return postgres_query(self.url, sql)
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            return db.execute(sql).fetchall()

    def integrity(self):
        """'ok', or what is wrong."""
        if not self.url:
            return self.query("PRAGMA integrity_check")[0][0]
        total, distinct = self.query("SELECT count(*) AS total, count(DISTINCT key) AS keys FROM ledger")[0]
        for table in ("item", "event", "acknowledgement", "snooze", "audit", "checkpoint", "schema_version"):
            self.query(f"SELECT count(*) FROM {table}")
        return "ok" if total == distinct else f"{total - distinct} duplicate ledger key(s)"


class Recorder(threading.Thread):
    """Records events on an objective without reminders, completed and reopened in turn, so that
    the event chain and its audit lines are written while the daemon is killed."""

    def __init__(self, socket_path, name):
        super().__init__(daemon=True)
        self.socket_path, self.name = socket_path, name
        self.done = 0
        self.stop = threading.Event()

    def run(self):
        events = ["completed", "reopened"]
        while not self.stop.is_set():
            try:
                with contextlib.closing(connect(self.socket_path, timeout=2)) as s:
                    while not self.stop.is_set():
                        s.sendall(request("io.accord.Tracker.Record", {"id": self.name, "event": events[0], "note": "chaos"}))
                        reply = read_reply(s)
                        if "error" not in reply:
                            self.done += 1
                        if "error" not in reply or reply["error"] == "io.accord.Tracker.InvalidEvent":
                            events.reverse()  # done, or (a reply lost to a kill) already done
                        time.sleep(0.02)
            except (OSError, ValueError):
                time.sleep(0.02)


def start_daemon(work, env):
    """accordd run on the chaos configuration; stdout dropped, stderr appended to stderr.log."""
    with open(os.path.join(work, "stderr.log"), "a") as stderr:
        return subprocess.Popen([ACCORDD, "run", "--config", os.path.join(work, "accordd.toml")], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    if STATE == "postgresql":
        accordtest.start_postgres()
    try:
        with scratch_directory("accord-chaos-") as work:
            return chaos(a.rounds, a.seed, work)
    finally:
        accordtest.stop_postgres()


def chaos(rounds, seed, work):
    rng = random.Random(seed)
    os.makedirs(os.path.join(work, "portfolios"))
    dialogue = f"chaos{seed % 100000}"
    start = time.time() + 3
    # Enough reminders to last the run: several per second, three leads per deadline.
    span = rounds * 1.6 + 20
    count = int(span * 2)
    items = [objective(f"o{i}", utc_at(start + 2 + i * span / count), title=f"o{i}") for i in range(count)]
    items += [instrument("sink-a", title="writes"), instrument("sink-b", title="writes"),
              objective("events", "2099-01-01", title="events")]
    with open(os.path.join(work, "portfolios", "chaos.toml"), "w") as f:
        f.write(portfolio(items, dialogue=dialogue, title="chaos", leads=("PT2S", "PT1S", "P0D"), zone="UTC"))
    store = State(work)
    with open(os.path.join(work, "accordd.toml"), "w") as f:
        f.write(daemon_config(catch_up="PT2S", extra=store.config_extra()))
    state, run = os.path.join(work, "state"), os.path.join(work, "run")
    env = dict(os.environ, STATE_DIRECTORY=state, RUNTIME_DIRECTORY=run)
    socket_path = os.path.join(run, "io.accord.Tracker")
    writers = [Writer(socket_path, f"{dialogue}/sink-a"), Writer(socket_path, f"{dialogue}/sink-b")]
    recorder = Recorder(socket_path, f"{dialogue}/events")
    for w in writers + [recorder]:
        w.start()

    failures = []
    kills = 0
    for round_number in range(1, rounds + 1):
        process = start_daemon(work, env)
        time.sleep(rng.uniform(0.05, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        if rng.random() < 0.15:
            time.sleep(rng.uniform(1.0, 3.5))  # a longer outage: some reminders go past catch-up
        keys = [k for k, _ in journal_keys(dialogue)]
        if len(keys) != len(set(keys)):
            failures.append(f"round {round_number}: a reminder key is in the journal twice")
        if store.exists():
            integrity = store.integrity()
            if integrity != "ok":
                failures.append(f"round {round_number}: integrity check failed: {integrity}")
            stored = {row[0] for row in store.query("SELECT until_at FROM snooze")}
            confirmed = {int(epoch(u)) for w in writers for u in list(w.done)}
            lost = confirmed - stored
            if lost:
                failures.append(f"round {round_number}: {len(lost)} confirmed write(s) missing from the database")
        if failures:
            break

    # A last clean run settles anything pending, then the whole history is checked.
    process = start_daemon(work, env)
    # PostgreSQL: a daemon that found its killed predecessor's lock session still there stands
    # by for up to a third of takeover (1 s) before it takes over and settles.
    time.sleep(3.0 if store.url else 1.5)
    for w in writers + [recorder]:
        w.stop.set()
    for w in writers + [recorder]:
        w.join(5)  # no write in flight once the chains are verified
    end = time.time() - 1
    # The hash chains after every kill: the daemon's verdict (a read, over the socket) and this
    # script's own recomputation from the database.
    verified = call(socket_path, "io.accord.Tracker.VerifyAudit")
    chains = {c["table"]: c for c in verified.get("parameters", {}).get("chains", [])}
    if verified.get("parameters", {}).get("ok") is not True:
        failures.append(f"the audit trail does not verify after the rounds: {verified}")
    process.send_signal(signal.SIGTERM)
    process.wait(10)

    plan = json.loads(subprocess.run([ACCORDD, "plan", "--config", os.path.join(work, "accordd.toml"),
                                      "--from", utc_at(start - 10), "--until", utc_at(end + 60), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    ledger = {row[0]: (row[1], row[2], row[3]) for row in store.query("SELECT key, outcome, catch_up, pending FROM ledger")}
    loaded = store.query("SELECT min(first_loaded_at) FROM item")[0][0]
    recomputed = {table: chain_check(store.query, table) for table in ("event", "audit")}
    for table, (rows, head, broken) in recomputed.items():
        if broken is not None:
            failures.append(f"the {table} chain, recomputed from the database, breaks at row {broken}")
        elif table in chains and (rows, head) != (chains[table]["rows"], chains[table]["head"]):
            failures.append(f"the {table} chain: the daemon verified {chains[table]['rows']} rows to {chains[table]['head']}, "
                            f"the database has {rows} to {head}")
    journal = journal_keys(dialogue)
    in_journal = {}
    for key, catch_up in journal:
        in_journal[key] = in_journal.get(key, 0) + 1
    due = [r for r in plan if loaded <= epoch(r["fireAt"]) < end]
    counts = {"fired": 0, "caught up": 0, "missed": 0, "skipped": 0, "lost": 0, "twice": 0, "pending": 0}
    # Deadlines' firings in order, past the window too: what superseded a skipped reminder at the
    # window's edge may fall just after it.
    by_occurrence = {}
    for r in plan:
        by_occurrence.setdefault(r["key"].rsplit(":", 1)[0], []).append(r["key"])
    for r in due:
        key = r["key"]
        if key not in ledger:
            counts["lost"] += 1
            failures.append(f"never fired nor recorded: {key}")
            continue
        outcome, catch_up, pending = ledger[key]
        if pending:
            counts["pending"] += 1
            failures.append(f"still pending after a clean stop: {key}")
        if in_journal.get(key, 0) > 1:
            counts["twice"] += 1
        if outcome == "fired":
            counts["caught up" if catch_up else "fired"] += 1
            if in_journal.get(key, 0) != 1:
                failures.append(f"fired in the ledger but {in_journal.get(key, 0)} time(s) in the journal: {key}")
        else:
            counts[outcome] += 1
            if key in in_journal:
                failures.append(f"{outcome} in the ledger but in the journal: {key}")
    for occurrence, keys in by_occurrence.items():
        for key in keys:
            if ledger.get(key, ("",))[0] == "skipped":
                later = keys[keys.index(key) + 1:]
                if not any(ledger.get(k, ("",))[0] in ("fired", "missed") for k in later):
                    failures.append(f"skipped without a later reminder of its deadline: {key}")
    writes = sum(len(w.done) for w in writers)
    print(f"chaos ({STATE}): {kills} kill -9 rounds (seed {seed}), {len(due)} reminders came due: {counts['fired']} fired on time, "
          f"{counts['caught up']} caught up, {counts['skipped']} skipped as superseded, {counts['missed']} recorded missed, "
          f"{counts['lost']} lost, {counts['twice']} in the journal twice; {writes} writes confirmed, all in the database: "
          f"{'yes' if not any('confirmed write' in f for f in failures) else 'no'}; {recorder.done} events recorded; "
          f"hash chains: {recomputed['event'][0]} event and {recomputed['audit'][0]} audit rows verified, "
          f"{'intact' if not any('chain' in f or 'audit trail' in f for f in failures) else 'BROKEN'}")
    for failure in failures[:20]:
        print("FAIL:", failure)
    if failures:  # the work directory goes when this returns: the daemon's stderr is shown now
        with open(os.path.join(work, "stderr.log"), errors="replace") as f:
            print("accordd's stderr, the last 40 lines:\n" + "".join(f.readlines()[-40:]))
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
