"""A log's rows hashed a range at a time, in this process or a second one.

A range is BATCH sequence numbers from a multiple of BATCH, so a full range is one perfect
subtree and any range's frontier is made of aligned subtrees: ranges hashed apart, in any
process, are pushed onto one frontier in order (`grafted`) to give the tree's roots. The only
per-row work is one SHA-256 of the leaf data the database builds.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from hashlib import sha256
from multiprocessing.pool import Pool
from operator import lt
from pathlib import Path

from .merkle import Frontier, node_hash
from .sql import Db, connect_readonly

BATCH = 1 << 16
"""Rows per range: a power of two, so each full range is one perfect subtree."""

Nodes = list[tuple[int, bytes]]
Job = tuple[int, int, tuple[int, ...]]
"""A range's first and end sequence numbers, and the sizes inside it whose roots are wanted."""


@dataclass(frozen=True, slots=True)
class Digest:
    """One clean range: its frontier (aligned subtrees, highest first), the frontier at each
    stop inside it, and its first and last times."""

    nodes: Nodes
    marks: dict[int, Nodes]
    first_time: int
    last_time: int


def rows_sql(db: Db) -> str:
    return (f"SELECT time_us, leaf, {db.dialect.leaf_data} FROM entries "
            f"WHERE seq >= ? AND seq < ? ORDER BY seq")


def digest(db: Db, start: int, end: int, stops: Sequence[int]) -> Digest | None:
    """Hash a range's leaves from their data; None unless every row is there, in time order,
    with the leaf it is stored with (the caller then looks for what is wrong)."""
    rows = db.execute(rows_sql(db), (start, end)).fetchall()
    if len(rows) != end - start or not rows:
        return None
    times, leaves, datas = zip(*rows, strict=True)
    computed = [sha256(b"\x00" + d).digest() for d in datas]
    if computed != list(leaves) or not all(map(lt, times[:-1], times[1:])):
        return None
    frontier, marks, done = Frontier(), {}, 0
    for stop in stops:
        frontier.extend(computed[done : stop - start])
        done = stop - start
        marks[stop] = frontier.nodes()
    frontier.extend(computed[done:])
    return Digest(frontier.nodes(), marks, times[0], times[-1])


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


LOCAL = object()
"""The second process could not hash a range: this one does."""
_child: Db | None = None


def _child_opens(target: str | Path, schema: str) -> None:
    global _child
    _child = reader(target, schema)


def _child_digests(job: Job) -> Digest | None:
    assert _child is not None
    return digest(_child, *job)


class Helper:
    """A second process hashing the ranges it is given, in order, while this one hashes the
    rest; `next` is the next one's digest, or LOCAL once the process has failed."""

    def __init__(self, db: Db, jobs: list[Job]) -> None:
        self._pool: Pool = multiprocessing.get_context("fork").Pool(
            1, initializer=_child_opens, initargs=(db.target, db.schema_name))
        self._results: Iterator[Digest | None] | None = self._pool.imap(_child_digests, jobs)

    def next(self) -> Digest | object | None:
        if self._results is None:
            return LOCAL
        try:
            return next(self._results)
        except Exception:  # this process hashes the range itself instead
            self._results = None
            return LOCAL

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()
