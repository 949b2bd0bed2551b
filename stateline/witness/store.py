"""Where a witness keeps the latest checkpoint it cosigned for each log: one SQLite row per
origin, replaced only inside the transaction that checked the new one against it.

The check and the write are one `BEGIN IMMEDIATE` transaction, committed with a full sync
before the cosignature leaves; so two requests for the same log can never both pass against
the same old tree, and a witness that crashes after answering still holds what it signed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from ..errors import ServiceError
from .submission import Cosigned

_SCHEMA = """CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL)"""


class WitnessStoreError(ServiceError):
    """The witness's database cannot be read or written; nothing was cosigned."""

    code = "store-error"


class WitnessStore:
    """The witness's database file; a connection per call, so any thread may use it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, isolation_level=None, timeout=30)) as db:
                db.execute("PRAGMA synchronous=FULL")
                yield db
        except sqlite3.Error as error:
            raise WitnessStoreError(f"the witness database {self.path}: {error}") from None

    def latest(self, origin: str) -> Cosigned | None:
        with self._connection() as db:
            return _read(db, origin)

    def origins(self) -> list[str]:
        with self._connection() as db:
            return [origin for (origin,) in db.execute(
                "SELECT origin FROM checkpoints ORDER BY origin")]

    def advance(self, origin: str, decide: Callable[[Cosigned | None], Cosigned]) -> Cosigned:
        """Store what `decide` makes of the latest checkpoint held for `origin`, in the one
        transaction that read it; whatever `decide` raises leaves the store as it was."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                latest = decide(_read(db, origin))
                db.execute(
                    "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO "
                    "UPDATE SET size = excluded.size, root = excluded.root, note = "
                    "excluded.note, cosigned_at = excluded.cosigned_at",
                    (origin, latest.size, latest.root, latest.note, int(time.time())))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return latest


def _read(db: sqlite3.Connection, origin: str) -> Cosigned | None:
    row = db.execute("SELECT size, root, note FROM checkpoints WHERE origin = ?",
                     (origin,)).fetchone()
    return None if row is None else Cosigned(int(row[0]), bytes(row[1]), str(row[2]))
