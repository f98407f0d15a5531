"""Two hosts, one reminder (docs/contracts.md §15): two daemons on one PostgreSQL database, the
active one killed (kill -9), stopped (SIGSTOP, then SIGCONT after the takeover) or cut off
(pg_terminate_backend), or the database server itself stopped for a while; every reminder fires exactly once across both, none is lost beyond the
catch-up rules, and the standby takes over within `takeover` (PT3S here). The rounds are
Tests/e2e/failover.py's (which, run as a program, is the 20-round harness: make failover).
Also: a standby answers reads, refuses writes naming the active daemon, and Status says who is
who. Needs the PostgreSQL server of the PostgreSQL stage (STATE=postgresql); skipped otherwise.
FAILOVER_SECONDS (default 20) sets how long reminders fall due in each round."""
import os
import random
import subprocess

import pytest

from accordtest import ACCORDD, STATE, accordctl, call, objective, portfolio, quoted, utc, wait_for
import failover

pytestmark = pytest.mark.skipif(STATE != "postgresql", reason="needs the PostgreSQL server of STATE=postgresql")


@pytest.mark.parametrize("fault", failover.FAULTS)
def test_every_reminder_fires_once_across_a_failover(postgres_server, scratch, fault):
    result = failover.run_round(scratch, postgres_server, fault, int(os.environ.get("FAILOVER_SECONDS", "20")),
                                random.Random())
    print(f"{fault}: takeover {result['takeover']} s; {result}")
    assert not result["problems"], "\n".join(result["problems"][:20])
    assert result["takeover"] is not None and result["takeover"] <= failover.TAKEOVER, result


def test_a_standby_reads_refuses_writes_and_names_the_active_daemon(make_daemon):
    text = portfolio([objective("talks", utc(3600))], dialogue="pair")
    a = make_daemon(text)
    extra = f"[state]\nurl = {quoted(a.state_url)}\ntakeover = \"PT3S\"\n"
    a.write_config(extra=extra)
    b = make_daemon(text)
    b.write_config(extra=extra)
    b.state_url = a.state_url
    a.start()
    b.start()
    sa = call(a.socket_path, "io.accord.Tracker.Status", {})["parameters"]
    sb = call(b.socket_path, "io.accord.Tracker.Status", {})["parameters"]
    assert sa["role"] == "active" and sa["activeHost"].endswith(f"({a.pid})"), sa
    assert sb["role"] == "standby" and sb["activeHost"] == sa["activeHost"], sb
    assert "STATUS=standby (active: " in "\n".join(b.notify.lines()), b.notify.lines()
    # Reads on the standby come from the shared database.
    listed = call(b.socket_path, "io.accord.Tracker.List", {})["parameters"]["items"]
    assert [i["id"] for i in listed] == ["pair/talks"]
    # A write on the standby is refused, naming the active daemon; nothing is written.
    reply = call(b.socket_path, "io.accord.Tracker.Record", {"id": "talks", "event": "started"})
    assert reply.get("error") == "io.accord.Tracker.NotActive", reply
    assert reply["parameters"] == {"method": "Record", "activeHost": sa["activeHost"]}
    assert b.query("SELECT count(*) FROM event") == [(0,)]
    rc, out, err = accordctl("status", env={"ACCORD_SOCKET": b.socket_path})
    assert rc == 0 and f"standby: {sa['activeHost']} is active" in out, (out, err)
    rc, out, err = accordctl("record", "talks", "started", env={"ACCORD_SOCKET": b.socket_path})
    assert rc == 69 and f"the active one is {sa['activeHost']}" in err, (rc, out, err)
    # The write on the active daemon reaches the standby's replies at its next look (PT1S).
    assert "error" not in call(a.socket_path, "io.accord.Tracker.Record", {"id": "talks", "event": "started"})
    assert wait_for(lambda: call(b.socket_path, "io.accord.Tracker.Show", {"id": "talks"})["parameters"]["item"]["state"]
                    == "in-progress", timeout=5)
    # A clean stop of the active daemon hands over at the standby's next try.
    assert a.stop() == 0
    assert wait_for(lambda: call(b.socket_path, "io.accord.Tracker.Status", {})["parameters"]["role"] == "active", timeout=3)
    assert b.journal(MESSAGE_ID=failover.BECAME_ACTIVE)


def test_check_connect_says_whether_the_database_answers_and_its_schema(make_daemon):
    daemon = make_daemon(portfolio([objective("talks", utc(3600))], dialogue="probe"))
    check = [ACCORDD, "check", "--config", daemon.config]
    # Without --connect [state] is only read: the URL and takeover are shown, nothing is asked.
    plain = subprocess.run(check, capture_output=True, text=True)
    assert plain.returncode == 0 and f"state: PostgreSQL {daemon.state_url}" in plain.stdout, plain
    fresh = subprocess.run(check + ["--connect"], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh
    assert "the database answers (PostgreSQL 15" in fresh.stdout and "no schema yet" in fresh.stdout, fresh.stdout
    assert "no daemon is active" in fresh.stdout, fresh.stdout
    assert daemon.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)], "check changed the database"
    daemon.start()
    running = subprocess.run(check + ["--connect"], capture_output=True, text=True)
    assert running.returncode == 0 and "as this accordd expects" in running.stdout, running.stdout
    assert f"({daemon.pid}) is active" in running.stdout, running.stdout
    daemon.stop()
    # A database that does not answer: exit 69, naming the file and key.
    missing = daemon.state_url.replace("/e2e_", "/missing_")
    daemon.write_config(extra=f"[state]\nurl = {quoted(missing)}\n")
    down = subprocess.run(check + ["--connect"], capture_output=True, text=True)
    assert down.returncode == 69, down
    assert f"{daemon.config}: [state] url: the database does not answer" in down.stdout and "missing_" in down.stdout, down
    # A takeover below PT3S is a configuration error naming the key.
    daemon.write_config(extra=f"[state]\nurl = {quoted(daemon.state_url)}\ntakeover = \"PT1S\"\n")
    short = subprocess.run(check, capture_output=True, text=True)
    assert short.returncode == 78 and "takeover" in short.stdout + short.stderr and daemon.config in short.stdout + short.stderr
    # SQLite: --connect has nothing to ask.
    daemon.state_url = None
    daemon.write_config()
    sqlite = subprocess.run(check + ["--connect"], capture_output=True, text=True)
    assert sqlite.returncode == 0 and "nothing to connect to" in sqlite.stdout, sqlite
