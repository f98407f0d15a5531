"""Harness for accord's end-to-end tests: the real accordd binary, a real journald (started by
scripts/with-journald.sh in a private mount namespace), real SQLite, and a NOTIFY_SOCKET owned
by the test in place of systemd."""
import datetime as dt
import json
import os
import pwd
import grp
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import textwrap
import threading
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("ACCORD_BIN_DIR", os.path.join(REPO, ".build", "debug"))
ACCORDD = os.path.join(BIN, "accordd")
ACCORDCTL = os.path.join(BIN, "accordctl")
VENV_PYTHON = os.path.join(REPO, ".venv", "bin", "python")

if not os.environ.get("ACCORD_TEST_JOURNALD"):
    pytest.skip("run under scripts/with-journald.sh, so that no test writes into the host's journal",
                allow_module_level=True)


def utc(seconds_ahead=0.0):
    """An RFC 3339 UTC instant, whole seconds, `seconds_ahead` from now (rounded up)."""
    t = int(time.time() + seconds_ahead + 0.999)
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(rfc3339):
    return dt.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def portfolio(items, dialogue="e2e", leads=("PT2S", "P0D"), overdue=None, zone="UTC"):
    """A portfolio file; `items` are TOML snippets of [[objective]] or [[instrument]] tables."""
    head = textwrap.dedent(f"""\
        [dialogue]
        id = "{dialogue}"
        title = "End-to-end dialogue"
        time-zone = "{zone}"
        reminders = [{", ".join('"%s"' % l for l in leads)}]
        """)
    if overdue:
        head += f'overdue-every = "{overdue}"\n'
    return head + "\n" + "\n".join(textwrap.dedent(i) for i in items)


def objective(item_id, due, **extra):
    lines = [f'[[objective]]', f'id = "{item_id}"', f'title = "Objective {item_id}"', f'due = {due}']
    lines += [f"{k.replace('_', '-')} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def instrument(item_id, kind="mou", **fields):
    lines = [f'[[instrument]]', f'id = "{item_id}"', f'kind = "{kind}"', f'title = "Instrument {item_id}"']
    lines += [f"{k.replace('_', '-')} = {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


class NotifySocket:
    """Plays systemd's side of sd_notify: a datagram socket with SO_PASSCRED."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.messages = []  # (monotonic time, pid, "KEY=value")
        self.lock = threading.Lock()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.closed:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except (socket.timeout, OSError):
                continue
            pid = None
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", payload[:12])[0]
            with self.lock:
                for line in data.decode().splitlines():
                    self.messages.append((time.monotonic(), pid, line))

    def lines(self):
        with self.lock:
            return [m[2] for m in self.messages]

    def wait_for(self, line, timeout=10, after=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if any(m[2] == line and m[0] >= after for m in self.messages):
                    return True
            time.sleep(0.02)
        return False

    def close(self):
        self.closed = True
        self.sock.close()


class Daemon:
    """A configuration in a scratch directory and the accordd serving it."""

    def __init__(self, directory, portfolio_text, catch_up="P7D", extra_config="", watchdog_usec=None):
        self.directory = directory
        self.state = os.path.join(directory, "state")
        self.runtime = os.path.join(directory, "run")
        os.makedirs(os.path.join(directory, "portfolios"), exist_ok=True)
        self.config = os.path.join(directory, "accordd.toml")
        with open(self.config, "w") as f:
            f.write(f'portfolios = ["portfolios"]\ncatch-up = "{catch_up}"\n{extra_config}\n')
        self.write_portfolio(portfolio_text)
        self.watchdog_usec = watchdog_usec
        self.notify = NotifySocket(directory)
        self.process = None
        self.stderr_path = os.path.join(directory, "stderr.log")

    @property
    def socket_path(self):
        return os.path.join(self.runtime, "io.accord.Tracker")

    @property
    def database(self):
        return os.path.join(self.state, "state.sqlite")

    def write_portfolio(self, text, name="test.toml"):
        path = os.path.join(self.directory, "portfolios", name)
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)

    def start(self, wait_ready=True):
        env = dict(os.environ, STATE_DIRECTORY=self.state, RUNTIME_DIRECTORY=self.runtime,
                   NOTIFY_SOCKET=self.notify.path)
        started = time.monotonic()
        stderr = open(self.stderr_path, "a")
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
            # WATCHDOG_PID must name the daemon itself: exec through a shell that sets it.
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$0" run --config "$1"', ACCORDD, self.config],
                env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        else:
            self.process = subprocess.Popen([ACCORDD, "run", "--config", self.config], env=env,
                                            stdout=subprocess.DEVNULL, stderr=stderr)
        if wait_ready and not self._wait_ready(started):
            self.process.kill()
            raise AssertionError("accordd did not send READY=1; stderr:\n" + open(self.stderr_path).read())
        return self

    def _wait_ready(self, started, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.process.poll() is None:
            if self.notify.wait_for("READY=1", timeout=0.05, after=started):
                return True
        return self.notify.wait_for("READY=1", timeout=0.1, after=started)

    def stop(self, timeout=10):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            return self.process.wait(timeout)
        return self.process.returncode if self.process else None

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def sighup(self):
        self.process.send_signal(signal.SIGHUP)

    def ledger(self):
        with sqlite3.connect(self.database) as db:
            return {row[0]: {"outcome": row[1], "catch_up": bool(row[2])}
                    for row in db.execute("SELECT key, outcome, catch_up FROM ledger")}

    def close(self):
        try:
            if self.process and self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        finally:
            self.notify.close()


@pytest.fixture
def scratch():
    with tempfile.TemporaryDirectory(prefix="accord-e2e-") as directory:
        os.chmod(directory, 0o755)
        yield directory


@pytest.fixture
def make_daemon(scratch):
    daemons = []

    def make(portfolio_text, **kwargs):
        daemon = Daemon(scratch, portfolio_text, **kwargs)
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.close()


def journal_entries(*matches, identifier="accordd"):
    """Entries of the private journal, as dicts, oldest first."""
    subprocess.run(["journalctl", "--sync"], check=False)
    args = ["journalctl", "--no-pager", "-o", "json", f"SYSLOG_IDENTIFIER={identifier}", *matches]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def reminder_entries(*matches):
    return [e for e in journal_entries(*matches) if "ACCORD_REMINDER" in e]


def wait_for(predicate, timeout=20, interval=0.1):
    """Polls until `predicate()` is truthy (the journal is read, not the daemon's logic timed)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def varlink_cli(*args, timeout=20):
    """The third-party client from PyPI. It exits 0 even on Varlink errors: read its output."""
    result = subprocess.run([VENV_PYTHON, "-m", "varlink.cli", *args], capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def accordctl(*args, user=None, env=None, timeout=20):
    command = [ACCORDCTL, *args]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    merged = dict(os.environ, NO_COLOR="1", **(env or {}))
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=merged)
    return result.returncode, result.stdout, result.stderr


def ensure_user(name, groups=()):
    """A local user for authorization tests, created with useradd and kept for the run."""
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
