"""How the switch opens its SQLite files: WAL, a busy timeout, and one lock per connection,
since the HTTP API may read from worker threads while the event loop writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from .errors import SwitchError


class Store:
    """One connection to one SQLite file, with its schema made on open."""

    def __init__(self, path: Path, schema: str, *, full: bool = False) -> None:
        """`full` syncs every commit to disk: for rows that stand for a promise to a sender
        (held traffic, credentials, status) rather than a record of what happened."""
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout = 10000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute(f"PRAGMA synchronous = {'FULL' if full else 'NORMAL'}")
            self.db.executescript(schema)
        except (sqlite3.Error, OSError) as error:
            raise SwitchError(f"cannot use {path}: {error}") from None
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """Everything inside commits together, or not at all."""
        with self.lock:
            self.db.execute(begin)
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
