"""Reliability against bad clients and a hostile environment (issue 7): a catalogue of bad
requests, floods of idle and trickling connections, full and read-only file systems, a corrupt
database, unreadable and oversized portfolio files. Nothing may crash the daemon, hang another
client, fire a reminder twice or lose one."""
import json
import os
import socket
import sqlite3
import subprocess
import time

import pytest

from accordtest import (ACCORDCTL, ACCORDD, connect, ensure_user, journal_entries, objective, portfolio, read_reply,
                        reminder_entries, request, run, utc, wait_for)


@pytest.fixture
def daemon(make_daemon):
    return make_daemon(portfolio([objective("alpha", "2030-03-31"), objective("beta", "2031-01-31")],
                                 dialogue="hostile")).start()


def exchange(path, payload, timeout=5):
    """Sends raw bytes; returns (replies, closed_by_daemon)."""
    s = connect(path, timeout)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = b"", False
    try:
        while True:
            if data.count(b"\0") >= max(1, payload.count(b"\0")):
                break
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except (socket.timeout, ConnectionResetError):
        closed = closed or False
    s.close()
    return [json.loads(m) for m in data.split(b"\0") if m], closed


def healthy(path):
    replies, _ = exchange(path, b'{"method":"io.accord.Tracker.Status"}\0')
    return replies and replies[0].get("parameters", {}).get("objectives") == 2


T = "io.accord.Tracker."
CATALOGUE = [
    ("deeply nested JSON", b"[" * 30_000 + b"]" * 30_000 + b"\0", "io.accord.Tracker.InvalidRequest"),
    ("deep parameters", b'{"method":"io.accord.Tracker.Status","parameters":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}\0",
     "io.accord.Tracker.InvalidRequest"),
    ("huge exponent", b'{"method":"io.accord.Tracker.Show","parameters":{"id":1e999}}\0', "io.accord.Tracker.InvalidRequest"),
    ("huge integer as id", b'{"method":"io.accord.Tracker.Show","parameters":{"id":123456789012345678901234567890}}\0',
     "org.varlink.service.InvalidParameter"),
    ("more and oneway", request(T + "Status", more=True, oneway=True), "io.accord.Tracker.InvalidRequest"),
    ("upgrade", request(T + "Status", upgrade=True), "org.varlink.service.InvalidParameter"),
    ("Watch without more", request(T + "Watch"), "org.varlink.service.ExpectedMore"),
    ("more flag not a bool", b'{"method":"io.accord.Tracker.Status","more":1}\0', "io.accord.Tracker.InvalidRequest"),
    ("path traversal id", request(T + "Show", {"id": "../../etc/passwd"}), "io.accord.Tracker.NoSuchItem"),
    ("slash-only id", request(T + "Show", {"id": "/"}), "io.accord.Tracker.NoSuchItem"),
    ("empty id", request(T + "Show", {"id": ""}), "io.accord.Tracker.NoSuchItem"),
    ("long id", request(T + "Show", {"id": "x" * 30000}), "io.accord.Tracker.NoSuchItem"),
    ("method not a string", b'{"method":["io.accord.Tracker.Status"]}\0', "io.accord.Tracker.InvalidRequest"),
    ("no method", b'{"parameters":{}}\0', "io.accord.Tracker.InvalidRequest"),
    ("lower-case method", request(T + "status"), "io.accord.Tracker.InvalidRequest"),
    ("method with spaces", request("io.accord.Tracker.Sta tus"), "io.accord.Tracker.InvalidRequest"),
    ("parameters an array", b'{"method":"io.accord.Tracker.Status","parameters":[]}\0', "org.varlink.service.InvalidParameter"),
    ("parameters a string", b'{"method":"io.accord.Tracker.Status","parameters":"x"}\0', "org.varlink.service.InvalidParameter"),
    ("unknown top-level key", b'{"method":"io.accord.Tracker.Status","sudo":true}\0', "io.accord.Tracker.InvalidRequest"),
    ("invalid UTF-8", b'{"method":"io.accord.Tracker.Show","parameters":{"id":"\xc3\x28"}}\0', "io.accord.Tracker.InvalidRequest"),
    ("overlong UTF-8", b'{"method":"io.accord.Tracker.Show","parameters":{"id":"\xc0\xaf"}}\0', "io.accord.Tracker.InvalidRequest"),
    ("lone surrogate", b'{"method":"io.accord.Tracker.Show","parameters":{"id":"\\ud800"}}\0', "io.accord.Tracker.InvalidRequest"),
    ("raw control character", b'{"method":"io.accord.Tracker.Show","parameters":{"id":"a\x01b"}}\0', "io.accord.Tracker.InvalidRequest"),
    ("trailing garbage", b'{"method":"io.accord.Tracker.Status"}xyz\0', "io.accord.Tracker.InvalidRequest"),
    ("empty message", b"\0", "io.accord.Tracker.InvalidRequest"),
    ("top-level array", b'[{"method":"io.accord.Tracker.Status"}]\0', "io.accord.Tracker.InvalidRequest"),
    ("event not a string", request(T + "Record", {"id": "alpha", "event": 5}), "org.varlink.service.InvalidParameter"),
    ("impossible date", request(T + "Record", {"id": "alpha", "event": "started", "on": "2017-02-30"}),
     "org.varlink.service.InvalidParameter"),
    ("negative term", request(T + "Record", {"id": "alpha", "event": "started", "term": "P-1Y"}),
     "org.varlink.service.InvalidParameter"),
    ("term on an objective", request(T + "Record", {"id": "alpha", "event": "started", "term": "P1Y"}),
     "io.accord.Tracker.InvalidEvent"),
    ("unknown event", request(T + "Record", {"id": "alpha", "event": "exploded"}), "io.accord.Tracker.InvalidEvent"),
    ("snooze for a century", request(T + "Snooze", {"id": "alpha", "for": "P100Y"}), "org.varlink.service.InvalidParameter"),
    ("note of 5000 bytes", request(T + "Record", {"id": "alpha", "event": "started", "note": "n" * 5000}),
     "org.varlink.service.InvalidParameter"),
    ("bogus state filter", request(T + "List", {"state": "bogus"}), "org.varlink.service.InvalidParameter"),
    ("unknown interface", request("com.example.Evil.Do"), "org.varlink.service.InterfaceNotFound"),
    ("unknown description", request("org.varlink.service.GetInterfaceDescription", {"interface": "../etc"}),
     "org.varlink.service.InterfaceNotFound"),
    ("unknown parameter", request(T + "Show", {"id": "alpha", "verbose": True}), "org.varlink.service.InvalidParameter"),
]


