"""The harness itself, proven without accord's binaries: the private journald of
scripts/with-journald.sh (isolation, round trips, structured fields, cursors, the catalog), the
NOTIFY_SOCKET helper, the Daemon helper driving a stand-in daemon, the TOML generators, the
third-party Varlink client against a tiny Varlink service, and running as another user."""
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import tomllib
import uuid

import pytest

from accordtest import (MESSAGE_IDS, REPO, NotifySocket, day, epoch, instant, instrument, journal_cursor,
                        journal_entries, journalctl, mounts, objective, portfolio, run, to_utc, utc, varlink_cli,
                        wait_for_entries)

TAG = "accordd-harness-test"  # never "accordd": the daemon's tests read SYSLOG_IDENTIFIER=accordd


# --- the private journal ----------------------------------------------------------------------

def test_the_journal_is_private_and_volatile():
    table = mounts()
    assert os.environ.get("ACCORD_TEST_JOURNALD") == "1"
    for place in ("/run/systemd/journal", "/run/log"):
        assert table.get(place) == "tmpfs", f"{place} is not a private tmpfs here"
    if os.path.isdir("/var/log/journal"):
        assert table.get("/var/log/journal") == "tmpfs", "the host's persistent journal is visible"
    with open("/etc/systemd/journald.conf") as f:
        conf = f.read()
    for setting in ("Storage=volatile", "ReadKMsg=no", "RateLimitIntervalSec=0"):
        assert setting in conf
    # Only this run's journald wrote what journalctl sees: its oldest entry is from this run.
    oldest = journalctl("-o", "json", "--reverse").splitlines()[-1:]
    assert oldest, "the private journal is empty: journald logs its own start"
    assert time.time() - int(json.loads(oldest[0])["__REALTIME_TIMESTAMP"]) / 1e6 < 3600


def test_systemd_cat_round_trip():
    text = f"hi {uuid.uuid4()}"
    subprocess.run(["systemd-cat", "-t", TAG, "-p", "warning", "echo", text], check=True)
    entries = wait_for_entries(lambda e: e["MESSAGE"] == text, identifier=TAG, timeout=10)
    assert len(entries) == 1
    assert entries[0]["PRIORITY"] == "4" and entries[0]["_TRANSPORT"] == "stdout"
    assert journal_entries(identifier=TAG, MESSAGE=text) == entries


def test_structured_fields_matches_and_cursor():
    before = journal_cursor()
    item = f"harness/{uuid.uuid4().hex[:8]}"

    def send(message, **fields):
        lines = [f"SYSLOG_IDENTIFIER={TAG}", f"MESSAGE={message}", *(f"{k}={v}" for k, v in fields.items())]
        subprocess.run(["logger", "--journald"], input="\n".join(lines) + "\n", text=True, check=True)

    send(f"{item}: due in 7 days", MESSAGE_ID=MESSAGE_IDS["approaching"], PRIORITY=4, ACCORD_ITEM=item,
         ACCORD_DAYS_LEFT=7, ACCORD_LEAD="P7D")
    send(f"{item}: due today", MESSAGE_ID=MESSAGE_IDS["reached"], PRIORITY=3, ACCORD_ITEM=item,
         ACCORD_DAYS_LEFT=0, ACCORD_LEAD="P0D")
    both = wait_for_entries(count=2, identifier=TAG, ACCORD_ITEM=item, timeout=10)
    assert [e["ACCORD_LEAD"] for e in both] == ["P7D", "P0D"]
    assert both[0]["MESSAGE_ID"] == MESSAGE_IDS["approaching"] and both[0]["PRIORITY"] == "4"
    # keywords and "FIELD=value" strings select alike; two values of one field mean either
    assert journal_entries(f"ACCORD_ITEM={item}", identifier=TAG, ACCORD_LEAD="P0D") == both[1:]
    assert journal_entries(f"ACCORD_LEAD=P7D", f"ACCORD_LEAD=P0D", identifier=TAG, ACCORD_ITEM=item) == both
    # cursors: only what came after
    assert journal_entries(identifier=TAG, cursor=before, ACCORD_ITEM=item) == both
    after = journal_cursor()
    assert journal_entries(identifier=TAG, cursor=after, ACCORD_ITEM=item) == []
    # the default identifier is accordd's, and nothing here wrote as accordd
    assert not [e for e in journal_entries(cursor=before) if e.get("ACCORD_ITEM") == item]


