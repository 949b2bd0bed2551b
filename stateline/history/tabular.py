"""The "csv" and "jsonl" formats: one request per CSV row or JSON object, read through a column
map (`columns.ColumnMap`) that says which column or key holds each value.

A map naming a column the file lacks is refused before any row is read, with the columns the
file has. Every other problem is listed by row (CSV, the header is row 1) or line (JSONL) and
column, and the file is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..protocol import Reject
from ..protocol.model import read_fields
from .columns import ISO, ColumnMap
from .errors import MAX_LINE
from .rows import (
    Bad,
    Reading,
    Row,
    elements,
    encodable,
    not_after,
    ori,
    query_key,
    record_ids,
    too_long,
    utc_text,
)

_LINES = re.compile(r"\r\n|\r|\n")
CACHED = 100_000
"""Distinct cells remembered per value: exports repeat ORIs, keys and minutes endlessly."""


class Cells:
    """Each mapped cell read as the value its entry keeps, remembered by its text."""

    def __init__(self, columns: ColumnMap, reading: Reading, labels: Mapping[str, str]
                 ) -> None:
        self.map = columns
        self.reading = reading
        self.zone = columns.zone or reading.zone
        self.today = reading.today
        self.names = tuple(columns.columns)
        """The values a row gives, in the order `row` takes its cells."""
        self.labels = labels
        """Each value's column as the file names it, for problems."""
        read: dict[str, Callable[[Any], Any]] = {
            "time": self.time, "sender": self.sender, "key": self.key,
            "outcome": self.outcome, "elements": self.elements, "withheld": self.withheld,
            "photo": self.photo, "records": self.records, "terms": self.terms,
            "destination": self.destination}
        self.plan: tuple[tuple[str, Callable[[Any], Any], dict[object, Any]], ...] = tuple(
            (name, read[name], {}) for name in self.names)

    def row(self, cells: Sequence[object], line: int, csv_row: bool) -> Row | None:
        """The request in one row, its cells in the order of `names`; None when a cell is
        bad (each bad cell is a problem)."""
        values: list[Any] = []
        bad = False
        for (name, read, memo), cell in zip(self.plan, cells, strict=True):
            mark = cell if cell.__class__ is str else _mark(cell)
            found: Any = _MISSING if mark is None else memo.get(mark, _MISSING)
            if found is _MISSING:
                try:
                    found = read(cell)
                except Bad as error:
                    found = error
                if mark is not None:
                    if len(memo) >= CACHED:
                        memo.clear()
                    memo[mark] = found
            if found.__class__ is Bad:
                self.reading.problem(line, self.labels[name], str(found), csv_row)
                bad = True
            values.append(found)
        if bad:
            return None
        got: dict[str, Any] = dict(zip(self.names, values, strict=True))
        terms: tuple[str, ...] = got.get("terms", ())
        reason = next((t[4:] for t in terms if t.startswith("RSN/")), "") if terms else ""
        released: tuple[str, ...] = got["elements"]
        withheld: tuple[str, ...] = got.get("withheld", ())
        if withheld:
            withheld = tuple(e for e in withheld if e not in released)
        time, sender, key = got["time"], got["sender"], got["key"]
        return Row(time, line, sender, key, got["outcome"], released, withheld,
                   got["records"], got["photo"], terms, reason, None, (time, sender, key, terms))

    def time(self, cell: object) -> str:
        text = _string(cell).strip()
        try:
            if self.map.time_format == ISO:
                moment = datetime.fromisoformat(text)
            else:
                moment = datetime.strptime(text, self.map.time_format)
        except ValueError:
            shape = "an ISO 8601 time" if self.map.time_format == ISO else \
                f"a time in the form {self.map.time_format}"
            raise Bad(f"{text[:40]!r} is not {shape}") from None
        made = utc_text(moment, self.zone)
        not_after(made, self.today)
        return made

    def sender(self, cell: object) -> str:
        return ori(_string(cell))

    def key(self, cell: object) -> str:
        return query_key(_string(cell))

    def outcome(self, cell: object) -> str:
        word = _string(cell).strip().upper()
        found = self.map.outcomes.get(word)
        if found is None:
            raise Bad(f"{word[:40]!r} is not an outcome the map knows "
                      f"({', '.join(sorted(self.map.outcomes))})")
        return found

    def _list(self, cell: object, name: str) -> list[str]:
        if isinstance(cell, list) and all(isinstance(v, str) for v in cell):
            return list(map(encodable, cell))
        text = _string(cell)
        return [part for part in text.split(self.map.separators[name]) if part.strip()]

    def elements(self, cell: object) -> tuple[str, ...]:
        return elements(self._list(cell, "elements"))

    def withheld(self, cell: object) -> tuple[str, ...]:
        return elements(self._list(cell, "withheld"))

    def records(self, cell: object) -> tuple[str, ...]:
        return record_ids(self._list(cell, "records"))

    def photo(self, cell: object) -> bool:
        if isinstance(cell, bool):
            return cell
        word = _string(cell).strip().lower()
        if word in self.map.photo_true:
            return True
        if word in self.map.photo_false:
            return False
        raise Bad(f"{word[:40]!r} is neither a true word ({', '.join(sorted(self.map.photo_true))})"
                  f" nor a false one ({', '.join(repr(w) for w in sorted(self.map.photo_false))})")

    def terms(self, cell: object) -> tuple[str, ...]:
        text = encodable(".".join(cell)) if isinstance(cell, list) and all(
            isinstance(v, str) for v in cell) else _string(cell)
        try:
            return tuple(f"{f.prefix}/{f.value}" for f in read_fields(text))
        except Reject as reject:
            raise Bad(" ".join(reject.detail) or "not the query's fields (PREFIX/value)"
                      ) from None

    def destination(self, cell: object) -> str:
        code = _string(cell).strip().upper()
        if code != self.reading.state:
            raise Bad(f"{code[:40]!r}: this import takes requests to {self.reading.state} "
                      "only")
        return code


