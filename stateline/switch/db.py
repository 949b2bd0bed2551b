"""How the switch opens its SQLite files: WAL, a busy timeout, and one lock per connection,
since the HTTP API may read from worker threads while the event loop writes.

Writes are grouped (group commit). A store opened `full` commits each write at once and syncs
it to disk before the call returns: rows that stand for a promise (held traffic, credentials,
status). Any other store, written from a running event loop, writes into one open
transaction that commits on the loop's next turn, together with whatever else was written in
between; `committed()` waits for that commit. Reads on the same connection see the open
transaction, so a store always reads its own writes. Without a running loop (the command
line, tests) every write commits at once. A crash can lose the writes of the last
uncommitted turn (well under a millisecond of work), never part of one write."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from .errors import SwitchError

log = logging.getLogger("stateline.switch")

Batch = tuple[str, Sequence[Sequence[object]]]
"""One statement and the rows it is run for."""

ROW_FAILURES = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError,
                sqlite3.ProgrammingError, ValueError, OverflowError)
"""What one row can fail with on its own (a constraint, text SQLite cannot take, a number
out of range): that row is dropped, never the rows written with it."""


class Store:
    """One connection to one SQLite file, with its schema made on open. `share` reuses
    another store's connection (and its grouped transaction) for a second schema on the same
    file; `before` is a store whose grouped writes must commit before this one writes, so
    that two connections to one file never wait on each other."""

    db: sqlite3.Connection
    lock: threading.RLock
    full: bool
    _shared: _Group

    def __init__(self, path: Path, schema: str, *, full: bool = False,
                 share: Store | None = None, before: Store | None = None) -> None:
        """`full` syncs every commit to disk: for rows that stand for a promise to a sender
        (held traffic, credentials, status) rather than a record of what happened."""
        self.path = path
        self._before = before
        if share is not None:
            self.db, self.lock, self._shared = share.db, share.lock, share._shared
            self.full = share.full
            self._run(lambda: self.db.executescript(schema))
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout = 10000")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute(f"PRAGMA synchronous = {'FULL' if full else 'NORMAL'}")
            self.db.executescript(schema)
        except (sqlite3.Error, OSError) as error:
            raise SwitchError(f"cannot use {path}: {error}") from None
        self.full = full
        self.lock = threading.RLock()
        self._shared = _Group()

    def _run(self, work: object) -> None:
        try:
            with self.lock:
                self.commit()
                assert callable(work)
                work()
        except sqlite3.Error as error:
            raise SwitchError(f"cannot use {self.path}: {error}") from None

    def close(self) -> None:
        with self.lock:
            if self._shared.closed:
                return
            self.commit()
            self._shared.closed = True
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """Everything inside commits together, or not at all: at once for a `full` store or
        without a running loop, else with the rest of this turn's writes."""
        if self._before is not None:
            self._before.commit()
        loop = running_loop()
        with self.lock:
            group = self._shared
            group.writes += 1
            if not self.db.in_transaction:
                self.db.execute(begin)
            self.db.execute("SAVEPOINT write")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK TO write")
                self.db.execute("RELEASE write")
                if not group.scheduled:
                    self.commit()
                raise
            self.db.execute("RELEASE write")
            if self.full or loop is None:
                self.commit()
            elif not group.scheduled:
                group.scheduled = True
                loop.call_soon(self.commit)

    def write_batches(self, batches: Sequence[Batch]) -> int:
        """Run each statement for its rows in one transaction; if a row fails, write them
        again one by one, so only the rows that fail alone are lost (logged). How many were."""
        try:
            with self.transaction() as db:
                for statement, rows in batches:
                    if rows:
                        db.executemany(statement, rows)
            return 0
        except ROW_FAILURES as error:
            log.warning("a grouped write to %s failed (%s); writing its rows one by one",
                        self.path.name, error)
        dropped = 0
        for statement, rows in batches:
            for row in rows:
                try:
                    with self.transaction() as db:
                        db.execute(statement, row)
                except ROW_FAILURES as error:
                    dropped += 1
                    log.error("dropped a row %s could not take: %s (%s)", self.path.name,
                              error, statement.split("(")[0].strip())
        return dropped

    def commit(self) -> None:
        """Commit the grouped writes now (if any) and wake whoever waits for them."""
        with self.lock:
            group = self._shared
            group.scheduled = False
            if not group.closed and self.db.in_transaction:
                self.db.execute("COMMIT")
            waiting, group.waiting = group.waiting, []
        here = running_loop()
        for future in waiting:
            if future.get_loop() is here:
                _settle(future)
            elif not future.done():  # committed from another thread: wake the loop
                future.get_loop().call_soon_threadsafe(_settle, future)

    async def committed(self) -> None:
        """Wait until what this store has written (or kept to write) so far is committed."""
        with self.lock:
            if not self.db.in_transaction and not self.unwritten():
                return
            future = asyncio.get_running_loop().create_future()
            self._shared.waiting.append(future)
            if not self._shared.scheduled:
                self._shared.scheduled = True
                future.get_loop().call_soon(self.commit)
        await future

    def unwritten(self) -> bool:
        """Whether rows are kept in memory to be written by the next `commit` (a store that
        groups its rows so says)."""
        return False

    def version(self) -> tuple[int, int]:
        """Changes when anyone (this connection or another) has written since: for caches
        of rows that another process may change (a revoked credential). Asked once per turn
        of the event loop: a change made elsewhere counts from the next turn."""
        with self.lock:
            group = self._shared
            if group.seen is None:
                group.seen = self.db.execute("PRAGMA data_version").fetchone()[0]
                loop = running_loop()
                if loop is None:
                    seen, group.seen = group.seen, None
                    return seen, group.writes
                loop.call_soon(group.forget)
            return group.seen, group.writes


class _Group:
    """What the stores on one connection share: the open transaction's bookkeeping."""

    __slots__ = ("closed", "scheduled", "seen", "waiting", "writes")

    def __init__(self) -> None:
        self.closed = False
        self.scheduled = False
        self.waiting: list[asyncio.Future[None]] = []
        self.writes = 0
        self.seen: int | None = None
        """The connection's data_version, as read this turn of the loop."""

    def forget(self) -> None:
        self.seen = None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