def test_wait_for_entries_fails_with_what_it_saw():
    tag = f"{TAG}-{uuid.uuid4().hex[:8]}"
    subprocess.run(["systemd-cat", "-t", tag, "echo", "only one"], check=True)
    with pytest.raises(AssertionError) as failure:
        wait_for_entries(count=2, timeout=0.5, identifier=tag)
    assert "1 of 2 expected" in str(failure.value) and "only one" in str(failure.value)


def test_the_catalog_explains_every_message_id():
    catalog = os.path.join(REPO, "systemd", "accord.catalog")
    if not os.path.exists(catalog):
        pytest.skip("systemd/accord.catalog is not written yet")
    with open(catalog) as f:
        ids = re.findall(r"^-- ([0-9a-f]{32})\s*$", f.read(), re.M)
    assert ids, "no '-- MESSAGE_ID' lines in systemd/accord.catalog"
    listed = journalctl("--list-catalog", *ids)
    for message_id in ids:
        assert message_id in listed, f"{message_id} is in accord.catalog but not in the compiled catalog"
    missing = sorted(name for name, message_id in MESSAGE_IDS.items() if message_id not in ids)
    assert not missing, f"docs/contracts.md §6 MESSAGE_IDs without a catalog entry: {missing}"
    # journalctl -x puts the explanation, with @FIELD@ filled in, under the entry
    item = f"harness/{uuid.uuid4().hex[:8]}"
    fields = [f"SYSLOG_IDENTIFIER={TAG}", f"MESSAGE={item}: due in 7 days", f"MESSAGE_ID={MESSAGE_IDS['approaching']}",
              f"ACCORD_ITEM={item}", "ACCORD_DEADLINE=due", "ACCORD_DEADLINE_AT=2030-01-01T00:00:00Z",
              "ACCORD_DAYS_LEFT=7", "ACCORD_LEAD=P7D"]
    subprocess.run(["logger", "--journald"], input="\n".join(fields) + "\n", text=True, check=True)
    wait_for_entries(identifier=TAG, ACCORD_ITEM=item, timeout=10)
    explained = journalctl("-x", f"SYSLOG_IDENTIFIER={TAG}", f"ACCORD_ITEM={item}")
    assert "Subject:" in explained and item in explained.split("Subject:", 1)[1], explained
    assert "@ACCORD_ITEM@" not in explained


# --- sd_notify ---------------------------------------------------------------------------------

NOTIFIER = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
path = os.environ["NOTIFY_SOCKET"]
s.sendto(b"READY=1\nSTATUS=loaded 3 items", path)
s.sendto(b"WATCHDOG=1", path)
s.sendto(b"WATCHDOG=1", path)
if os.fork() == 0:
    s.sendto(b"STATUS=from a child", path)
    os._exit(0)
os.wait()
s.sendto(b"STOPPING=1", path)
"""


def test_notify_socket_records_lines_with_the_sender_pid(scratch):
    notify = NotifySocket(scratch)
    try:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", NOTIFIER], env=dict(os.environ, NOTIFY_SOCKET=notify.path))
        assert child.wait(10) == 0
        assert notify.wait_for("STOPPING=1", timeout=5, after=started, pid=child.pid)
        assert notify.lines(pid=child.pid) == ["READY=1", "STATUS=loaded 3 items", "WATCHDOG=1", "WATCHDOG=1",
                                               "STOPPING=1"]
        others = [m for m in notify.messages if m.pid != child.pid]
        assert [m.line for m in others] == ["STATUS=from a child"] and others[0].pid not in (None, child.pid)
        assert notify.values("STATUS", pid=child.pid) == ["loaded 3 items"]
        assert notify.count("WATCHDOG=1") == 2
        assert notify.wait_for_prefix("STATUS=", pid=child.pid) == "STATUS=loaded 3 items"
        assert not notify.wait_for("RELOADING=1", timeout=0.2)
    finally:
        notify.close()


# --- the Daemon helper, driving a stand-in for accordd --------------------------------------------

STAND_IN = r"""#!/usr/bin/env python3
# Stands in for accordd: reports what it was given, speaks sd_notify, obeys SIGHUP and SIGTERM.
import json, os, signal, socket, sys, time
if os.environ.get("STAND_IN_FAIL"):
    print("stand-in: " + os.environ["STAND_IN_FAIL"], file=sys.stderr)
    sys.exit(3)
report = {"argv": sys.argv[1:], "pid": os.getpid(),
          "env": {k: os.environ.get(k) for k in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY", "NOTIFY_SOCKET",
                  "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")}}
if os.environ.get("LISTEN_FDS") == "1":
    s = socket.socket(fileno=3)
    report["fd3"] = [s.family.name, s.type.name, s.getsockname()]
    s.detach()