@pytest.mark.parametrize("name,payload,expected", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_request_catalogue(daemon, name, payload, expected):
    replies, _ = exchange(daemon.socket_path, payload)
    assert replies and replies[0].get("error") == expected, f"{name}: {replies}"
    assert healthy(daemon.socket_path), f"the daemon stopped serving after: {name}"


def test_oversized_and_endless_input_close_cleanly(daemon):
    for payload in (b'{"method":"io.accord.Tracker.Show","parameters":{"id":"' + b"x" * (100 << 20),  # 100 MB
                    b"y" * (1 << 20)):                                                                # no NUL at all
        replies, closed = exchange(daemon.socket_path, payload, timeout=10)
        assert replies and replies[0]["error"] == "io.accord.Tracker.RequestTooLarge"
        assert replies[0]["parameters"]["limit"] == 65536
        assert healthy(daemon.socket_path)
    assert daemon.process.poll() is None


# The trickling clients run in a process of their own: fifty Python threads beside the measuring
# client would put the interpreter's lock, not the daemon, into the latencies measured.
TRICKLER = r"""
import socket, sys, time
path, message, count = sys.argv[1], sys.argv[2].encode() + b"\0", int(sys.argv[3])
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s
sockets = [connect() for _ in range(count)]
print("connected", flush=True)
i = 0
while True:
    for n in range(count):  # each client sends one byte a second, spread over the second
        try:
            sockets[n].send(message[i % len(message):i % len(message) + 1])
        except OSError:  # the daemon closed a client that took too long: it starts again
            sockets[n].close()
            sockets[n] = connect()
        time.sleep(1.0 / count)
    i += 1
"""


def status_latencies(path, samples=1000, pause=0.003):
    s = connect(path)
    status = request("io.accord.Tracker.Status")
    latencies = []
    try:
        for _ in range(samples):
            started = time.perf_counter()
            s.sendall(status)
            read_reply(s)  # ConnectionError if the daemon closed a well-behaved client
            latencies.append(time.perf_counter() - started)
            time.sleep(pause)
    finally:
        s.close()
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]


