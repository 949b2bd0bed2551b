"""Recompute an audit log from its rows and name the first thing that does not hold.

Rows are read in aligned ranges (`ranges`) and checked a range at a time (row count, time
order, leaf hashes, tree roots at every signed head and trusted checkpoint), so per-row Python
work stays at one hash; locating a gap or a reordering happens only once something is known to
be wrong. When the rollups are not recomputed, a second process hashes ranges beside this one
from the moment the log's size is read, while this one checks the heads' signatures.
Findings are ordered by position: a head at size S comes before entry S.

Heads must be signed by the log's pinned key chain, each key within its span (see
`keys.keys_for_size`); a trusted checkpoint, one the state cannot take back, must be signed by
it too, and the log must hold it: as many entries, the same root at its size.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from hashlib import sha256
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .checkpoint import SignedTreeHead, TreeHead, log_verifier
from .keys import announced, keys_for_size
from .merkle import Frontier
from .note import NoteError
from .ranges import (
    BATCH,
    Digest,
    Job,
    Nodes,
    SecondProcess,
    grafted,
    in_order,
    reader,
    rows_sql,
)
from .rollups import COLUMNS, Rollup, as_rollups, recompute_sql
from .rollups import implied as implied_rollups
from .sql import OTHERS, Db


class Tamper(Enum):
    EDITED = "edited"
    DELETED = "deleted"
    REORDERED = "reordered"
    APPENDED = "appended outside the log"
    TRUNCATED = "truncated"
    ROLLED_BACK = "rolled back"
    REWRITTEN = "rewritten"
    FORGED_HEAD = "forged head"
    RESIGNED = "re-signed"
    KEYS = "keys changed"
    ROLLUPS = "rollups disagree with the entries"


@dataclass(frozen=True, slots=True)
class Finding:
    """The first bad entry or head; `seq` is the entry, `head` the signed head's row id,
    `place` anything else named (a trusted checkpoint, the pinned keys)."""

    tamper: Tamper
    detail: str
    seq: int | None = None
    head: int | None = None
    place: str | None = None

    def __str__(self) -> str:
        where = (f"entry {self.seq}" if self.seq is not None
                 else f"signed head #{self.head}" if self.head is not None
                 else self.place or "rollups")
        return f"{where}: {self.tamper.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class TrustedCheckpoint:
    """A checkpoint from outside the state's hands (a witness, an earlier download), and
    where it came from, which findings name."""

    checkpoint: SignedTreeHead
    source: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    """Entries checked good before the first finding (all of them when ok)."""
    heads: int
    unsigned: int
    """Entries after the last signed head: only the log's own state vouches for them."""
    seconds: float
    finding: Finding | None = None
    keys: int = 1
    """Keys in the chain the heads were checked against (1 + rotations)."""
    trusted: int = 0
    """Trusted checkpoints the log was checked against."""
    rollups: bool = True
    """Whether the rollups were recomputed from the entries."""

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


@dataclass(frozen=True, slots=True)
class _Root:
    """A root the tree must have at a size: a signed head's, or a trusted checkpoint's."""

    root: bytes
    head: int | None = None
    source: str | None = None


