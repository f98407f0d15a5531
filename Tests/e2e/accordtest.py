"""Helpers for accord's end-to-end tests (Tests/e2e), the chaos test (Tests/chaos/chaos.py) and
the benchmarks (Benchmarks/bench.py): one module, python stdlib only, so that scripts run by the
system python3 import it as well as pytest does. The pytest fixtures (private_journal, scratch,
make_daemon) are in conftest.py beside it; tests import what they use from here:

    from accordtest import objective, portfolio, utc
    # outside Tests/e2e:
    sys.path.insert(0, os.path.join(REPO, "Tests", "e2e")); import accordtest

The real binaries (ACCORD_BIN_DIR, default <repo>/.build/debug), a real systemd-journald of the
tests' own (scripts/with-journald.sh starts it in a private mount namespace), real SQLite, the
third-party Varlink client from PyPI, and a NOTIFY_SOCKET owned by the test in place of
systemd. Outside with-journald.sh every test here is skipped (the autouse fixture
`private_journal` of conftest.py), so that no test ever writes into the host's journal. Run as root:

    scripts/with-journald.sh .venv/bin/pytest -q Tests/e2e

The API (python stdlib only):
  paths     REPO, BIN_DIR, ACCORDD, ACCORDCTL, VENV_PYTHON, CATALOG, binary(name), mounts(),
            scratch_directory(prefix) (a context manager: made, then removed with all inside)
  ids       APPROACHING REACHED OVERDUE STARTED STOPPING RELOADED REJECTED AUDIT LAPSED ESCALATED DIGEST, MESSAGE_IDS {name: id}
  time      instant(seconds_ahead, offset="Z")  RFC 3339, whole seconds (rounded up), e.g. for `due =`
            utc(seconds_ahead) (= instant(s, "Z")), utc_at(epoch_seconds), to_utc(text), epoch(text),
            day(days_ahead, zone)
  TOML      portfolio(items, dialogue=, leads=, overdue=, zone=, remind_at=, **dialogue_keys)
            objective(id, due, **keys), instrument(id, kind="mou", **keys), daemon_config(...)
            values: a str is written as it is (TOML source: 2030-01-01, '"P1Y"'); a list becomes
            an array of strings; dates, datetimes, bools and numbers their TOML selves
  daemon    (the fixture in conftest.py) make_daemon(portfolio_text, catch_up=, extra_config=, watchdog_usec=, watchdog_pid=,
                        env=, admin_group=, listen=, binary_path=) -> Daemon (not started)
            Daemon: start(wait_ready=True, args=None, timeout=None) wait_ready() stop() kill9()
                    sighup() send_signal(n) restart(kill=False) running() pid pids socket_path database state
                    runtime config write_config() write_portfolio() remove_portfolio() stderr()
                    stdout() journal(*matches, **fields) ledger() query(sql) describe(what)
                    notify: NotifySocket (messages [Message(time, pid, line)], lines(), values(),
                    count(), times(), wait_for(line, after=, pid=), wait_for_prefix(), wait_until())
  journal   journal_entries(*matches, identifier="accordd", cursor=None, **fields), reminder_entries(),
            journal_cursor(), journal_sync(), journalctl(*args), wait_for(predicate, timeout),
            wait_for_entries(predicate, count, timeout, matches=(), identifier=, cursor=, **fields)
  varlink   connect(path, timeout) -> socket, request(method, parameters, **flags) -> bytes,
            read_replies(sock, count), read_reply(sock), call(path, method, parameters, **flags)
  chains    chain_check(query, table) -> (rows verified, head, first broken id or None): the audit
            trail's hash chains recomputed here from docs/design.md §7, apart from accordd's code
  programs  run(command, user=None, env=None), accordctl(*args, user=None, env=None) -> (rc, out, err),
            varlink_cli(*args) -> (rc, out, err) (the PyPI client exits 0 on Varlink errors: read
            its stderr), ensure_user(name, groups)
"""
import collections
import contextlib
import datetime as dt
import grp
import hashlib
import json
import os
import pwd
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zoneinfo

# --- where things are ------------------------------------------------------------------------

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN_DIR = os.path.abspath(os.environ.get("ACCORD_BIN_DIR") or os.path.join(REPO, ".build", "debug"))
ACCORDD = os.path.join(BIN_DIR, "accordd")
ACCORDCTL = os.path.join(BIN_DIR, "accordctl")
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")
CATALOG = os.path.join(REPO, "systemd", "accord.catalog")
SOCKET_NAME = "io.accord.Tracker"

