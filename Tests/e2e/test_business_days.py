"""Business days at the edges (issue 12, docs/contracts.md §12): `accordd calendar` read against
the PyPI package the Chinese calendar comes from; `accordd check` naming a date outside a
calendar's years with its file and line; and a daemon against the real journal firing a reminder
written for a holiday on the business day before it, with the adjusted deadline shown by
accordctl and by the third-party Varlink client."""
import datetime
import json
import os
import re

import chinese_calendar

from accordtest import ACCORDD, REPO, accordctl, reminder_entries, run, varlink_cli, wait_for

SHIPPED = os.path.join(REPO, "Config", "accordd.toml")
CALENDARS = os.path.join(REPO, "Config", "calendars")


def calendar_rows(*args):
    rc, out, err = run([ACCORDD, "calendar", "--config", SHIPPED, *args])
    rows = {}
    for line in out.splitlines()[1:-1]:
        date, _, status, *why = line.split(None, 3)
        rows[datetime.date.fromisoformat(date)] = (status, why[0] if why else "")
    return rc, rows, out, err


def test_calendar_explains_the_2026_spring_festival_as_the_state_council_set_it():
    start, end = datetime.date(2026, 2, 1), datetime.date(2026, 3, 8)
    rc, rows, out, err = calendar_rows("--calendar", "cn", "--from", str(start), "--until", str(end))
    assert rc == 0, err
    day = start
    while day <= end:
        # The independent source: chinesecalendar's is_workday, which knows the adjusted working days.
        business = chinese_calendar.is_workday(day)
        if day in rows:
            assert rows[day][0] == ("business" if business else "off"), (day, rows[day])
        else:
            assert business and day.weekday() < 5, f"{day} is not shown but is not a plain working day"
        day += datetime.timedelta(days=1)
    assert rows[datetime.date(2026, 2, 14)] == ("business", "cn: adjusted working day (for Spring Festival)")
    assert rows[datetime.date(2026, 2, 16)] == ("off", "cn: holiday: Spring Festival")
    total = (end - start).days + 1
    off = sum(1 for status, _ in rows.values() if status == "off")
    assert out.splitlines()[-1] == f"{total} days, {total - off} business, {off} off; calendars cn (2016–2026)"


def test_calendar_both_parties_together_and_its_errors():
    rc, rows, _, err = calendar_rows("--from", "2026-10-09", "--until", "2026-10-13")
    assert rc == 0, err
    # China's adjusted working Saturday 10 October is still a Canadian weekend day; Monday 12 is
    # Canada's Thanksgiving; Tuesday 13 both work.
    assert rows[datetime.date(2026, 10, 10)] == (
        "off", "ca: weekend (Saturday); cn: adjusted working day (for National Day)")
    assert rows[datetime.date(2026, 10, 12)] == ("off", "ca: holiday: Thanksgiving Day")
    assert datetime.date(2026, 10, 13) not in rows and datetime.date(2026, 10, 9) not in rows
    rc, _, _, err = calendar_rows("--calendar", "cn", "--from", "2027-01-01")
    assert rc == 65 and "calendar cn covers 2016–2026; 2027-01-01 is outside" in err
    rc, _, _, err = calendar_rows("--calendar", "us")
    assert rc == 64 and "--calendar us: no calendar file defines it (loaded: ca, cn)" in err


def test_check_names_a_date_outside_a_calendars_years_and_an_unknown_calendar(scratch):
    os.makedirs(os.path.join(scratch, "portfolios"))
    config = os.path.join(scratch, "accordd.toml")
    with open(config, "w") as f:
        f.write(f'portfolios = ["portfolios"]\ncalendars = ["{CALENDARS}"]\n')
    path = os.path.join(scratch, "portfolios", "p.toml")
    with open(path, "w") as f:
        f.write('[dialogue]\nid = "far"\ntitle = "T"\ntime-zone = "UTC"\nbusiness-days = ["ca", "cn"]\n\n'
                '[[objective]]\nid = "x"\ntitle = "X"\ndue = 2031-05-01\n\n'
                '[[objective]]\nid = "y"\ntitle = "Y"\ndue = 2020-05-01\nbusiness-days = ["ca", "uk"]\n')
    rc, _, err = run([ACCORDD, "check", "--config", config])
    assert rc == 78
    assert f'{path}:10: objective "x" › due: calendar ca covers 2016–2027; far/x due 2031-05-01 is outside' in err
    assert f'{path}:16: objective "y" › business-days: no calendar file defines "uk" (loaded: ca, cn)' in err