path = os.path.join(os.environ["STATE_DIRECTORY"], "report-%d.json" % os.getpid())
with open(path, "w") as f:
    json.dump(report, f)
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
def notify(text):
    n.sendto(text.encode(), os.environ["NOTIFY_SOCKET"])
stopping = []
signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
signal.signal(signal.SIGHUP, lambda *_: (notify("RELOADING=1"), notify("READY=1")))
print("stand-in started", flush=True)
notify("READY=1\nSTATUS=stand-in: 0 items")
usec = int(os.environ.get("WATCHDOG_USEC") or 0)
mine = os.environ.get("WATCHDOG_PID") == str(os.getpid())
while not stopping:
    if usec and mine:
        notify("WATCHDOG=1")
    time.sleep(usec / 2e6 if usec and mine else 0.02)
notify("STOPPING=1")
sys.exit(0)
"""


@pytest.fixture
def stand_in(scratch):
    path = os.path.join(scratch, "stand-in")
    with open(path, "w") as f:
        f.write(STAND_IN)
    os.chmod(path, 0o755)
    return path


def report(daemon):
    with open(os.path.join(daemon.state, f"report-{daemon.pid}.json")) as f:
        return json.load(f)


def test_daemon_helper_start_sighup_restart_kill9_stop(make_daemon, stand_in):
    daemon = make_daemon(portfolio([objective("a", utc(60))]), binary_path=stand_in).start()
    got = report(daemon)
    assert got["argv"] == ["run", "--config", daemon.config]
    assert got["env"]["STATE_DIRECTORY"] == daemon.state and got["env"]["RUNTIME_DIRECTORY"] == daemon.runtime
    assert got["env"]["NOTIFY_SOCKET"] == daemon.notify.path and got["env"]["WATCHDOG_USEC"] is None
    assert daemon.socket_path == os.path.join(daemon.runtime, "io.accord.Tracker")
    assert os.path.isdir(daemon.state) and os.path.isdir(daemon.runtime)
    with open(daemon.config) as f:
        config = tomllib.loads(f.read())
    assert config == {"portfolios": ["portfolios"], "catch-up": "P7D"}
    assert daemon.notify.values("STATUS", pid=daemon.pid) == ["stand-in: 0 items"]

    sent = daemon.sighup()
    assert daemon.notify.wait_for("RELOADING=1", after=sent, pid=daemon.pid)
    assert daemon.notify.wait_for("READY=1", after=sent, pid=daemon.pid)

    first = daemon.pid
    daemon.restart()
    assert daemon.pid != first and report(daemon)["pid"] == daemon.pid
    assert daemon.notify.count("STOPPING=1", pid=first) == 1

    assert daemon.kill9() == -signal.SIGKILL
    daemon.start()
    assert daemon.stop() == 0
    assert daemon.notify.lines(pid=daemon.pid)[-1] == "STOPPING=1"
    assert daemon.stdout().count("stand-in started") == 3


def test_daemon_helper_watchdog_and_socket_activation(make_daemon, stand_in):
    daemon = make_daemon(portfolio([objective("a", utc(60))]), binary_path=stand_in, watchdog_usec=200_000,
                         listen=True).start()
    got = report(daemon)
    assert got["env"]["WATCHDOG_USEC"] == "200000" and got["env"]["WATCHDOG_PID"] == str(daemon.pid)
    assert got["env"]["LISTEN_FDS"] == "1" and got["env"]["LISTEN_PID"] == str(daemon.pid)
    assert got["env"]["LISTEN_FDNAMES"] == "io.accord.Tracker"
    assert got["fd3"] == ["AF_UNIX", "SOCK_STREAM", daemon.socket_path]
    assert daemon.notify.wait_until(lambda m: daemon.notify.count("WATCHDOG=1", pid=daemon.pid) >= 4, timeout=5)
    # the listening socket outlives the process, as systemd keeps it
    daemon.restart(kill=True)
    assert report(daemon)["fd3"] == ["AF_UNIX", "SOCK_STREAM", daemon.socket_path]
    assert daemon.stop() == 0


def test_daemon_helper_says_why_there_was_no_ready(make_daemon, stand_in):
    daemon = make_daemon(portfolio([objective("a", utc(60))]), binary_path=stand_in,
                         env={"STAND_IN_FAIL": "cannot open the state database"})
    with pytest.raises(AssertionError) as failure:
        daemon.start()
    message = str(failure.value)
    assert "exited with status 3 before READY=1" in message
    assert "stand-in: cannot open the state database" in message
    second = make_daemon(portfolio([objective("a", utc(60))]), binary_path="/bin/sleep")
    with pytest.raises(AssertionError) as failure:
        second.start(args=["30"], timeout=0.5)
    assert "sent no READY=1 within 0.5 s" in str(failure.value) and not second.running()


# --- generators, time, programs ----------------------------------------------------------------------

def test_portfolio_generators_write_valid_toml():
    due = instant(5, "+08:00")
    assert due.endswith("+08:00") and abs(epoch(due) - time.time() - 5) <= 1.01
    assert to_utc(due).endswith("Z") and epoch(to_utc(due)) == epoch(due) and epoch(utc(0)) <= time.time() + 1
    text = portfolio([
        objective("talks", due, reminders=["PT3S", "P0D"], status='"open"'),
        objective("dated", day(30, "Asia/Shanghai"), title="A dated objective"),
        instrument("pilot", sign_by=instant(9, "-05:00"), term='"P1Y"', notice="\"P90D\"",
                   parties=["Canada Border Services Agency", "Bureau of Exit and Entry Administration"]),
        instrument("treaty", kind="treaty", in_force=dt.date(2030, 1, 15), term='"P1Y"'),
    ], dialogue="gen", leads=("P30D", "P0D"), overdue="P7D", zone="America/Toronto", remind_at="09:00:00",
       parties=["Canada", "People's Republic of China"], established="2016-09-12")
    doc = tomllib.loads(text)
    assert doc["dialogue"] == {"id": "gen", "title": "End-to-end dialogue gen", "time-zone": "America/Toronto",
                               "reminders": ["P30D", "P0D"], "remind-at": dt.time(9), "overdue-every": "P7D",
                               "parties": ["Canada", "People's Republic of China"],
                               "established": dt.date(2016, 9, 12)}
    talks, dated = doc["objective"]
    assert talks["due"] == dt.datetime.fromisoformat(due) and talks["due"].utcoffset() == dt.timedelta(hours=8)
    assert talks["reminders"] == ["PT3S", "P0D"] and talks["status"] == "open"
    assert dated["title"] == "A dated objective" and isinstance(dated["due"], dt.date)
    pilot, treaty = doc["instrument"]
    assert pilot["kind"] == "mou" and pilot["sign-by"].utcoffset() == dt.timedelta(hours=-5)
    assert pilot["term"] == "P1Y" and pilot["notice"] == "P90D" and len(pilot["parties"]) == 2
    assert treaty["kind"] == "treaty" and treaty["in-force"] == dt.date(2030, 1, 15)


VARLINK_SERVICE = """\
interface org.example.harness