class _Pass:
    """One verification pass over a log; `first` keeps the earliest finding by position."""

    def __init__(self, db: Db, origin: str, chain: Sequence[Ed25519PublicKey],
                 trusted: Sequence[TrustedCheckpoint], rollups: bool) -> None:
        self.db, self.origin, self.check_rollups_too = db, origin, rollups
        self.first: tuple[int, Finding] | None = None
        # One snapshot of the log's state, heads, rotations and counts, even while a gateway
        # appends.
        db.begin_snapshot()
        try:
            size, blob = db.execute("SELECT size, frontier FROM tree").fetchone()
            self.size, self.state_blob = int(size), bytes(blob)
            heads = db.execute(
                "SELECT id, size, time_us, root, key_id, signature FROM heads ORDER BY id"
            ).fetchall()
            rotations = db.execute(
                "SELECT seq, body FROM entries WHERE kind = 'key-rotation' AND "
                f"{OTHERS} AND seq < ? ORDER BY seq", (self.size,)).fetchall()
            # Rows past the size the log recorded; one a gateway appends later is not one.
            (self.before,) = db.execute("SELECT max(seq) FROM entries WHERE seq < 0").fetchone()
            (self.beyond,) = db.execute(
                "SELECT min(seq) FROM entries WHERE seq >= ?", (self.size,)).fetchone()
            self.stored = {r.key: r for r in as_rollups(
                db.execute(f"SELECT {COLUMNS} FROM rollups"))} if rollups else {}
        finally:
            db.commit()
        self.chain = [log_verifier(origin, key) for key in chain]
        self.announced_at = self.check_keys(rotations)
        self.trusted, self.raw_heads = trusted, heads
        self.roots: dict[int, list[_Root]] = {}
        self.heads = self.last_signed = 0
        # Ranges mark every size a head or checkpoint names, valid or not, so hashing starts
        # before any signature is checked; `walk` compares roots only where one is owed.
        marks = {s for s in (*(h[1] for h in heads), *(t.checkpoint.head.size for t in trusted))
                 if isinstance(s, int) and 0 < s <= self.size} | {self.size}
        self.jobs = _jobs(self.size, sorted(marks))
        self.implied = _Recompute(db, self.size, rollups)
        self.second = _second_process(db, self.jobs) if self.parallel() else None

    def close(self) -> None:
        self.implied.close()
        if self.second is not None:
            self.second.close()

    def check_heads(self) -> None:
        """Trusted checkpoints first, then the log's own heads: each must be signed by a key of
        the chain that may sign its size; good ones give the roots the tree must have."""
        for source in self.trusted:
            self.check_trusted(source)
        for hid, size, t, root, key_id, sig in self.raw_heads:
            self.heads += 1
            try:
                signed = SignedTreeHead(TreeHead(self.origin, size, bytes(root), t), bytes(key_id),
                                        bytes(sig))
                problem = self.signature_problem(signed)
            except NoteError as error:
                problem = Tamper.FORGED_HEAD, f"it is not a head (size {size}): {error}"
            if problem is None:
                self.roots.setdefault(size, []).append(_Root(bytes(root), head=hid))
                self.last_signed = max(self.last_signed, size)
            else:
                self.note(_at_head(max(size, 0)), Finding(problem[0], problem[1], head=hid))

    def note(self, position: int, finding: Finding) -> None:
        if self.first is None or position < self.first[0]:
            self.first = (position, finding)

    def settled(self, position: int) -> bool:
        """True once a finding at or before `position` is known, so the pass can stop."""
        return self.first is not None and self.first[0] <= position

    def check_keys(self, rotations: list[tuple[int, str]]) -> list[int]:
        """Each rotation entry must announce the next pinned key, and each pinned key after
        the first must be announced; the sequence numbers of the announcements."""
        at: list[int] = []
        for seq, body in rotations:
            try:
                vkey = announced(body, self.origin).vkey
            except NoteError as error:
                self.note(_at_entry(seq), Finding(Tamper.KEYS, f"its key rotation names no key "
                                                               f"of the log: {error}", seq=seq))
                return at
            pinned = self.chain[len(at) + 1].vkey if len(at) + 1 < len(self.chain) else None
            if vkey != pinned:
                self.note(_at_entry(seq), Finding(
                    Tamper.KEYS, f"it announces {vkey}, but the pinned keys list "
                                 f"{pinned or 'no further key'} next", seq=seq))
                return at
            at.append(seq)
        for verifier in self.chain[len(at) + 1:]:
            self.note(_at_entry(self.size), Finding(
                Tamper.KEYS, f"{verifier.vkey} is pinned, but no entry of the log announces it",
                place="the pinned keys"))
            break
        return at

    def signature_problem(self, signed: SignedTreeHead) -> tuple[Tamper, str] | None:
        """None when a key of the chain that may sign a head of this size signed it."""
        size = signed.head.size
        allowed = [self.chain[i] for i in keys_for_size(len(self.chain), self.announced_at,
                                                        size)]
        claimed = next((v for v in allowed if v.key_id == signed.key_id), None)
        if claimed is not None:
            if claimed.verify(signed.head.body(), signed.log_signature):
                return None
            return Tamper.FORGED_HEAD, (f"its signature (size {size}) does not verify with the "
                                        "log's key")
        other = next((i for i, v in enumerate(self.chain) if v.key_id == signed.key_id), None)
        if other is not None:
            return Tamper.RESIGNED, (f"it is signed (size {size}) with pinned key #{other + 1}, "
                                     "which does not sign heads of that size")
        return Tamper.RESIGNED, (f"it is signed (size {size}) with key {signed.key_id.hex()}, "
                                 "which is not the log's pinned key")

    def check_trusted(self, source: TrustedCheckpoint) -> None:
        head = source.checkpoint.head
        problem = self.signature_problem(source.checkpoint)
        if problem is not None:
            detail = (f"{problem[1]}; the log's keys were replaced since this checkpoint "
                      "was seen")
            self.note(_at_head(head.size), Finding(problem[0], detail, place=source.source))
        if head.size > self.size:
            detail = (f"the log holds {self.size} entries, but {source.source} shows "
                      f"{head.size}: entries it saw are gone")
            self.note(_at_entry(self.size), Finding(Tamper.ROLLED_BACK, detail, seq=self.size))
        else:
            self.roots.setdefault(head.size, []).append(_Root(head.root, source=source.source))

    def run(self) -> int:
        """Check every entry below the log's size; returns how many were good."""
        if self.before is not None:
            self.note(-1, Finding(Tamper.APPENDED, "the log starts at entry 0", seq=self.before))
        self.check_stop([], 0, 0)
        digests = self.second.digests() if self.second else in_order(self.db, self.jobs)
        return self.walk(digests)

    def parallel(self) -> bool:
        """Hash ranges in a second process too, unless that process recomputes the rollups
        (which takes longer than hashing)."""
        return (not self.check_rollups_too and self.size >= PARALLEL_FROM
                and "fork" in multiprocessing.get_all_start_methods())

    def walk(self, digests: Iterator[Digest | None]) -> int:
        acc: Nodes = []
        prev_time, prev_stop = -1, 0
        for start, end, marked in self.jobs:
            if self.settled(_at_entry(start)):
                return start
            done = next(digests)
            here = tuple(s for s in marked if s in self.roots or s == self.size)
            if done is None or done.first_time <= prev_time:
                return self.inspect(start, end, here, acc, prev_time, prev_stop)
            for stop in here:
                self.check_stop(grafted(acc, done.marks[stop]), stop, prev_stop)
                prev_stop = stop
            acc, prev_time = grafted(acc, done.nodes), done.last_time
        self.check_end()
        if self.check_rollups_too and not self.settled(_at_entry(self.size) + 1):
            self.check_rollups()
        return self.size

    def inspect(self, start: int, end: int, here: tuple[int, ...], acc: Nodes,
                prev_time: int, prev_stop: int) -> int:
        """A range known to hold something wrong: name its first bad entry, after checking
        the roots at stops before it. Returns the entries good before it."""
        rows = self.db.execute(rows_sql(self.db), (start, end)).fetchall()
        bad, finding = len(rows), None
        if bad != end - start:
            bad, finding = self.locate_gap(start, end)
        times, leaves, datas = zip(*rows, strict=True) if rows else ((), (), ())
        computed = [_leaf_of(d) for d in datas[:bad]]
        if computed != list(leaves[:bad]):
            i = next(i for i in range(bad) if computed[i] != leaves[i])
            bad, finding = i, self.classify_mismatch(start + i, computed[i])
        late = _first_not_later(prev_time, times[:bad])
        if late is not None:
            bad, finding = late, self.classify_out_of_order(start + late, times[late])
        frontier, done = Frontier(), 0
        for stop in here:
            if stop > start + bad:
                break
            frontier.extend(computed[done : stop - start])
            done = stop - start
            self.check_stop(grafted(acc, frontier.nodes()), stop, prev_stop)
            prev_stop = stop
        if finding is None:  # read clean once, not the other time: rows changed under it
            finding = Finding(Tamper.REWRITTEN, "its range changed while it was read",
                              seq=start)
        self.note(_at_entry(finding.seq if finding.seq is not None else start), finding)
        return start + bad

    def check_rollups(self) -> None:
        """The stored counts against the counts the (now verified) entries imply."""
        stored, implied = self.stored, {r.key: r for r in self.implied.result()}
        if stored == implied:
            return
        wrong = min(k for k in stored.keys() | implied.keys() if stored.get(k) != implied.get(k))
        detail = (f"{' '.join(part or '-' for part in wrong)}: stored "
                  f"{_counts(stored.get(wrong))}, the entries give {_counts(implied.get(wrong))}")
        self.note(_at_entry(self.size) + 1, Finding(Tamper.ROLLUPS, detail))

    def check_stop(self, nodes: Nodes, size: int, good_from: int) -> None:
        """Compare the recomputed root at this size with every head, every trusted checkpoint
        and the log's state."""
        root = Frontier.restore(nodes).root()
        for expected in self.roots.get(size, []):
            if expected.root == root:
                continue
            if expected.source is not None:
                detail = (f"its root at size {size} differs from the log's: one of entries "
                          f"{good_from}..{size - 1} was changed since it was seen")
                self.note(_at_head(size), Finding(Tamper.REWRITTEN, detail,
                                                  place=expected.source))
            else:
                detail = (
                    f"the signed root at size {size} does not match the entries: one of "
                    f"entries {good_from}..{size - 1} was changed, inserted, removed or moved"
                )
                self.note(_at_head(size), Finding(Tamper.REWRITTEN, detail, head=expected.head))
        if size == self.size and b"".join(n for _, n in nodes) != self.state_blob:
            detail = f"the log's recorded tree of size {size} does not match the entries"
            self.note(_at_entry(good_from), Finding(Tamper.REWRITTEN, detail, seq=good_from))

    def check_end(self) -> None:
        """Past the log's size: signed heads that reach further, or rows nobody logged."""
        beyond = sorted((s, r.head) for s, roots in self.roots.items() for r in roots
                        if r.head is not None and s > self.size)
        if beyond:
            size, hid = beyond[0]
            detail = f"it and all after it are gone; signed head #{hid} covers {size} entries"
            self.note(_at_entry(self.size), Finding(Tamper.TRUNCATED, detail, seq=self.size))
        if self.beyond is not None:
            detail = f"the log recorded only {self.size} entries"
            self.note(_at_entry(self.beyond), Finding(Tamper.APPENDED, detail, seq=self.beyond))

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

    def classify_out_of_order(self, seq: int, time_us: object) -> Finding:
        """Times only rise, so the first entry later than this one is where the order broke."""
        if not isinstance(time_us, int | float):
            return Finding(Tamper.EDITED, f"its time is {str(time_us)[:40]!r}, not a number",
                           seq=seq)
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


