"""Recompute an audit log from its rows and name the first thing that does not hold.

Rows are read in large ranges of sequence numbers and checked a range at a time (row count,
time order, leaf hashes, tree roots at every signed head), so per-row Python work stays at
one hash; locating a gap or a reordering happens only once something is known to be wrong.
Findings are ordered by position: a head at size S comes before entry S.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from hashlib import sha256
from multiprocessing.pool import AsyncResult, Pool
from operator import lt
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoint import NoteError, SignedTreeHead, TreeHead, verify
from .merkle import Frontier
from .rollups import COLUMNS, Rollup, as_rollups, recompute_sql
from .rollups import implied as implied_rollups
from .sql import Db, connect

BATCH = 1 << 16


class Tamper(Enum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    APPENDED = "appended outside the log"
    TRUNCATED = "truncated"
    REWRITTEN = "rewritten"
    FORGED_HEAD = "forged head"
    ROLLUPS = "rollups disagree with the entries"


@dataclass(frozen=True, slots=True)
class Finding:
    """The first bad entry or head; `seq` is the entry, `head` the signed head's row id."""

    tamper: Tamper
    detail: str
    seq: int | None = None
    head: int | None = None

    def __str__(self) -> str:
        where = (f"entry {self.seq}" if self.seq is not None
                 else f"signed head #{self.head}" if self.head is not None else "rollups")
        return f"{where}: {self.tamper.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    """Entries checked good before the first finding (all of them when ok)."""
    heads: int
    unsigned: int
    """Entries after the last signed head: only the log's own state vouches for them."""
    seconds: float
    finding: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Row tuples are allocated by the million; the cyclic collector would rescan them all."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _at_head(size: int) -> int:
    return 2 * size


def _at_entry(seq: int) -> int:
    return 2 * seq + 1


