"""One request as a reader finds it in a switch's records, before it is an audit entry, and
the checks every format shares: times read in a zone and stored in UTC, query keys, ORIs,
outcomes and element names as Stateline spells them."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..directory.agency import DirectoryError, normalise_ori
from ..policy.schema import ELEMENTS
from ..protocol import KEYS, Outcome
from .errors import MAX_LINE, Problem, Problems

FORMATS = ("nlets-text", "csv", "jsonl")

QUERY_KEYS: dict[str, str] = {k: s.group for k, s in KEYS.items() if s.group is not None}
"""Every query key a state answers, with its message group."""
OUTCOMES = tuple(o.value for o in Outcome)
ELEMENT_NAMES = frozenset(ELEMENTS)
RECORD_LIMIT = 64
"""Characters in a record's id (an OLN or a VIN is far shorter)."""
TICK = 1 << 14
"""Rows read between two reports of progress."""


class Row(NamedTuple):
    """A request read from a file, with every value checked: what its entry will say."""

    time: str
    """When it was made: UTC, ISO 8601 with microseconds, so strings sort as times do."""
    line: int
    """Where it began: the line (text, JSONL) or the CSV row (the header is row 1)."""
    ori: str
    key: str
    outcome: str
    released: tuple[str, ...]
    withheld: tuple[str, ...]
    records: tuple[str, ...]
    photo: bool
    terms: tuple[str, ...]
    reason: str
    reject: str | None
    """The ER code when the switch rejected the query, if it gave one."""
    same: Hashable
    """What two rows share when they are the same request twice: its time, its sender and
    its message."""


class Bad(ValueError):
    """A value a reader cannot take; the reader adds where it was."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reader needs to know besides the file: whose records, read in which zone, and
    the day nothing may come after."""

    file: str
    state: str
    zone: tzinfo
    today: date
    problems: Problems
    tick: Callable[[int], None] | None = None
    """Told how many rows of the file have been read, every `TICK` rows."""

    def read(self, rows: list[Row]) -> None:
        """Called with the rows so far after each row; says so every `TICK` rows."""
        if self.tick is not None and not len(rows) % TICK:
            self.tick(len(rows))

    def problem(self, line: int | None, column: str | None, text: str,
                row: bool = False) -> None:
        self.problems.add(Problem(self.file, line, column, text, row))


def too_long(lines: list[str], reading: Reading) -> bool:
    """Whether a line is longer than any record a switch writes (a problem says which)."""
    if not lines or max(map(len, lines)) <= MAX_LINE:
        return False
    number = next(n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE)
    reading.problem(number, None, f"a line over {MAX_LINE:,} characters: not a switch's "
                    "record")
    return True


def zone_named(name: str) -> tzinfo:
    """A time zone by its IANA name (UTC, America/Los_Angeles); Bad if there is none."""
    if name.strip().upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise Bad(f"{name!r} is not a time zone (an IANA name such as "
                  "America/Los_Angeles, or UTC)") from None


def utc_text(moment: datetime, zone: tzinfo) -> str:
    """A time as imported bodies hold it: a time without an offset is read in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    except OverflowError:  # 0001-01-01T00:00+01:00 is a time, but none in UTC
        raise Bad(f"{moment.isoformat()} is no time in UTC (before year 1 or after 9999)"
                  ) from None


def encodable(text: str) -> str:
    """The text, if UTF-8 can hold it: a JSON \\u escape can spell half a character (a lone
    surrogate), which passes every other check and then cannot be written."""
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError as error:
        raise Bad(f"{text[:40]!r} holds \\u{ord(text[error.start]):04x}, half of a character "
                  "(a lone surrogate): not text UTF-8 can hold") from None
    return text


def not_after(text: str, today: date) -> None:
    """Refuse a time after the day of the import: the switch cannot have recorded it yet."""
    if text[:10] > today.isoformat():
        raise Bad(f"{text} (UTC) is after today, {today.isoformat()}")


def query_key(text: str) -> str:
    key = text.strip().upper()
    if key not in QUERY_KEYS:
        raise Bad(f"{text!r} is not a query key a state answers "
                  f"({' '.join(sorted(QUERY_KEYS))})")
    return key


def ori(text: str) -> str:
    try:
        return normalise_ori(text)
    except DirectoryError:
        raise Bad(f"{text!r} is not an ORI (9 letters or digits)") from None


def elements(names: list[str]) -> tuple[str, ...]:
    """Element names in the order given, each once."""
    return tuple(dict.fromkeys(map(element, names)))


def element(name: str) -> str:
    """An element name as Stateline spells it; Bad if it names none."""
    found = name.strip().lower()
    if found not in ELEMENT_NAMES:
        raise Bad(f"{name!r} is not a data element ({' '.join(ELEMENTS)})")
    return found


def record_ids(values: list[str]) -> tuple[str, ...]:
    found = tuple(v.strip().upper() for v in values if v.strip())
    for value in found:
        if len(value) > RECORD_LIMIT:
            raise Bad(f"a record id of {len(value)} characters (at most {RECORD_LIMIT})")
    return found


def disclosed(records: list[list[tuple[str, bool, str | None]]]
              ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], bool]:
    """Released elements, withheld ones, record ids and whether a photo left, from each
    record's sections as (element, withheld, id field's value)."""
    released: dict[str, None] = {}
    withheld: dict[str, None] = {}
    ids: list[str] = []
    for sections in records:
        found = None
        for element, marked, value in sections:
            (withheld if marked else released)[element] = None
            if found is None and value and not marked:
                found = value
        if found is not None:
            ids.append(found)
    return (tuple(released), tuple(e for e in withheld if e not in released), tuple(ids),
            "photo" in released)
