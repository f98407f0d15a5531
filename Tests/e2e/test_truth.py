"""What a date rests on, who owns it, what fulfils it, and when to stop nagging (issue 11,
docs/contracts.md §10 and §11), against the real journal: ACCORD_BASIS, ACCORD_OWNER and
ACCORD_TITLE on reminder entries; the one lapsed entry, once across a restart; and an
instrument's signature recorded over the socket completing the objective it fulfils, with the
recorder named in the history. Deadlines are instants a few seconds ahead."""
import json
import os
import time

from accordtest import LAPSED, OVERDUE, accordctl, instant, instrument, objective, portfolio, reminder_entries, wait_for


def test_basis_owner_and_title_on_every_reminder_entry(make_daemon):
    due = instant(3)
    daemon = make_daemon(portfolio([
        objective("assumed", f'{{ date = {due}, basis = "assumed", source = "a guess" }}', title="An assumed talk",
                  reminders=["PT1S", "P0D"], owner='"RCMP"'),
        objective("bare", due, title="A planned talk", reminders=["P0D"]),
    ], dialogue="truth", leads=["P0D"], owner='"Public Safety Canada"')).start()
    entries = wait_for(lambda: (lambda found: found if len(found) >= 3 else None)(reminder_entries(ACCORD_DIALOGUE="truth")),
                       timeout=15)
    assert entries, daemon.stderr()
    for e in entries:
        for field in ("ACCORD_BASIS", "ACCORD_OWNER", "ACCORD_TITLE"):
            assert field in e, f"{field} missing from {e['ACCORD_REMINDER']}"
    by_item = {}
    for e in entries:
        by_item.setdefault(e["ACCORD_ITEM"], []).append(e)
    assert {e["ACCORD_BASIS"] for e in by_item["truth/assumed"]} == {"assumed"}
    assert {e["ACCORD_OWNER"] for e in by_item["truth/assumed"]} == {"RCMP"}
    assert {e["ACCORD_TITLE"] for e in by_item["truth/assumed"]} == {"An assumed talk"}
    assert all(e["MESSAGE"].endswith("[assumed date]") for e in by_item["truth/assumed"])
    assert [e["ACCORD_BASIS"] for e in by_item["truth/bare"]] == ["planned"]
    assert [e["ACCORD_OWNER"] for e in by_item["truth/bare"]] == ["Public Safety Canada"]
    assert [e["ACCORD_TITLE"] for e in by_item["truth/bare"]] == ["A planned talk"]
    # upcoming and plan --json carry the basis too
    rc, out, _ = accordctl("--socket", daemon.socket_path, "--json", "show", "assumed")
    shown = json.loads(out)
    dates = shown["definition"]["dates"]
    assert rc == 0 and [(d["key"], d["basis"], d["source"]) for d in dates] == [("due", "assumed", "a guess")]
    assert shown["deadlines"][0]["basis"] == "assumed" and shown["deadlines"][0]["source"] == "a guess"
    assert daemon.stop() == 0


def test_the_lapsed_entry_fires_once_and_only_once_across_a_restart(make_daemon):
    """Due in 2 s, overdue every PT1S for PT3S: +PT1S and +PT2S are overdue entries, then one
    lapsed entry at +PT3S; a restart after it fires nothing more for that deadline."""
    due = instant(2)
    daemon = make_daemon(portfolio([
        objective("late", due, reminders=["P0D"], overdue_for='"PT3S"'),
    ], dialogue="lapse", leads=["P0D"], overdue="PT1S")).start()
    lapsed = wait_for(lambda: [e for e in reminder_entries(ACCORD_DIALOGUE="lapse") if e["MESSAGE_ID"] == LAPSED], timeout=15)
    assert lapsed, daemon.stderr()
    assert len(lapsed) == 1 and lapsed[0]["ACCORD_LEAD"] == "+PT3S" and "has lapsed" in lapsed[0]["MESSAGE"]
    time.sleep(1.5)
    entries = reminder_entries(ACCORD_DIALOGUE="lapse")
    overdue = [e["ACCORD_LEAD"] for e in entries if e["MESSAGE_ID"] == OVERDUE]
    assert overdue == ["+PT1S", "+PT2S"], overdue
    rc, out, _ = accordctl("--socket", daemon.socket_path, "--json", "list", "--state", "lapsed")
    assert rc == 0 and [i["id"] for i in json.loads(out)["items"]] == ["lapse/late"]
    assert json.loads(out)["items"][0]["nextDeadline"]["lapsed"] is True
    count = len(entries)
    daemon.restart()
    time.sleep(2.5)
    daemon.kill9()
    daemon.start()
    time.sleep(2.0)
    assert daemon.stop() == 0
    after = reminder_entries(ACCORD_DIALOGUE="lapse")
    assert len(after) == count, [e["ACCORD_REMINDER"] for e in after]
    assert len([e for e in after if e["MESSAGE_ID"] == LAPSED]) == 1
    assert daemon.ledger()[lapsed[0]["ACCORD_REMINDER"]]["outcome"] == "fired"