method Ping(ping: string) -> (pong: string)
method Fail() -> ()

error Nope(why: string)
"""


def test_varlink_cli_against_a_tiny_service(scratch):
    varlink = pytest.importorskip("varlink", reason="run pytest from .venv (scripts/bootstrap.sh makes it)")
    with open(os.path.join(scratch, "org.example.harness.varlink"), "w") as f:
        f.write(VARLINK_SERVICE)
    service = varlink.Service(vendor="accord", product="harness", version="1", url="https://example.invalid",
                              interface_dir=scratch)

    @service.interface("org.example.harness")
    class Harness:
        def Ping(self, ping):
            return {"pong": ping}

        def Fail(self):
            raise varlink.VarlinkError({"error": "org.example.harness.Nope", "parameters": {"why": "asked to"}})

    class Handler(varlink.RequestHandler):
        pass

    Handler.service = service
    address = f"unix:{scratch}/harness.socket"
    server = varlink.ThreadingServer(address, Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rc, out, err = varlink_cli("info", address)
        assert rc == 0 and "org.example.harness" in out, err
        rc, out, err = varlink_cli("call", f"{address}/org.example.harness.Ping", '{"ping": "hi"}')
        assert rc == 0 and json.loads(out) == {"pong": "hi"}, err
        # A Varlink error still exits 0: the error is only in the text.
        rc, out, err = varlink_cli("call", f"{address}/org.example.harness.Fail", "{}")
        assert rc == 0 and out == "" and "org.example.harness.Nope" in err
    finally:
        server.shutdown()
        server.server_close()


def test_run_as_another_user():
    rc, out, err = run(["id", "-un"], user="nobody")
    assert rc == 0 and out.strip() == "nobody", err
    rc, out, _ = run(["sh", "-c", 'echo "$NO_COLOR $EXTRA"'], env={"EXTRA": "x"})
    assert rc == 0 and out.strip() == "1 x"
