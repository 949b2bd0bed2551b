"""A log's rows hashed a range at a time, by this process and a second one side by side.

A range is BATCH sequence numbers from a multiple of BATCH, so a full range is one perfect
subtree and any range's frontier is made of aligned subtrees: ranges hashed apart, in any
process, are pushed onto one frontier in order (`grafted`) to give the tree's roots. Per row
there is one SHA-256 of the leaf preimage the database builds, prefix included, and one node of
the tree; what crosses between the processes is a range's few subtree roots, never its rows.
Both processes take the next range from one counter, so neither waits while work is left.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from itertools import islice
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from operator import lt
from pathlib import Path

from .merkle import Frontier, node_hash
from .sql import Db, Dialect, connect_readonly

BATCH = 1 << 14
"""Rows per range: a power of two, so each full range is one perfect subtree; small enough that
two processes finish together and a tampered range stops the pass early."""
CHUNK = 1 << 10
"""Rows read and hashed at a time within a range: what was just read is still in the CPU's
cache when it is hashed (a tenth faster here than a whole range at once)."""

Nodes = list[tuple[int, bytes]]
Job = tuple[int, int, tuple[int, ...]]
"""A range's first and end sequence numbers, and the sizes inside it whose roots are wanted."""

_LEAF_PREFIXED = {
    "sqlite": "CAST(x'00' || {} AS BLOB)",
    "postgresql": "'\\x00'::bytea || {}",
}
"""RFC 6962's leaf prefix (0x00) put before the preimage by the database, where it costs less
than a second copy of every row here."""

_digest_of = type(sha256()).digest


@dataclass(frozen=True, slots=True)
class Digest:
    """One clean range: its frontier (aligned subtrees, highest first), the frontier at each
    stop inside it, and its first and last times."""

    nodes: Nodes
    marks: dict[int, Nodes]
    first_time: int
    last_time: int


def rows_sql(db: Db) -> str:
    """Each entry's time, stored leaf hash and prefixed leaf preimage, in order."""
    return (f"SELECT time_us, leaf, {prefixed_leaf_sql(db.dialect)} FROM entries "
            f"WHERE seq >= ? AND seq < ? ORDER BY seq")


def prefixed_leaf_sql(dialect: Dialect) -> str:
    """SQL for 0x00 followed by the entry's leaf preimage: the bytes its leaf hash is of."""
    return _LEAF_PREFIXED[dialect.name].format(dialect.leaf_data)


def leaf_hashes(prefixed: Sequence[bytes]) -> tuple[bytes, ...]:
    """Leaf hashes of prefixed preimages, looped in C: no Python per row."""
    return tuple(map(_digest_of, map(sha256, prefixed)))


def digest(db: Db, start: int, end: int, stops: Sequence[int]) -> Digest | None:
    """Hash a range's leaves from their data; None unless every row is there, in time order,
    with the leaf it is stored with (the caller then looks for what is wrong)."""
    rows = iter(db.execute(rows_sql(db), (start, end)))
    frontier, marks, wanted = Frontier(), {}, iter(stops)
    stop = next(wanted, None)
    at, first_time, last_time = start, -1, -1
    while chunk := list(islice(rows, CHUNK)):
        times, leaves, datas = zip(*chunk, strict=True)
        del chunk
        try:
            computed = leaf_hashes(datas)
            if computed != leaves or not all(map(lt, (last_time, *times[:-1]), times)):
                return None
        except TypeError:  # a value of a type only a forger writes there
            return None
        if at == start:
            first_time = times[0]
        last_time, done = times[-1], 0
        while stop is not None and stop <= at + len(computed):
            frontier.extend(computed[done : stop - at])
            done = stop - at
            marks[stop] = frontier.nodes()
            stop = next(wanted, None)
        frontier.extend(computed[done:])
        at += len(computed)
    if at != end or at == start:
        return None
    return Digest(frontier.nodes(), marks, first_time, last_time)


def grafted(base: Nodes, nodes: Nodes) -> Nodes:
    """The frontier `base` with aligned subtrees pushed on in order, merging equal heights."""
    out = list(base)
    for height, node in nodes:
        while out and out[-1][0] == height:
            node = node_hash(out.pop()[1], node)
            height += 1
        out.append((height, node))
    return out


def reader(target: str | Path, schema: str) -> Db:
    """A read-only connection to a log that is known to be there."""
    db = connect_readonly(target, schema)
    if db is None:
        raise FileNotFoundError(f"{target}: the log is gone")
    return db


def in_order(db: Db, jobs: Sequence[Job]) -> Iterator[Digest | None]:
    """Each range's digest, hashed here one after another."""
    for job in jobs:
        yield digest(db, *job)


class SecondProcess:
    """A second process hashing ranges beside this one. Each takes the next untaken range from
    a shared counter; `digests` gives every range's digest in order, hashing here whatever is
    still free, and everything the second process had taken should it fail."""

    def __init__(self, db: Db, jobs: Sequence[Job]) -> None:
        context = multiprocessing.get_context("fork")
        self._db, self._jobs = db, jobs
        self._taken: Synchronized[int] = context.Value("q", 0)
        self._results, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_hash_taken, args=(db.target, db.schema_name, jobs, self._taken, sending),
            daemon=True)
        self._process.start()
        sending.close()
        self._done: dict[int, Digest | None] = {}
        self._alive = True

    def digests(self) -> Iterator[Digest | None]:
        for i in range(len(self._jobs)):
            while i not in self._done:
                taken = _take(self._taken, len(self._jobs))
                if taken is not None:
                    self._done[taken] = digest(self._db, *self._jobs[taken])
                    self._collect(wait=False)
                elif self._alive:
                    self._collect(wait=True)
                else:
                    self._done[i] = digest(self._db, *self._jobs[i])
            yield self._done.pop(i)

    def _collect(self, wait: bool) -> None:
        """Take in what the second process has sent; with `wait`, at least one result or news
        that it is gone."""
        try:
            while self._results.poll(None if wait else 0):
                index, done = self._results.recv()
                self._done[index] = done
                wait = False
        except (EOFError, OSError):
            self._alive = False

    def close(self) -> None:
        """Stop the second process: it is done, or a finding already decided the outcome."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._results.close()


def _take(taken: Synchronized[int], count: int) -> int | None:
    with taken.get_lock():
        index = taken.value
        if index >= count:
            return None
        taken.value = index + 1
    return index


def _hash_taken(target: str | Path, schema: str, jobs: Sequence[Job],
                taken: Synchronized[int], sending: Connection) -> None:
    """The second process: hash ranges until none is left. On any failure it stops, and the
    first process hashes what it had taken (and meets the same error itself, if it is one)."""
    gc.disable()  # rows are allocated by the thousand; nothing here makes cycles
    db: Db | None = None
    try:
        db = reader(target, schema)
        while (index := _take(taken, len(jobs))) is not None:
            sending.send((index, digest(db, *jobs[index])))
    except Exception:
        return
    finally:
        sending.close()
        if db is not None:
            db.close()
