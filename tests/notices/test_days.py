"""Deadline arithmetic as a coordinator counts it on a wall calendar: weekends and federal
holidays skipped for business days, every day counted for calendar days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.notices import add_business_days, deadline, federal_holidays, is_business_day

OPM_2026 = ["2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03",
            "2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"]
"""OPM's published observed dates for 2026 (Independence Day falls on a Saturday)."""
OPM_2027 = ["2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05",
            "2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31"]
"""2027: Juneteenth and Christmas on Saturdays, Independence Day on a Sunday, and New Year's
Day 2028 (a Saturday) observed on 31 December 2027."""


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(("year", "expected"), [(2026, OPM_2026), (2027, OPM_2027)])
def test_federal_holidays_match_the_published_observed_dates(year: int,
                                                             expected: list[str]) -> None:
    assert [day.isoformat() for day in federal_holidays(year)] == expected


def test_juneteenth_is_a_holiday_only_from_2021() -> None:
    names_2020 = set(federal_holidays(2020).values())
    assert not any("Juneteenth" in name for name in names_2020)
    assert federal_holidays(2021)[d("2021-06-18")].startswith("Juneteenth")


def test_new_year_observed_on_a_friday_belongs_to_the_old_year() -> None:
    assert d("2021-12-31") in federal_holidays(2021)
    assert d("2022-01-01") not in federal_holidays(2022)
    assert not is_business_day(d("2021-12-31"))


@pytest.mark.parametrize(("start", "days", "due"), [
    ("2026-03-02", 3, "2026-03-05"),   # Monday: Thursday
    ("2026-03-06", 3, "2026-03-11"),   # Friday: over the weekend to Wednesday
    ("2026-03-07", 3, "2026-03-11"),   # Saturday: counting starts Monday
    ("2026-11-25", 3, "2026-12-01"),   # Wednesday before Thanksgiving: Fri, Mon, Tue
    ("2026-12-23", 3, "2026-12-29"),   # Christmas Friday: Thu, Mon, Tue
    ("2027-12-23", 1, "2027-12-27"),   # Christmas observed Friday the 24th
    ("2026-01-16", 1, "2026-01-20"),   # Friday before Martin Luther King Day
    ("2026-07-02", 1, "2026-07-06"),   # Independence Day observed Friday the 3rd
    ("2026-03-06", 0, "2026-03-06"),   # 0 days: the same business day
    ("2026-03-07", 0, "2026-03-09"),   # 0 days from a Saturday: Monday
])
def test_business_day_deadlines(start: str, days: int, due: str) -> None:
    assert add_business_days(d(start), days) == d(due)
    assert deadline(d(start), days, business=True) == d(due)


def test_a_state_holiday_is_skipped_too() -> None:
    lincoln = d("2026-02-12")  # a Thursday some states close for
    assert add_business_days(d("2026-02-11"), 1) == lincoln
    assert add_business_days(d("2026-02-11"), 1, {lincoln}) == d("2026-02-13")


@pytest.mark.parametrize(("start", "days", "due"), [
    ("2026-03-06", 3, "2026-03-09"),   # calendar days run through the weekend
    ("2026-12-30", 3, "2027-01-02"),   # and across the year
    ("2026-11-25", 0, "2026-11-25"),
])
def test_calendar_day_deadlines(start: str, days: int, due: str) -> None:
    assert deadline(d(start), days, business=False) == d(due)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        deadline(d("2026-03-02"), -1, business=True)
    with pytest.raises(ValueError):
        deadline(d("2026-03-02"), -1, business=False)


days_ = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))
counts = st.integers(min_value=0, max_value=40)


@given(days_, counts)
def test_a_business_deadline_is_a_business_day_exactly_n_business_days_on(start: date,
                                                                          n: int) -> None:
    due = add_business_days(start, n)
    assert is_business_day(due)
    if n == 0:  # the first business day on or after the start
        skipped = [start + timedelta(days=i) for i in range((due - start).days)]
        assert not any(is_business_day(day) for day in skipped)
        return
    between = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    assert sum(is_business_day(day) for day in between) == n
    assert (due - start).days >= n


@given(days_, counts)
def test_business_deadlines_never_come_sooner_than_calendar_ones(start: date, n: int) -> None:
    assert deadline(start, n, business=True) >= deadline(start, n, business=False)
    later = deadline(start, n + 1, business=True)
    # From a weekend, 0 and 1 business days both land on the next business day.
    if n > 0 or is_business_day(start):
        assert later > deadline(start, n, business=True)


@given(st.integers(min_value=1990, max_value=2090))
def test_every_year_has_its_holidays_on_weekdays(year: int) -> None:
    found = federal_holidays(year)
    assert all(day.weekday() < 5 and day.year == year for day in found)
    moved_in = date(year + 1, 1, 1).weekday() == 5   # next New Year's Day observed 31 Dec
    moved_out = date(year, 1, 1).weekday() == 5      # this one observed the year before
    assert len(found) - moved_in + moved_out == (11 if year >= 2021 else 10)