def test_floods_keep_status_fast_and_refuse_cleanly_past_the_limit(daemon):
    path = daemon.socket_path
    quiet_p50, quiet_p99 = status_latencies(path)
    idle, extra, trickler = [], [], None
    try:
        for _ in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            idle.append(s)
        trickler = subprocess.Popen(["python3", "-c", TRICKLER, path, '{"method":"io.accord.Tracker.Status"}', "50"],
                                    stdout=subprocess.PIPE, text=True)
        assert trickler.stdout.readline().strip() == "connected"
        # A daemon that lets idle or slow clients delay others is slow in every window, at the
        # median too; the machine's own noise (two shared cores) comes and goes. So: up to three
        # windows of 1,000 calls, every median under 5 ms, and one window's p99 within the 10 ms.
        windows = []
        for _ in range(3):
            windows.append(status_latencies(path))
            if windows[-1][1] <= 0.010:
                break
        print(f"Status, quiet: p50 {quiet_p50 * 1000:.2f} ms, p99 {quiet_p99 * 1000:.2f} ms; under 1000 idle + 50 "
              "trickling clients: " + "; ".join(f"p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms" for p50, p99 in windows))
        assert all(p50 <= 0.005 for p50, _ in windows), windows
        assert windows[-1][1] <= 0.010, f"p99 over 10 ms in {len(windows)} windows of 1,000 calls: {windows}"

        # Past the connection limit (2048) a client is closed at once, never left hanging.
        refused = 0
        for _ in range(1100):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(5)
            try:
                c.connect(path)
            except (BlockingIOError, ConnectionRefusedError):
                refused += 1  # a full backlog answers at once too: refused, not hanging
                c.close()
                continue
            extra.append(c)
        for c in extra[-60:]:
            try:
                c.sendall(request("io.accord.Tracker.Status"))
                if c.recv(100) == b"":
                    refused += 1
            except (BrokenPipeError, ConnectionResetError):
                refused += 1
        assert refused >= 1
    finally:
        if trickler:
            trickler.kill()
            trickler.wait()
        for c in idle + extra:
            c.close()
    assert wait_for(lambda: healthy(path), timeout=10)


def run_check(config, user=None):
    command = [ACCORDD, "check", "--config", config]
    if user:
        command = ["runuser", "-u", user, "--"] + command
    return subprocess.run(command, capture_output=True, text=True)


def test_bad_portfolio_directories(scratch):
    base = os.path.join(scratch, "conf")
    os.makedirs(os.path.join(base, "portfolios"))
    os.chmod(scratch, 0o755)
    os.chmod(base, 0o755)
    os.chmod(os.path.join(base, "portfolios"), 0o755)
    config = os.path.join(base, "accordd.toml")
    with open(config, "w") as f:
        f.write('portfolios = ["portfolios"]\n')
    os.symlink("loop-b.toml", os.path.join(base, "portfolios", "loop-a.toml"))
    os.symlink("loop-a.toml", os.path.join(base, "portfolios", "loop-b.toml"))
    result = run_check(config)
    assert result.returncode == 78 and "loop-a.toml: cannot open: Too many levels of symbolic links" in result.stderr
    for name in ("loop-a.toml", "loop-b.toml"):
        os.unlink(os.path.join(base, "portfolios", name))

    big = os.path.join(base, "portfolios", "big.toml")
    with open(big, "w") as f:
        f.write("# " + "x" * (50 << 20) + "\n")
    result = run_check(config)
    assert result.returncode == 78 and "big.toml: is 52428803 bytes, more than the 16777216 allowed" in result.stderr
    os.unlink(big)

    secret = os.path.join(base, "portfolios", "secret.toml")
    with open(secret, "w") as f:
        f.write('[dialogue]\nid = "s"\ntitle = "s"\ntime-zone = "UTC"\n')
    os.chmod(secret, 0o600)
    os.chmod(config, 0o644)
    user = ensure_user("accord-e2e-reader", groups=("accord",))
    result = run_check(config, user=user)
    assert result.returncode == 78 and "secret.toml: cannot open: Permission denied" in result.stderr