# docs/contracts.md §6: the MESSAGE_IDs of accordd's journal entries.
APPROACHING = "db24cfe239bd40298ba9e58943ddbf50"
REACHED = "d5617cbd1e784413882d23c8eabc57bd"
OVERDUE = "ce5134ff8f724784b33bf159f42040f5"
STARTED = "7542c2242e404e4f9c425c8a0fdab1da"
STOPPING = "e3a87e3eb6b945f08382de3e7ef49db5"
RELOADED = "a24e9dbbfa61448d85f3a92f695d8a2c"
REJECTED = "9d8a5b038ac74d818278025ffacfe2ab"
AUDIT = "eb00b45bd6bb476a92812f474dd38238"
BECAME_ACTIVE = "6ce0f72c48004232aea157d0736120c1"  # several daemons on one PostgreSQL database
STANDING_BY = "d1951274e9cf42dea62af74dc5bec035"
LAPSED = "17393d58f35b4699a534ca630d2dba94"
ESCALATED = "a2a2a22636c34a54adecacc21ef41639"  # escalate-after (docs/contracts.md §14)
DIGEST = "9f66099538b340c88eb38fa1b3a329d9"  # digest and digest-at
MESSAGE_IDS = {"approaching": APPROACHING, "reached": REACHED, "overdue": OVERDUE, "started": STARTED,
               "stopping": STOPPING, "reloaded": RELOADED, "rejected": REJECTED, "audit": AUDIT,
               "became-active": BECAME_ACTIVE, "standing-by": STANDING_BY, "lapsed": LAPSED,
               "escalated": ESCALATED, "digest": DIGEST}
REMINDER_IDS = (APPROACHING, REACHED, OVERDUE, LAPSED)


def binary(name):
    """The path of a built program (accordd, accordctl); a clear failure when it is not built."""
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} is missing: build first (swift build), or point ACCORD_BIN_DIR "
                             f"at the folder that holds {name}")
    return path


@contextlib.contextmanager
def scratch_directory(prefix="accord-test-", mode=0o755):
    """A fresh directory under /tmp (mode 0755 by default, so that users made by the tests reach
    a socket inside), removed with everything in it when the block ends, however it ends."""
    directory = tempfile.mkdtemp(prefix=prefix)
    try:
        os.chmod(directory, mode)
        yield directory
    finally:
        try:
            shutil.rmtree(directory)
        except OSError as error:  # said, not raised: it would hide the test's own failure
            print(f"accordtest: could not remove {directory}: {error}", file=sys.stderr)


def mounts():
    """{mount point: file system type} of this process's mount namespace."""
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4]: line.split(" - ")[1].split()[0] for line in f}


# --- the private journal ---------------------------------------------------------------------------

def _private_journal_problem():
    """None when the private journald of scripts/with-journald.sh serves this process, else why not."""
    if not os.environ.get("ACCORD_TEST_JOURNALD"):
        return ("needs the private journald of scripts/with-journald.sh (ACCORD_TEST_JOURNALD is unset): "
                "the end-to-end tests never write into the host's journal; run, as root, "
                "`scripts/with-journald.sh .venv/bin/pytest -q Tests/e2e`")
    if mounts().get("/run/systemd/journal") != "tmpfs":
        return ("ACCORD_TEST_JOURNALD is set, but /run/systemd/journal is not a private tmpfs in this mount "
                "namespace: refusing to write into what may be the host's journal")
    if not os.path.exists("/run/systemd/journal/socket"):
        return "ACCORD_TEST_JOURNALD is set, but no journald listens on /run/systemd/journal/socket"
    return None


JOURNAL_PROBLEM = _private_journal_problem()


# --- where the state lives: SQLite (the default) or PostgreSQL --------------------------------------
# With STATE=postgresql every Daemon keeps its state in a database of its own on a throwaway
# PostgreSQL server, which conftest.py starts for the session (start_postgres, about 1 s) and
# stops and removes at its end (stop_postgres); query() and ledger() read it through psql.

STATE = os.environ.get("STATE", "sqlite")
if STATE not in ("sqlite", "postgresql"):
    raise ValueError(f"STATE={STATE!r}: must be sqlite or postgresql")
POSTGRES_SCRATCH = os.path.join(REPO, "scripts", "postgres-scratch.sh")
PSQL = "/usr/lib/postgresql/15/bin/psql"
_postgres = {}  # "url": the server's maintenance database, "directory": its scratch directory


def start_postgres():
    directory = tempfile.mkdtemp(prefix="accord-e2e-pg-", dir="/tmp")
    started = subprocess.run([POSTGRES_SCRATCH, "start", directory], capture_output=True, text=True)
    if started.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        raise AssertionError(f"scripts/postgres-scratch.sh start failed: {started.stderr}")
    _postgres.update(url=started.stdout.strip(), directory=directory)
    return _postgres["url"]


def stop_postgres():
    if "directory" in _postgres:
        subprocess.run([POSTGRES_SCRATCH, "stop", _postgres["directory"]], capture_output=True)
    _postgres.clear()


