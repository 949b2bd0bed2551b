"""How each query field's value is spelled as NIEM element text, read back, and compared with a
legacy spelling of it: one table, read by xmlfields.py, with no I/O.

Legacy text and NIEM differ for four prefixes: NAM is split into surname, given and middle
names; DOB is an xsd:date (a six-digit mmddyy gets the century `birth_date` picks); LIY is a
year (a two-digit year is read in the 2000s, a non-expiring plate expires in 9999); IMQ is an
xsd:boolean. Every other prefix is written as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .errors import Reject, RejectCode
from .fields import birth_date

Parts = dict[str, str]


def _undated(value: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Spelling:
    """How one prefix's value is written as element text, read back, and compared with a
    legacy spelling of it."""

    write: Callable[[str, date], Parts]
    read: Callable[[Parts], str]
    dated: Callable[[str], bool] = _undated
    """Whether the writer's day picks how a value is written (a six-digit DOB's century)."""

    def read_back(self, written: Parts) -> str:
        """The value a reader gets from written parts (it strips each element's text)."""
        return self.read({part: text.strip() for part, text in written.items()})

    def names(self, legacy: str, held: str, today: date) -> bool:
        """Whether the writer, on `today`, spells a legacy value as the one the elements hold:
        a six-digit DOB or a two-digit LIY names one century, not any that ends alike."""
        try:
            return self.read_back(self.write(legacy, today)) == held
        except Reject:
            return False


def _as_is(value: str, today: date) -> Parts:
    return {"": value}


def _one(parts: Parts) -> str:
    return parts[""]


def _write_name(value: str, today: date) -> Parts:
    sur, comma, rest = value.partition(",")
    given, _, middle = rest.strip().partition(" ")
    if not comma or not sur.strip() or not given:
        raise Reject(RejectCode.FORMAT, f"NAM {value[:30]} IS NOT LAST,FIRST: NO PLACE IN XML")
    return {"sur": sur.strip(), "given": given, **({"middle": middle} if middle else {})}


def _read_name(parts: Parts) -> str:
    sur, given, middle = (parts.get(part, "") for part in ("sur", "given", "middle"))
    if not sur or not given:
        raise Reject(RejectCode.FORMAT, "nc:PersonName NEEDS nc:PersonSurName AND "
                     "nc:PersonGivenName")
    return f"{sur},{given} {middle}" if middle else f"{sur},{given}"


_DIGITS = re.compile(r"\d+")
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)")


def _write_birth(value: str, today: date) -> Parts:
    if _DIGITS.fullmatch(value) and len(value) == 8:
        return {"": f"{value[:4]}-{value[4:6]}-{value[6:]}"}
    try:
        if _DIGITS.fullmatch(value) and len(value) == 6:
            return {"": birth_date(value, today).isoformat()}
    except ValueError:
        pass
    raise Reject(RejectCode.DOB, f"DOB {value[:10]} IS NOT A DATE NIEM CAN HOLD")


def _read_birth(parts: Parts) -> str:
    found = _ISO_DATE.fullmatch(parts[""])
    if found is None:
        raise Reject(RejectCode.DOB, "nc:Date MUST BE YYYY-MM-DD")
    return "".join(found.groups())


NON_EXPIRING, NEVER = "NX", "9999"
"""A non-expiring plate (LIY/NX) is one that expires in year 9999."""


def _write_plate_year(value: str, today: date) -> Parts:
    if value == NON_EXPIRING:
        return {"": NEVER}
    if _DIGITS.fullmatch(value) and len(value) == 4 and value != NEVER:
        return {"": value}
    if _DIGITS.fullmatch(value) and len(value) == 2:
        return {"": "20" + value}
    raise Reject(RejectCode.YEAR, f"LIY {value[:10]} IS NOT A YEAR NIEM CAN HOLD")


def _read_plate_year(parts: Parts) -> str:
    year = parts[""]
    if not (_DIGITS.fullmatch(year) and len(year) == 4):
        raise Reject(RejectCode.YEAR, "nc:Year MUST BE CCYY")
    return NON_EXPIRING if year == NEVER else year


_INDICATOR = {"Y": "true", "N": "false"}
_INDICATED = {"true": "Y", "1": "Y", "false": "N", "0": "N"}


def _write_indicator(value: str, today: date) -> Parts:
    if value not in _INDICATOR:
        raise Reject(RejectCode.FORMAT, "IMQ MUST BE Y OR N")
    return {"": _INDICATOR[value]}


def _read_indicator(parts: Parts) -> str:
    if parts[""] not in _INDICATED:
        raise Reject(RejectCode.FORMAT, "n2:ImageRequestIndicator MUST BE true OR false")
    return _INDICATED[parts[""]]


_PLAIN = Spelling(_as_is, _one)
SPELLINGS = {
    "NAM": Spelling(_write_name, _read_name),
    "DOB": Spelling(_write_birth, _read_birth, lambda value: len(value) == 6),
    "LIY": Spelling(_write_plate_year, _read_plate_year),
    "IMQ": Spelling(_write_indicator, _read_indicator),
}
"""Spellings that differ from the legacy value; every other prefix is written as it is."""


def spelling(prefix: str) -> Spelling:
    return SPELLINGS.get(prefix, _PLAIN)
