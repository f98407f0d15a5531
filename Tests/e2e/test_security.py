"""Security regressions of issue 16 at the journal and the hook: crash recovery trusts only
entries journald attributes to the daemon (defect 3), and the notify hook runs with an empty
signal mask, default dispositions, a process group of its own that the time limit kills whole,
and no write access to the state and socket directories (defect 7); the /tmp/accord-UID
fallback is refused when another user made it (defect 10)."""
import os
import pwd
import sqlite3
import subprocess
import time

from accordtest import (ACCORDCTL, ACCORDD, REACHED, daemon_config, ensure_user, epoch, instant, journal_entries, objective,
                        portfolio, reminder_entries, run, wait_for)


def pending_keys(daemon):
    return [row[0] for row in daemon.query("SELECT key FROM ledger WHERE pending = 1")]


def forge(key, user=None):
    """Sends an entry with ACCORD_REMINDER=key, SYSLOG_IDENTIFIER=accordd and a reminder
    MESSAGE_ID through `logger --journald`, as `user` (or root)."""
    fields = (f"MESSAGE=forged reminder {key}\nMESSAGE_ID={REACHED}\nSYSLOG_IDENTIFIER=accordd\n"
              f"PRIORITY=5\nACCORD_REMINDER={key}\nACCORD_ITEM={key.split(':')[0]}\n")
    rc, _, err = run(["logger", "--journald"], user=user, input=fields)
    assert rc == 0, f"logger --journald failed: {err}"


def test_forged_journal_entries_do_not_settle_a_claim(make_daemon):
    """A reminder claimed but not written when the daemon is killed; another user, and root
    through another program, then send ACCORD_REMINDER=<key>. After the restart the reminder
    still fires, from the daemon, once. Before the fix the forged entry settled the claim and
    the reminder never fired."""
    due = instant(12)
    daemon = make_daemon(portfolio([objective("x", due, reminders=["P0D"])], dialogue="forged")).start()
    claimed = wait_for(lambda: pending_keys(daemon), timeout=5)
    assert claimed, "the next batch was not claimed ahead of its second"
    daemon.kill9()
    assert time.time() < epoch(due), "too slow: the reminder was due before the kill"
    key = claimed[0]
    assert pending_keys(daemon) == [key]

    forger = ensure_user("accord-e2e-forger")
    forge(key, user=forger)
    forge(key)  # root, but through logger: _COMM and _EXE are not the daemon's
    forged = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(journal_entries(ACCORD_REMINDER=key)), timeout=5)
    assert forged and len(forged) == 2, f"the forged entries did not reach the journal: {forged}"
    assert {e["_UID"] for e in forged} == {str(pwd.getpwnam(forger).pw_uid), "0"}
    # journald reads _COMM from /proc: missing when logger exited first (an entry without it
    # matches no daemon identity either)
    assert {e.get("_COMM") for e in forged} <= {"logger", None}

    daemon.start()
    pid = daemon.process.pid
    fired = wait_for(lambda: [e for e in reminder_entries(ACCORD_REMINDER=key) if e["_PID"] == str(pid)],
                     timeout=max(5, epoch(due) - time.time() + 5))
    assert fired, daemon.describe(f"the claimed reminder {key} never fired: the forged entries settled it")
    time.sleep(0.5)
    assert len([e for e in reminder_entries(ACCORD_REMINDER=key) if e.get("_COMM") == "accordd"]) == 1
    assert daemon.ledger()[key]["outcome"] == "fired"
    assert "1 will fire again" in daemon.stderr() + "".join(
        e["MESSAGE"] for e in journal_entries(f"_PID={pid}") if "settled" in e["MESSAGE"])
    assert daemon.stop() == 0


def test_the_daemons_own_entry_still_settles_a_claim(make_daemon):
    """The other side: the daemon wrote the entry but could not record it (the database was
    locked) when it was killed; after the restart the claim is settled by that entry, so the
    reminder does not fire a second time. The identity match must not be too narrow."""
    due = instant(5)
    daemon = make_daemon(portfolio([objective("y", due, reminders=["P0D"])], dialogue="settled")).start()
    claimed = wait_for(lambda: pending_keys(daemon), timeout=5)
    assert claimed
    key = claimed[0]
    lock = sqlite3.connect(daemon.database, isolation_level=None, timeout=10)
    try:
        lock.execute("BEGIN EXCLUSIVE")  # the daemon's ledger update waits, then fails
        written = wait_for(lambda: reminder_entries(ACCORD_REMINDER=key), timeout=15)
        assert written and written[0]["_PID"] == str(daemon.process.pid), daemon.describe("the reminder did not fire")
        daemon.kill9()
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert pending_keys(daemon) == [key], "the claim was recorded despite the lock: nothing to settle"
    daemon.start()
    time.sleep(1.5)
    assert len(reminder_entries(ACCORD_REMINDER=key)) == 1, "the reminder fired again although its entry was written"
    assert daemon.ledger()[key]["outcome"] == "fired" and not pending_keys(daemon)
    assert daemon.stop() == 0