def postgres_url(database):
    """The scratch server's URL for `database`."""
    url = _postgres["url"]
    head, _, query = url.partition("?")
    return head.rsplit("/", 1)[0] + "/" + database + ("?" + query if query else "")


def psql(url, sql):
    result = subprocess.run([PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                            capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise AssertionError(f"psql {sql!r}: {result.stderr}")
    return result.stdout


def _sql_literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def postgres_query(url, sql, parameters=()):
    """Rows of a query, as sqlite3 gives them (tuples of int, str, None): the `?` placeholders
    filled in as literals (test values only), the rows read back through json_agg."""
    pieces = sql.split("?")
    if len(pieces) - 1 != len(parameters):
        raise AssertionError(f"{len(parameters)} parameters for {len(pieces) - 1} placeholders in {sql!r}")
    filled = pieces[0] + "".join(_sql_literal(p) + rest for p, rest in zip(parameters, pieces[1:]))
    text = psql(url, f"SELECT coalesce(json_agg(row_to_json(q)), '[]') FROM ({filled}) AS q").strip()
    return [tuple(row.values()) for row in json.loads(text, object_pairs_hook=collections.OrderedDict)]


# --- time ----------------------------------------------------------------------------------------

def _zone_of(offset):
    if offset in (None, "Z", "z", 0):
        return dt.timezone.utc
    if isinstance(offset, dt.timedelta):
        return dt.timezone(offset)
    if isinstance(offset, int):
        return dt.timezone(dt.timedelta(minutes=offset))
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))


def instant(seconds_ahead=0.0, offset="Z"):
    """An RFC 3339 instant `seconds_ahead` from now in whole seconds (rounded up to the next whole
    second), written in UTC with Z, or with `offset` ("+08:00", "-05:00", minutes, a timedelta).
    Usable unquoted as a TOML datetime: objective("x", instant(5, "+05:30"))."""
    t = int(time.time() + seconds_ahead + 0.999)
    if offset in (None, "Z", "z", 0):
        return utc_at(t)
    return dt.datetime.fromtimestamp(t, _zone_of(offset)).isoformat()


def utc(seconds_ahead=0.0):
    """An RFC 3339 UTC instant ending in Z, whole seconds, `seconds_ahead` from now (rounded up)."""
    return instant(seconds_ahead, "Z")


def utc_at(seconds):
    """The RFC 3339 UTC instant, whole seconds (a fraction is dropped), of `seconds` since the
    epoch: utc_at(0) == "1970-01-01T00:00:00Z"."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_instant(text):
    """An RFC 3339 instant (any offset, or Z; fractions allowed) as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))


def to_utc(text):
    """The same instant written in UTC with Z: 2030-01-01T08:00:00+08:00 -> 2030-01-01T00:00:00Z."""
    return utc_at(parse_instant(text).timestamp())


def epoch(rfc3339):
    """Seconds since the epoch of an RFC 3339 instant (Z or an offset, fractions allowed)."""
    return parse_instant(rfc3339).timestamp()


def day(days_ahead=0, zone="UTC"):
    """The date `days_ahead` from today in `zone`, as YYYY-MM-DD (a TOML date when unquoted)."""
    return (dt.datetime.now(zoneinfo.ZoneInfo(zone)).date() + dt.timedelta(days=days_ahead)).isoformat()


# --- TOML ------------------------------------------------------------------------------------------

def quoted(text):
    """A TOML basic string."""
    return json.dumps(str(text), ensure_ascii=False)


