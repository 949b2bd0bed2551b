"""Recorded requests read in bulk from a state's audit log, for replay, flags and briefings.

Only the fields a reader needs leave the database: its own JSON functions pick them out of
each entry's body, so Python never parses whole bodies, and what-if replay lets the database
group identical requests, so millions of entries come back as a few thousand shapes. Live
decisions are found by time through their sequence numbers; requests imported from the state
switch's records by the time they were made, through the index on it (`provenance`). Reads
only: nothing here writes to the log.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..audit import AuditLog
from ..audit.sql import POSTGRES, Dialect
from ..directory.categories import CATEGORIES
from .provenance import iso, made_between, made_us

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
    imported: bool = False
    """Read from the state switch's records: its sender's attributes are as of the import."""


@dataclass(frozen=True, slots=True)
class ShapeCount:
    shape: Shape
    entries: int
    newest: int
    """Sequence number of the newest entry of this shape: an example to show."""


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request (a live decision or an imported one), cut to what flags and briefings
    read; `time_us` is when it was made."""

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
    imported: bool = False


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


def _attested(d: Dialect, windows: Sequence[Window], imported: bool) -> tuple[str, list[Any]]:
    """SQL that is 1 for a request made while an attestation was in force for its sender."""
    if not windows:
        return "0", []
    at = d.made if imported else "time_us"
    when = " OR ".join(f"({_field(d, 'ori')} = ? AND {at} >= ? AND {at} < ?)" for _ in windows)
    given: list[Any] = [v for w in windows for v in (
        (w.ori, iso(w.start_us), iso(w.end_us)) if imported else (w.ori, w.start_us, w.end_us))]
    return f"(CASE WHEN {when} THEN 1 ELSE 0 END)", given


def shapes(log: AuditLog, since_us: int | None = None, until_us: int | None = None,
           attested: Sequence[Window] = ()) -> list[ShapeCount]:
    """Requests made in a time range grouped by shape, counted, the newest of each kept:
    live decisions by a walk over their sequence numbers, imported ones by the time they
    were made.

    Counting happens here rather than in a GROUP BY: SQLite sorts to group, and a dictionary
    keyed by the fields' text was measured faster; only distinct texts are parsed."""
    db = reader(log)
    d = db.dialect
    low, high = seq_range(log, since_us, until_us)
    columns = f"{_object(d, 'sender')}, {_array(d, _SHAPE)}, {_contains(d, IMAGE)}"
    clause, given = _attested(d, attested, imported=False)
    sql = (f"SELECT {columns}, {clause}, seq "
           f"FROM {_source(d)} WHERE seq >= ? AND seq < ? AND kind = 'decision'")
    live: dict[tuple[Any, ...], list[int]] = {}
    for start in range(low, high, CHUNK):
        _tally(live, db.select(sql, (*given, start, min(start + CHUNK, high))))
    past: dict[tuple[Any, ...], list[int]] = {}
    clause, given = _attested(d, attested, imported=True)
    _tally(past, (row[2:] for row in _by_made(db, f"{columns}, {clause}, seq", given,
                                              since_us, until_us)))
    return [ShapeCount(_shape(sender, fields, bool(image), bool(attest), imported), entries,
                       int(newest))
            for imported, counts in ((False, live), (True, past))
            for (sender, fields, image, attest), (entries, newest) in counts.items()]


def _tally(counts: dict[tuple[Any, ...], list[int]], rows: Iterable[Sequence[Any]]) -> None:
    """Rows of a shape's fields and sequence number counted by shape, the last row's number
    kept (the newest: rows come in the order requests were made)."""
    for sender, fields, image, attest, seq in rows:
        found = counts.get((sender, fields, image, attest))
        if found is None:
            counts[sender, fields, image, attest] = [1, seq]
        else:
            found[0] += 1
            found[1] = seq


def _shape(sender: Any, fields: Any, image: bool, attested: bool,
           imported: bool = False) -> Shape:
    values = _list(fields)
    values += [None] * (len(_SHAPE) - len(values))
    ori, key, reason, category, outcome, released, withheld, order, multi = values[:len(_SHAPE)]
    known = isinstance(sender, str) and sender.startswith("{")
    return Shape(sender if known else "", _text(ori), _text(key), _text(reason),
                 _text(category), _text(outcome), _names(released), _names(withheld),
                 order is not None, image, attested, multi is True or multi == 1, imported)


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
    """Requests made in a time range, oldest first: live decisions a range of sequence
    numbers at a time, merged by time with imported ones a page of the index at a time."""
    past = _imported(log, since_us, until_us)
    first = next(past, None)
    if first is None:  # a log without history: its decisions alone, unmerged
        return _live(log, since_us, until_us)
    return heapq.merge(_live(log, since_us, until_us), itertools.chain((first,), past),
                       key=lambda r: r.time_us)