def test_tmp_fallback_owned_by_another_user_is_refused(scratch):
    """Without XDG_RUNTIME_DIR a user's daemon falls back to /tmp/accord-UID. When another user
    made that directory first, the daemon refuses to start (exit 73) and accordctl refuses to
    connect there, both naming the directory and its owner. Before the fix the daemon bound
    its socket in the other user's directory."""
    victim = ensure_user("accord-e2e-victim")
    mallory = ensure_user("accord-e2e-mallory")
    victim_uid, mallory_uid = pwd.getpwnam(victim).pw_uid, pwd.getpwnam(mallory).pw_uid
    planted = f"/tmp/accord-{victim_uid}"
    subprocess.run(["rm", "-rf", planted], check=True)
    os.mkdir(planted)
    os.chmod(planted, 0o777)
    os.chown(planted, mallory_uid, mallory_uid)
    try:
        os.makedirs(os.path.join(scratch, "portfolios"))
        with open(os.path.join(scratch, "portfolios", "p.toml"), "w") as f:
            f.write(portfolio([objective("t", "2030-01-01")], dialogue="tmp"))
        config = os.path.join(scratch, "accordd.toml")
        with open(config, "w") as f:
            f.write(daemon_config())
        state = os.path.join(scratch, "state")
        os.mkdir(state)
        os.chown(state, victim_uid, victim_uid)
        env = {k: v for k, v in os.environ.items()
               if k not in ("XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY", "ACCORD_SOCKET", "NOTIFY_SOCKET", "LISTEN_FDS")}
        env["STATE_DIRECTORY"] = state
        command = ["runuser", "-u", victim, "--", "env", "-u", "XDG_RUNTIME_DIR", ACCORDD, "run", "--config", config]
        daemon = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            rc = daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
            raise AssertionError(f"accordd started with its socket in {planted}, a directory of {mallory}: "
                                 f"{os.listdir(planted)}")
        err = daemon.stderr.read()
        assert rc == 73, f"exit {rc}: {err}"
        assert f"refusing to use {planted}: it is owned by uid {mallory_uid} ({mallory}), not by uid {victim_uid} ({victim})" in err, err
        assert os.listdir(planted) == [], "the daemon put something into the other user's directory"

        # the client: a socket of mallory's in the planted directory is never connected to
        listener = __import__("socket").socket(__import__("socket").AF_UNIX)
        listener.bind(os.path.join(planted, "io.accord.Tracker"))
        os.chmod(os.path.join(planted, "io.accord.Tracker"), 0o777)
        listener.listen(4)
        listener.setblocking(False)
        try:
            rc, out, err = run(["env", "-u", "XDG_RUNTIME_DIR", "-u", "ACCORD_SOCKET", ACCORDCTL, "status"], user=victim)
            assert f"warning: refusing to use {planted}: it is owned by uid {mallory_uid} ({mallory})" in err, err
            assert "/run/accord/io.accord.Tracker" in err, f"did not fall back to the system socket: {err}"
            try:
                listener.accept()
                raise AssertionError("accordctl connected to the socket in the other user's directory")
            except BlockingIOError:
                pass
        finally:
            listener.close()
    finally:
        subprocess.run(["rm", "-rf", planted], check=True)