def zone_near_noon():
    """A fixed-offset zone whose wall clock is near noon now, so that "today at remind-at a few
    seconds ahead" never crosses midnight whenever the test runs."""
    hour = datetime.datetime.now(datetime.timezone.utc).hour
    shift = (12 - hour) % 24
    if shift > 14:
        shift -= 24
    name = "UTC" if shift == 0 else (f"Etc/GMT-{shift}" if shift > 0 else f"Etc/GMT+{-shift}")
    return name, datetime.timezone(datetime.timedelta(hours=shift))


def test_a_reminder_written_for_a_holiday_fires_on_the_business_day_before(make_daemon, scratch):
    name, offset = zone_near_noon()
    now = datetime.datetime.now(offset)
    today, tomorrow, after = now.date(), now.date() + datetime.timedelta(days=1), now.date() + datetime.timedelta(days=2)
    fire = (now + datetime.timedelta(seconds=6)).replace(microsecond=0)
    calendars = os.path.join(scratch, "calendars")
    os.makedirs(calendars)
    with open(os.path.join(calendars, "desk.toml"), "w") as f:
        # No weekend, so that today is a business day whatever day of the week the test runs.
        f.write(f'[calendar]\nid = "desk"\ntitle = "A desk"\nsource = "the test"\nyears = [{today.year - 1}, {today.year + 1}]\n'
                f'weekend = []\nholidays = [{tomorrow}]\nworking-days = []\n')
    text = (f'[dialogue]\nid = "bd"\ntitle = "Business days"\ntime-zone = "{name}"\nremind-at = {fire:%H:%M:%S}\n'
            f'reminders = ["P0D"]\nbusiness-days = ["desk"]\n\n'
            f'[[objective]]\nid = "holiday"\ntitle = "Due on a holiday"\ndue = {tomorrow}\n\n'
            f'[[objective]]\nid = "moved"\ntitle = "Moved off it"\ndue = {tomorrow}\nadjust = "following"\n'
            f'reminders = ["1BD"]\n')
    daemon = make_daemon(text, extra_config=f'calendars = ["{calendars}"]\n').start()
    entries = wait_for(lambda: reminder_entries(ACCORD_DIALOGUE="bd") if len(reminder_entries(ACCORD_DIALOGUE="bd")) >= 2
                       else None, timeout=20)
    assert entries, daemon.stderr()
    by_item = {e["ACCORD_ITEM"]: e for e in entries}
    assert len(entries) == 2, [e["MESSAGE"] for e in entries]
    holiday, moved = by_item["bd/holiday"], by_item["bd/moved"]
    # P0D of a deadline on the holiday fires today, the business day before, at remind-at.
    assert holiday["ACCORD_LEAD"] == "P0D" and holiday["ACCORD_DAYS_LEFT"] == "1"
    assert holiday["ACCORD_FIRE_AT"] == fire.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"({tomorrow})" in holiday["MESSAGE"]
    # Adjusted following, the deadline is the day after; 1BD before it is today (tomorrow is off).
    assert moved["ACCORD_LEAD"] == "1BD" and moved["ACCORD_DAYS_LEFT"] == "2" and f"({after})" in moved["MESSAGE"]
    assert re.fullmatch(r"bd/moved:due:" + str(after) + ":1BD", moved["ACCORD_REMINDER"])

    rc, out, err = accordctl("--socket", daemon.socket_path, "--json", "show", "moved")
    assert rc == 0, err
    shown = json.loads(out)
    assert [(d["kind"], d["date"], d.get("written")) for d in shown["deadlines"]] == [("due", str(after), str(tomorrow))]
    assert shown["definition"]["businessDays"] == ["desk"] and shown["definition"]["adjust"] == "following"
    rc, out, _ = accordctl("--socket", daemon.socket_path, "show", "moved")
    assert rc == 0 and f"{after} (written {tomorrow}, moved off a day that is not a business day)" in out
    # The same over the wire, read by the third-party client.
    rc, out, err = varlink_cli("call", f"unix:{daemon.socket_path}/io.accord.Tracker.Show", '{"id": "bd/holiday"}')
    reply = json.loads(out)
    assert rc == 0 and reply["deadlines"][0]["date"] == str(tomorrow) and "written" not in reply["deadlines"][0], out
    assert daemon.stop() == 0


