"""Recorded requests read in bulk from a state's audit log, for replay, flags and briefings.

Only the fields a reader needs leave the database: its own JSON functions pick them out of
each entry's body, so Python never parses whole bodies, and what-if replay lets the database
group identical requests, so millions of entries come back as a few thousand shapes. Reads
only: nothing here writes to the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..audit import AuditLog
from ..audit.sql import POSTGRES, Dialect
from ..directory.categories import CATEGORIES

CHUNK = 50_000
"""Sequence numbers read per statement when streaming rows."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """An attestation in force for one ORI from `start_us` up to (not including) `end_us`."""

    ori: str
    start_us: int
    end_us: int


@dataclass(frozen=True, slots=True)
class Shape:
    """Requests a policy cannot tell apart: the sender as it was, the key, reason and context,
    and what the log says came of them."""

    sender: str
    """The sender's recorded attributes as JSON text; "" when the directory did not know it."""
    ori: str
    key: str
    reason: str
    category: str
    outcome: str
    released: tuple[str, ...]
    withheld: tuple[str, ...]
    court_order: bool
    image_requested: bool
    attested: bool
    multi_state: bool = False
    """Sent to several states (recorded since the switch passes it on; older entries: no)."""


@dataclass(frozen=True, slots=True)
class ShapeCount:
    shape: Shape
    entries: int
    newest: int
    """Sequence number of the newest entry of this shape: an example to show."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One decision entry, cut to what flags and briefings read."""

    seq: int
    time_us: int
    request_id: str
    ori: str
    name: str
    level: str
    department: str
    component: str
    programs: tuple[str, ...]
    category: str
    key: str
    reason: str
    outcome: str
    terms: tuple[str, ...]


def reader(log: AuditLog) -> AuditLog:
    """The log, read through its read-only `select`: SQLite and PostgreSQL logs alike."""
    return log


def _field(d: Dialect, path: str) -> str:
    """SQL for one field of an entry's body, `a.b` for a nested one, as text or JSON text."""
    if d is POSTGRES:
        return "(j #>> '{" + path.replace(".", ",") + "}')"
    return f"json_extract(body, '$.{path}')"


def _source(d: Dialect) -> str:
    """Entries with their body parsed once per row where the database needs that said."""
    if d is POSTGRES:
        return "(SELECT seq, time_us, kind, body, body::jsonb AS j FROM entries) AS e"
    return "entries"


def _contains(d: Dialect, text: str) -> str:
    return f"(strpos(body, '{text}') > 0)" if d is POSTGRES else f"(instr(body, '{text}') > 0)"


def seq_range(log: AuditLog, since_us: int | None, until_us: int | None) -> tuple[int, int]:
    """Sequence numbers [low, high) of entries in a time range: times rise with sequence
    numbers, so two binary searches over the primary key replace a scan of the whole log."""
    db = reader(log)

    def first_at_or_after(moment: int) -> int:
        low, high = 0, log.size
        while low < high:
            middle = (low + high) // 2
            row = db.select("SELECT time_us FROM entries WHERE seq = ?", (middle,)).fetchone()
            if row is not None and int(row[0]) < moment:
                low = middle + 1
            else:
                high = middle
        return low

    low = 0 if since_us is None else first_at_or_after(since_us)
    high = log.size if until_us is None else first_at_or_after(until_us + 1)
    return low, high


IMAGE = '"IMQ/Y"'
"""A photo asked for, as the term appears in a body's JSON."""
_SHAPE = ("ori", "key", "reason", "category", "outcome", "released", "withheld", "court_order",
          "multi_state")
"""The body fields that make a request's shape besides its sender, read as one JSON array."""


def _object(d: Dialect, name: str) -> str:
    """SQL for a body field holding an object, as JSON text: the same text for equal objects,
    since every body was written in one canonical spelling."""
    return f"(j -> '{name}')::text" if d is POSTGRES else f"json_extract(body, '$.{name}')"


def _array(d: Dialect, names: Sequence[str]) -> str:
    """SQL for chosen body fields as the text of one JSON array: one parse of the body."""
    if d is POSTGRES:
        return "jsonb_build_array(" + ", ".join(f"j -> '{n}'" for n in names) + ")::text"
    return "json_extract(body, " + ", ".join(f"'$.{n}'" for n in names) + ")"


