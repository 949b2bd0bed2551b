"""A state's notice duty: the `[notices]` section of its config.toml, checked in one place.

No section means no duty. Semantics of the keys (README "Subject notices" shows an example):

- `categories`: statistics categories whose requests create notices (e.g. ICE, HSI).
- `within`, `days`: the notice is due within that many calendar or business days of the
  request, counted from the request's date in `timezone`; business days skip weekends, U.S.
  federal holidays and the dates in `state_holidays`.
- `when`: ``after-request`` (New York: tell the person after any such request, whatever came
  of it) or ``before-disclosure`` (Massachusetts: tell the person before anything is disclosed;
  meant for policies that hold such requests for review, so the reviewer can send the notice
  before releasing). Both count the deadline from the request; they differ in which outcomes
  create a notice by default, and a before-disclosure notice still unsent is what
  `NoticeBook.unsent` reports to a reviewer.
- `outcomes`: which audit outcomes create a notice (defaults: see `DEFAULT_OUTCOMES`).
- `exceptions`: the only reasons a coordinator may give for not sending a notice.
- `contact`: the office named on letters, where people can ask about them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..datadir import DataDir
from ..directory.categories import CATEGORIES
from ..errors import RequesterError
from ..protocol import Outcome
from ..protocol.places import STATES
from .days import deadline

SECTION = "notices"
UNKNOWN_CATEGORY = "unknown"
"""The category the gateway gives a requester the directory does not know."""
MAX_DAYS = 90
EXCEPTION_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


E = TypeVar("E", bound=Enum)


class NoticeConfigError(RequesterError):
    """A `[notices]` section that cannot be used; the message names the file and the key."""

    code, status = "config-error", 422


class Days(Enum):
    CALENDAR = "calendar"
    BUSINESS = "business"


class When(Enum):
    AFTER_REQUEST = "after-request"
    BEFORE_DISCLOSURE = "before-disclosure"


DEFAULT_OUTCOMES: dict[When, tuple[str, ...]] = {
    When.AFTER_REQUEST: ("released", "partial", "denied", "held"),
    When.BEFORE_DISCLOSURE: ("held", "released", "partial"),
}
"""A request counts whatever came of it, unless nothing was looked at (no record on file, or
an error the requester will retry); before disclosure, what counts is what was or may be
disclosed."""


@dataclass(frozen=True, slots=True)
class NoticeDuty:
    """Which requests oblige the state to tell the person, and by when."""

    state: str
    categories: frozenset[str]
    within: int
    days: Days = Days.CALENDAR
    when: When = When.AFTER_REQUEST
    outcomes: frozenset[str] = frozenset(DEFAULT_OUTCOMES[When.AFTER_REQUEST])
    exceptions: tuple[str, ...] = ()
    timezone: str = "UTC"
    state_holidays: frozenset[date] = frozenset()
    contact: str = ""

    def applies(self, category: str, outcome: str) -> bool:
        return category in self.categories and outcome in self.outcomes

    def local_date(self, moment: datetime) -> date:
        """The state's calendar date at a moment: what "the day of the request" means."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def deadline(self, requested: datetime) -> date:
        return deadline(self.local_date(requested), self.within, self.days is Days.BUSINESS,
                        self.state_holidays)

    def describe(self) -> str:
        """The duty in words, e.g. "within 3 business days after the request"."""
        unit = "day" if self.within == 1 else "days"
        kind = "business " if self.days is Days.BUSINESS else ""
        tail = ("after the request" if self.when is When.AFTER_REQUEST
                else "of the request, before any disclosure")
        return f"within {self.within} {kind}{unit} {tail}"

    @property
    def office(self) -> str:
        return self.contact or (f"Records Privacy Office, {STATES.get(self.state, self.state)} "
                                "Department of Motor Vehicles")


_KEYS = ("categories", "within", "days", "when", "outcomes", "exceptions", "timezone",
         "state_holidays", "contact")


def load_duty(data: DataDir, state: str) -> NoticeDuty | None:
    """The state's duty from its config.toml; None when it has no file or no section."""
    path = data.config(state)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise NoticeConfigError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise NoticeConfigError(f"{path}: not UTF-8 text ({error.reason})") from None
    return parse_duty(text, state, source=str(path))


def parse_duty(text: str, state: str, source: str = "config.toml") -> NoticeDuty | None:
    """The duty a config text sets, or None without a `[notices]` section."""
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NoticeConfigError(f"{source}: not valid TOML ({error})") from None
    if SECTION not in config:
        return None
    section = config[SECTION]
    if not isinstance(section, dict):
        raise NoticeConfigError(f"{source}: [{SECTION}] must be a table")
    try:
        return duty_from(section, state.strip().upper())
    except _Problem as error:
        raise NoticeConfigError(f"{source}: [{SECTION}] {error.key}: {error.text}") from None