def _second_process(db: Db, jobs: Sequence[Job]) -> SecondProcess | None:
    try:
        return SecondProcess(db, jobs)
    except OSError:  # no process to be had (a limit on processes): this one hashes alone
        return None


def _jobs(size: int, marks: Sequence[int]) -> list[Job]:
    """The log's ranges, each with the marked sizes that fall inside it (its end included)."""
    return [(start, min(start + BATCH, size),
             tuple(marks[bisect_right(marks, start):bisect_right(marks, start + BATCH)]))
            for start in range(0, size, BATCH)]


def _leaf_of(prefixed: Any) -> bytes:
    """A leaf hash from a prefixed preimage; b"" (no leaf) for anything not bytes."""
    return sha256(prefixed).digest() if isinstance(prefixed, bytes) else b""


def _first_not_later(previous: float, times: Sequence[Any]) -> int | None:
    """The index of the first time not later than the one before it (or not a number)."""
    for i, time_us in enumerate(times):
        if not isinstance(time_us, int | float) or time_us <= previous:
            return i
        previous = time_us
    return None


def _counts(row: Rollup | None) -> str:
    if row is None:
        return "no row"
    return f"{row.entries} entries, {row.photos} photos, {row.records} records"


PARALLEL_FROM = 100_000
"""Logs this long use a second process: to recompute the rollups while this one hashes, or,
when the rollups are not checked, to hash every other range."""