def test_tmp_fallback_of_ones_own_is_made_0700(scratch):
    """The same fallback when it is free: made with mode 0700, owned by the user, and the
    daemon serves its socket there."""
    # in group accord: a daemon gives its socket to that group, or refuses to start
    user = ensure_user("accord-e2e-victim", groups=("accord",))
    uid = pwd.getpwnam(user).pw_uid
    directory = f"/tmp/accord-{uid}"
    subprocess.run(["rm", "-rf", directory], check=True)
    os.makedirs(os.path.join(scratch, "portfolios"))
    with open(os.path.join(scratch, "portfolios", "p.toml"), "w") as f:
        f.write(portfolio([objective("t", "2030-01-01")], dialogue="tmpown"))
    config = os.path.join(scratch, "accordd.toml")
    with open(config, "w") as f:
        f.write(daemon_config())
    state = os.path.join(scratch, "state")
    os.mkdir(state)
    os.chown(state, uid, uid)
    env = {k: v for k, v in os.environ.items() if k not in ("RUNTIME_DIRECTORY", "NOTIFY_SOCKET", "LISTEN_FDS")}
    env["STATE_DIRECTORY"] = state
    daemon = subprocess.Popen(["runuser", "-u", user, "--", "env", "-u", "XDG_RUNTIME_DIR", ACCORDD, "run",
                               "--config", config], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        socket_path = os.path.join(directory, "io.accord.Tracker")
        assert wait_for(lambda: os.path.exists(socket_path), timeout=10), daemon.stderr.read() if daemon.poll() else ""
        info = os.lstat(directory)
        assert (info.st_uid, oct(info.st_mode & 0o7777)) == (uid, "0o700")
        rc, out, err = run(["env", "-u", "XDG_RUNTIME_DIR", "-u", "ACCORD_SOCKET", ACCORDCTL, "status"], user=user)
        assert rc == 0 and "warning" not in err, (rc, out, err)
    finally:
        daemon.terminate()
        daemon.wait(10)
        subprocess.run(["rm", "-rf", directory], check=True)


def process_state(pid):
    """The state letter of /proc/PID/stat ('S', 'Z', ...), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def hook_script(scratch, body):
    hook = os.path.join(scratch, "hook")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(hook, 0o755)
    return hook


def test_hook_gets_default_signals_its_own_group_and_no_write_access(make_daemon, scratch):
    """The hook's /proc/PID/status: nothing blocked (SigBlk 0), nothing ignored (SigIgn 0), no
    supplementary groups (the daemon runs as root here); /proc/PID/stat: it leads its own
    process group. It cannot create files in the state or the socket directory, nor read the
    journal's files, and can still write next to them. Before the fix SigBlk and SigIgn were
    not 0 (a Dispatch worker's mask; SIGPIPE, SIGHUP, SIGTERM, SIGINT ignored) and the hook was
    in the daemon's process group."""
    out = os.path.join(scratch, "hook-out")
    os.mkdir(out)
    daemon = make_daemon(portfolio([objective("h", instant(3), reminders=["PT1S"])], dialogue="hookenv"))
    hook = hook_script(scratch, f"""
o={out}/report
echo "pid $$" > $o
echo "stat $(cut -d')' -f2 /proc/$$/stat)" >> $o
touch {daemon.state}/hook-was-here 2>/dev/null && echo "state-write yes" >> $o || echo "state-write no" >> $o
touch {daemon.runtime}/hook-was-here 2>/dev/null && echo "runtime-write yes" >> $o || echo "runtime-write no" >> $o
echo x >> {daemon.database} 2>/dev/null && echo "database-write yes" >> $o || echo "database-write no" >> $o
cat /run/log/journal/*/system.journal > /dev/null 2>&1 && echo "journal-read yes" >> $o || echo "journal-read no" >> $o
touch {out}/sibling && echo "sibling-write yes" >> $o || echo "sibling-write no" >> $o
# Last, by exec: the hook's own process reads its status. (Read from the shell while it
# waits for a command, it would show dash's temporary all-blocked mask.)
exec grep -E '^(SigBlk|SigIgn|Groups):' /proc/self/status >> $o
""")
    daemon.write_config(extra=f'[notify]\nexec = ["{hook}"]\ntimeout = "PT5S"\n')
    daemon.start()
    report = os.path.join(out, "report")
    assert wait_for(lambda: os.path.exists(report) and "SigIgn" in open(report).read(), timeout=15), \
        daemon.describe("the hook did not run")
    lines = {}
    for line in open(report).read().splitlines():
        name, _, value = line.replace("\t", " ").partition(" ")
        lines[name.rstrip(":")] = value.strip()
    assert int(lines["SigBlk"], 16) == 0, f"signals blocked in the hook: {lines['SigBlk']}"
    assert int(lines["SigIgn"], 16) == 0, f"signals ignored in the hook: {lines['SigIgn']}"
    assert lines["Groups"] == "", f"supplementary groups kept: {lines['Groups']}"
    stat = lines["stat"].split()  # state ppid pgrp session ...
    assert stat[2] == lines["pid"], f"the hook {lines['pid']} is in process group {stat[2]}, not its own"
    assert stat[1] == str(daemon.process.pid)
    assert lines["state-write"] == "no" and not os.path.exists(os.path.join(daemon.state, "hook-was-here"))
    assert lines["runtime-write"] == "no" and not os.path.exists(os.path.join(daemon.runtime, "hook-was-here"))
    assert lines["database-write"] == "no"
    assert lines["journal-read"] == "no"
    assert lines["sibling-write"] == "yes"
    assert daemon.stop() == 0


def test_hook_group_is_killed_at_the_limit_and_when_the_hook_exits(make_daemon, scratch):
    """A hook that starts a sleeping grandchild and then outlives its time limit (PT1S): the
    whole process group is killed, the grandchild too. And one that starts a grandchild and
    exits at once: the grandchild is killed with the hook's exit. Before the fix the
    grandchildren slept on, reparented."""
    out = os.path.join(scratch, "hook-out")
    os.mkdir(out)
    due = instant(4)
    hook = hook_script(scratch, f"""
sleep 60 &
echo $! > {out}/grandchild-${{ACCORD_ITEM##*/}}
case "$ACCORD_ITEM" in
  */slow) exec sleep 60 ;;
  *) exit 0 ;;
esac
""")
    daemon = make_daemon(portfolio([objective("slow", due, reminders=["PT2S"]), objective("quick", due, reminders=["PT2S"])],
                                   dialogue="hookgroup"),
                         extra_config=f'[notify]\nexec = ["{hook}"]\ntimeout = "PT1S"\n').start()
    files = [os.path.join(out, "grandchild-slow"), os.path.join(out, "grandchild-quick")]
    assert wait_for(lambda: all(os.path.exists(f) and open(f).read().strip() for f in files), timeout=15), \
        daemon.describe("the hooks did not run")
    slow, quick = (int(open(f).read()) for f in files)
    assert wait_for(lambda: process_state(quick) in (None, "Z"), timeout=3), \
        f"the grandchild {quick} of a hook that exited still runs ({process_state(quick)})"
    assert process_state(slow) not in (None, "Z"), "the slow hook's grandchild is gone before the limit"
    assert wait_for(lambda: process_state(slow) in (None, "Z"), timeout=4), \
        f"the grandchild {slow} of a hook killed at its limit still runs ({process_state(slow)})"
    assert wait_for(lambda: [e for e in journal_entries() if "timed out" in e.get("MESSAGE", "")], timeout=3)
    assert daemon.stop() == 0


def test_the_socket_path_is_never_followed_nor_anything_but_a_socket_removed(make_daemon, scratch):
    """Defect 10, the socket: a regular file or a symbolic link where the socket goes is left
    alone and named; a socket the daemon binds is 0660 from the start."""
    daemon = make_daemon(portfolio([objective("talks", "2031-01-31")], dialogue="sock"))
    os.makedirs(daemon.runtime, exist_ok=True)
    victim = os.path.join(scratch, "victim")
    with open(victim, "w") as f:
        f.write("keep me")
    for make in (lambda: open(daemon.socket_path, "w").close(), lambda: os.symlink(victim, daemon.socket_path)):
        make()
        rc, out, err = run([ACCORDD, "run", "--config", daemon.config],
                           env={"RUNTIME_DIRECTORY": daemon.runtime, "STATE_DIRECTORY": daemon.state})
        assert rc == 71 and "is not a socket" in err and daemon.socket_path in err, (rc, err)
        assert os.path.lexists(daemon.socket_path) and open(victim).read() == "keep me"
        os.unlink(daemon.socket_path)
    daemon.start()
    mode = os.stat(daemon.socket_path).st_mode
    assert oct(mode & 0o777) == "0o660" and (mode & 0o170000) == 0o140000
    daemon.stop()
    assert not os.path.lexists(daemon.socket_path), "a clean stop removes the socket it bound"


def test_a_socket_directory_others_may_write_to_is_refused(make_daemon):
    daemon = make_daemon(portfolio([objective("talks", "2031-01-31")], dialogue="sockdir"))
    os.makedirs(daemon.runtime, exist_ok=True)
    os.chmod(daemon.runtime, 0o777)
    rc, out, err = run([ACCORDD, "run", "--config", daemon.config],
                       env={"RUNTIME_DIRECTORY": daemon.runtime, "STATE_DIRECTORY": daemon.state})
    assert rc == 71 and "others may write to it" in err and daemon.runtime in err, (rc, err)
