"""The shipped business-day calendars (Config/calendars/*.toml) against their sources, the PyPI
packages `chinesecalendar` and `holidays` read here directly, year by year: the files must hold
exactly the days off and the adjusted working days of the source, and the named facts of
issue 12 (the 2026 调休 Saturdays and Sundays, Canada Day 2018 observed on Monday 2 July) are
asserted by date, so that a source that changed its mind shows up as a failure naming the day.
Needs no daemon; it lives in Tests/e2e to run with the suite (scripts/test.sh stage 3)."""
import datetime
import pathlib
import tomllib

import chinese_calendar
import holidays
import pytest
from holidays.constants import GOVERNMENT, OPTIONAL

CALENDARS = pathlib.Path(__file__).resolve().parent.parent.parent / "Config" / "calendars"
D = datetime.date


def load(name):
    with open(CALENDARS / name, "rb") as file:
        return tomllib.load(file)["calendar"]


CN = load("cn.toml")
CA = load("ca.toml")


def years(calendar):
    first, last = calendar["years"]
    return range(first, last + 1)


def in_year(dates, year):
    return {d for d in dates if d.year == year}


def test_files_keep_the_contract_keys_and_name_their_source():
    for calendar, ident in ((CN, "cn"), (CA, "ca")):
        assert set(calendar) == {"id", "title", "source", "years", "weekend", "holidays", "working-days", "names"}
        assert calendar["id"] == ident
        assert calendar["weekend"] == ["saturday", "sunday"]
        assert "PyPI" in calendar["source"]
        # Every date has a name and every name a date.
        assert {D.fromisoformat(k) for k in calendar["names"]} == set(calendar["holidays"]) | set(calendar["working-days"])
    assert f"chinesecalendar {chinese_calendar.__version__}" in CN["source"]
    assert f"holidays {holidays.__version__}" in CA["source"]
    assert CA["years"] == [2016, 2027]
    # chinesecalendar 1.11.0 ends with the notice for 2026; cn.toml must not claim a year its
    # source does not have (the day a release brings 2027, this fails and asks to regenerate).
    last_source_year = max(d.year for d in chinese_calendar.holidays)
    assert CN["years"] == [2016, min(2027, last_source_year)]


@pytest.mark.parametrize("year", years(CN))
def test_cn_year_is_exactly_chinesecalendar(year):
    source_off = in_year(chinese_calendar.holidays, year)
    source_work = {d for d in in_year(chinese_calendar.workdays, year)}
    assert source_off, f"chinesecalendar has no holidays for {year}"
    assert in_year(CN["holidays"], year) == source_off
    assert in_year(CN["working-days"], year) == source_work
    # Adjusted working days are weekend days (a weekday working day would mean nothing).
    assert all(d.weekday() >= 5 for d in source_work)
    for d in source_off | source_work:
        assert CN["names"][d.isoformat()] == chinese_calendar.get_holiday_detail(d)[1]


def federal_public_service(year):
    """{date: name}: holidays CA, category government (Canada Labour Code with observed days),
    plus Easter Monday and the Civic Holiday, which the federal public service also has."""
    days = dict(holidays.CA(years=year, categories=(GOVERNMENT,), language="en_CA").items())
    ontario = holidays.CA(years=year, subdiv="ON", categories=(OPTIONAL,), language="en_CA")
    days.update({d: n for d, n in ontario.items() if n in ("Easter Monday", "Civic Holiday")})
    return days


@pytest.mark.parametrize("year", years(CA))
def test_ca_year_is_exactly_holidays(year):
    source = federal_public_service(year)
    assert in_year(CA["holidays"], year) == set(source)
    assert {d: CA["names"][d.isoformat()] for d in in_year(CA["holidays"], year)} == source
    names = {n.removesuffix(" (observed)") for n in source.values()}
    wanted = {"New Year's Day", "Good Friday", "Easter Monday", "Victoria Day", "Canada Day", "Civic Holiday",
              "Labour Day", "Thanksgiving Day", "Remembrance Day", "Christmas Day", "Boxing Day"}
    if year >= 2021:
        wanted.add("National Day for Truth and Reconciliation")
    assert names == wanted
    assert CA["working-days"] == []


def test_cn_2026_adjusted_working_days_of_the_issue():
    expected = [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)]
    assert [d.strftime("%a") for d in expected] == ["Sun", "Sat", "Sat", "Sat", "Sun", "Sat"]
    assert in_year(CN["working-days"], 2026) == set(expected)
    # The Spring Festival 2026 week: 15 to 23 February off.
    assert {D(2026, 2, day) for day in range(15, 24)} <= set(CN["holidays"])


def test_ca_canada_day_2018_observed_monday_2_july():
    assert D(2018, 7, 1).weekday() == 6
    assert D(2018, 7, 2) in CA["holidays"]
    assert CA["names"]["2018-07-02"] == "Canada Day (observed)"
    # Christmas 2021 on a Saturday: off Monday 27 and Tuesday 28 December.
    assert {D(2021, 12, 27), D(2021, 12, 28)} <= set(CA["holidays"])
