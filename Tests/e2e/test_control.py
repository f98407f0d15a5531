"""The control channel end to end: the third-party Varlink client from PyPI, framing and limits
over a raw socket, peer-credential authorization with real users, and accordctl."""
import json
import os
import re
import socket
import subprocess
import time

import pytest

from accordtest import (AUDIT, accordctl, binary, call, connect, ensure_user, instrument, journal_entries, objective,
                        portfolio, read_replies, run, utc, varlink_cli)


@pytest.fixture
def daemon(make_daemon):
    for group in ("accord", "accord-admin"):
        ensure_user(f"accord-e2e-{group}", groups=(group,))  # creates the groups before the daemon binds
    text = portfolio([
        objective("talks", "2030-03-31", reminders='["P60D", "P14D", "P0D"]'),
        instrument("pilot-mou", sign_by="2030-01-31", term='"P1Y"', notice='"P90D"'),
        instrument("treaty", kind="treaty"),
    ], dialogue="ctl", leads=("P30D", "P7D", "P0D"), overdue="P7D", zone="America/Toronto")
    return make_daemon(text).start()


# --- the third-party client ------------------------------------------------------------

def test_varlink_cli_session(daemon):
    address = f"unix:{daemon.socket_path}"
    tracker = f"{address}/io.accord.Tracker"
    rc, out, err = varlink_cli("info", address)
    assert rc == 0 and "io.accord.Tracker" in out and "org.varlink.service" in out, err
    rc, out, err = varlink_cli("help", tracker)
    assert rc == 0 and "interface io.accord.Tracker" in out and "method Record(" in out, err

    valid = {
        "Status": {}, "List": {"kind": "instrument"}, "Show": {"id": "pilot-mou"}, "Upcoming": {"within": "P10Y"},
        "History": {}, "Record": {"id": "treaty", "event": "negotiation-started", "on": "2026-01-05", "note": "round one"},
        "Acknowledge": {"id": "talks"}, "Snooze": {"id": "talks", "for": "P1D"}, "Reload": {},
    }
    replies = {}
    for method, parameters in valid.items():
        rc, out, err = varlink_cli("call", f"{tracker}.{method}", json.dumps(parameters))
        assert rc == 0 and "error" not in err.lower(), f"{method}: {err}"
        replies[method] = json.loads(out)
    assert replies["Status"]["objectives"] == 1 and replies["Status"]["instruments"] == 2
    assert {i["id"] for i in replies["List"]["items"]} == {"ctl/pilot-mou", "ctl/treaty"}
    assert replies["Show"]["definition"]["term"] == "P1Y"
    assert any(r["key"] == "ctl/talks:due:2030-03-31:P60D" for r in replies["Upcoming"]["reminders"])
    assert replies["Record"]["state"] == "negotiating" and replies["Record"]["event"]["note"] == "round one"
    assert replies["Acknowledge"]["deadline"] == "due"
    assert replies["Reload"]["objectives"] == 1

    invalid = [
        ("Show", {"id": "nope"}, "io.accord.Tracker.NoSuchItem"),
        ("Show", {}, "org.varlink.service.InvalidParameter"),
        ("Show", {"id": 5}, "org.varlink.service.InvalidParameter"),
        ("List", {"kind": "spaceship"}, "org.varlink.service.InvalidParameter"),
        ("List", {"dueWithin": "P1X"}, "org.varlink.service.InvalidParameter"),
        ("Upcoming", {"within": "soon"}, "org.varlink.service.InvalidParameter"),
        ("History", {"since": "2026-13-01"}, "org.varlink.service.InvalidParameter"),
        ("Record", {"id": "treaty", "event": "completed"}, "io.accord.Tracker.InvalidEvent"),
        ("Record", {"id": "treaty", "event": "renewed"}, "io.accord.Tracker.InvalidEvent"),
        ("Record", {"id": "treaty", "event": "signed", "on": "yesterday"}, "org.varlink.service.InvalidParameter"),
        ("Acknowledge", {"id": "treaty"}, "io.accord.Tracker.InvalidEvent"),
        ("Acknowledge", {"id": "talks", "deadline": "birthday"}, "org.varlink.service.InvalidParameter"),
        ("Snooze", {"id": "talks", "for": "P0D"}, "org.varlink.service.InvalidParameter"),
        ("Status", {"extra": 1}, "org.varlink.service.InvalidParameter"),
        ("Explode", {}, "org.varlink.service.MethodNotFound"),
    ]
    for method, parameters, expected in invalid:
        rc, out, err = varlink_cli("call", f"{tracker}.{method}", json.dumps(parameters))
        assert expected in err + out, f"{method} {parameters}: expected {expected}, got {err}{out}"
    rc, out, err = varlink_cli("call", f"{address}/com.example.Nothing.Ping", "{}")
    assert "InterfaceNotFound" in err + out
    rc, out, err = varlink_cli("call", f"{tracker}.Watch", "{}")
    assert "ExpectedMore" in err + out

    # Watch with more: one reply per reminder as it fires.
    due = utc(4)
    daemon.write_portfolio(portfolio([objective("talks", "2030-03-31"), objective("now", due, reminders='["PT2S", "P0D"]')],
                                     dialogue="ctl"))
    watcher = subprocess.Popen([os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "bin", "python"),
                                "-m", "varlink.cli", "call", "-m", f"{tracker}.Watch", "{}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    daemon.sighup()
    try:
        out, err = watcher.communicate(timeout=8)
    except subprocess.TimeoutExpired:
        watcher.kill()
        out, err = watcher.communicate()
    assert f"ctl/now:due:{due}:PT2S" in out and f"ctl/now:due:{due}:P0D" in out, err


# --- framing and limits over a raw socket -----------------------------------------------

def test_framing(daemon):
    path = daemon.socket_path
    s = connect(path)
    # Several messages in one write, answered in order; a oneway call gets no reply.
    batch = b"".join(json.dumps(m).encode() + b"\0" for m in [
        {"method": "io.accord.Tracker.Show", "parameters": {"id": "talks"}},
        {"method": "io.accord.Tracker.Status", "oneway": True},
        {"method": "io.accord.Tracker.Show", "parameters": {"id": "nope"}},
        {"method": "org.varlink.service.GetInfo"},
    ])
    s.sendall(batch)
    first, second, third = read_replies(s, 3)
    assert first["parameters"]["item"]["id"] == "ctl/talks"
    assert second["error"] == "io.accord.Tracker.NoSuchItem"
    assert third["parameters"]["product"] == "accordd"
    # One message split across many writes.
    message = json.dumps({"method": "io.accord.Tracker.Show", "parameters": {"id": "pilot-mou"}}).encode() + b"\0"
    for byte in message:
        s.send(bytes([byte]))
    assert read_replies(s, 1)[0]["parameters"]["item"]["id"] == "ctl/pilot-mou"
    # A NUL inside a JSON string travels escaped.
    s.sendall(json.dumps({"method": "io.accord.Tracker.Show", "parameters": {"id": "a\u0000b"}}).encode() + b"\0")
    reply = read_replies(s, 1)[0]
    assert reply == {"error": "io.accord.Tracker.NoSuchItem", "parameters": {"id": "a\u0000b"}}
    # Invalid UTF-8 and malformed JSON get Varlink errors and the connection stays usable.
    s.sendall(b'{"method":"io.accord.Tracker.Show","parameters":{"id":"\xff\xfe"}}\0')
    assert read_replies(s, 1)[0]["error"] == "io.accord.Tracker.InvalidRequest"
    s.sendall(b'{"method": \0')
    assert read_replies(s, 1)[0]["error"] == "io.accord.Tracker.InvalidRequest"
    s.sendall(b'{"method":"io.accord.Tracker.Status"}\0')
    assert "objectives" in read_replies(s, 1)[0]["parameters"]
    s.close()

    # An oversized message: an error, then the connection closes.
    big = connect(path)
    try:
        big.sendall(b'{"method":"io.accord.Tracker.Show","parameters":{"id":"' + b"x" * 200_000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            chunk = big.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    assert b"io.accord.Tracker.RequestTooLarge" in data
    big.close()

    # A client that disconnects mid-reply: the daemon carries on.
    for _ in range(5):
        gone = connect(path)
        gone.sendall(b'{"method":"io.accord.Tracker.Upcoming","parameters":{"within":"P100Y"}}\0' * 2)
        gone.recv(1000)  # the reply has begun; leave in the middle of it
        gone.close()
    assert call(path, "io.accord.Tracker.Status")["parameters"]["objectives"] == 1
    assert daemon.process.poll() is None


def test_status_answers_from_the_state_of_the_moment_not_a_copy(daemon):
    """Status replies are kept encoded while what they say is unchanged: a reload and a record
    that change it must show in the very next call, on the same connection, within the second."""
    s = connect(daemon.socket_path)
    status = b'{"method":"io.accord.Tracker.Status"}\0'
    s.sendall(status * 3)
    first, second, third = (r["parameters"] for r in read_replies(s, 3))
    assert first == second == third and first["objectives"] == 1 and first["instruments"] == 2
    daemon.write_portfolio(portfolio([
        objective("talks", "2030-03-31", reminders='["P60D", "P14D", "P0D"]'),
        objective("later", "2031-03-31"),
        instrument("pilot-mou", sign_by="2030-01-31", term='"P1Y"', notice='"P90D"'),
        instrument("treaty", kind="treaty"),
    ], dialogue="ctl", leads=("P30D", "P7D", "P0D"), overdue="P7D", zone="America/Toronto"))
    s.sendall(b'{"method":"io.accord.Tracker.Reload"}\0' + status)
    reload, after = read_replies(s, 2)
    assert "error" not in reload, reload
    assert after["parameters"]["objectives"] == 2 and after["parameters"]["instruments"] == 2
    # The next reminder is the pilot MOU's sign-by (2030-01-01, P30D before 2030-01-31): once it
    # is signed, Status names another one at once.
    before = after["parameters"]["nextReminder"]["key"]
    assert before.startswith("ctl/pilot-mou:sign-by:"), before
    s.sendall(b'{"method":"io.accord.Tracker.Record","parameters":{"id":"pilot-mou","event":"signed","on":"2026-01-05"}}\0'
              + status)
    record, latest = read_replies(s, 2)
    assert "error" not in record, record
    assert not latest["parameters"]["nextReminder"]["key"].startswith("ctl/pilot-mou:sign-by:"), latest
    s.close()


def test_half_sent_message_is_closed_and_others_are_served(daemon):
    slow = connect(daemon.socket_path)
    slow.sendall(b'{"method":"io.accord.Tracker.Sta')
    started = time.monotonic()
    assert call(daemon.socket_path, "io.accord.Tracker.Status")["parameters"]["instruments"] == 2
    slow.settimeout(15)
    assert slow.recv(100) == b""  # closed by the daemon's time limit
    assert 9 <= time.monotonic() - started <= 14


# --- authorization and audit ------------------------------------------------------------

def test_writes_need_admin_group_and_are_audited(daemon):
    reader = ensure_user("accord-e2e-reader", groups=("accord",))
    admin = ensure_user("accord-e2e-admin", groups=("accord", "accord-admin"))
    socket_arg = ["--socket", daemon.socket_path]
    rc, out, err = accordctl(*socket_arg, "status", user=reader)
    assert rc == 0, err
    rc, out, err = accordctl(*socket_arg, "record", "treaty", "negotiation-started", user=reader)
    assert rc == 77 and "accord-admin" in err
    rc, out, err = accordctl(*socket_arg, "reload", user=reader)
    assert rc == 77
    rc, out, err = accordctl(*socket_arg, "record", "treaty", "negotiation-started", "--note", "by admin", user=admin)
    assert rc == 0 and "state now negotiating" in out, err

    rows = daemon.query('SELECT "user", action, item, allowed FROM audit ORDER BY id')
    assert (reader, "record", "ctl/treaty", 0) in rows
    assert (reader, "reload", None, 0) in rows
    assert (admin, "record", "ctl/treaty", 1) in rows
    entries = journal_entries(f"MESSAGE_ID={AUDIT}")
    refused = [e for e in entries if e.get("ACCORD_USER") == reader and e.get("ACCORD_ALLOWED") == "0"]
    allowed = [e for e in entries if e.get("ACCORD_USER") == admin and e.get("ACCORD_ALLOWED") == "1"]
    assert refused and allowed
    assert allowed[0]["ACCORD_UID"] == str(__import__("pwd").getpwnam(admin).pw_uid)


# --- accordctl --------------------------------------------------------------------------

def test_accordctl_commands_and_exit_codes(daemon):
    env = {"ACCORD_SOCKET": daemon.socket_path}
    rc, out, err = accordctl("status", env=env)
    assert rc == 0 and "1 objectives and 2 instruments" in out and "next" in out
    rc, out, err = accordctl("--json", "status", env=env)
    status = json.loads(out)
    assert rc == 0 and status["objectives"] == 1 and list(status)[0] == "version"
    rc, out, err = accordctl("list", env=env)
    assert rc == 0 and "ctl/pilot-mou" in out and "in " in out and "3 items" in out
    assert "\x1b[" not in out  # no colour off a terminal
    rc, out, err = accordctl("list", "--kind", "treaty", "--json", env=env)
    assert [i["id"] for i in json.loads(out)["items"]] == ["ctl/treaty"]
    rc, out, err = accordctl("show", "pilot-mou", env=env)
    assert rc == 0 and "Deadlines" in out and "sign-by" in out
    rc, out, err = accordctl("upcoming", "--within", "P10Y", env=env)
    assert rc == 0 and "ctl/talks: due in 60 days (2030-03-31)" in out
    rc, out, err = accordctl("record", "pilot-mou", "signed", "--on", "2029-12-01", env=env)
    assert rc == 0 and "state now signed" in out
    rc, out, err = accordctl("record", "pilot-mou", "in-force", "--on", "2030-01-15", "--json", env=env)
    assert rc == 0 and json.loads(out)["state"] == "in-force"
    rc, out, err = accordctl("upcoming", "--within", "P10Y", "--json", env=env)
    keys = [r["key"] for r in json.loads(out)["reminders"]]
    assert "ctl/pilot-mou:expiry:2031-01-15:P30D" in keys and "ctl/pilot-mou:renewal-notice:2030-10-17:P30D" in keys
    assert not any(k.startswith("ctl/pilot-mou:sign-by") for k in keys)
    rc, out, err = accordctl("history", "pilot-mou", env=env)
    assert rc == 0 and "in-force on 2030-01-15" in out
    rc, out, err = accordctl("ack", "talks", env=env)
    assert rc == 0 and "acknowledged due of ctl/talks" in out
    rc, out, err = accordctl("snooze", "pilot-mou", "P2D", env=env)
    assert rc == 0 and "snoozed ctl/pilot-mou until" in out
    rc, out, err = accordctl("reload", env=env)
    assert rc == 0 and "reloaded" in out
    # Exit codes of docs/contracts.md §8.
    assert accordctl("show", "nope", env=env)[0] == 1
    assert accordctl("record", "pilot-mou", "completed", env=env)[0] == 1
    assert accordctl("frobnicate", env=env)[0] == 64
    assert accordctl("upcoming", "--within", "P1X", env=env)[0] == 65
    assert accordctl("--socket", "/nonexistent/socket", "status")[0] == 69
    assert accordctl("--timeout", "0", "status", env=env)[0] == 64
    daemon.write_portfolio("[dialogue]\nid = \"ctl\"\n")
    rc, out, err = accordctl("reload", env=env)
    assert rc == 78 and "title" in err
    assert accordctl("status", env=env)[0] == 0


def test_accordctl_hand_parser_prints_what_argument_parser_prints(daemon):
    """status, list, show and upcoming are parsed by hand before ArgumentParser is touched
    (Sources/accordctl/QuickCommand.swift: start-up time); --timeout given twice leaves the same
    command to ArgumentParser, which must give the same output, errors and exit status."""
    sock = daemon.socket_path
    env = {"ACCORD_SOCKET": sock}
    cases = [
        (["status"], env), (["--json", "status"], env), (["--socket", sock, "status"], None),
        (["status", f"--socket={sock}", "--json"], None), (["--json", "--socket", sock, "list"], None),
        (["list", "--kind", "treaty", "--socket", sock], None), (["list", "--limit=1", "--json"], env),
        (["list", "--kind", "spaceship"], env), (["show", "pilot-mou"], env), (["--timeout", "5", "show", "--json", "pilot-mou"], env),
        (["--json", "show", "nope"], env), (["show", "nope"], env), (["upcoming", "--within", "P10Y"], env),
        (["upcoming", "--within=P10Y", "--json", "--limit", "2"], env), (["upcoming", "--within", "P1X"], env),
        (["--socket", "/nonexistent/socket", "status"], None), (["list", "--socket", "/nonexistent/socket"], None),
    ]
    for args, case_env in cases:
        for _ in range(3):  # relative times ("7 seconds ago") may tick between the two runs
            quick = accordctl(*args, env=case_env)
            argument_parser = accordctl(*args, "--timeout", "30", "--timeout", "30", env=case_env)
            if quick == argument_parser:
                break
        assert quick == argument_parser, args
        assert quick[0] in (0, 1, 65, 69), (args, quick)
    # What the hand parser leaves alone is still ArgumentParser's: help, usage errors, validation.
    rc, out, err = accordctl("status", "--help")
    assert rc == 0 and "USAGE: accordctl status [--socket <path>] [--json] [--timeout <seconds>]" in out
    rc, out, err = accordctl("-h")
    assert rc == 0 and "SUBCOMMANDS:" in out
    rc, out, err = accordctl("status", "--bogus", env=env)
    assert rc == 64 and "Unknown option '--bogus'" in err
    rc, out, err = accordctl("list", "--limit", "0", env=env)
    assert rc == 64 and "--limit must be 1 or more, not 0" in err
    rc, out, err = accordctl("show", env=env)
    assert rc == 64 and "Missing expected argument '<item>'" in err


def test_accordctl_gives_up_on_a_daemon_that_never_answers(scratch):
    path = os.path.join(scratch, "silent.sock")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(path)
    silent.listen(8)  # the kernel completes the connection; nobody ever reads or answers
    try:
        for command in (["status"], ["show", "x"], ["watch"]):
            started = time.monotonic()
            rc, out, err = accordctl("--socket", path, "--timeout", "1", *command, timeout=15)
            waited = time.monotonic() - started
            assert rc == 69 and f"accordd at {path} did not answer within 1 s" in err, (command, rc, err)
            assert 0.9 <= waited < 10, (command, waited)
    finally:
        silent.close()


def test_both_programs_print_their_version():
    versions = {run([binary(name), "--version"])[1].strip() for name in ("accordd", "accordctl")}
    assert len(versions) == 1 and re.fullmatch(r"\d+\.\d+\.\d+", versions.pop())


def test_accordctl_watch_streams(daemon):
    due = utc(4)
    daemon.write_portfolio(portfolio([objective("w", due, reminders='["PT2S", "P0D"]')], dialogue="ctl"))
    watcher = subprocess.Popen([os.environ.get("ACCORDCTL", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "accordctl")),
                                "--socket", daemon.socket_path, "--json", "watch"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    daemon.sighup()
    lines = []
    end = time.monotonic() + 10
    while len(lines) < 2 and time.monotonic() < end:
        line = watcher.stdout.readline()
        if line:
            lines.append(json.loads(line))
    watcher.terminate()
    watcher.wait()
    assert [l["reminder"]["lead"] for l in lines] == ["PT2S", "P0D"]


def test_groups_are_the_callers_not_the_user_databases(daemon):
    """SO_PEERGROUPS: a process of an admin user that dropped accord-admin from its groups is
    not an admin (issue 16, defect 6)."""
    admin = ensure_user("accord-e2e-admin", groups=("accord", "accord-admin"))
    socket_arg = ["--socket", daemon.socket_path]
    dropped = ["setpriv", "--reuid", admin, "--regid", "accord", "--groups", "accord", "--"]
    rc, out, err = run([*dropped, binary("accordctl"), *socket_arg, "status"])
    assert rc == 0, err
    rc, out, err = run([*dropped, binary("accordctl"), *socket_arg, "record", "treaty", "negotiation-started"])
    assert rc == 77 and "accord-admin" in err, (rc, out, err)
    rc, out, err = accordctl(*socket_arg, "record", "treaty", "negotiation-started", user=admin)
    assert rc == 0, err


def test_the_daemon_checks_read_access_itself(make_daemon):
    """A socket whose mode was loosened (here: one passed by LISTEN_FDS with mode 0666) still
    lets only root, the socket's group and the admin group read."""
    ensure_user("accord-e2e-reader", groups=("accord",))
    outsider = ensure_user("accord-e2e-outsider")
    daemon = make_daemon(portfolio([objective("talks", "2031-01-31")], dialogue="readers"), listen=True).start()
    os.chmod(daemon.socket_path, 0o666)
    os.chmod(os.path.dirname(daemon.socket_path), 0o755)
    rc, out, err = accordctl("--socket", daemon.socket_path, "status", user=outsider)
    assert rc == 77 and "permission denied" in err, (rc, out, err)
    rc, out, err = accordctl("--socket", daemon.socket_path, "status", user="accord-e2e-reader")
    assert rc == 0, err


def test_refused_writes_are_cheap_bounded_and_escaped(daemon):
    """Issue 16, defect 4: a reader looping on Record gets ten audited refusals a minute, each
    storing a bounded id with its control characters visible; the rest are refused uncounted in
    the database, and accordctl never prints a raw control character."""
    reader = ensure_user("accord-e2e-reader", groups=("accord",))
    hostile_id = "\x1b]0;owned\x07" + "x" * 60_000
    call = json.dumps({"method": "io.accord.Tracker.Record", "parameters": {"id": hostile_id, "event": "signed"}})
    script = ("import socket,sys\n"
              "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
              f"m={call!r}.encode()+b'\\0'\n"
              "for _ in range(200): s.sendall(m)\n"
              "n=0;buf=b''\n"
              "while n<200:\n"
              "    buf+=s.recv(65536);n=buf.count(b'\\0')\n"
              "print(buf.count(b'PermissionDenied'))\n")
    rc, out, err = run(["python3", "-c", script, daemon.socket_path], user=reader, timeout=60)
    assert rc == 0 and out.strip() == "200", (rc, out, err)
    rows = daemon.query('SELECT item, detail FROM audit WHERE "user" = ? AND allowed = 0', reader)
    assert len(rows) == 10, f"{len(rows)} refusals audited"
    for item, detail in rows:
        assert len(item.encode()) <= 128 and not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in item), item[:80]
        assert item.startswith("\\u{1B}]0;owned\\u{7}")
    refused = [e for e in journal_entries(f"MESSAGE_ID={AUDIT}", f"_PID={daemon.pid}") if e.get("ACCORD_USER") == reader]
    assert len(refused) == 10, f"{len(refused)} refusals in the journal"
    rc, out, err = accordctl("--socket", daemon.socket_path, "history")
    assert rc == 0 and "\x1b" not in out and "\x07" not in out and "\\u{1B}]0;owned" in out, err
