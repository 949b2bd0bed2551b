"""A state's DMV records in one SQLite file (WAL): the embedded default, one per state folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from .dialect import SQLITE, create_indexes, create_table
from .rows import TABLES, Row
from .sql import SqlStore
from .store import LoadError, StoreError

SERVING = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-65536",
           "PRAGMA mmap_size=1073741824", "PRAGMA temp_store=MEMORY")
"""Readers never block the writer; a commit survives a crash of the process, not of power."""
BUILDING = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-524288")
"""A first build into an empty file keeps no journal: if it dies, the file is rebuilt anyway."""
ANALYSE = ("PRAGMA analysis_limit=1000", "ANALYZE")
"""Sampled statistics so the planner knows DOB is more selective than a name key."""


class SqliteStore(SqlStore):
    dialect = SQLITE

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._run(SERVING)
            self._run(create_table(SQLITE, table) for table in TABLES.values())
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot open DMV store {path}: {error}") from None
        if any(self._query(f"any_{name}") for name in TABLES):
            self._run(s for table in TABLES.values() for s in create_indexes(table))

    def _rows(self, sql: str, params: Sequence[object]) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    def _run(self, statements: Iterable[str]) -> None:
        try:
            for statement in statements:
                self._db.execute(statement)
        except sqlite3.IntegrityError as error:
            raise LoadError(f"records clash: {error}") from None

    def _many(self, statement: str, rows: Sequence[Sequence[object]]) -> int:
        try:
            if not self._db.in_transaction:
                self._db.execute("BEGIN")
            return self._db.executemany(statement, rows).rowcount
        except sqlite3.Error as error:
            raise LoadError(f"cannot load records: {error}") from None

    def _commit(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")

    def _start_load(self, fresh: bool) -> None:
        if fresh:
            self._run(BUILDING)

    def _finish_load(self, fresh: bool) -> None:
        self._run(ANALYSE)
        if fresh:
            self._run(SERVING)

    def _abandon(self, fresh: bool) -> None:
        # Without a journal (a fresh build) ROLLBACK is undefined: commit, then empty instead.
        if self._db.in_transaction:
            self._db.execute("COMMIT" if fresh else "ROLLBACK")
        if fresh:
            self._run(f"DELETE FROM {name}" for name in TABLES)
            self._run(SERVING)

    def close(self) -> None:
        self._db.close()