def test_today_a_holiday_moves_the_deadline_and_upcoming_shows_it(make_daemon, scratch):
    """The issue's end-to-end case: a calendar that marks today as a holiday. A deadline today
    with adjust = "following" moves to tomorrow, and `upcoming --json` plans its P0D reminder
    there; one due in three days with a P3D lead (today) would fire on the business day before
    today, which has passed, so it is not planned at all."""
    name, offset = zone_near_noon()
    today = datetime.datetime.now(offset).date()
    calendars = os.path.join(scratch, "calendars")
    os.makedirs(calendars)
    with open(os.path.join(calendars, "desk.toml"), "w") as f:
        f.write(f'[calendar]\nid = "desk"\ntitle = "A desk"\nsource = "the test"\nyears = [{today.year - 1}, {today.year + 1}]\n'
                f'weekend = []\nholidays = [{today}]\nworking-days = []\n')
    text = (f'[dialogue]\nid = "hol"\ntitle = "Holiday today"\ntime-zone = "{name}"\nremind-at = 23:00:00\n'
            f'reminders = ["P0D"]\nbusiness-days = ["desk"]\n\n'
            f'[[objective]]\nid = "today"\ntitle = "Due today"\ndue = {today}\nadjust = "following"\n\n'
            f'[[objective]]\nid = "later"\ntitle = "Due in three days"\ndue = {today + datetime.timedelta(days=3)}\n'
            f'reminders = ["P3D"]\n')
    daemon = make_daemon(text, extra_config=f'calendars = ["{calendars}"]\n').start()
    rc, out, err = accordctl("--socket", daemon.socket_path, "--json", "upcoming", "--within", "P10D")
    assert rc == 0, err
    planned = [(u["item"], u["lead"], u["fireAt"]) for u in json.loads(out)["reminders"]]
    tomorrow_23 = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(23), offset)
    assert planned == [("hol/today", "P0D", tomorrow_23.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))]
    assert daemon.stop() == 0


def test_every_day_the_shipped_plan_skipped_is_explained_by_accordd_calendar():
    """Every reminder of the shipped portfolio that moved off its written day (lead PnD before
    the deadline's date) moved over days that `accordd calendar` lists as off, and to one it
    does not (a business day in Canada and China)."""
    rc, out, err = run([ACCORDD, "plan", "--config", SHIPPED, "--from", "2016-09-12", "--until", "2026-12-31", "--json"])
    assert rc == 0, err
    rows = {}
    for start, end in (("2016-08-01", "2021-12-31"), ("2022-01-01", "2026-12-31")):  # at most 3,660 days a call
        rc, part, _, err = calendar_rows("--from", start, "--until", end)
        assert rc == 0, err
        rows.update(part)
    moved = 0
    for reminder in json.loads(out):
        lead = re.fullmatch(r"P(\d+)D", reminder["lead"])
        deadline = re.search(r"\((?:by |due |sign-by )?(\d{4}-\d{2}-\d{2})\)", reminder["message"])
        if not lead or not deadline or reminder["deadline"] == "expiry":
            continue
        fired = datetime.datetime.fromisoformat(reminder["fireAt"].replace("Z", "+00:00")).astimezone(
            datetime.timezone(datetime.timedelta(hours=-5))).date()
        written = datetime.date.fromisoformat(deadline.group(1)) - datetime.timedelta(days=int(lead.group(1)))
        assert fired not in rows or rows[fired][0] == "business", f"{reminder['key']} fires on {fired}, off: {rows.get(fired)}"
        if fired != written:
            moved += 1
            day = fired + datetime.timedelta(days=1)
            while day <= written:
                assert day in rows and rows[day][0] == "off", f"{reminder['key']}: {day} was skipped but is not off"
                day += datetime.timedelta(days=1)
    assert moved >= 5, moved
