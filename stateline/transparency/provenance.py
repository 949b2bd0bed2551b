"""Where requests were counted from: the state's gateway, or a file of the state switch's own
records imported into the log (`stateline history import`). Reports, briefings, replays and
flags say so, one line per file, with the day it was imported and its digest.

Imported requests are placed in time by the moment they were made (their body's `time`), not
by when they were appended: a range of them is a seek on the index `entries_imported`, and
the files a range holds come from one GROUP BY over those entries, never a pass over live
decisions. Reads only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..audit.entries import EntryKind
from ..audit.rollups import day_of
from ..audit.sql import POSTGRES, Cursor, Dialect

IMPORTED = EntryKind.IMPORTED.value
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHORT = 12
"""Hex digits of a file's digest shown in text; JSON carries all 64."""
FROM_RECORDS = "from the state switch's records"
"""How every form of a report, briefing or replay names imported requests."""

Select = Callable[[str, Sequence[Any]], Cursor]
"""Runs one read-only statement (`?` placeholders): `AuditLog.select` or `Db.execute`."""


def iso(time_us: int) -> str:
    """A time spelt as imported bodies spell theirs (UTC, ISO 8601, microseconds), so that
    the strings compare as the times do."""
    return (EPOCH + timedelta(microseconds=time_us)).isoformat(timespec="microseconds")


def made_us(text: str) -> int | None:
    """An imported body's time as microseconds since the epoch; None when it is not a time."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def made_between(d: Dialect, since_us: int | None, until_us: int | None,
                 column: str | None = None) -> tuple[str, list[str]]:
    """SQL and parameters for imported entries made from `since_us` up to and including
    `until_us` (None: no bound), spelt so the index `entries_imported` answers it."""
    made = column or d.made
    low = "" if since_us is None else iso(since_us)
    high = "~" if until_us is None else iso(until_us + 1)  # "~" sorts after every digit
    return f"kind = '{IMPORTED}' AND {made} >= ? AND {made} < ?", [low, high]


def path(d: Dialect, name: str) -> str:
    """SQL for a body field (`a.b` for a nested one) as text, straight from the row's body."""
    if d is POSTGRES:
        return "((body::jsonb) #>> '{" + name.replace(".", ",") + "}')"
    return f"json_extract(body, '$.{name}')"


@dataclass(frozen=True, slots=True, order=True)
class FileMonth:
    """Requests of one month read from one imported file."""

    sha256: str
    file: str
    imported_on: str
    """The day (UTC) its entries were appended to the log."""
    month: str
    """YYYY-MM of the requests, by when they were made."""
    requests: int


@dataclass(frozen=True, slots=True)
class ImportedFile:
    """One file of the state switch's records, as far as a range of time holds it."""

    sha256: str
    file: str
    imported_on: str
    requests: int

    @property
    def label(self) -> str:
        return label(self.sha256)

    def said(self) -> str:
        """"from the state switch's records, imported on 2026-12-07 (3f2a9c1b0d4e)"."""
        return f"{FROM_RECORDS}, imported on {self.imported_on} ({self.sha256[:SHORT]})"


def label(sha256: str) -> str:
    """The row naming an imported file in a report's table: short, and without the file's
    name (which is the state's own and may say anything)."""
    return f"imported {sha256[:SHORT]}"


def by_month(select: Select, d: Dialect, since_us: int | None = None,
             until_us: int | None = None, below: int | None = None) -> list[FileMonth]:
    """Imported requests made in a time range (and appended below sequence number `below`),
    counted by file and month in the database."""
    where, params = made_between(d, since_us, until_us)
    size = "" if below is None else " AND seq < ?"
    sha, name = path(d, "source.sha256"), path(d, "source.file")
    rows = select(f"SELECT {sha}, {name}, min(time_us), substr({d.made}, 1, 7), count(*) "
                  f"FROM entries WHERE {where}{size} GROUP BY 1, 2, 4",
                  [*params, *([] if below is None else [below])]).fetchall()
    return sorted(FileMonth(_text(sha256), _text(file), day_of(int(first)), _text(month),
                            int(n)) for sha256, file, first, month, n in rows)


def files(months: Iterable[FileMonth]) -> list[ImportedFile]:
    """The files the months come from, oldest import first, with their requests summed."""
    found: dict[str, list[Any]] = {}
    for m in months:
        row = found.setdefault(m.sha256, [m.file, m.imported_on, 0])
        row[1] = min(row[1], m.imported_on)
        row[2] += m.requests
    return sorted((ImportedFile(sha, file, day, n) for sha, (file, day, n) in found.items()),
                  key=lambda f: (f.imported_on, f.sha256))


def imported_files(select: Select, d: Dialect, since_us: int | None = None,
                   until_us: int | None = None) -> list[ImportedFile]:
    """The files whose requests were made in a time range, with how many each holds."""
    return files(by_month(select, d, since_us, until_us))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
