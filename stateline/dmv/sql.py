"""Searches, sampling and bulk loading, written once for every SQL store.

A store subclass supplies a connection (how to run statements, copy rows in, and what to do
around a bulk load) and a Dialect for the few words its database spells differently. Searches
read the indexes ``rows`` declares: OLN, VIN, plate with type, owner keys, and (last key, first
key, DOB) for both name searches.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import date

from ..protocol.fields import check_name, check_partial_plate
from .dialect import Dialect, create_indexes, drop_indexes, insert
from .elements import DRIVER_LAYOUT, VEHICLE_LAYOUT, Layout, driver_hit, vehicle_hit
from .names import Name, format_name, parse_name
from .records import Hit, Registration
from .rows import (
    REGISTRATION_COLUMNS,
    TABLES,
    VEHICLES,
    Row,
    Table,
    batch_rows,
    clean_value,
    registration_columns,
    vehicle_row,
    ymd,
)
from .store import NAME_LIMIT, PARTIAL_PLATE_LIMIT, Batch, Sample

COMMIT_ROWS = 500_000
"""Rows per transaction during a bulk load: few commits, bounded journal."""
_ANY_SEX = frozenset({"", "U"})


def _select(layout: Layout) -> str:
    return ", ".join(f"{alias}.{column}" for alias, column in layout)


_VEHICLES = f"SELECT {_select(VEHICLE_LAYOUT)} FROM vehicles v"
_RANKED = ("ORDER BY (p.last_name <> ?), (p.first_name <> ?), (substr(p.middle_name, 1, 1) <> ?),"
           " p.oln LIMIT ?")
_FIRST_KEY = {"": "= ?", "_range": "BETWEEN ? AND ?"}
"""A full first name seeks its key; an initial (or none) scans a range of keys."""

QUERIES = {
    "driver": f"SELECT {_select(DRIVER_LAYOUT)} FROM people p "
              "LEFT JOIN history h ON h.oln = p.oln WHERE p.oln = ? ORDER BY h.happened, h.id",
    **{f"name_dob{kind}": f"SELECT p.oln FROM people p WHERE p.last_key = ? AND p.first_key "
                          f"{keys} AND (? = '' OR p.sex = ?) AND p.dob = ? {_RANKED}"
       for kind, keys in _FIRST_KEY.items()},
    **{f"name{kind}": f"SELECT p.oln FROM people p WHERE p.last_key = ? AND p.first_key {keys} "
                      f"AND (? = '' OR p.sex = ?) {_RANKED}" for kind, keys in _FIRST_KEY.items()},
    **{f"owner{kind}": f"{_VEHICLES} WHERE v.owner_last_key = ? AND v.owner_first_key {keys} "
                       "AND (? = 0 OR EXISTS (SELECT 1 FROM people p WHERE p.oln = v.owner_oln "
                       "AND p.dob = ?)) ORDER BY (v.owner_last <> ?), (v.owner_first <> ?), "
                       "v.id LIMIT ?" for kind, keys in _FIRST_KEY.items()},
    "plate": f"{_VEHICLES} WHERE v.plate = ? AND v.plate_type = ? AND v.plate_year % ? = ? "
             "ORDER BY v.id",
    "vin": f"{_VEHICLES} WHERE v.vin = ?",
    "partial": f"{_VEHICLES} WHERE v.plate {{match}} ? AND (? = '' OR v.plate_type = ?) "
               "AND v.plate_year % ? = ? ORDER BY v.plate, v.plate_type LIMIT ?",
    "sample": "SELECT p.oln, p.last_name, p.first_name, p.middle_name, p.dob, p.sex, v.plate, "
              "v.plate_year, v.plate_type, v.vin FROM vehicles v "
              "JOIN people p ON p.oln = v.owner_oln WHERE v.id >= ? ORDER BY v.id LIMIT 1",
    "ids": "SELECT min(id), max(id) FROM vehicles",
    "photo": "UPDATE people SET photo_seed = ?, photo_taken = ? WHERE oln = ?",
    "registration": f"UPDATE vehicles SET {', '.join(f'{c} = ?' for c in REGISTRATION_COLUMNS)}"
                    " WHERE vin = ?",
    "count_people": "SELECT count(*) FROM people",
    "count_photos": "SELECT count(photo_seed) FROM people",
    "count_vehicles": "SELECT count(model_year) FROM vehicles",
    "count_registrations": "SELECT count(plate) FROM vehicles",
    "count_history": "SELECT count(*) FROM history",
    **{f"any_{name}": f"SELECT 1 FROM {name} LIMIT 1" for name in TABLES},
}
"""Every statement a store runs, with ``?`` placeholders; ``{match}`` is the dialect's."""