def toml_value(value):
    """A Python value as TOML source. A str is taken to BE TOML source already, so dates,
    datetimes and '["P7D"]' pass through and a TOML string is written '"P1Y"' (or quoted("P1Y"));
    lists and tuples become arrays (of basic strings, for str elements); dates and datetimes
    RFC 3339; bools true/false; numbers themselves."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(quoted(v) if isinstance(v, str) else toml_value(v) for v in value) + "]"
    return str(value)


def _table(header, item_id, title, fields):
    lines = [header, f"id = {quoted(item_id)}", f"title = {quoted(title)}"]
    lines += [f"{key.replace('_', '-')} = {toml_value(value)}" for key, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n"


def objective(item_id, due, title=None, **keys):
    """An [[objective]] table; keyword keys with _ for - (status='"open"', reminders=["P7D"]):
    objective("talks", instant(5), reminders=["PT3S", "P0D"])."""
    return _table("[[objective]]", item_id, title or f"Objective {item_id}", dict(due=due, **keys))


def instrument(item_id, kind="mou", title=None, **keys):
    """An [[instrument]] table: instrument("pilot", sign_by=instant(5), term='"P1Y"', notice='"P90D"')."""
    return _table("[[instrument]]", item_id, title or f"Instrument {item_id}", dict(kind=quoted(kind), **keys))


def portfolio(items, dialogue="e2e", leads=("PT2S", "P0D"), overdue=None, zone="UTC", remind_at=None, title=None,
              **keys):
    """A portfolio file: a [dialogue] table, then `items` (texts of objective() and instrument()).
    `leads` are the dialogue's default reminders, `overdue` its overdue-every, `remind_at` its
    remind-at (TOML source, 09:00:00); more [dialogue] keys by keyword (parties=["A", "B"],
    established="2016-09-12")."""
    head = [
        "[dialogue]",
        f"id = {quoted(dialogue)}",
        f"title = {quoted(title or f'End-to-end dialogue {dialogue}')}",
        f"time-zone = {quoted(zone)}",
        f"reminders = {toml_value(list(leads))}",
    ]
    if overdue:
        head.append(f"overdue-every = {quoted(overdue)}")
    if remind_at:
        head.append(f"remind-at = {toml_value(remind_at)}")
    head += [f"{key.replace('_', '-')} = {toml_value(value)}" for key, value in keys.items() if value is not None]
    return "\n".join(head) + "\n\n" + "\n".join(textwrap.dedent(item) for item in items)


def daemon_config(portfolios=("portfolios",), catch_up="P7D", admin_group=None, extra=""):
    """The text of an accordd.toml; `extra` is appended as it is (say, a [notify] table)."""
    lines = [f"portfolios = {toml_value(list(portfolios))}"]
    if catch_up:
        lines.append(f"catch-up = {quoted(catch_up)}")
    if admin_group:
        lines.append(f"admin-group = {quoted(admin_group)}")
    return "\n".join(lines) + "\n" + (extra.rstrip("\n") + "\n" if extra else "")


# --- systemd's side of sd_notify ------------------------------------------------------------------

Message = collections.namedtuple("Message", "time pid line")  # time: time.monotonic() on arrival


class NotifySocket:
    """Plays the service manager's end of sd_notify, as systemd binds it for NOTIFY_SOCKET: an
    AF_UNIX datagram socket with SO_PASSCRED, read by a thread that records every line of every
    datagram with the time it came and the sender's pid."""

    def __init__(self, directory, name="notify"):
        self.path = os.path.join(directory, name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # a daemon that dropped privileges may still notify
        self.messages = []  # Message(time, pid, line), in arrival order
        self.lock = threading.RLock()  # reentrant: a wait_until() predicate may call lines(), count() ...
        self.arrived = threading.Condition(self.lock)
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="notify-socket", daemon=True)
        self.thread.start()

    def _run(self):
        ancillary = socket.CMSG_SPACE(12) + socket.CMSG_SPACE(4 * 253)
        while not self.closed:
            try:
                ready, _, _ = select.select([self.sock], [], [], 0.2)
                if not ready:
                    continue
                data, cmsgs, _, _ = self.sock.recvmsg(65536, ancillary)
            except (OSError, ValueError):
                if self.closed:
                    return
                continue
            pid = None
            for level, kind, payload in cmsgs:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", payload[:12])[0]
                elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:  # FDSTORE=1: not kept
                    for fd in struct.unpack(f"{len(payload) // 4}i", payload[:len(payload) // 4 * 4]):
                        os.close(fd)
            now = time.monotonic()
            with self.arrived:
                self.messages.extend(Message(now, pid, line)
                                     for line in data.decode(errors="replace").splitlines() if line)
                self.arrived.notify_all()

    def _select(self, pid, after):
        return [m for m in self.messages if m.time >= after and (pid is None or m.pid == pid)]

    def lines(self, pid=None, after=0):
        """Every line received (from `pid` only, when given; at or after monotonic `after`)."""
        with self.lock:
            return [m.line for m in self._select(pid, after)]

    def times(self, line, after=0, pid=None):
        """The monotonic arrival times of `line` (e.g. "WATCHDOG=1")."""
        with self.lock:
            return [m.time for m in self._select(pid, after) if m.line == line]

    def values(self, key, pid=None, after=0):
        """The values of KEY=value lines, in order: values("STATUS")."""
        prefix = key + "="
        return [line[len(prefix):] for line in self.lines(pid, after) if line.startswith(prefix)]

    def count(self, line, pid=None, after=0):
        return len(self.times(line, after, pid))

    def wait_until(self, predicate, timeout=10, after=0, pid=None):
        """The first Message (at or after `after`, from `pid` if given) satisfying `predicate`,
        or None after `timeout` seconds."""
        end = time.monotonic() + timeout
        with self.arrived:
            while True:
                for m in self._select(pid, after):
                    if predicate(m):
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(min(left, 0.2))

    def wait_for(self, line, timeout=10, after=0, pid=None):
        """True once `line` (exactly, e.g. "READY=1") arrived at or after monotonic time `after`
        (from `pid` if given); False after `timeout` seconds."""
        return self.wait_until(lambda m: m.line == line, timeout, after, pid) is not None

    def wait_for_prefix(self, prefix, timeout=10, after=0, pid=None):
        """The first line starting with `prefix` (e.g. "STATUS="), or None after `timeout`."""
        found = self.wait_until(lambda m: m.line.startswith(prefix), timeout, after, pid)
        return found.line if found else None

    def close(self):
        if not self.closed:
            self.closed = True
            self.thread.join(1)
            self.sock.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


# --- the daemon ------------------------------------------------------------------------------------

# Execs the daemon in place (same pid) after setting what must name that pid, WATCHDOG_PID and
# LISTEN_PID, and after moving a listening socket to fd 3 (SD_LISTEN_FDS_START).
_TRAMPOLINE = r"""
import os, sys
pid = str(os.getpid())
if os.environ.get("WATCHDOG_PID") == "self":
    os.environ["WATCHDOG_PID"] = pid
if "_ACCORD_LISTEN_FD" in os.environ:
    fd = int(os.environ.pop("_ACCORD_LISTEN_FD"))
    if fd != 3:
        os.dup2(fd, 3)
        os.close(fd)
    os.set_inheritable(3, True)
    os.environ["LISTEN_PID"] = pid
os.execv(sys.argv[1], sys.argv[1:])
"""


class Daemon:
    """accordd.toml and portfolios/*.toml in a scratch directory, and the accordd serving them,
    launched the way systemd would: STATE_DIRECTORY and RUNTIME_DIRECTORY (state/ and run/ in the
    directory) made and set, NOTIFY_SOCKET owned by the test (self.notify), optionally
    WATCHDOG_USEC/WATCHDOG_PID and a listening socket passed with LISTEN_FDS (listen=True). Its
    stdout and stderr go to stdout.log and stderr.log, kept across restarts."""

    def __init__(self, directory, portfolio_text=None, catch_up="P7D", extra_config="", watchdog_usec=None,
                 watchdog_pid=None, env=None, *, admin_group=None, listen=False, binary_path=None, ready_timeout=20):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.state = os.path.join(directory, "state")
        self.runtime = os.path.join(directory, "run")
        self.portfolios = os.path.join(directory, "portfolios")
        self.config = os.path.join(directory, "accordd.toml")
        self.stderr_path = os.path.join(directory, "stderr.log")
        self.stdout_path = os.path.join(directory, "stdout.log")
        os.makedirs(self.portfolios, exist_ok=True)
        self.state_url = None
        if STATE == "postgresql":
            database = "e2e_" + os.urandom(8).hex()
            psql(_postgres["url"], f"CREATE DATABASE {database}")
            self.state_url = postgres_url(database)
        self.write_config(catch_up=catch_up, extra=extra_config, admin_group=admin_group)
        if isinstance(portfolio_text, dict):
            for name, text in portfolio_text.items():
                self.write_portfolio(text, name)
        elif portfolio_text is not None:
            self.write_portfolio(portfolio_text)
        self.watchdog_usec = watchdog_usec
        self.watchdog_pid = watchdog_pid  # None: the daemon itself, as systemd sets it
        self.env = dict(env or {})
        self.listen = listen
        self.listener = None
        self.binary = binary_path
        self.ready_timeout = ready_timeout
        self.notify = NotifySocket(directory)
        self.process = None
        self.pids = []  # every process this object started, for journal matches
        self.started_at = None  # monotonic time of the last start()

    # files
    @property
    def socket_path(self):
        return os.path.join(self.runtime, SOCKET_NAME)

    @property
    def database(self):
        return os.path.join(self.state, "state.sqlite")

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def write_config(self, catch_up="P7D", extra="", admin_group=None, portfolios=("portfolios",)):
        """(Re)writes accordd.toml atomically; a running daemon reads it on sighup(). With
        STATE=postgresql a [state] table names this daemon's database."""
        if self.state_url and "[state]" not in extra:
            extra = (extra.rstrip("\n") + "\n" if extra else "") + f"[state]\nurl = {quoted(self.state_url)}\n"
        self._write(self.config, daemon_config(portfolios, catch_up, admin_group, extra))

    def write_portfolio(self, text, name="test.toml"):
        """Writes portfolios/NAME atomically (a reload never sees half a file)."""
        path = os.path.join(self.portfolios, name)
        self._write(path, text)
        return path

    def remove_portfolio(self, name="test.toml"):
        os.unlink(os.path.join(self.portfolios, name))

    @staticmethod
    def _write(path, text):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.chmod(path + ".tmp", 0o644)
        os.rename(path + ".tmp", path)

    @staticmethod
    def _read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stderr(self):
        """Everything the daemon wrote to stderr so far, across restarts."""
        return self._read(self.stderr_path)

    def stdout(self):
        return self._read(self.stdout_path)

    # process
    def start(self, wait_ready=True, args=None, timeout=None):
        """Starts `accordd run --config accordd.toml` (or the binary with `args`) and, unless
        wait_ready is False, waits for READY=1 from its pid; fails with its stderr otherwise."""
        if self.process and self.process.poll() is None:
            raise AssertionError(f"the daemon (pid {self.process.pid}) still runs: stop() it first")
        program = self.binary or binary(os.path.basename(ACCORDD))
        os.makedirs(self.state, mode=0o755, exist_ok=True)
        os.makedirs(self.runtime, mode=0o755, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if k not in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env.update(STATE_DIRECTORY=self.state, RUNTIME_DIRECTORY=self.runtime, NOTIFY_SOCKET=self.notify.path)
        env.update(self.env)
        command = [program, *(args if args is not None else ["run", "--config", self.config])]
        pass_fds = ()
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(int(self.watchdog_usec))
            env["WATCHDOG_PID"] = "self" if self.watchdog_pid is None else str(self.watchdog_pid)
        if self.listen:
            if self.listener is None:  # made once and kept across restarts, as systemd keeps it
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.socket_path)
                self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.listener.bind(self.socket_path)
                os.chmod(self.socket_path, 0o666)
                self.listener.listen(128)
            env.update(LISTEN_FDS="1", LISTEN_FDNAMES=SOCKET_NAME, _ACCORD_LISTEN_FD=str(self.listener.fileno()))
            pass_fds = (self.listener.fileno(),)
        if env.get("WATCHDOG_PID") == "self" or self.listen:
            command = [sys.executable, "-c", _TRAMPOLINE, *command]
        self.started_at = time.monotonic()
        with open(self.stdout_path, "a") as out, open(self.stderr_path, "a") as err:
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            pass_fds=pass_fds)
        self.pids.append(self.process.pid)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=None):
        """Waits for READY=1 from the daemon's pid since its start; on failure kills it and fails
        with its exit status, notify messages and stderr."""
        timeout = timeout or self.ready_timeout
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.notify.wait_for("READY=1", timeout=0.05, after=self.started_at, pid=self.process.pid):
                return self
            if self.process.poll() is not None:
                if self.notify.wait_for("READY=1", timeout=0.1, after=self.started_at, pid=self.process.pid):
                    return self
                break
        status = self.process.poll()
        if status is None:
            self.process.kill()
            self.process.wait()
            what = f"accordd (pid {self.process.pid}) sent no READY=1 within {timeout} s; killed it"
        else:
            what = f"accordd (pid {self.process.pid}) exited with status {status} before READY=1"
        raise AssertionError(self.describe(what))

    def describe(self, what):
        """`what`, then the notify lines, stderr and stdout of this daemon: for failure messages."""
        lines = [f"  {m.pid}: {m.line}" for m in self.notify.messages if m.time >= (self.started_at or 0)]
        return (f"{what}\nnotify messages since the start:\n" + ("\n".join(lines) or "  (none)") +
                f"\nstderr ({self.stderr_path}):\n{self.stderr()[-6000:] or '  (empty)'}"
                f"\nstdout:\n{self.stdout()[-2000:] or '  (empty)'}")

    def send_signal(self, signum):
        """Sends `signum`; returns the monotonic time it was sent (for notify.wait_for(after=))."""
        self.process.send_signal(signum)
        return time.monotonic()

    def sighup(self):
        return self.send_signal(signal.SIGHUP)

    def stop(self, timeout=15, signum=signal.SIGTERM):
        """SIGTERM, as systemd stops a service, then waits; returns the exit code (negative when a
        signal ended it). Still running after `timeout` seconds: killed, and the test fails."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(self.describe(f"accordd did not exit within {timeout} s of signal {signum}"))
        return self.process.returncode

    def kill9(self):
        """SIGKILL, then waits; returns the exit code (-9)."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait()

    def restart(self, kill=False, **start_args):
        """Stops (SIGTERM, or SIGKILL with kill=True) and starts again on the same files and state."""
        if kill:
            self.kill9()
        else:
            self.stop()
        return self.start(**start_args)

    def running(self):
        return self.process is not None and self.process.poll() is None

    # what it did
    def journal(self, *matches, **fields):
        """Journal entries written by any process this object started (matched by _PID)."""
        return journal_entries(*matches, *[f"_PID={p}" for p in self.pids], **fields) if self.pids else []

    def query(self, sql, *parameters):
        """Rows of a query on the state database, opened read-only (so never created by a test);
        on PostgreSQL through psql, with the same rows (quote "user", a reserved word there)."""
        if self.state_url:
            return postgres_query(self.state_url, sql, parameters)
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)) as db:
            return db.execute(sql, parameters).fetchall()

    def ledger(self):
        """The reminder ledger: {key: {"outcome": fired|skipped|missed, "catch_up": bool}}."""
        return {row[0]: {"outcome": row[1], "catch_up": bool(row[2])}
                for row in self.query("SELECT key, outcome, catch_up FROM ledger")}

    def close(self):
        try:
            if self.process and self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        finally:
            self.notify.close()
            if self.listener:
                self.listener.close()


