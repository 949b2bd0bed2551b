"""Deadline arithmetic for notices: calendar days, or business days that skip weekends and U.S.
federal holidays as observed (5 U.S.C. 6103), computed here so no holiday list goes stale.

Pure functions of dates; no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from functools import cache

MONDAY, THURSDAY, SATURDAY, SUNDAY = 0, 3, 5, 6


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def observed(day: date) -> date:
    """A fixed-date holiday on a Saturday is observed the Friday before, on a Sunday the Monday
    after."""
    if day.weekday() == SATURDAY:
        return day - timedelta(days=1)
    if day.weekday() == SUNDAY:
        return day + timedelta(days=1)
    return day


def _holidays_named(year: int) -> dict[date, str]:
    """Each federal holiday of a year on its observed day (which may fall in the year before)."""
    fixed = {"New Year's Day": date(year, 1, 1), "Independence Day": date(year, 7, 4),
             "Veterans Day": date(year, 11, 11), "Christmas Day": date(year, 12, 25)}
    if year >= 2021:
        fixed["Juneteenth National Independence Day"] = date(year, 6, 19)
    moving = {
        "Washington's Birthday": nth_weekday(year, 2, MONDAY, 3),
        "Memorial Day": nth_weekday(year, 5, MONDAY, -1),
        "Labor Day": nth_weekday(year, 9, MONDAY, 1),
        "Columbus Day": nth_weekday(year, 10, MONDAY, 2),
        "Thanksgiving Day": nth_weekday(year, 11, THURSDAY, 4),
    }
    if year >= 1986:
        moving["Birthday of Martin Luther King, Jr."] = nth_weekday(year, 1, MONDAY, 3)
    named = {observed(day): name for name, day in fixed.items()}
    named.update({day: name for name, day in moving.items()})
    return named


@cache
def federal_holidays(year: int) -> dict[date, str]:
    """Observed federal holidays falling in a year, by date. New Year's Day of the next year is
    observed on 31 December when 1 January is a Saturday, so it belongs to this year."""
    both = {**_holidays_named(year), **_holidays_named(year + 1)}
    return dict(sorted((day, name) for day, name in both.items() if day.year == year))


def is_business_day(day: date, closed: Collection[date] = ()) -> bool:
    """Monday to Friday, not an observed federal holiday, not one of the state's own `closed`
    days."""
    return (day.weekday() < SATURDAY and day not in federal_holidays(day.year)
            and day not in closed)


def add_business_days(start: date, days: int, closed: Collection[date] = ()) -> date:
    """The `days`-th business day after `start` (start itself never counts; 0 days is the first
    business day on or after `start`)."""
    if days < 0:
        raise ValueError("a deadline cannot be a negative number of days away")
    day = start
    if days == 0:
        while not is_business_day(day, closed):
            day += timedelta(days=1)
        return day
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        counted += is_business_day(day, closed)
    return day


def deadline(start: date, within: int, business: bool, closed: Collection[date] = ()) -> date:
    """The last day a notice may go out: `within` calendar or business days after `start`."""
    if business:
        return add_business_days(start, within, closed)
    if within < 0:
        raise ValueError("a deadline cannot be a negative number of days away")
    return start + timedelta(days=within)