def plate_year(year: str | None) -> tuple[int, int]:
    """LIY as (modulus, value) for ``plate_year % modulus = value``: YY compares the last two
    digits, CCYY the year; NX or nothing takes any year (modulus 1)."""
    if year and year.isdigit() and len(year) in (2, 4):
        return (100 if len(year) == 2 else 10_000), int(year)
    return 1, 0


def _ranking(name: Name) -> tuple[str, str, str | None]:
    return name.last, name.first, name.middle[:1] or None


def _first_keys(name: Name) -> tuple[str, tuple[str, ...]]:
    """Which statement variant (see _FIRST_KEY) and the first-key values it takes."""
    low, high = name.first_range()
    return ("", (low,)) if low == high else ("_range", (low, high))


class SqlStore(ABC):
    """A DmvStore over SQL: every search, ``sample``, ``counts`` and the loading loop."""

    dialect: Dialect

    def __init__(self) -> None:
        self._sql = {key: self.dialect.sql(text.replace("{match}", self.dialect.match))
                     for key, text in QUERIES.items()}
        self._inserts = {name: insert(self.dialect, table) for name, table in TABLES.items()}

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        """Run one statement, return its rows."""

    @abstractmethod
    def _many(self, statement: str, rows: Sequence[Sequence[object]]) -> int:
        """Run one statement per row inside the load transaction (LoadError if the database
        refuses); how many rows it changed."""

    def _copy(self, table: Table, rows: list[Row]) -> None:
        """Add rows to a table inside the load transaction."""
        self._many(self._inserts[table.name], rows)

    @abstractmethod
    def _run(self, statements: Iterable[str]) -> None:
        """Run statements without results, outside any transaction."""

    @abstractmethod
    def _start_load(self, fresh: bool) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _finish_load(self, fresh: bool) -> None: ...

    @abstractmethod
    def _abandon(self, fresh: bool) -> None:
        """Undo a failed load: roll back, and empty a store that was empty before."""

    def _query(self, key: str, *params: object) -> list[Row]:
        return self._rows(self._sql[key], params)

    def _drivers(self, olns: Iterable[Row], photo: bool) -> list[Hit]:
        hits = []
        for (oln,) in olns:
            rows = self._query("driver", oln)
            if rows:
                hits.append(driver_hit(rows, photo=photo))
        return hits

    # Searches: inputs passed protocol validation, but odd ones still answer [] and never raise.

    def by_oln(self, oln: str, *, photo: bool = False) -> list[Hit]:
        return self._drivers([(_term(oln),)], photo)

    def by_name_dob(self, name: str, dob: date, sex: str | None = None, *,
                    photo: bool = False) -> list[Hit]:
        wanted = parse_name(name)
        if not wanted.last:
            return []
        sex_code = _sex(sex)
        kind, keys = _first_keys(wanted)
        rows = self._query(f"name_dob{kind}", wanted.last_key, *keys, sex_code, sex_code,
                           ymd(dob), *_ranking(wanted), NAME_LIMIT)
        return self._drivers(rows, photo)

    def by_name(self, name: str, sex: str | None = None, limit: int = NAME_LIMIT) -> list[Hit]:
        wanted = parse_name(name)
        if not wanted.last or limit <= 0:
            return []
        sex_code = _sex(sex)
        kind, keys = _first_keys(wanted)
        rows = self._query(f"name{kind}", wanted.last_key, *keys, sex_code, sex_code,
                           *_ranking(wanted), min(limit, NAME_LIMIT))
        return self._drivers(rows, False)

    def by_plate(self, plate: str, year: str, plate_type: str) -> list[Hit]:
        modulus, value = plate_year(_term(year))
        rows = self._query("plate", _term(plate), _term(plate_type), modulus, value)
        return [vehicle_hit(row) for row in rows]

    def by_vin(self, vin: str) -> list[Hit]:
        return [vehicle_hit(row) for row in self._query("vin", _term(vin))]

    def by_owner(self, name: str, dob: date | None = None,
                 limit: int = NAME_LIMIT) -> list[Hit]:
        wanted = parse_name(name)
        if not wanted.last or limit <= 0:
            return []
        born = ymd(dob) if dob else 0
        kind, keys = _first_keys(wanted)
        rows = self._query(f"owner{kind}", wanted.last_key, *keys, born, born, wanted.last,
                           wanted.first, min(limit, NAME_LIMIT))
        return [vehicle_hit(row) for row in rows]

    def by_partial_plate(self, pattern: str, year: str | None = None,
                         plate_type: str | None = None,
                         limit: int = PARTIAL_PLATE_LIMIT) -> list[Hit]:
        pattern = _term(pattern)
        if check_partial_plate(pattern) is not None or limit <= 0:
            return []
        kind = _term(plate_type or "")
        modulus, value = plate_year(_term(year or ""))
        rows = self._query("partial", self.dialect.pattern(pattern), kind, kind, modulus, value,
                           min(limit, PARTIAL_PLATE_LIMIT))
        return [vehicle_hit(row) for row in rows]

    def sample(self, n: int, seed: int = 0) -> list[Sample]:
        """People who own a registered vehicle, drawn by seed, each with names a query can
        carry as is; fewer than n when the store has fewer such people."""
        ((low, high),) = self._query("ids")
        if not isinstance(low, int) or not isinstance(high, int) or n <= 0:
            return []
        rng = random.Random(seed)
        found: dict[str, Sample] = {}
        for _ in range(n * 10 + 100):
            if len(found) >= n:
                break
            for row in self._query("sample", rng.randint(low, high)):
                picked = _sample(row)
                if picked and picked.oln not in found:
                    found[picked.oln] = picked
        return list(found.values())

    def counts(self) -> dict[str, int]:
        names = ("people", "photos", "vehicles", "registrations", "history")
        return {name: _int(self._query(f"count_{name}")[0][0]) for name in names}

    def load(self, batches: Iterable[Batch]) -> None:
        """Bulk insert, all or nothing. Into an empty store: indexes dropped and built after
        the rows, a commit every COMMIT_ROWS rows (a failure empties the store again); into a
        live store: one transaction. A photo joins its person's row and a registration its
        vehicle's, even from another batch; a photo whose OLN is on no licence is dropped."""
        fresh = not any(self._query(f"any_{name}") for name in TABLES)
        if fresh:
            self._run(statement for table in TABLES.values() for statement in drop_indexes(table))
        self._start_load(fresh)
        try:
            pending, photos, registrations = 0, [], []
            for batch in batches:
                rows = batch_rows(batch)
                for name, table_rows in rows.tables.items():
                    if table_rows:
                        self._copy(TABLES[name], table_rows)
                        pending += len(table_rows)
                photos += rows.photos
                registrations += rows.registrations
                if fresh and pending >= COMMIT_ROWS:
                    self._commit()
                    pending = 0
            if fresh:
                self._commit()
            self._run(statement for table in TABLES.values()
                      for statement in create_indexes(table))
            self._many(self._sql["photo"], photos)
            self._register(registrations)
            self._commit()
        except BaseException:
            self._abandon(fresh)
            raise
        self._finish_load(fresh)

    def _register(self, registrations: list[Registration]) -> None:
        """Put registrations on vehicles loaded in other batches; a registration whose vehicle
        is on no row gets a row of its own."""
        for registration in registrations:
            if not self._many(self._sql["registration"], [(
                    *registration_columns(registration), clean_value(registration.vin))]):
                self._copy(VEHICLES, [vehicle_row(None, registration)])

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...


def _term(text: str) -> str:
    """A search term as records keep it; NUL, which PostgreSQL refuses in text, dropped."""
    return text.replace("\x00", "").strip().upper()


def _sex(sex: str | None) -> str:
    code = _term(sex or "")
    return "" if code in _ANY_SEX else code


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _sample(row: Row) -> Sample | None:
    oln, last, first, middle, dob, sex, plate, year, kind, vin = (str(v) for v in row)
    name = format_name(Name(last, first, middle), suffix=False)
    if check_name(name) is not None:
        return None
    return Sample(oln, name, dob, sex, plate, "NX" if year == "0" else year, kind, vin)