def test_corrupt_database_is_refused_untouched(make_daemon):
    daemon = make_daemon(portfolio([objective("alpha", "2030-03-31")], dialogue="corrupt"))
    os.makedirs(daemon.state, exist_ok=True)
    garbage = os.urandom(16384)
    with open(daemon.database, "wb") as f:
        f.write(garbage)
    daemon.start(wait_ready=False)
    assert daemon.process.wait(10) == 74
    assert open(daemon.database, "rb").read() == garbage
    assert not os.path.exists(daemon.database + "-wal")
    assert "is not a usable SQLite database" in open(daemon.stderr_path).read() + "".join(
        e.get("MESSAGE", "") for e in journal_entries())


def in_namespace_with_small_state(daemon, size):
    """Runs the daemon with its state directory on a small tmpfs of its own."""
    os.makedirs(daemon.state, exist_ok=True)
    env = dict(os.environ, STATE_DIRECTORY=daemon.state, RUNTIME_DIRECTORY=daemon.runtime, NOTIFY_SOCKET=daemon.notify.path,
               ACCORD_STATE=daemon.state, ACCORD_CONFIG=daemon.config, ACCORDD=ACCORDD, ACCORD_SIZE=size)
    script = ('mount -t tmpfs -o size=$ACCORD_SIZE tmpfs "$ACCORD_STATE" && echo ready > "$ACCORD_STATE/.mounted" '
              '&& exec "$ACCORDD" run --config "$ACCORD_CONFIG"')
    # The test reaches the tmpfs through the daemon's own mount namespace: /proc/PID/root.
    return subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(daemon.stderr_path, "a"))


def test_full_then_freed_file_system_loses_nothing(make_daemon):
    due = utc(8)
    leads = '["PT6S", "PT4S", "PT2S", "P0D"]'
    daemon = make_daemon(portfolio([objective(f"f{i}", due, reminders=leads) for i in range(3)], dialogue="full"))
    process = in_namespace_with_small_state(daemon, "2m")
    daemon.process = process
    assert daemon.notify.wait_for("READY=1", timeout=15)
    state = f"/proc/{process.pid}/root{daemon.state}"
    filler = os.path.join(state, "filler")
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k", "count=100"], capture_output=True)
    # Reminders due while the disk is full still reach the journal, and the error says why.
    assert wait_for(lambda: len(reminder_entries("ACCORD_DIALOGUE=full")) >= 6, timeout=15)
    assert wait_for(lambda: [e for e in journal_entries() if "cannot record reminders in the ledger" in e.get("MESSAGE", "")
                             and "full" in e.get("ERROR", "")], timeout=5)
    os.unlink(filler)
    assert wait_for(lambda: len(reminder_entries("ACCORD_DIALOGUE=full")) >= 12, timeout=15)
    time.sleep(0.5)
    # SQLite resolves /proc/PID/root to the host's path: query inside the daemon's namespace.
    def query(sql):
        return subprocess.run(["nsenter", "-t", str(process.pid), "-m", "sqlite3", os.path.join(daemon.state, "state.sqlite"), sql],
                              capture_output=True, text=True, check=True).stdout.split()
    assert query("PRAGMA integrity_check") == ["ok"]
    recorded = set(query("SELECT key FROM ledger WHERE outcome = 'fired'"))
    keys = [e["ACCORD_REMINDER"] for e in reminder_entries("ACCORD_DIALOGUE=full")]
    assert len(keys) == len(set(keys)) == 12
    assert recorded == set(keys), "every reminder fired while the disk was full was recorded once space returned"
    process.terminate()
    assert process.wait(10) == 0