def _live(log: AuditLog, since_us: int | None, until_us: int | None) -> Iterator[Recorded]:
    db = reader(log)
    d = db.dialect
    low, high = seq_range(log, since_us, until_us)
    columns = ", ".join(_field(d, name) for name in _RECORDED)
    sql = (f"SELECT seq, time_us, {columns} FROM {_source(d)} WHERE seq >= ? AND seq < ? "
           f"AND kind = 'decision' ORDER BY seq")
    for start in range(low, high, CHUNK):
        for row in db.select(sql, (start, min(start + CHUNK, high))).fetchall():
            yield _recorded(row)


def _imported(log: AuditLog, since_us: int | None,
              until_us: int | None) -> Iterator[Recorded]:
    columns = ", ".join(_field(log.dialect, name) for name in _RECORDED)
    for row in _by_made(reader(log), columns, (), since_us, until_us):
        made = made_us(row[1])
        if made is not None:
            yield _recorded((row[0], made, *row[2:]), imported=True)


def _by_made(db: AuditLog, columns: str, given: Sequence[Any], since_us: int | None,
             until_us: int | None) -> Iterator[Sequence[Any]]:
    """Imported requests made in a time range, in that order, a page at a time (each page
    seeks the index from where the last ended): rows of seq, the time made, then `columns`
    (whose placeholders `given` fills)."""
    d = db.dialect
    where, (low, high) = made_between(d, since_us, until_us)
    sql = (f"SELECT seq, {d.made}, {columns} FROM {_source(d)} WHERE {where} "
           f"AND ({d.made} > ? OR seq > ?) ORDER BY {d.made}, seq LIMIT {CHUNK}")
    after = -1
    while True:
        rows = db.select(sql, (*given, low, high, low, after)).fetchall()
        yield from rows
        if len(rows) < CHUNK:
            return
        low, after = rows[-1][1], int(rows[-1][0])


def _recorded(row: Sequence[Any], imported: bool = False) -> Recorded:
    (seq, time_us, request_id, ori, name, level, department, component, programs, category,
     key, reason, outcome, terms) = row
    return Recorded(int(seq), int(time_us), _text(request_id), _text(ori), _text(name),
                    _text(level), _text(department), _text(component), _names(programs),
                    _text(category), _text(key), _text(reason), _text(outcome),
                    _terms(terms), imported)


def _terms(value: Any) -> tuple[str, ...]:
    """Query terms in their recorded order (a subject's NAM comes before its DOB)."""
    return tuple(v for v in _list(value) if isinstance(v, str))


def at(log: AuditLog, seqs: Sequence[int]) -> dict[int, Recorded]:
    """Chosen request entries by sequence number: examples to show beside counts, each at
    the time it was made."""
    if not seqs:
        return {}
    db = reader(log)
    d = db.dialect
    columns = ", ".join(_field(d, name) for name in _RECORDED)
    marks = ", ".join("?" * len(seqs))
    rows = db.select(f"SELECT seq, time_us, kind, {_field(d, 'time')}, {columns} "
                     f"FROM {_source(d)} WHERE seq IN ({marks})", list(seqs)).fetchall()
    found = {}
    for seq, time_us, kind, made, *rest in rows:
        imported = kind == "imported"
        when = made_us(made) if imported else int(time_us)
        found[int(seq)] = _recorded((seq, time_us if when is None else when, *rest), imported)
    return found


def first_request(log: AuditLog) -> int | None:
    """When the log's oldest request was made, live or imported: how far back a baseline
    can reach."""
    db = reader(log)
    d = db.dialect
    live = db.select("SELECT time_us FROM entries WHERE kind = 'decision' ORDER BY seq "
                     "LIMIT 1").fetchone()
    where, bounds = made_between(d, None, None)
    past = db.select(f"SELECT {d.made} FROM entries WHERE {where} ORDER BY {d.made} LIMIT 1",
                     bounds).fetchone()
    found = [int(live[0])] if live else []
    made = made_us(past[0]) if past else None
    return min([*found, *([] if made is None else [made])], default=None)


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
