"""Counts per day, kind, category, message group and outcome, kept beside the entries.

The gateway's batch adds to them in the same transaction as its entries, so a report reads a
few hundred rows instead of rescanning millions of entries. `verify` recomputes them in SQL
from the entries with the same rules as `rollup_key`, so the two cannot drift apart unseen.
Like that SQL, the rules read any body leniently (a value of another type counts as absent),
but only by the names of fields of a request's record, checked when this module loads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..protocol.keys import KEYS
from .records import RequestRecord, keys_of
from .sql import POSTGRES, Dialect

DISCLOSED = ("released", "partial")
GROUPS: dict[str, str] = {key: spec.group for key, spec in KEYS.items() if spec.group}
"""The message group of every query key: driver, vehicle or history."""

Key = tuple[str, str, str, str, str]

CATEGORY, KEY, OUTCOME, PHOTO, RECORDS, TIME = keys_of(
    RequestRecord, "category", "key", "outcome", "photo_released", "records", "time")
"""The body keys the rules read."""


@dataclass(frozen=True, slots=True, order=True)
class Rollup:
    day: str
    kind: str
    category: str
    group: str
    outcome: str
    entries: int
    photos: int
    """Entries that released a photo."""
    records: int
    """Records disclosed (released or partial outcomes only)."""

    @property
    def key(self) -> Key:
        return (self.day, self.kind, self.category, self.group, self.outcome)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


DAY_US = 86_400_000_000


def day_of(time_us: int) -> str:
    """The UTC day of a time; formatted once per day, not once per entry of a batch."""
    return _day(time_us // DAY_US)


@lru_cache(maxsize=8)
def _day(index: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(index * 86_400))


IMPORTED = "imported"
"""An imported request counts on the day it was made, which its body gives (UTC, ISO 8601),
not on the day it was appended."""


def rollup_key(time_us: int, kind: str, body: Mapping[str, Any]) -> Key:
    day = _text(body, TIME)[:10] if kind == IMPORTED else day_of(time_us)
    return (day, kind, _text(body, CATEGORY), GROUPS.get(_text(body, KEY), ""),
            _text(body, OUTCOME))


def counts(body: Mapping[str, Any]) -> tuple[int, int]:
    """(photos, records) one entry adds."""
    photos = 1 if body.get(PHOTO) is True else 0
    records = body.get(RECORDS)
    disclosed = isinstance(records, list) and _text(body, OUTCOME) in DISCLOSED
    return photos, len(records) if disclosed and isinstance(records, list) else 0


def accumulate(rows: Iterable[tuple[int, str, Mapping[str, Any]]]) -> dict[Key, list[int]]:
    """A batch's additions, one row per key: [entries, photos, records]."""
    totals: dict[Key, list[int]] = {}
    for time_us, kind, body in rows:
        add_to(totals, time_us, kind, body)
    return totals


def add_to(totals: dict[Key, list[int]], time_us: int, kind: str, body: Mapping[str, Any]
           ) -> None:
    """Count one entry into a batch's additions."""
    photos, records = counts(body)
    row = totals.get(key := rollup_key(time_us, kind, body))
    if row is None:
        totals[key] = [1, photos, records]
    else:
        row[0] += 1
        row[1] += photos
        row[2] += records


UPSERT = (
    "INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (day, kind, category, grp, outcome) DO UPDATE SET "
    "entries = rollups.entries + excluded.entries, photos = rollups.photos + excluded.photos, "
    "records = rollups.records + excluded.records"
)

COLUMNS = "day, kind, category, grp, outcome, entries, photos, records"


def recompute_sql(d: Dialect) -> str:
    """Entries below a size grouped by day, kind and the JSON of the fields a rollup key reads:
    one JSON parse per field list, not per field; `implied` applies the rules to the groups."""
    if d is POSTGRES:
        j = "(body::jsonb)"
        made = (f"CASE WHEN jsonb_typeof({j}->'{TIME}') = 'string' "
                f"THEN substr({j}->>'{TIME}', 1, 10) ELSE '' END")
        fields = ", ".join(f"{j}->'{name}'" for name in _FIELDS)
        dims = f"jsonb_build_array({fields})::text"
        records = (f"CASE WHEN jsonb_typeof({j}->'{RECORDS}') = 'array' "
                   f"THEN jsonb_array_length({j}->'{RECORDS}') ELSE 0 END")
    else:
        dims = "json_extract(body, " + ", ".join(f"'$.{name}'" for name in _FIELDS) + ")"
        records = f"coalesce(json_array_length(body, '$.{RECORDS}'), 0)"
        made = (f"CASE WHEN json_type(body, '$.{TIME}') = 'text' "
                f"THEN substr(json_extract(body, '$.{TIME}'), 1, 10) ELSE '' END")
    day = f"CASE WHEN kind = '{IMPORTED}' THEN {made} ELSE {d.day} END"
    return (f"SELECT {day}, kind, {dims}, count(*), sum({records}) FROM entries "
            f"WHERE seq < ? GROUP BY 1, 2, 3")


_FIELDS = (CATEGORY, KEY, OUTCOME, PHOTO)


def implied(groups: Iterable[tuple[Any, ...]]) -> list[Rollup]:
    """The rollups `recompute_sql`'s groups come to, by the rules of `rollup_key` and `counts`."""
    totals: dict[Key, list[int]] = {}
    for day, kind, dims, entries, records in groups:
        values = json.loads(dims) if isinstance(dims, str) else [None] * len(_FIELDS)
        body = dict(zip(_FIELDS, values, strict=False))
        key = (str(day), str(kind), _text(body, CATEGORY), GROUPS.get(_text(body, KEY), ""),
               _text(body, OUTCOME))
        row = totals.setdefault(key, [0, 0, 0])
        row[0] += int(entries)
        row[1] += int(entries) if body.get(PHOTO) is True else 0
        row[2] += int(records or 0) if _text(body, OUTCOME) in DISCLOSED else 0
    return as_rollups((*key, *values) for key, values in totals.items())


def as_rollups(rows: Iterable[tuple[Any, ...]]) -> list[Rollup]:
    return sorted(Rollup(str(a), str(b), str(c), str(d), str(e), int(f), int(g), int(h))
                  for a, b, c, d, e, f, g, h in rows)