def test_read_only_state_directory_is_refused_with_a_clear_error(make_daemon):
    # A database that cannot be written cannot promise "exactly once": the daemon says so and stops.
    # (Files open for writing keep a file system from being remounted read-only under a running
    # daemon; the full-disk test covers writes failing at run time.)
    daemon = make_daemon(portfolio([objective("r", "2030-01-01")], dialogue="ro")).start()
    assert daemon.stop() == 0
    env = dict(os.environ, STATE_DIRECTORY=daemon.state, RUNTIME_DIRECTORY=daemon.runtime)
    script = f'mount --bind -o ro {daemon.state} {daemon.state} && exec {ACCORDD} run --config {daemon.config}'
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=env,
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 74
    assert f"{daemon.state}/state.sqlite" in result.stderr and "read-only file system" in result.stderr.lower()
    assert "not writable" in result.stderr
    with sqlite3.connect(daemon.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_parser_crash_found_by_fuzzing_is_a_config_error(make_daemon):
    # Fuzz/FuzzPortfolio found that "[*" made toml++ abort on an assertion: the daemon would
    # have died on a reload. It must be an ordinary configuration problem.
    daemon = make_daemon(portfolio([objective("alpha", "2030-03-31")], dialogue="fuzzed")).start()
    daemon.write_portfolio("[*", name="broken.toml")
    result = subprocess.run([ACCORDD, "check", "--config", daemon.config], capture_output=True, text=True)
    assert result.returncode == 78 and "broken.toml:1" in result.stderr and "TOML syntax" in result.stderr
    daemon.sighup()
    assert wait_for(lambda: [e for e in journal_entries("MESSAGE_ID=9d8a5b038ac74d818278025ffacfe2ab")
                             if "broken.toml" in e["MESSAGE"]])
    assert daemon.process.poll() is None


HOLD = r"""
import socket, sys, time
path, count = sys.argv[1], int(sys.argv[2])
held, answered = [], 0
for _ in range(count):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    try:
        s.sendall(b'{"method":"io.accord.Tracker.Status"}\0')
        answered += s.recv(65536).endswith(b"\0")
    except OSError:
        pass
    held.append(s)
print(answered, flush=True)
sys.stdin.read()  # hold the connections until the test closes stdin
"""


def test_a_reader_cannot_take_every_connection_and_idle_ones_are_closed(make_daemon):
    """Issue 16, defect 5: a per-user share, slots kept for root and the admin group, and an
    idle timeout (Watch clients excepted), set in accordd.toml's [control]."""
    reader = ensure_user("accord-e2e-reader", groups=("accord",))
    daemon = make_daemon(portfolio([objective("alpha", "2030-03-31")], dialogue="slots"),
                         extra_config='[control]\nmax-connections = 12\nper-user = 20\nreserved-for-admins = 4\n'
                                      'idle-timeout = "PT2S"\n').start()
    holders = []
    try:
        # A reader gets 8 of 12: the last 4 are kept; the 9th and 10th are closed at once.
        holder = subprocess.Popen(["runuser", "-u", reader, "--", "python3", "-c", HOLD, daemon.socket_path, "10"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline().strip() == "8"
        # Root still gets in, within the share the others cannot take.
        root = subprocess.Popen(["python3", "-c", HOLD, daemon.socket_path, "4"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        holders.append(root)
        assert root.stdout.readline().strip() == "4"
    finally:
        for process in holders:
            process.stdin.close()
            process.wait(timeout=10)
    # One user's share, changed by a reload: 3 of 5 answered.
    daemon.write_config(extra='[control]\nper-user = 3\nidle-timeout = "PT2S"\n')
    rc, out, err = run([ACCORDCTL, "--socket", daemon.socket_path, "reload"])
    assert rc == 0, err
    holder = subprocess.Popen(["runuser", "-u", reader, "--", "python3", "-c", HOLD, daemon.socket_path, "5"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "3"
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # Idle: a silent connection is closed after about 2 s; a Watch client is not.
    silent = connect(daemon.socket_path)
    watcher = connect(daemon.socket_path)
    watcher.sendall(b'{"method":"io.accord.Tracker.Watch","more":true}\0')
    started = time.monotonic()
    silent.settimeout(10)
    assert silent.recv(1) == b"", "the idle connection was not closed"
    assert 1.5 <= time.monotonic() - started < 6
    time.sleep(2.5)
    watcher.sendall(b'{"method":"io.accord.Tracker.Status"}\0')
    watcher.settimeout(5)
    assert b"version" in watcher.recv(65536), "the Watch client was closed as idle"
