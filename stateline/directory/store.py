"""The directory on disk: agencies in SQLite (WAL) at DIR/nation.db, with a version number.

The version goes up by one in the same transaction as every edit, so a policy decision cached
under version N can never be served once the agencies it was made for have changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, TracebackType

from ..datadir import DataDir
from .agency import (
    Agency,
    DirectoryError,
    Level,
    join_letters,
    join_programs,
    normalise_ori,
    split_letters,
    split_programs,
)


class NoNation(DirectoryError):
    """The data folder holds no directory; the message says how to make one."""

    code, status = "no-nation", 404


class UnknownAgency(DirectoryError):
    """No agency has this ORI."""

    code, status = "not-found", 404


COLUMNS = ("ori", "name", "state", "level", "agency_type", "department", "component",
           "criminal_justice", "permissions", "programs", "active", "contact")
"""Agency attributes in storage (and CSV) order."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS agency (
    ori TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, level TEXT NOT NULL,
    agency_type TEXT NOT NULL, department TEXT NOT NULL, component TEXT NOT NULL,
    criminal_justice INTEGER NOT NULL, permissions TEXT NOT NULL, programs TEXT NOT NULL,
    active INTEGER NOT NULL, contact TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agency_state ON agency (state);
CREATE TABLE IF NOT EXISTS directory_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO directory_meta VALUES ('version', 0), ('schema', 1);
"""

_Row = tuple[str, str, str, str, str, str, str, int, str, str, int, str]

_FILTERS = {
    "state": "state = ?",
    "component": "component = ?",
    "program": "instr(';' || programs || ';', ';' || ? || ';') > 0",
    "active": "active = ?",
}
"""SQL for each `agencies()` filter; programs are stored sorted and `;`-joined."""


def to_row(agency: Agency) -> _Row:
    return (agency.ori, agency.name, agency.state, agency.level.value, agency.agency_type,
            agency.department, agency.component, int(agency.criminal_justice),
            join_letters(agency.permissions), join_programs(agency.programs),
            int(agency.active), agency.contact)


def from_row(row: _Row) -> Agency:
    (ori, name, state, level, agency_type, department, component, cj, permissions, programs,
     active, contact) = row
    return Agency(ori, name, state, Level.parse(level), agency_type, department, component,
                  bool(cj), split_letters(permissions), split_programs(programs), bool(active),
                  contact)


@dataclass(frozen=True, slots=True)
class Change:
    """What one edit did, and the version it made."""

    added: int
    updated: int
    unchanged: int
    removed: int
    version: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole directory at one version, in memory: lookups without a database round trip."""

    version: int
    agencies: Mapping[str, Agency]

    def get(self, ori: str) -> Agency | None:
        """The agency with this ORI; the exact stored spelling skips normalising."""
        found = self.agencies.get(ori)
        return found if found is not None else self.agencies.get(normalise_ori(ori))

    def __len__(self) -> int:
        return len(self.agencies)


class Directory:
    """Agencies by ORI in one SQLite file. Open with `Directory.open`; use as a context manager."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, where: DataDir | Path | str, *, create: bool = True) -> Directory:
        """The directory of a data folder (or of a file named *.db), made empty if `create`."""
        if isinstance(where, DataDir):
            path = where.nation_db
        else:
            path = Path(where) if Path(where).suffix == ".db" else DataDir(Path(where)).nation_db
        folder = path.parent
        if not path.is_file():
            if not create:
                raise NoNation(f"no nation at {folder}: run `stateline nation init {folder}`")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise NoNation(f"cannot create {folder}: {error.strerror}") from None
        try:
            connection = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise NoNation(f"cannot open {path}: {error}") from None
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.executescript(_SCHEMA)
        except sqlite3.Error as error:
            connection.close()
            raise NoNation(f"{path} is not a Stateline directory ({error})") from None
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def version(self) -> int:
        row = self._db.execute("SELECT value FROM directory_meta WHERE key = 'version'")
        version: int = row.fetchone()[0]
        return version

    def get(self, ori: str) -> Agency | None:
        """The agency with this ORI, however it is spelled (`waspd0100 `); None if absent."""
        row = self._db.execute("SELECT * FROM agency WHERE ori = ?", (normalise_ori(ori),))
        found = row.fetchone()
        return from_row(found) if found else None

    def agencies(self, state: str | None = None, component: str | None = None,
                 program: str | None = None, active: bool | None = None) -> list[Agency]:
        """Agencies sorted by ORI, narrowed by each filter given (codes in any case)."""
        given = {"state": state and state.strip().upper(),
                 "component": component and component.strip().upper(),
                 "program": program and program.strip().lower(),
                 "active": None if active is None else int(active)}
        used = {name: value for name, value in given.items() if value is not None}
        where = " AND ".join(_FILTERS[name] for name in used) or "1"
        rows = self._db.execute(f"SELECT * FROM agency WHERE {where} ORDER BY ori",
                                tuple(used.values()))
        return [from_row(row) for row in rows]

    def snapshot(self) -> Snapshot:
        """Every agency and the version they belong to, read in one transaction."""
        with self._transaction("BEGIN"):
            version = self.version
            rows = self._db.execute("SELECT * FROM agency ORDER BY ori").fetchall()
        return Snapshot(version, MappingProxyType({row[0]: from_row(row) for row in rows}))

    def put(self, agency: Agency) -> Change:
        return self.put_many([agency])

    def put_many(self, agencies: Iterable[Agency], *, replace: bool = False) -> Change:
        """Add or update agencies in one transaction (one version); `replace` drops the rest.

        A later agency with the same ORI wins. Unchanged rows are not rewritten.
        """
        wanted = {agency.ori: to_row(agency) for agency in agencies}
        with self._edit() as (db, version):
            stored: dict[str, tuple[object, ...]] = {
                row[0]: tuple(row) for row in db.execute("SELECT * FROM agency")}
            new = [row for ori, row in wanted.items() if ori not in stored]
            changed = [row for ori, row in wanted.items() if ori in stored and stored[ori] != row]
            gone = [(ori,) for ori in stored if ori not in wanted] if replace else []
            db.executemany("DELETE FROM agency WHERE ori = ?", gone)
            db.executemany(f"INSERT OR REPLACE INTO agency VALUES ({', '.join('?' * 12)})",
                           new + changed)
        unchanged = len(wanted) - len(new) - len(changed)
        return Change(len(new), len(changed), unchanged, len(gone), version)

    def remove(self, ori: str) -> Change:
        """Remove one agency; an ORI that is not there is an UnknownAgency error, no edit."""
        ori = normalise_ori(ori)
        with self._edit() as (db, version):
            if db.execute("DELETE FROM agency WHERE ori = ?", (ori,)).rowcount == 0:
                raise UnknownAgency(f"no agency {ori} in the directory", field="ori")
        return Change(0, 0, 0, 1, version)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        self._db.execute(begin)
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextmanager
    def _edit(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """A write transaction that also moves the version on: both happen or neither does."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute("UPDATE directory_meta SET value = value + 1 WHERE key = 'version'")
            yield db, self.version
