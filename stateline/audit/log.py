"""A state's append-only audit log of record: rows as Merkle leaves, signed heads, proofs.

Entries are written in batches inside one durable transaction (SQLite WAL with
synchronous=FULL, or a PostgreSQL commit), so a gateway releases a response only once its
entry would survive a power cut; the batch's rollup counts commit with it. Triggers refuse
UPDATE and DELETE; anyone who bypasses them is caught by `verify`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ServiceError, Side
from . import merkle
from .checkpoint import SignedTreeHead, TreeHead, sign
from .entries import AuditEntry, EntryKind, canonical_json, leaf_data
from .merkle import Frontier
from .note import Signature
from .rollups import COLUMNS, UPSERT, Rollup, accumulate, as_rollups
from .sql import Cursor, Db, Dialect, connect
from .verify import VerifyReport, verify_log

Clock = Callable[[], int]
"""Microseconds since the Unix epoch, UTC."""


class LogError(ServiceError):
    """A request the log cannot answer: an entry or size it does not hold, or a foreign file."""

    code = "audit-error"


class NoEntry(LogError):
    """An entry, size or proof the log does not hold: the requester asked past its end."""

    code, status, side = "not-found", 404, Side.REQUESTER


def _now_us() -> int:
    return time.time_ns() // 1000


def pack_frontier(frontier: Frontier) -> bytes:
    """Hashes only, highest first: the heights are the set bits of the size stored beside them."""
    return b"".join(node for _, node in frontier.nodes())


def unpack_frontier(size: int, blob: bytes) -> Frontier:
    heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
    if len(blob) != merkle.HASH_SIZE * len(heights):
        raise LogError(f"stored frontier does not fit a tree of size {size}")
    step = merkle.HASH_SIZE
    return Frontier.restore((h, blob[i * step : (i + 1) * step]) for i, h in enumerate(heights))


def cosignature_lines(db: Db, size: int | None = None
                      ) -> dict[tuple[int, bytes], tuple[Signature, ...]]:
    """Kept cosignature lines by (size, root) of the head they cosign."""
    sql = "SELECT size, root, name, key_id, signature FROM cosignatures"
    rows = db.execute(sql + " WHERE size = ?", (size,)) if size is not None else db.execute(sql)
    found: dict[tuple[int, bytes], list[Signature]] = {}
    for n, root, name, key_id, blob in rows:
        found.setdefault((n, bytes(root)), []).append(Signature(name, bytes(key_id), bytes(blob)))
    return {k: tuple(v) for k, v in found.items()}


def with_cosignatures(db: Db, head: SignedTreeHead) -> SignedTreeHead:
    """The head with every cosignature line the log keeps for it."""
    lines = cosignature_lines(db, head.head.size).get((head.head.size, head.head.root), ())
    return head.with_cosignatures(lines)


class AuditLog:
    """One state's log. Writers take turns: every write is its own exclusive transaction."""

    def __init__(self, db: Db, origin: str, key: Ed25519PrivateKey, clock: Clock) -> None:
        self._db = db
        self.origin = origin
        self._key = key
        self._clock = clock
        self._size, self._last_time, self._frontier = 0, 0, Frontier()
        self._signed_size, self._signed_time = 0, 0

    @classmethod
    def open(
        cls, target: Path | str, origin: str, key: Ed25519PrivateKey, clock: Clock = _now_us,
        *, schema: str | None = None,
    ) -> AuditLog:
        """Open or create the log in a SQLite file or a PostgreSQL database (URL), there in
        `schema` (default: audit_ and the origin's last part, e.g. audit_wa). Reopening reads
        one row, whatever the log's length."""
        name = schema or "audit_" + origin.rsplit("/", 1)[-1].lower()
        db = connect(target, name)
        try:
            db.execute(
                "INSERT INTO tree VALUES (1, ?, 0, 0, ?) ON CONFLICT (id) DO NOTHING",
                (origin, b""),
            )
            log = cls(db, origin, key, clock)
            stored = log._load()
        except BaseException:
            db.close()
            raise
        where = f"schema {name}" if db.dialect.name == "postgresql" else str(target)
        if stored != origin:
            db.close()
            raise LogError(f"{where} is the log of {stored}, not {origin}")
        last = db.execute("SELECT size, time_us FROM heads ORDER BY id DESC LIMIT 1").fetchone()
        if last:
            log._signed_size, log._signed_time = last
        return log

    def _load(self) -> str:
        origin, size, last_time, blob = self._db.execute(
            "SELECT origin, size, time_us, frontier FROM tree"
        ).fetchone()
        if size != self._size or blob != pack_frontier(self._frontier):
            self._frontier = unpack_frontier(size, blob)
        self._size, self._last_time = size, last_time
        return str(origin)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return self._size

    def append_many(self, items: Sequence[tuple[EntryKind | str, Mapping[str, Any]]]) -> list[int]:
        """Log a batch in one durable transaction (group commit); returns the sequence numbers.

        Times are strictly increasing, so the order of entries is evident from the entries.
        """
        if not items:
            return []
        db = self._db
        db.begin()
        try:
            self._load()  # another writer may have appended since we last looked
            start, last, now = self._size, self._last_time, self._clock()
            rows, leaves, counted = [], [], []
            for seq, (kind, body) in enumerate(items, start):
                last = max(now, last + 1)
                name, text = EntryKind(kind).value, canonical_json(body)
                leaf = merkle.leaf_hash(leaf_data(last, name, text))
                rows.append((seq, last, name, text, leaf))
                leaves.append(leaf)
                counted.append((last, name, body))
            frontier = Frontier.restore(self._frontier.nodes())
            frontier.extend(leaves)
            db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", rows)
            db.executemany(UPSERT, [(*k, *v) for k, v in accumulate(counted).items()])
            db.execute(
                "UPDATE tree SET size = ?, time_us = ?, frontier = ?",
                (frontier.size, last, pack_frontier(frontier)),
            )
            db.commit()
        except BaseException:
            db.rollback()
            raise
        self._size, self._last_time, self._frontier = frontier.size, last, frontier
        return list(range(start, start + len(items)))

    def append(self, kind: EntryKind | str, body: Mapping[str, Any]) -> int:
        return self.append_many([(kind, body)])[0]

    def head(self) -> TreeHead:
        """The current, unsigned head; its time is never before the last entry's."""
        return TreeHead(
            self.origin, self._size, self._frontier.root(), max(self._clock(), self._last_time)
        )

    def sign_head(self) -> SignedTreeHead:
        """Sign and store the current head, committing the log to everything before it."""
        db = self._db
        db.begin()
        try:
            self._load()
            signed = sign(self.head(), self._key)
            h = signed.head
            db.execute(
                "INSERT INTO heads (size, time_us, root, key_id, signature) VALUES (?,?,?,?,?)",
                (h.size, h.time_us, h.root, signed.key_id, signed.signature),
            )
            db.commit()
        except BaseException:
            db.rollback()
            raise
        self._signed_size, self._signed_time = h.size, h.time_us
        return signed

    def maybe_sign(
        self, every_entries: int = 1000, every_seconds: float = 5
    ) -> SignedTreeHead | None:
        """Sign when enough entries or enough time have gone by since the last head."""
        fresh = self._size - self._signed_size
        due = fresh >= every_entries or (
            fresh > 0 and self._clock() - self._signed_time >= every_seconds * 1_000_000
        )
        return self.sign_head() if due else None

    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, oldest first, each with the cosignatures kept for it."""
        rows = self._db.execute(
            "SELECT size, time_us, root, key_id, signature FROM heads ORDER BY id"
        ).fetchall()
        lines = cosignature_lines(self._db)
        return [
            SignedTreeHead(TreeHead(self.origin, size, bytes(root), t), bytes(key_id), bytes(sig),
                           lines.get((size, bytes(root)), ()))
            for size, t, root, key_id, sig in rows
        ]

    def latest_head(self) -> SignedTreeHead | None:
        """The newest signed head with its cosignatures: the log's current checkpoint."""
        row = self._db.execute(
            "SELECT size, time_us, root, key_id, signature FROM heads ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        size, t, root, key_id, sig = row
        head = SignedTreeHead(TreeHead(self.origin, size, bytes(root), t), bytes(key_id),
                              bytes(sig))
        return with_cosignatures(self._db, head)

    def add_cosignatures(self, head: TreeHead, lines: Sequence[Signature]) -> None:
        """Keep witnesses' cosignature lines for a head (checked by the caller against the
        witnesses' keys); a line already kept is kept once."""
        rows = [(head.size, head.root, s.name, s.key_id, s.blob) for s in lines]
        if rows:
            self._db.executemany(
                "INSERT INTO cosignatures VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def entry(self, seq: int) -> AuditEntry:
        row = self._db.execute(
            "SELECT time_us, kind, body, leaf FROM entries WHERE seq = ?", (seq,)
        ).fetchone()
        if row is None:
            raise NoEntry(f"no entry {seq}")
        t, kind, body, leaf = row
        return AuditEntry(seq, t, EntryKind(kind), json.loads(body), leaf)

    def _leaves(self, size: int | None) -> list[bytes]:
        size = self._size if size is None else size
        if not 0 <= size <= self._size:
            raise NoEntry(f"the log holds {self._size} entries, not {size}")
        rows = self._db.execute("SELECT leaf FROM entries WHERE seq < ? ORDER BY seq", (size,))
        return [leaf for (leaf,) in rows]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree at an earlier size, to check a proof against an old head."""
        return self._frontier.root() if size is None else merkle.root(self._leaves(size))

    def inclusion_proof(self, seq: int, size: int | None = None) -> list[bytes]:
        leaves = self._leaves(size)
        if not 0 <= seq < len(leaves):
            raise NoEntry(f"entry {seq} is not in a tree of size {len(leaves)}")
        return merkle.inclusion_proof(leaves, seq)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        leaves = self._leaves(size2)
        if not 0 <= size1 <= len(leaves):
            raise NoEntry(f"size {size1} is not a prefix of size {len(leaves)}")
        return merkle.consistency_proof(leaves, size1)

    def rollups(self, since: str = "", until: str = "9999-12-31") -> list[Rollup]:
        """Counts for days from `since` to `until` inclusive (YYYY-MM-DD), read not rescanned."""
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM rollups WHERE day >= ? AND day <= ?", (since, until)
        )
        return as_rollups(rows)

    def scan(self, kinds: Sequence[EntryKind], since_us: int | None = None,
             until_us: int | None = None, chunk: int = 10_000) -> Iterator[AuditEntry]:
        """Entries of these kinds in a time range, newest first, read a range of sequence
        numbers at a time. Times rise with sequence numbers, so the walk stops at `since_us`."""
        marks = ", ".join("?" * len(kinds))
        sql = (f"SELECT seq, time_us, kind, body, leaf FROM entries WHERE seq >= ? AND seq < ? "
               f"AND kind IN ({marks}) AND time_us >= ? AND time_us <= ? ORDER BY seq DESC")
        low, high = since_us or 0, until_us if until_us is not None else 2**62
        names = [k.value for k in kinds]
        for top in range(self._size, 0, -chunk):
            rows = self._db.execute(sql, (max(top - chunk, 0), top, *names, low, high)).fetchall()
            for seq, t, kind, text, leaf in rows:
                try:
                    body = json.loads(text)
                except ValueError:
                    continue  # a damaged row; `verify` names it
                if isinstance(body, dict):
                    yield AuditEntry(seq, t, EntryKind(kind), body, leaf)
            if since_us is not None:
                (first,) = self._db.execute(
                    "SELECT time_us FROM entries WHERE seq = ?", (max(top - chunk, 0),)
                ).fetchone() or (None,)
                if first is not None and first < since_us:
                    return

    @property
    def dialect(self) -> Dialect:
        """How the log's store spells SQL, for rooms that aggregate entries in the database."""
        return self._db.dialect

    def select(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Read-only SQL over the log's tables (`?` placeholders): reports and replays pick
        the fields they need out of millions of bodies in the database, not in Python."""
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            raise LogError("the audit log answers SELECT statements only")
        return self._db.execute(sql, params)

    def events(self, kinds: Sequence[EntryKind]) -> list[AuditEntry]:
        """Every entry of the given kinds other than decisions (policy changes, reviews...)."""
        if not kinds:
            return []
        marks = ", ".join("?" * len(kinds))
        rows = self._db.execute(
            f"SELECT seq, time_us, kind, body, leaf FROM entries WHERE kind IN ({marks}) "
            f"AND kind <> 'decision' ORDER BY seq", [k.value for k in kinds]
        )
        return [AuditEntry(seq, t, EntryKind(k), json.loads(b), leaf)
                for seq, t, k, b, leaf in rows]

    def verify(self, public_key: Ed25519PublicKey) -> VerifyReport:
        """Recompute every leaf, the tree, and every signed head from what is stored."""
        return verify_log(self._db, self.origin, public_key)