class _Problem(Exception):
    def __init__(self, key: str, text: str) -> None:
        super().__init__(f"{key}: {text}")
        self.key, self.text = key, text


def duty_from(section: Mapping[str, object], state: str) -> NoticeDuty:
    """Every key checked; the first problem is reported with its key."""
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise _Problem(unknown[0], f"unknown key (expected one of {', '.join(_KEYS)})")
    if "categories" not in section:
        raise _Problem("categories", "missing: name the requester categories, e.g. "
                                      '["ICE", "HSI"]')
    if "within" not in section:
        raise _Problem("within", "missing: how many days a notice may take, e.g. 3")
    categories = _names(section, "categories", (*CATEGORIES, UNKNOWN_CATEGORY), empty=False)
    within = section["within"]
    if isinstance(within, bool) or not isinstance(within, int) or not 0 <= within <= MAX_DAYS:
        raise _Problem("within", f"expected a whole number of days from 0 to {MAX_DAYS}, "
                                  f"not {within!r}")
    days = _choice(section, "days", Days, Days.CALENDAR)
    when = _choice(section, "when", When, When.AFTER_REQUEST)
    outcomes = (_names(section, "outcomes", tuple(o.value for o in Outcome), empty=False)
                if "outcomes" in section else DEFAULT_OUTCOMES[when])
    exceptions = _exceptions(section.get("exceptions", []))
    return NoticeDuty(state, frozenset(categories), within, days, when, frozenset(outcomes),
                      exceptions, _timezone(section.get("timezone", "UTC")),
                      frozenset(_dates(section.get("state_holidays", []))),
                      _text(section.get("contact", "")))


def _strings(key: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Problem(key, "expected a list of strings")
    return [v.strip() for v in value]


def _names(section: Mapping[str, object], key: str, known: tuple[str, ...],
           empty: bool) -> tuple[str, ...]:
    names = _strings(key, section[key])
    if not names and not empty:
        raise _Problem(key, "the list is empty")
    for name in names:
        if name not in known:
            raise _Problem(key, f"{name!r} is not one of {', '.join(known)}")
    return tuple(names)


def _choice(section: Mapping[str, object], key: str, kind: type[E], default: E) -> E:
    value = section.get(key, default.value)
    try:
        return kind(value)
    except ValueError:
        choices = " or ".join(repr(e.value) for e in kind)
        raise _Problem(key, f"expected {choices}, not {value!r}") from None


def _exceptions(value: object) -> tuple[str, ...]:
    names = _strings("exceptions", value)
    for name in names:
        if not EXCEPTION_NAME.fullmatch(name):
            raise _Problem("exceptions", f"{name!r} is not a name like court-order-sealed "
                                          "(lower-case words joined by hyphens)")
    if len(set(names)) != len(names):
        raise _Problem("exceptions", "a reason is named twice")
    return tuple(names)


def _timezone(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Problem("timezone", "expected a time zone name such as America/New_York")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise _Problem("timezone", f"{value!r} is not a time zone this machine knows") from None
    return value.strip()


def _dates(value: object) -> list[date]:
    days = []
    for text in _strings("state_holidays", value):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise _Problem("state_holidays", f"{text!r} is not a date (YYYY-MM-DD)") from None
    return days


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Problem("contact", "expected text (the office named on letters)")
    return value.strip()


def new_york_style_notices(timezone: str = "America/New_York") -> str:
    """A commented `[notices]` block for a New-York-style duty, to append to a config.toml."""
    return f'''
[notices]
# Tell people when an immigration agency asks for their records (New York's Green Light Law:
# notice within 3 days of the request, naming the agency). Without this section a state has
# no notice duty.
# Requests from these statistics categories create a notice:
categories = ["ICE", "HSI", "CBP", "USCIS", "DHS-other"]
# Due within this many days of the request: "calendar" days, or "business" days (skipping
# weekends, U.S. federal holidays and any state_holidays).
within = 3
days = "calendar"
# "after-request": due after any such request, whatever came of it.
# "before-disclosure": the person is told before anything is disclosed (hold such requests
# for review and send the notice before releasing).
when = "after-request"
# Which outcomes create a notice: released partial denied held no-record error.
outcomes = ["released", "partial", "denied", "held"]
# The only reasons a coordinator may give for not sending one (`stateline notices except`).
exceptions = ["court-order-sealed", "person-deceased"]
# Days are counted in this time zone; state_holidays are extra days the office is closed.
timezone = "{timezone}"
state_holidays = []
# The office letters name, where people can ask about a notice.
# contact = "Records Privacy Office, PO Box 0000, Albany NY 12200, (555) 010-0199"
'''