# --- the journal -----------------------------------------------------------------------------------

def journalctl(*args, check=True):
    """`journalctl --no-pager ARGS`; returns its stdout (fails the test on an error if `check`)."""
    result = subprocess.run(["journalctl", "--no-pager", *args], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"journalctl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def journal_sync():
    """Has journald write out everything it received so far (journalctl --sync)."""
    subprocess.run(["journalctl", "--sync"], check=False, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)


def journal_cursor():
    """The cursor of the newest entry now (None for an empty journal): pass it as `cursor=` to
    read only the entries that come after."""
    journal_sync()
    out = journalctl("-n", "1", "-o", "json", check=False).strip()
    return json.loads(out.splitlines()[-1])["__CURSOR"] if out else None


def _field(value):
    # journalctl -o json: a value that is not UTF-8 is an array of bytes; a field given more than
    # once is an array of its values.
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return bytes(value).decode(errors="replace")
        return [_field(v) for v in value]
    return value


def journal_entries(*matches, identifier="accordd", cursor=None, sync=True, **fields):
    """Entries of the private journal as dicts, oldest first: `journalctl -o json --all
    SYSLOG_IDENTIFIER=accordd MATCHES` after `journalctl --sync`. Matches are "FIELD=value" strings
    or FIELD=value keywords; all must hold, but matches of the same field are alternatives
    (journalctl ORs them). identifier=None matches any identifier; cursor= reads only entries
    after that cursor."""
    if sync:
        journal_sync()
    args = ["-o", "json", "--all"]
    if cursor:
        # Not --after-cursor: journalctl 252 combined with matches skips the first entry after the
        # cursor. --cursor starts at the cursor's own entry, dropped below.
        args.append(f"--cursor={cursor}")
    if identifier:
        args.append(f"SYSLOG_IDENTIFIER={identifier}")
    args += list(matches) + [f"{key}={value}" for key, value in fields.items()]
    entries = [{k: _field(v) for k, v in json.loads(line).items()}
               for line in journalctl(*args).splitlines() if line.strip()]
    return [e for e in entries if e.get("__CURSOR") != cursor] if cursor else entries


def reminder_entries(*matches, **fields):
    """Reminder entries only: those with ACCORD_REMINDER and a reminder MESSAGE_ID."""
    return [e for e in journal_entries(*matches, **fields)
            if "ACCORD_REMINDER" in e and e.get("MESSAGE_ID") in REMINDER_IDS]


def wait_for(predicate, timeout=20, interval=0.1):
    """Polls `predicate()` until it returns something truthy, and returns that (or the last falsy
    value after `timeout` seconds). For the test's own polling of the journal or of files: what
    accordd does must never depend on a sleep."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def wait_for_entries(predicate=None, count=1, timeout=20, *, matches=(), identifier="accordd", cursor=None, **fields):
    """Polls the journal until at least `count` entries, selected as journal_entries selects them
    (`matches` "FIELD=value" strings, FIELD=value keywords, `identifier`, `cursor`) and then by
    `predicate(entry)` when given, are there; returns all such entries, oldest first. After
    `timeout` seconds it fails with an AssertionError listing the entries it did see."""
    def matching():
        return [e for e in journal_entries(*matches, identifier=identifier, cursor=cursor, **fields)
                if predicate is None or predicate(e)]

    end = time.monotonic() + timeout
    found = matching()
    while len(found) < count and time.monotonic() < end:
        time.sleep(0.1)
        found = matching()
    if len(found) < count:
        seen = journal_entries(*matches, identifier=identifier, cursor=cursor, **fields)
        shown = "\n".join(f"  {e.get('ACCORD_REMINDER') or e.get('MESSAGE_ID', '-')}: {e.get('MESSAGE')}"
                          for e in seen[-30:])
        where = " ".join([f"SYSLOG_IDENTIFIER={identifier}" if identifier else "", *matches,
                          *(f"{k}={v}" for k, v in fields.items())]).strip()
        raise AssertionError(f"{len(found)} of {count} expected journal entries after {timeout} s "
                             f"({where or 'all entries'}); the entries there:\n{shown or '  (none)'}")
    return found


# --- Varlink over a raw socket ---------------------------------------------------------------------

def connect(path, timeout=5):
    """A stream socket connected to the daemon's Varlink socket at `path`."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def request(method, parameters=None, **flags):
    """A Varlink call as bytes on the wire, NUL-terminated: request("io.accord.Tracker.Watch", more=True)."""
    return json.dumps({"method": method, "parameters": parameters or {}, **flags}).encode() + b"\0"


def read_replies(s, count):
    """Up to `count` replies read from `s`, decoded; fewer when the daemon closes first."""
    data = b""
    while data.count(b"\0") < count:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return [json.loads(m) for m in data.split(b"\0")[:count] if m]


def read_reply(s):
    """One reply read from `s`, decoded; ConnectionError when the daemon closes before it ends."""
    data = b""
    while not data.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("the daemon closed the connection before the reply ended")
        data += chunk
    return json.loads(data[:-1])


def call(path, method, parameters=None, **flags):
    """One call on a connection of its own; returns the reply (parameters or error), decoded."""
    with contextlib.closing(connect(path)) as s:
        s.sendall(request(method, parameters, **flags))
        return read_reply(s)


# --- the audit trail's hash chains -----------------------------------------------------------------

# docs/design.md §7, written again here so that the daemon's hashes are checked by other code:
# SHA-256 over the previous row's hash (32 zero bytes first), the table's name and the columns
# below, each NULL 0x00, integer 0x01 + 8 bytes big-endian, text 0x02 + 8-byte length + UTF-8.
CHAIN_COLUMNS = {
    "event": ("id", "item", "type", "effective_on", "recorded_at", "uid", '"user"', "note", "term", "party"),
    "audit": ("id", "at", "uid", '"user"', "action", "item", "detail", "allowed"),
}
CHAIN_GENESIS = "0" * 64


def _chain_field(value):
    if value is None:
        return b"\x00"
    if isinstance(value, int):
        return b"\x01" + struct.pack(">q", value)
    data = value.encode()
    return b"\x02" + struct.pack(">Q", len(data)) + data


def chain_hash(previous, table, values):
    """The hash (hex) of one row whose columns hold `values`, after the row hashed `previous`."""
    return hashlib.sha256(bytes.fromhex(previous) + _chain_field(table) + b"".join(map(_chain_field, values))).hexdigest()


def chain_check(query, table):
    """Walks one table's chain through `query` (Daemon.query, or any function of SQL giving
    rows): (rows that verified, the last good hash, the first row's id that does not, or None)."""
    previous, verified = CHAIN_GENESIS, 0
    for row in query(f"SELECT {', '.join(CHAIN_COLUMNS[table])}, hash FROM {table} ORDER BY id"):
        *values, stored = row
        expected = chain_hash(previous, table, values)
        if stored != expected:
            return verified, previous, values[0]
        previous, verified = expected, verified + 1
    return verified, previous, None


# --- programs --------------------------------------------------------------------------------------

def run(command, user=None, env=None, timeout=30, input=None):
    """Runs `command` (a list), as `user` through `runuser -u USER --` when given; returns
    (rc, stdout, stderr). NO_COLOR=1 is set; `env` adds to the environment."""
    if user:
        command = ["runuser", "-u", user, "--", *command]
    merged = dict(os.environ, NO_COLOR="1", **(env or {}))
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=merged, input=input,
                            stdin=None if input is not None else subprocess.DEVNULL)
    return result.returncode, result.stdout, result.stderr


