"""What each field prefix may hold: one table of rules, read by the validator.

Each rule names the reject code a bad value earns and a check that returns the reason a value
is bad, or None when it is good.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .errors import RejectCode

Check = Callable[[str], str | None]

YEAR_RANGE = range(1900, 2100)
NAME_LIMIT = 30
WILDCARDS = frozenset("*?")
PARTIAL_PLATE_MINIMUM = 3
"""A partial plate must give at least this many known characters besides its wildcards."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    prefix: str
    meaning: str
    code: RejectCode
    check: Check


def _pattern(regex: str, expected: str) -> Check:
    compiled = re.compile(regex)

    def check(value: str) -> str | None:
        return None if compiled.fullmatch(value) else expected

    return check


def _one_of(allowed: str, meaning: str) -> Check:
    choices = frozenset(allowed)

    def check(value: str) -> str | None:
        if len(value) == 1 and value in choices:
            return None
        return f"{meaning} MUST BE ONE OF {' '.join(sorted(allowed))}"

    return check


_NAME = re.compile(r"[A-Z][A-Z'\-]*(?: [A-Z][A-Z'\-]*)*, ?[A-Z][A-Z'\-]*(?: [A-Z][A-Z'\-]*)*")


def check_name(value: str) -> str | None:
    if len(value) > NAME_LIMIT:
        return f"NAM IS LONGER THAN {NAME_LIMIT} CHARACTERS"
    if not _NAME.fullmatch(value):
        return "NAM MUST BE LAST,FIRST MIDDLE SUFFIX"
    return None


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def check_dob(value: str) -> str | None:
    """DOB as mmddyy or ccyymmdd, and a date that exists (mmddyy: in the 1900s or 2000s)."""
    if not value.isdigit() or len(value) not in (6, 8):
        return "DOB MUST BE MMDDYY OR CCYYMMDD"
    if len(value) == 8:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
        if year not in YEAR_RANGE or not _real_date(year, month, day):
            return f"DOB {value} IS NOT A REAL DATE"
        return None
    month, day, yy = int(value[:2]), int(value[2:4]), int(value[4:])
    if not (_real_date(1900 + yy, month, day) or _real_date(2000 + yy, month, day)):
        return f"DOB {value} IS NOT A REAL DATE"
    return None


def birth_date(value: str, today: date) -> date:
    """The date a valid DOB value names; a two-digit year is the latest one not after today,
    or the earliest that exists when all are after it (02/29/00 before that day: 2000, as 1900
    had no leap day)."""
    if len(value) == 8:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    month, day, yy = int(value[:2]), int(value[2:4]), int(value[4:])
    named = [date(century + yy, month, day) for century in (1900, 2000)
             if _real_date(century + yy, month, day)]
    if not named:
        raise ValueError(f"DOB {value} names no date")
    return max((born for born in named if born <= today), default=named[0])


def check_year(value: str) -> str | None:
    if len(value) == 4 and value.isdigit() and int(value) in YEAR_RANGE:
        return None
    return f"VYR {value or '(EMPTY)'} MUST BE A CCYY YEAR"


def check_plate_year(value: str) -> str | None:
    """LIY: the year of the current plate (CCYY or YY), or NX for a non-expiring plate."""
    if value == "NX" or (len(value) == 2 and value.isdigit()):
        return None
    return None if check_year(value) is None else "LIY MUST BE CCYY, YY OR NX"


def check_partial_plate(value: str) -> str | None:
    """RPQ's LIC: a plate with * (any run) or ? (one character) and enough known characters."""
    if not re.fullmatch(r"[A-Z0-9*?]{1,10}", value):
        return "PARTIAL LIC MUST BE 1-10 LETTERS, DIGITS, * OR ?"
    if not WILDCARDS & set(value):
        return "PARTIAL LIC NEEDS A WILDCARD (* OR ?); USE RQ FOR A FULL PLATE"
    known = sum(1 for ch in value if ch not in WILDCARDS)
    if known < PARTIAL_PLATE_MINIMUM:
        return f"PARTIAL LIC NEEDS AT LEAST {PARTIAL_PLATE_MINIMUM} KNOWN CHARACTERS"
    return None


_RULES = (
    FieldRule("OLN", "operator license number", RejectCode.FORMAT,
              _pattern(r"[A-Z0-9*\-]{1,20}", "OLN MUST BE 1-20 LETTERS OR DIGITS")),
    FieldRule("NAM", "name", RejectCode.FORMAT, check_name),
    FieldRule("DOB", "date of birth", RejectCode.DOB, check_dob),
    FieldRule("SEX", "sex", RejectCode.FORMAT, _one_of("MFUX", "SEX")),
    FieldRule("RSN", "reason code", RejectCode.FORMAT, _one_of("NFVTSHI", "RSN")),
    FieldRule("PUR", "purpose code", RejectCode.FORMAT, _one_of("CFEDJS", "PUR")),
    FieldRule("ATN", "attention (requester name)", RejectCode.FORMAT,
              _pattern(r"[A-Z0-9 ,'\-]{1,30}", "ATN MUST BE 1-30 CHARACTERS")),
    FieldRule("IMQ", "image (photo) request", RejectCode.FORMAT, _one_of("YN", "IMQ")),
    FieldRule("LIC", "license plate", RejectCode.FORMAT,
              _pattern(r"[A-Z0-9]{1,10}", "LIC MUST BE 1-10 LETTERS OR DIGITS")),
    FieldRule("LIY", "license plate year", RejectCode.YEAR, check_plate_year),
    FieldRule("LIT", "license plate type", RejectCode.FORMAT,
              _pattern(r"[A-Z]{2}", "LIT MUST BE A 2-LETTER NCIC PLATE TYPE")),
    FieldRule("VIN", "vehicle identification number", RejectCode.FORMAT,
              _pattern(r"[A-Z0-9]{1,20}", "VIN MUST BE 1-20 LETTERS OR DIGITS")),
    FieldRule("VMA", "vehicle make", RejectCode.FORMAT,
              _pattern(r"[A-Z0-9]{1,24}", "VMA MUST BE 1-24 LETTERS OR DIGITS")),
    FieldRule("VYR", "vehicle model year", RejectCode.YEAR, check_year),
)

FIELD_RULES: dict[str, FieldRule] = {rule.prefix: rule for rule in _RULES}
"""Rules by prefix."""

KEYED_RULES: dict[tuple[str, str], FieldRule] = {
    ("RPQ", "LIC"): FieldRule("LIC", "partial license plate", RejectCode.FORMAT,
                              check_partial_plate),
}
"""Rules that differ for one message key, by (key, prefix)."""


def rule_for(key: str, prefix: str) -> FieldRule | None:
    return KEYED_RULES.get((key, prefix)) or FIELD_RULES.get(prefix)