class _Pass:
    """One verification pass over a log; `first` keeps the earliest finding by position."""

    def __init__(self, db: Db, origin: str, key: Ed25519PublicKey) -> None:
        self.db = db
        self.rows_sql = (f"SELECT time_us, leaf, {db.dialect.leaf_data} FROM entries "
                         f"WHERE seq >= ? AND seq < ? ORDER BY seq")
        self.first: tuple[int, Finding] | None = None
        # One snapshot of the log's state, heads and counts, even while a gateway appends.
        db.begin_snapshot()
        try:
            self.size, self.state_blob = db.execute("SELECT size, frontier FROM tree").fetchone()
            heads = db.execute(
                "SELECT id, size, time_us, root, key_id, signature FROM heads ORDER BY id"
            ).fetchall()
            self.stored = {r.key: r for r in as_rollups(
                db.execute(f"SELECT {COLUMNS} FROM rollups"))}
        finally:
            db.commit()
        self.implied = _Recompute(db, self.size)
        self.roots: dict[int, list[tuple[int, bytes]]] = {}
        self.heads = self.last_signed = 0
        for hid, size, t, root, key_id, sig in heads:
            self.heads += 1
            try:
                good = verify(SignedTreeHead(TreeHead(origin, size, root, t), key_id, sig), key)
            except NoteError:
                good = False
            if good:
                self.roots.setdefault(size, []).append((hid, root))
                self.last_signed = max(self.last_signed, size)
            else:
                detail = f"its signature (size {size}) does not verify with the state's key"
                self.note(_at_head(max(size, 0)), Finding(Tamper.FORGED_HEAD, detail, head=hid))

    def note(self, position: int, finding: Finding) -> None:
        if self.first is None or position < self.first[0]:
            self.first = (position, finding)

    def settled(self, position: int) -> bool:
        """True once a finding at or before `position` is known, so the pass can stop."""
        return self.first is not None and self.first[0] <= position

    def run(self) -> int:
        """Check every entry below the log's size; returns how many were good."""
        (before,) = self.db.execute("SELECT max(seq) FROM entries WHERE seq < 0").fetchone()
        if before is not None:
            self.note(-1, Finding(Tamper.APPENDED, "the log starts at entry 0", seq=before))
        frontier = Frontier()
        stops = sorted({s for s in self.roots if 0 < s <= self.size} | {self.size})
        self.check_stop(frontier, 0)
        good, prev_time, stop_i = 0, -1, 0
        while good < self.size and not self.settled(_at_entry(good)):
            end = min(good + BATCH, self.size)
            rows = self.db.execute(self.rows_sql, (good, end)).fetchall()
            bad, finding = len(rows), None
            if bad != end - good:
                bad, finding = self.locate_gap(good, end)
            times, leaves, datas = zip(*rows, strict=True) if rows else ((), (), ())
            computed = [sha256(b"\x00" + d).digest() for d in datas[:bad]]
            if computed != list(leaves[:bad]):
                i = next(i for i in range(bad) if computed[i] != leaves[i])
                bad, finding = i, self.classify_mismatch(good + i, computed[i])
            if not all(map(lt, (prev_time, *times[: bad - 1]), times[:bad])):
                i = next(i for i in range(bad) if times[i] <= (times[i - 1] if i else prev_time))
                bad, finding = i, self.classify_out_of_order(good + i, times[i])
            done = 0
            while stop_i < len(stops) and stops[stop_i] <= good + bad:
                frontier.extend(computed[done : stops[stop_i] - good])
                done = stops[stop_i] - good
                self.check_stop(frontier, stops[stop_i - 1] if stop_i else 0)
                stop_i += 1
            frontier.extend(computed[done:bad])
            if finding is not None:
                self.note(_at_entry(finding.seq or 0), finding)
                return good + bad
            good, prev_time = end, times[-1]
        if good == self.size:
            self.check_end()
            if not self.settled(_at_entry(self.size) + 1):
                self.check_rollups()
        return good

    def check_rollups(self) -> None:
        """The stored counts against the counts the (now verified) entries imply."""
        stored, implied = self.stored, {r.key: r for r in self.implied.result()}
        if stored == implied:
            return
        wrong = min(k for k in stored.keys() | implied.keys() if stored.get(k) != implied.get(k))
        detail = (f"{' '.join(part or '-' for part in wrong)}: stored "
                  f"{_counts(stored.get(wrong))}, the entries give {_counts(implied.get(wrong))}")
        self.note(_at_entry(self.size) + 1, Finding(Tamper.ROLLUPS, detail))

    def check_stop(self, frontier: Frontier, good_from: int) -> None:
        """Compare the recomputed root at this size with every head and the log's state."""
        size, root = frontier.size, frontier.root()
        for hid, signed_root in self.roots.get(size, []):
            if signed_root != root:
                detail = (
                    f"the signed root at size {size} does not match the entries: one of "
                    f"entries {good_from}..{size - 1} was changed, inserted, removed or moved"
                )
                self.note(_at_head(size), Finding(Tamper.REWRITTEN, detail, head=hid))
        if size == self.size and b"".join(n for _, n in frontier.nodes()) != self.state_blob:
            detail = f"the log's recorded tree of size {size} does not match the entries"
            self.note(_at_entry(good_from), Finding(Tamper.REWRITTEN, detail, seq=good_from))

    def check_end(self) -> None:
        """Past the log's size: signed heads that reach further, or rows nobody logged."""
        beyond = sorted((s, hid) for s, heads in self.roots.items() for hid, _ in heads)
        beyond = [(s, hid) for s, hid in beyond if s > self.size]
        if beyond:
            size, hid = beyond[0]
            detail = f"it and all after it are gone; signed head #{hid} covers {size} entries"
            self.note(_at_entry(self.size), Finding(Tamper.TRUNCATED, detail, seq=self.size))
        (extra,) = self.db.execute(
            "SELECT min(seq) FROM entries WHERE seq >= ?", (self.size,)
        ).fetchone()
        if extra is not None:
            detail = f"the log recorded only {self.size} entries"
            self.note(_at_entry(extra), Finding(Tamper.APPENDED, detail, seq=extra))

    def locate_gap(self, start: int, end: int) -> tuple[int, Finding]:
        seqs = [
            s
            for (s,) in self.db.execute(
                "SELECT seq FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq", (start, end)
            )
        ]
        missing = next((start + i for i, s in enumerate(seqs) if s != start + i), start + len(seqs))
        (later,) = self.db.execute(
            "SELECT count(*) FROM entries WHERE seq > ? AND seq < ?", (missing, self.size)
        ).fetchone()
        if later:
            return missing - start, Finding(Tamper.DELETED, "it is missing", seq=missing)
        detail = f"it and all after it are gone; the log recorded {self.size} entries"
        return missing - start, Finding(Tamper.TRUNCATED, detail, seq=missing)

    def classify_out_of_order(self, seq: int, time_us: int) -> Finding:
        """Times only rise, so the first entry later than this one is where the order broke."""
        (first,) = self.db.execute(
            "SELECT min(seq) FROM entries WHERE seq < ? AND time_us >= ?", (seq, time_us)
        ).fetchone()
        detail = f"it is timed after entry {seq}, which follows it"
        return Finding(Tamper.REORDERED, detail, seq=first)

    def classify_mismatch(self, seq: int, computed: bytes) -> Finding:
        moved = self.db.execute(
            "SELECT seq FROM entries WHERE leaf = ? AND seq != ? LIMIT 1", (computed, seq)
        ).fetchone()
        if moved:
            detail = f"it holds the contents logged as entry {moved[0]}"
            return Finding(Tamper.REORDERED, detail, seq=seq)
        return Finding(Tamper.EDITED, "its contents no longer hash to its leaf", seq=seq)


def _counts(row: Rollup | None) -> str:
    if row is None:
        return "no row"
    return f"{row.entries} entries, {row.photos} photos, {row.records} records"


PARALLEL_FROM = 100_000
"""Logs this long recompute their rollups in a second process while this one hashes."""


def _implied(target: str | Path, schema: str, size: int) -> list[Rollup]:
    db = connect(target, schema)
    try:
        return implied_rollups(db.execute(recompute_sql(db.dialect), (size,)))
    finally:
        db.close()


class _Recompute:
    """The rollups the entries imply, computed beside the main pass on a second core."""

    def __init__(self, db: Db, size: int) -> None:
        self._args = (db.target, db.schema_name, size)
        self._pool: Pool | None = None
        if size >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
            self._pool = multiprocessing.get_context("fork").Pool(1)
            self._async: AsyncResult[list[Rollup]] = self._pool.apply_async(_implied, self._args)

    def result(self) -> list[Rollup]:
        return _implied(*self._args) if self._pool is None else self._async.get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()  # done, or a finding already decided the outcome
            self._pool.join()


def verify_log(db: Db, origin: str, key: Ed25519PublicKey) -> VerifyReport:
    """Check a log's rows, tree and signed heads; see `Tamper` for what can be named."""
    started = time.perf_counter()
    check = _Pass(db, origin, key)
    try:
        with _gc_paused():
            good = check.run()
    finally:
        check.implied.close()
    return VerifyReport(
        entries=good,
        heads=check.heads,
        unsigned=max(good - check.last_signed, 0),
        seconds=time.perf_counter() - started,
        finding=check.first[1] if check.first else None,
    )