def accordctl(*args, user=None, env=None, timeout=20, input=None):
    """accordctl ARGS, as `user` (runuser -u USER --) when given, with NO_COLOR=1; returns
    (rc, stdout, stderr). Reach a test's daemon with "--socket", daemon.socket_path."""
    return run([binary(os.path.basename(ACCORDCTL)), *args], user=user, env=env, timeout=timeout, input=input)


def varlink_cli(*args, timeout=20):
    """The third-party Varlink client from PyPI: `.venv/bin/python -m varlink.cli ARGS`; returns
    (rc, stdout, stderr). It exits 0 even when the service answers with a Varlink error (the error
    is printed on stderr): check the text, not only rc."""
    if not os.access(VENV_PYTHON, os.X_OK):
        raise AssertionError(f"{VENV_PYTHON} is missing: run scripts/bootstrap.sh")
    result = subprocess.run([VENV_PYTHON, "-m", "varlink.cli", *args], capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout, result.stderr


def ensure_user(name, groups=()):
    """A local user for authorization tests (useradd, no home, nologin) in `groups` (made with
    groupadd --system when missing). Users and groups are kept after the run, for the next."""
    for group in groups:
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", "--system", group], check=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    if groups:
        subprocess.run(["usermod", "-a", "-G", ",".join(groups), name], check=True)
    return name