def shapes(log: AuditLog, since_us: int | None = None, until_us: int | None = None,
           attested: Sequence[Window] = ()) -> list[ShapeCount]:
    """Decision entries in a time range grouped by shape, counted, the newest of each kept.

    Counting happens here rather than in a GROUP BY: SQLite sorts to group, and a dictionary
    keyed by the fields' text was measured faster; only distinct texts are parsed."""
    db = reader(log)
    d = db.dialect
    low, high = seq_range(log, since_us, until_us)
    when = " OR ".join(f"({_field(d, 'ori')} = ? AND time_us >= ? AND time_us < ?)"
                       for _ in attested)
    attested_sql = f"(CASE WHEN {when} THEN 1 ELSE 0 END)" if attested else "0"
    sql = (f"SELECT {_object(d, 'sender')}, {_array(d, _SHAPE)}, {_contains(d, IMAGE)}, "
           f"{attested_sql}, seq "
           f"FROM {_source(d)} WHERE seq >= ? AND seq < ? AND kind = 'decision'")
    given: list[Any] = [v for w in attested for v in (w.ori, w.start_us, w.end_us)]
    counts: dict[tuple[Any, ...], list[int]] = {}
    for start in range(low, high, CHUNK):
        for sender, fields, image, attest, seq in db.select(
                sql, (*given, start, min(start + CHUNK, high))):
            found = counts.get((sender, fields, image, attest))
            if found is None:
                counts[sender, fields, image, attest] = [1, seq]
            else:
                found[0] += 1
                found[1] = seq
    return [ShapeCount(_shape(sender, fields, bool(image), bool(attest)), entries, int(newest))
            for (sender, fields, image, attest), (entries, newest) in counts.items()]


def _shape(sender: Any, fields: Any, image: bool, attested: bool) -> Shape:
    values = _list(fields)
    values += [None] * (len(_SHAPE) - len(values))
    ori, key, reason, category, outcome, released, withheld, order, multi = values[:len(_SHAPE)]
    known = isinstance(sender, str) and sender.startswith("{")
    return Shape(sender if known else "", _text(ori), _text(key), _text(reason),
                 _text(category), _text(outcome), _names(released), _names(withheld),
                 order is not None, image, attested, multi is True or multi == 1)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _names(value: Any) -> tuple[str, ...]:
    """Element names (a list, or its JSON text) as a sorted tuple."""
    found = _list(value)
    return tuple(sorted(v for v in found if isinstance(v, str)))


def _list(value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


_RECORDED = ("request_id", "ori", "sender.name", "sender.level", "sender.department",
             "sender.component", "sender.programs", "category", "key", "reason", "outcome",
             "terms")


def requests(log: AuditLog, since_us: int | None = None,
             until_us: int | None = None) -> Iterator[Recorded]:
    """Decision entries in a time range, oldest first, a range of sequence numbers at a time."""
    db = reader(log)
    d = db.dialect
    low, high = seq_range(log, since_us, until_us)
    columns = ", ".join(_field(d, name) for name in _RECORDED)
    sql = (f"SELECT seq, time_us, {columns} FROM {_source(d)} WHERE seq >= ? AND seq < ? "
           f"AND kind = 'decision' ORDER BY seq")
    for start in range(low, high, CHUNK):
        for row in db.select(sql, (start, min(start + CHUNK, high))).fetchall():
            yield _recorded(row)


def _recorded(row: Sequence[Any]) -> Recorded:
    (seq, time_us, request_id, ori, name, level, department, component, programs, category,
     key, reason, outcome, terms) = row
    return Recorded(int(seq), int(time_us), _text(request_id), _text(ori), _text(name),
                    _text(level), _text(department), _text(component), _names(programs),
                    _text(category), _text(key), _text(reason), _text(outcome),
                    _terms(terms))


def _terms(value: Any) -> tuple[str, ...]:
    """Query terms in their recorded order (a subject's NAM comes before its DOB)."""
    return tuple(v for v in _list(value) if isinstance(v, str))


def at(log: AuditLog, seqs: Sequence[int]) -> dict[int, Recorded]:
    """Chosen decision entries by sequence number: examples to show beside counts."""
    if not seqs:
        return {}
    db = reader(log)
    d = db.dialect
    columns = ", ".join(_field(d, name) for name in _RECORDED)
    marks = ", ".join("?" * len(seqs))
    rows = db.select(f"SELECT seq, time_us, {columns} FROM {_source(d)} "
                      f"WHERE seq IN ({marks})", list(seqs)).fetchall()
    return {int(row[0]): _recorded(row) for row in rows}


def first_decision(log: AuditLog) -> int | None:
    """Time of the log's oldest decision: how far back a baseline can reach."""
    row = reader(log).select(
        "SELECT time_us FROM entries WHERE kind = 'decision' ORDER BY seq LIMIT 1").fetchone()
    return int(row[0]) if row else None


def micros(moment: datetime | date | None, *, end: bool = False) -> int | None:
    """Microseconds since the epoch, UTC (an unzoned time is taken as UTC). A date is its
    first moment, or with `end` the first moment of the next day."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        day = moment + timedelta(days=1) if end else moment
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int((moment - EPOCH) // timedelta(microseconds=1))


def moment(time_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=time_us)


def ordered(categories: Iterable[str]) -> list[str]:
    """Categories in report order (DESIGN.md's), any the default table does not know after."""
    rank = {name: n for n, name in enumerate(CATEGORIES)}
    return sorted(categories, key=lambda c: (rank.get(c, len(rank)), c))