def _implied(target: str | Path, schema: str, size: int) -> list[Rollup]:
    db = reader(target, schema)
    try:
        return implied_rollups(db.execute(recompute_sql(db.dialect), (size,)))
    finally:
        db.close()


class _Recompute:
    """The rollups the entries imply, computed beside the main pass on a second core."""

    def __init__(self, db: Db, size: int, wanted: bool) -> None:
        self._args = (db.target, db.schema_name, size)
        self._pool: Pool | None = None
        if wanted and size >= PARALLEL_FROM and "fork" in multiprocessing.get_all_start_methods():
            self._pool = multiprocessing.get_context("fork").Pool(1)
            self._async: AsyncResult[list[Rollup]] = self._pool.apply_async(_implied, self._args)

    def result(self) -> list[Rollup]:
        return _implied(*self._args) if self._pool is None else self._async.get()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()  # done, or a finding already decided the outcome
            self._pool.join()


def verify_log(db: Db, origin: str, chain: Sequence[Ed25519PublicKey],
               trusted: Sequence[TrustedCheckpoint] = (), *, rollups: bool = True
               ) -> VerifyReport:
    """Check a log's rows, tree, signed heads and keys, and that it holds every trusted
    checkpoint; see `Tamper` for what can be named."""
    started = time.perf_counter()
    check = _Pass(db, origin, chain, trusted, rollups)
    try:
        with _gc_paused():
            check.check_heads()
            good = check.run()
    finally:
        check.close()
    return VerifyReport(
        entries=good,
        heads=check.heads,
        unsigned=max(good - check.last_signed, 0),
        seconds=time.perf_counter() - started,
        finding=check.first[1] if check.first else None,
        keys=len(check.chain),
        trusted=len(trusted),
        rollups=rollups,
    )