def test_recording_signed_completes_the_objective_and_names_the_recorder(make_daemon):
    sign_by = instant(86400 * 20)
    daemon = make_daemon(portfolio([
        objective("assets-signing", sign_by, title="Complete work related to the signing",
                  fulfilled_by='{ item = "assets-agreement", event = "signed" }'),
        instrument("assets-agreement", kind="agreement", sign_by=sign_by),
    ], dialogue="link", leads=["P7D", "P0D"])).start()
    env = {"ACCORD_SOCKET": daemon.socket_path}
    rc, out, _ = accordctl("--json", "upcoming", "--within", "P30D", env=env)
    upcoming = json.loads(out)["reminders"]
    assert rc == 0 and {r["item"] for r in upcoming} == {"link/assets-agreement"}, upcoming  # the pair reminds once
    assert all("fulfils objective link/assets-signing" in r["message"] for r in upcoming)
    rc, out, err = accordctl("--json", "record", "assets-agreement", "signed", env=env)
    assert rc == 0, err
    recorded = json.loads(out)
    assert recorded["state"] == "signed" and recorded["event"]["basis"] == "recorded"
    rc, out, _ = accordctl("--json", "show", "assets-signing", env=env)
    assert rc == 0 and json.loads(out)["item"]["state"] == "done"
    assert json.loads(out)["definition"]["fulfilledBy"] == "link/assets-agreement signed"
    rc, out, _ = accordctl("--json", "history", "assets-signing", env=env)
    entries = json.loads(out)["entries"]
    user = recorded["event"]["user"]
    assert any("derived from link/assets-agreement signed" in e["detail"] and f"recorded by {user}" in e["detail"]
               and e["user"] == user for e in entries), entries
    rc, out, _ = accordctl("--json", "upcoming", "--within", "P30D", env=env)
    assert json.loads(out)["reminders"] == []  # both streams stopped
    assert daemon.stop() == 0


def test_the_notify_hook_gets_basis_owner_and_title(make_daemon, scratch):
    # The hook may not write where the daemon keeps its state (the scratch folder): a folder of its own.
    os.mkdir(os.path.join(scratch, "hook-out"))
    marker = os.path.join(scratch, "hook-out", "hook-env")
    hook = os.path.join(scratch, "hook")
    with open(hook, "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s|%s|%s\\n" "$ACCORD_BASIS" "$ACCORD_OWNER" "$ACCORD_TITLE" >> {marker}\n')
    os.chmod(hook, 0o755)
    due = instant(3)
    daemon = make_daemon(portfolio([
        objective("hooked", f'{{ date = {due}, basis = "confirmed", source = "the record" }}', title="A confirmed talk",
                  reminders=["PT1S"]),
    ], dialogue="hookenv", owner='"Global Affairs Canada"'),
        extra_config=f'[notify]\nexec = ["{hook}"]\ntimeout = "PT5S"\n').start()
    assert wait_for(lambda: os.path.exists(marker) and open(marker).read().strip(), timeout=15), daemon.stderr()
    assert open(marker).read().splitlines() == ["confirmed|Global Affairs Canada|A confirmed talk"]
    assert daemon.stop() == 0