_MISSING = object()


def _mark(cell: object) -> object:
    """How a JSON value is remembered: by its type too (True is not 1 here); lists and
    objects are not remembered."""
    return None if isinstance(cell, list | dict) else (type(cell).__name__, cell)


def _shown(text: str) -> str:
    """Text from the file as a problem can quote it, half characters escaped."""
    return text.encode("utf-8", "backslashreplace").decode()


def _string(cell: object) -> str:
    if isinstance(cell, str):
        return encodable(cell)
    if isinstance(cell, bool) or cell is None or isinstance(cell, list | dict):
        raise Bad(f"{json.dumps(cell)[:40]} is not text")
    return str(cell)


def read_csv(text: str, columns: ColumnMap, reading: Reading) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    numbered = _numbered(reader, reading)
    header = next(((n, row) for n, row in numbered if any(c.strip() for c in row)), None)
    if header is None:
        reading.problem(None, None, "no header row: the file is empty")
        return []
    number, names = header
    index = _header(number, names, columns, reading)
    if index is None:
        return []
    cells = Cells(columns, reading, {name: names[i].strip() for name, i in index.items()})
    places = [index[name] for name in cells.names]
    rows: list[Row] = []
    width = len(names)
    for number, row in numbered:
        if len(row) != width:
            if any(c.strip() for c in row):
                reading.problem(number, None, f"has {len(row)} cells, the header has {width}",
                                True)
            continue
        if sum(map(len, row)) > MAX_LINE:
            reading.problem(number, None, f"a row over {MAX_LINE:,} characters: not a "
                            "switch's record", True)
            continue
        found = cells.row([row[i] for i in places], number, True)
        if found is not None:
            rows.append(found)
            reading.read(rows)
    return rows


def _numbered(reader: Iterator[list[str]], reading: Reading) -> Iterator[tuple[int, list[str]]]:
    """Rows with their numbers; a row csv cannot read ends the file with a problem."""
    number = 0
    try:
        for row in reader:
            number += 1
            yield number, row
    except csv.Error as error:
        reading.problem(number + 1, None, f"not readable as CSV ({error}): a quote left "
                        "open, or the file cut off", True)


def _header(number: int, names: list[str], columns: ColumnMap,
            reading: Reading) -> dict[str, int] | None:
    """Where each mapped column is; None (with a problem per column missing) when the header
    lacks one, before any row is read."""
    places: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        places.setdefault(name.strip().lower(), []).append(i)
    index: dict[str, int] = {}
    has = ", ".join(n.strip() for n in names)
    for name, column in columns.columns.items():
        found = places.get(column.lower(), [])
        if not found:
            reading.problem(number, column, f"the map's [{name}] column is not in the header "
                            f"(the file has: {has})", True)
        elif len(found) > 1:
            reading.problem(number, column, f"the header names the [{name}] column "
                            f"{len(found)} times", True)
        else:
            index[name] = found[0]
    return index if len(index) == len(columns.columns) else None


def read_jsonl(text: str, columns: ColumnMap, reading: Reading) -> list[Row]:
    keys = dict(columns.columns)
    cells = Cells(columns, reading, keys)
    rows: list[Row] = []
    first = True
    lines = _LINES.split(text)
    if too_long(lines, reading):
        return []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            reading.problem(number, str(error.colno), f"not a JSON object ({error.msg}): a "
                            "line cut off, or two on one line")
            continue
        except RecursionError:
            reading.problem(number, None, "JSON nested too deeply to be a request")
            continue
        if not isinstance(value, dict):
            reading.problem(number, None, f"a JSON {type(value).__name__}, not an object")
            continue
        missing = [key for key in keys.values() if key not in value]
        if missing and first:
            has = _shown(", ".join(value)) or "none"
            for key in missing:
                name = next(n for n, k in keys.items() if k == key)
                reading.problem(number, key, f"the map's [{name}] key is not in the first "
                                f"object (it has: {has})")
            return []
        first = False
        for key in missing:
            reading.problem(number, key, "no such key in this object")
        if missing:
            continue
        found = cells.row([value[keys[name]] for name in cells.names], number, False)
        if found is not None:
            rows.append(found)
            reading.read(rows)
    return rows
