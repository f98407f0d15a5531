"""The tamper-evident audit trail (docs/design.md §7) end to end: writes through a real daemon,
`accordctl audit verify` and the Varlink method, the chain recomputed by this test's own code,
the heads in the real journal, and a row edited by hand with the sqlite3 shell (psql with
STATE=postgresql) that verify names."""
import json
import os
import subprocess

from accordtest import (ACCORDD, AUDIT, accordctl, chain_check, instrument, journal_cursor, objective, portfolio, psql,
                        run, varlink_cli, wait_for_entries)


def test_the_chain_verifies_its_heads_are_in_the_journal_and_an_edited_row_is_named(make_daemon):
    daemon = make_daemon(portfolio([
        instrument("pact", sign_by="2030-01-31", term='"P1Y"'),
        objective("talks", "2030-03-31"),
    ], dialogue="chain")).start()
    ctl = ["--socket", daemon.socket_path]
    cursor = journal_cursor()
    for arguments in (("record", "pact", "negotiation-started", "--note", "round one"),
                      ("record", "pact", "concluded", "--note", "text agreed"),
                      ("record", "pact", "signed", "--note", "signed at the summit"),
                      ("ack", "talks"), ("snooze", "talks", "P1D"), ("reload",)):
        rc, out, err = accordctl(*ctl, *arguments)
        assert rc == 0, f"{arguments}: {err}"

    rc, out, err = accordctl(*ctl, "--json", "audit", "verify")
    assert rc == 0, err
    reply = json.loads(out)
    chains = {chain["table"]: chain for chain in reply["chains"]}
    assert reply["ok"] is True
    assert (chains["event"]["rows"], chains["event"]["headRow"]) == (3, 3)
    assert (chains["audit"]["rows"], chains["audit"]["headRow"]) == (6, 6)
    # The stored hashes are those the documented encoding gives, computed here in Python.
    for table in ("event", "audit"):
        assert chain_check(daemon.query, table) == (chains[table]["rows"], chains[table]["head"], None)

    # Each audit entry in the journal carries the heads once its row is in; the last one's are
    # verify's, and each entry's audit head is the hash stored on the row it names.
    entries = wait_for_entries(count=6, cursor=cursor, MESSAGE_ID=AUDIT)
    last = entries[-1]
    assert (last["ACCORD_AUDIT_HEAD"], last["ACCORD_AUDIT_ROW"]) == (chains["audit"]["head"], "6")
    assert (last["ACCORD_EVENT_HEAD"], last["ACCORD_EVENT_ROW"]) == (chains["event"]["head"], "3")
    stored = dict(daemon.query("SELECT id, hash FROM audit"))
    assert [stored[int(e["ACCORD_AUDIT_ROW"])] for e in entries] == [e["ACCORD_AUDIT_HEAD"] for e in entries]
    assert [e["ACCORD_ACTION"] for e in entries] == ["record", "record", "record", "acknowledge", "snooze", "reload"]

    rc, out, err = accordctl(*ctl, "audit", "verify")
    assert rc == 0, err
    assert f"event: ok, 3 row(s), row 3, head {chains['event']['head']}" in out
    assert f"audit: ok, 6 row(s), row 6, head {chains['audit']['head']}" in out

    # The chain survives a restart, and the third-party client gets the same answer.
    daemon.restart()
    rc, out, err = varlink_cli("call", f"unix:{daemon.socket_path}/io.accord.Tracker.VerifyAudit", "{}")
    assert rc == 0 and json.loads(out) == reply, err

    # Someone with write access to the database rewrites the note of event 2.
    edit = "UPDATE event SET note = 'text never agreed' WHERE id = 2"
    if daemon.state_url:
        psql(daemon.state_url, edit)
    else:
        subprocess.run(["sqlite3", daemon.database, edit], check=True, timeout=30)
    rc, out, err = accordctl(*ctl, "audit", "verify")
    assert rc == 2, (out, err)
    assert "event: broken at row 2 (1 row(s) before it verified)" in out
    assert "audit: ok, 6 row(s)" in out  # the audit lines were not touched
    assert "the audit trail does not verify: event row 2" in err
    rc, out, err = accordctl(*ctl, "--json", "audit", "verify")
    assert rc == 2
    broken = {chain["table"]: chain for chain in json.loads(out)["chains"]}["event"]
    assert (broken["brokenRow"], broken["rows"]) == (2, 1) and "changed, removed or inserted" in broken["reason"]
    assert chain_check(daemon.query, "event")[2] == 2

    # Without the daemon: accordd verify-audit on the configuration's database, or on a copy.
    daemon.stop()
    target = ["--config", daemon.config] if daemon.state_url else ["--state", daemon.database]
    rc, out, err = run([ACCORDD, "verify-audit", *target])
    assert rc == 2, (out, err)
    assert "event: broken at row 2" in out and "the audit trail does not verify: event row 2" in err
    rc, out, err = run([ACCORDD, "verify-audit", "--json", *target])
    assert rc == 2 and {c["table"]: c for c in json.loads(out)["chains"]}["event"]["brokenRow"] == 2
    rc, out, err = run([ACCORDD, "verify-audit", "--state", daemon.database + ".missing"])
    assert rc == 74 and "No such file" in err and not os.path.exists(daemon.database + ".missing")


def test_a_reader_may_verify(make_daemon):
    """VerifyAudit is a read: anyone who may open the socket may check the trail (accordctl(1))."""
    from accordtest import ensure_user
    reader = ensure_user("accord-e2e-reader", groups=("accord",))
    daemon = make_daemon(portfolio([objective("talks", "2030-03-31")], dialogue="chain")).start()
    rc, out, err = accordctl("--socket", daemon.socket_path, "audit", "verify", user=reader)
    assert rc == 0, err
    assert "event: ok, 0 row(s), empty" in out and "audit: ok, 0 row(s), empty" in out
