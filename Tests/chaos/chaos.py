#!/usr/bin/env python3
"""Crash-consistency chaos test (issue 7): a daemon with reminders falling due several times a
second, clients writing concurrently, and kill -9 at random moments, round after round. After
every restart it checks that every write the daemon answered as done is in the database, that no
reminder key is in the journal twice and that the database passes integrity_check; at the end,
that every reminder that fell due was fired, caught up, skipped as superseded or recorded missed
exactly as DESIGN §5 says, and never lost. Run under scripts/with-journald.sh.
usage: chaos.py [--rounds N] [--seed S]"""
import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ACCORD_BIN_DIR", os.path.join(REPO, ".build", "debug"))
ACCORDD = os.path.join(BIN, "accordd")


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def journal_keys(dialogue):
    subprocess.run(["journalctl", "--sync"], check=False)
    out = subprocess.run(["journalctl", "--no-pager", "-o", "json", "SYSLOG_IDENTIFIER=accordd", f"ACCORD_DIALOGUE={dialogue}"],
                         capture_output=True, text=True).stdout
    entries = [json.loads(l) for l in out.splitlines() if l.strip()]
    return [(e["ACCORD_REMINDER"], e.get("ACCORD_CATCHUP")) for e in entries if "ACCORD_REMINDER" in e]


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
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(self.socket_path)
                while not self.stop.is_set():
                    s.sendall(json.dumps({"method": "io.accord.Tracker.Snooze",
                                          "parameters": {"id": self.name, "for": "PT1H"}}).encode() + b"\0")
                    data = b""
                    while not data.endswith(b"\0"):
                        chunk = s.recv(4096)
                        if not chunk:
                            raise ConnectionError
                        data += chunk
                    reply = json.loads(data[:-1])
                    if "error" not in reply:
                        self.done.append(reply["parameters"]["until"])
                    time.sleep(0.005)
            except (OSError, ConnectionError, ValueError):
                time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="accord-chaos-")
    os.makedirs(os.path.join(work, "portfolios"))
    dialogue = f"chaos{a.seed % 100000}"
    start = time.time() + 3
    # Enough reminders to last the run: several per second, three leads per deadline.
    span = a.rounds * 1.6 + 20
    count = int(span * 2)
    lines = [f'[dialogue]\nid = "{dialogue}"\ntitle = "chaos"\ntime-zone = "UTC"\nreminders = ["PT2S", "PT1S", "P0D"]\n']
    for i in range(count):
        lines.append(f'[[objective]]\nid = "o{i}"\ntitle = "o{i}"\ndue = {utc(start + 2 + i * span / count)}\n')
    lines.append('[[instrument]]\nid = "sink-a"\nkind = "mou"\ntitle = "writes"\n')
    lines.append('[[instrument]]\nid = "sink-b"\nkind = "mou"\ntitle = "writes"\n')
    with open(os.path.join(work, "portfolios", "chaos.toml"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(work, "accordd.toml"), "w") as f:
        f.write('portfolios = ["portfolios"]\ncatch-up = "PT2S"\n')
    state, run = os.path.join(work, "state"), os.path.join(work, "run")
    env = dict(os.environ, STATE_DIRECTORY=state, RUNTIME_DIRECTORY=run)
    socket_path = os.path.join(run, "io.accord.Tracker")
    database = os.path.join(state, "state.sqlite")
    writers = [Writer(socket_path, f"{dialogue}/sink-a"), Writer(socket_path, f"{dialogue}/sink-b")]
    for w in writers:
        w.start()

    failures = []
    kills = 0
    for round_number in range(1, a.rounds + 1):
        process = subprocess.Popen([ACCORDD, "run", "--config", os.path.join(work, "accordd.toml")], env=env,
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr.log"), "a"))
        time.sleep(rng.uniform(0.05, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        if rng.random() < 0.15:
            time.sleep(rng.uniform(1.0, 3.5))  # a longer outage: some reminders go past catch-up
        keys = [k for k, _ in journal_keys(dialogue)]
        if len(keys) != len(set(keys)):
            failures.append(f"round {round_number}: a reminder key is in the journal twice")
        if os.path.exists(database):
            with sqlite3.connect(database) as db:
                if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    failures.append(f"round {round_number}: integrity_check failed")
                stored = {row[0] for row in db.execute("SELECT until_at FROM snooze")}
            confirmed = {int(time.mktime(time.strptime(u, "%Y-%m-%dT%H:%M:%SZ"))) - time.timezone
                         for w in writers for u in list(w.done)}
            lost = confirmed - stored
            if lost:
                failures.append(f"round {round_number}: {len(lost)} confirmed write(s) missing from the database")
        if failures:
            break

    # A last clean run settles anything pending, then the whole history is checked.
    process = subprocess.Popen([ACCORDD, "run", "--config", os.path.join(work, "accordd.toml")], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "stderr.log"), "a"))
    time.sleep(1.5)
    for w in writers:
        w.stop.set()
    end = time.time() - 1
    process.send_signal(signal.SIGTERM)
    process.wait(10)

    plan = json.loads(subprocess.run([ACCORDD, "plan", "--config", os.path.join(work, "accordd.toml"),
                                      "--from", utc(start - 10), "--until", utc(end + 60), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    with sqlite3.connect(database) as db:
        ledger = {row[0]: (row[1], row[2], row[3]) for row in db.execute("SELECT key, outcome, catch_up, pending FROM ledger")}
        loaded = db.execute("SELECT min(first_loaded_at) FROM item").fetchone()[0]
    journal = journal_keys(dialogue)
    in_journal = {}
    for key, catch_up in journal:
        in_journal[key] = in_journal.get(key, 0) + 1
    due = [r for r in plan if time.mktime(time.strptime(r["fireAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone < end
           and time.mktime(time.strptime(r["fireAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone >= loaded]
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
    print(f"chaos: {kills} kill -9 rounds (seed {a.seed}), {len(due)} reminders came due: {counts['fired']} fired on time, "
          f"{counts['caught up']} caught up, {counts['skipped']} skipped as superseded, {counts['missed']} recorded missed, "
          f"{counts['lost']} lost, {counts['twice']} in the journal twice; {writes} writes confirmed, all in the database: "
          f"{'yes' if not any('confirmed write' in f for f in failures) else 'no'}")
    for failure in failures[:20]:
        print("FAIL:", failure)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
