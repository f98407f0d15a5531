"""iCalendar export and subscription (issue 13, items 1 and 2): `accordd plan --ics`, `accordctl
export --ics` and the daemon's $STATE_DIRECTORY/accord.ics, read back by an independent RFC 5545
parser (PyPI icalendar) and imported into a real calendar program (Debian's khal)."""
import datetime as dt
import os
import subprocess
import threading
import time

import icalendar

from accordtest import REPO, accordctl, binary, instrument, objective, portfolio, run, utc

SHIPPED = os.path.join(REPO, "Config", "accordd.toml")


def plan_ics(*args):
    """The calendar exactly as written (bytes decoded, CRLF kept: no universal newlines)."""
    result = subprocess.run([binary("accordd"), "plan", *args, "--ics"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def events(text):
    return {str(e["UID"]): e for e in icalendar.Calendar.from_ical(text).walk("VEVENT")}


def test_every_deadline_of_the_shipped_portfolio_is_an_event_with_its_date_and_alarms():
    import json
    rc, out, err = run([binary("accordd"), "plan", "--config", SHIPPED, "--from", "2016-01-01", "--until", "2030-12-31", "--json"])
    assert rc == 0, err
    reminders = json.loads(out)
    text = plan_ics("--config", SHIPPED)
    found = events(text)
    # Every deadline the plan reminds of is an event on that date, with one alarm per lead.
    deadlines = {}
    for r in reminders:
        deadlines.setdefault((r["item"], r["deadline"], r["key"].split(":")[2]), set()).add(r["lead"])
    assert deadlines, "the shipped plan has no reminders"
    for (item, kind, when), leads in deadlines.items():
        matching = [e for e in found.values()
                    if f"({item})" in str(e["SUMMARY"]) and f"Deadline: {kind} {when}" in str(e["DESCRIPTION"])]
        assert len(matching) == 1, f"{item} {kind} {when}: {len(matching)} events"
        event = matching[0]
        assert event["DTSTART"].dt == dt.date.fromisoformat(when)
        assert str(event["CATEGORIES"].cats[0]) == "ca-cn-nsrl"
        alarms = event.walk("VALARM")
        if str(event["STATUS"]) != "CANCELLED":  # a deadline that no longer applies carries no alarm
            assert len(alarms) >= len({lead for lead in leads if not lead.startswith("+")})
        assert all(str(a["ACTION"]) == "DISPLAY" for a in alarms)
    # Lines end with CRLF and none is longer than 75 octets (RFC 5545 3.1).
    raw = text.encode()
    assert raw.count(b"\r\n") == raw.count(b"\n")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75


def test_uids_are_stable_across_runs():
    first, second = events(plan_ics("--config", SHIPPED)), events(plan_ics("--config", SHIPPED))
    assert set(first) == set(second) and len(first) >= 8
    assert all(uid.endswith("@accord") for uid in first)


def test_folding_and_escaping_round_trip_exactly(scratch):
    title = ("Treaty on mutual legal assistance, extradition; transfer of offenders\nsecond line: "
             + "中华人民共和国与加拿大, 司法协助; " * 6 + "backslash \\ end")
    title = (title * 2)[:300]
    path = os.path.join(scratch, "p.toml")
    with open(path, "w") as f:
        f.write(portfolio([objective("long", "2031-05-01", title=title)], dialogue="fold"))
    text = plan_ics("--portfolio", path)
    (event,) = events(text).values()
    assert str(event["SUMMARY"]).startswith(title)
    assert str(event["DESCRIPTION"]).startswith(title)
    raw = text.encode()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75
    # Folding never splits a UTF-8 sequence: every physical line decodes on its own.
    for line in raw.split(b"\r\n"):
        line.decode("utf-8")


def test_instants_carry_their_zone_with_a_vtimezone(scratch):
    path = os.path.join(scratch, "p.toml")
    with open(path, "w") as f:
        f.write(portfolio([objective("meeting", "2031-03-09T10:00:00-05:00", reminders=["PT2H"])], dialogue="zoned",
                          zone="America/Toronto"))
    text = plan_ics("--portfolio", path)
    calendar = icalendar.Calendar.from_ical(text)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/Toronto"
    (event,) = calendar.walk("VEVENT")
    start = event["DTSTART"].dt
    assert start.tzinfo is not None and start.astimezone(dt.timezone.utc) == dt.datetime(2031, 3, 9, 15, 0, tzinfo=dt.timezone.utc)
    assert event.walk("VALARM")[0]["TRIGGER"].dt == dt.timedelta(hours=-2)


def test_khal_imports_the_calendar_and_lists_the_deadlines(scratch):
    calendar_dir = os.path.join(scratch, "khal")
    os.makedirs(calendar_dir)
    config = os.path.join(scratch, "khal.conf")
    with open(config, "w") as f:
        f.write(f"[calendars]\n[[accord]]\npath = {calendar_dir}\ntype = calendar\n[locale]\n"
                "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
                "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
                "local_timezone = UTC\ndefault_timezone = UTC\n")
    ics = os.path.join(scratch, "accord.ics")
    with open(ics, "w", newline="") as f:
        f.write(plan_ics("--config", SHIPPED))
    env = dict(os.environ, HOME=scratch, XDG_DATA_HOME=os.path.join(scratch, "data"), XDG_CONFIG_HOME=scratch)
    subprocess.run(["khal", "-c", config, "import", "--batch", "-a", "accord", ics], check=True, env=env,
                   capture_output=True, timeout=120)
    listed = subprocess.run(["khal", "-c", config, "list", "2016-09-01", "2019-12-31"], check=True, env=env,
                            capture_output=True, text=True, timeout=120).stdout
    assert "2017-03-31" in listed and "ca-cn-nsrl/extradition-treaty-talks" in listed, listed[:2000]
    assert "ca-cn-nsrl/cbsa-beea-pilot-mou" in listed


def published(path, ready, timeout=30):
    """The daemon writes accord.ics off its own queue, soon after each re-plan: the events of the
    file once `ready(events)` holds, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, newline="") as f:
                found = events(f.read())
            if ready(found):
                return found
        except (FileNotFoundError, ValueError):
            pass
        assert time.monotonic() < deadline, f"{path} did not show the change within {timeout} s"
        time.sleep(0.05)


def test_a_moved_deadline_bumps_sequence_and_the_file_is_replaced_atomically(make_daemon):
    text = portfolio([objective("moving", "2031-05-01"), instrument("fixed", sign_by="2032-01-31")], dialogue="ics")
    daemon = make_daemon(text).start()
    subscription = os.path.join(daemon.state, "accord.ics")
    uid = "ics/moving:due@accord"
    first = published(subscription, lambda found: uid in found)
    assert int(first[uid]["SEQUENCE"]) == 0 and int(first["ics/fixed:sign-by@accord"]["SEQUENCE"]) == 0
    modified = first[uid]["LAST-MODIFIED"].dt
    assert oct(os.stat(subscription).st_mode & 0o777) == "0o640"

    daemon.write_portfolio(text.replace("2031-05-01", "2031-06-15"))
    rc, out, err = accordctl("--socket", daemon.socket_path, "reload")
    assert rc == 0, err
    rc, out, err = accordctl("--socket", daemon.socket_path, "export", "--ics")
    assert rc == 0, err
    exported = events(out)
    saved = published(subscription, lambda found: found[uid]["DTSTART"].dt == dt.date(2031, 6, 15))
    for moved in (exported, saved):
        assert int(moved[uid]["SEQUENCE"]) == 1 and moved[uid]["DTSTART"].dt == dt.date(2031, 6, 15)
        assert moved[uid]["LAST-MODIFIED"].dt >= modified
        assert int(moved["ics/fixed:sign-by@accord"]["SEQUENCE"]) == 0

    # A reader looping on the file during 100 re-plans never sees half a calendar.
    stop = threading.Event()
    partial = []
    reads = [0]

    def reader():
        while not stop.is_set():
            with open(subscription, "rb") as f:
                data = f.read()
            reads[0] += 1
            if not (data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")):
                partial.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(100):
            daemon.write_portfolio(text.replace("Objective moving", f"Objective moving, revision {n}"))
            rc, out, err = accordctl("--socket", daemon.socket_path, "reload")
            assert rc == 0, err
    finally:
        stop.set()
        thread.join()
    assert not partial and reads[0] > 100, f"{len(partial)} partial reads of {reads[0]}"
    # The file shows the last revision; SEQUENCE counts the versions written, and a re-plan that
    # came while the file was being written is replaced by the next (CalendarPublisher).
    last = published(subscription, lambda found: "revision 99" in str(found[uid]["SUMMARY"]))
    assert 2 <= int(last[uid]["SEQUENCE"]) <= 101, last[uid]["SEQUENCE"]


def test_export_filters_by_owner(make_daemon):
    daemon = make_daemon(portfolio([objective("mine", "2031-05-01", owner='"Canada Border Services Agency (CBSA)"'),
                                    objective("theirs", "2031-06-01", owner='"RCMP"')], dialogue="owners")).start()
    rc, out, err = accordctl("--socket", daemon.socket_path, "export", "--ics", "--owner", "cbsa")
    assert rc == 0, err
    assert set(events(out)) == {"owners/mine:due@accord"}
    rc, out, err = accordctl("--socket", daemon.socket_path, "export", "--ics")
    assert set(events(out)) == {"owners/mine:due@accord", "owners/theirs:due@accord"}
