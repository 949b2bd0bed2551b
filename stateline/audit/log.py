"""A state's append-only audit log of record: rows as Merkle leaves, signed heads, proofs.

Entries are written in batches inside one durable transaction (SQLite WAL with
synchronous=FULL, or a PostgreSQL commit), so a gateway releases a response only once its
entry would survive a power cut; the batch's rollup counts commit with it. Triggers refuse
UPDATE and DELETE; anyone who bypasses them is caught by `verify`.

Whoever appends signs: a handle that wrote entries signs a head over them when it closes, so
a command's entries are under a signed head before it exits. The private key is read on the
first write, never by a reader, and a key a rotation has replaced is never used.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ServiceError, Side
from . import growth, merkle
from .checkpoint import SignedTreeHead, TreeHead, log_verifier, sign
from .entries import AuditEntry, EntryKind, canonical_json, leaf_data
from .keys import KeyRefused, announced, announcement
from .merkle import Frontier
from .note import NoteError, Signature
from .rollups import COLUMNS, UPSERT, Key, Rollup, add_to, as_rollups
from .sql import OTHERS, Cursor, Db, Dialect, connect, connect_readonly
from .verify import TrustedCheckpoint, VerifyReport, verify_log

Clock = Callable[[], int]
"""Microseconds since the Unix epoch, UTC."""

KeySource = Callable[[], Ed25519PrivateKey]
"""Reads the log's private key where it is kept; called on the first write, and again when
another process has rotated the key."""

_log = logging.getLogger(__name__)


class LogError(ServiceError):
    """A request the log cannot answer: an entry or size it does not hold, or a foreign file."""

    code = "audit-error"


class NoEntry(LogError):
    """An entry, size or proof the log does not hold: the requester asked past its end."""

    code, status, side = "not-found", 404, Side.REQUESTER


class ReadOnly(LogError):
    """A write asked of a log opened to read (by `verify`, for one)."""


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


def schema_for(origin: str) -> str:
    """Where a log lives in PostgreSQL: audit_ and the origin's last part, e.g. audit_wa."""
    return "audit_" + origin.rsplit("/", 1)[-1].lower()


class AuditLog:
    """One state's log. Writers take turns: every write is its own exclusive transaction."""

    def __init__(self, db: Db, origin: str, key: Ed25519PrivateKey | KeySource | None,
                 clock: Clock) -> None:
        self._db = db
        self.origin = origin
        self._key_source = key
        self._key = key if isinstance(key, Ed25519PrivateKey) else None
        self._clock = clock
        self._size, self._last_time, self._frontier = 0, 0, Frontier()
        self._signed_size, self._signed_time = 0, 0
        self._appended = False
        self._sign_on_close = True

    @classmethod
    def open(
        cls, target: Path | str, origin: str, key: Ed25519PrivateKey | KeySource,
        clock: Clock = _now_us, *, schema: str | None = None, sign_on_close: bool = True,
    ) -> AuditLog:
        """Open or create the log in a SQLite file or a PostgreSQL database (URL), there in
        `schema` (default: `schema_for(origin)`). Reopening reads one row, whatever the log's
        length. `key` may be a function reading it, called on the first write. A handle that
        appended signs over its entries when it closes, unless `sign_on_close` is False (a
        writer that keeps its own signing schedule, as a gateway does)."""
        name = schema or schema_for(origin)
        db = connect(target, name)
        try:
            db.execute(
                "INSERT INTO tree VALUES (1, ?, 0, 0, ?) ON CONFLICT (id) DO NOTHING",
                (origin, b""),
            )
        except BaseException:
            db.close()
            raise
        log = cls._opened(db, target, origin, key, clock)
        log._sign_on_close = sign_on_close
        return log

    @classmethod
    def open_to_read(cls, target: Path | str, origin: str, clock: Clock = _now_us, *,
                     schema: str | None = None) -> AuditLog | None:
        """Open an existing log without creating or changing anything; None when there is
        none there (no file, a zero-byte file, no tables). Writes raise ReadOnly."""
        db = connect_readonly(target, schema or schema_for(origin))
        return None if db is None else cls._opened(db, target, origin, None, clock)

    @classmethod
    def _opened(cls, db: Db, target: Path | str, origin: str,
                key: Ed25519PrivateKey | KeySource | None, clock: Clock) -> AuditLog:
        try:
            log = cls(db, origin, key, clock)
            stored = log._load()
            where = f"schema {db.schema_name}" if db.dialect.name == "postgresql" \
                else str(target)
            if stored != origin:
                raise LogError(f"{where} is the log of {stored}, not {origin}")
            last = db.execute("SELECT size, time_us FROM heads ORDER BY id DESC LIMIT 1"
                              ).fetchone()
        except BaseException:
            db.close()
            raise
        if last:
            log._signed_size, log._signed_time = last
        return log

    def _load(self) -> str:
        row = self._db.execute("SELECT origin, size, time_us, frontier FROM tree").fetchone()
        if row is None:
            raise LogError(f"the log of {self.origin} has lost its tree row")
        origin, size, last_time, blob = row
        if size != self._size or blob != pack_frontier(self._frontier):
            self._frontier = unpack_frontier(size, blob)
        self._size, self._last_time = size, last_time
        return str(origin)

    def close(self) -> None:
        """Sign over what this handle appended, then close: a command's entries are under a
        signed head once it is done. A signature that cannot be made now is left to the next
        writer or start (and `verify` counts the entries unsigned); closing never fails on it."""
        try:
            if self._appended and self._sign_on_close:
                self.sign_tail()
        except Exception as error:
            _log.warning("%s: entries left unsigned on closing: %s", self.origin, error)
        finally:
            self._db.close()

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            if self._key_source is None or isinstance(self._key_source, Ed25519PrivateKey):
                raise ReadOnly(f"the log of {self.origin} is open to read only")
            self._key = self._key_source()
        return self._key

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        return self._size

    @property
    def signed_size(self) -> int:
        """The size of the last head this handle signed or saw."""
        return self._signed_size

    def append_many(self, items: Sequence[tuple[EntryKind | str, Mapping[str, Any]]]) -> list[int]:
        """Log a batch in one durable transaction (group commit); returns the sequence numbers.

        Times are strictly increasing, so the order of entries is evident from the entries.
        """
        if not items:
            return []
        return list(self._append((EntryKind(kind).value, canonical_json(body), body)
                                 for kind, body in items))

    def append_written(self, kind: EntryKind, entries: Iterable[tuple[str, Mapping[str, Any]]],
                       chunk: int = 20_000) -> range:
        """Log bodies the caller has already written as `canonical_json` would, each beside a
        mapping that holds at least the fields the rollups read, in one durable transaction;
        returns the sequence numbers. For a writer of millions of entries of one kind (an
        import): the bodies are not written again, and rows go to the store `chunk` at a
        time, so nothing holds them all, yet they go in whole or not at all. A body that is
        not what its mapping says is a rollup `verify` names."""
        return self._append(((kind.value, text, fields) for text, fields in entries), chunk)

    def _append(self, rows: Iterable[tuple[str, str, Mapping[str, Any]]],
                chunk: int = 20_000) -> range:
        self._signing_key()  # a log that could not sign what it takes takes nothing
        db = self._db
        db.begin()
        try:
            self._load()  # another writer may have appended since we last looked
            start, state = self._size, self._write(rows, chunk)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        self._size, self._last_time, self._frontier = state
        self._appended = True
        return range(start, state[0])

    def _written(self, items: Sequence[tuple[EntryKind | str, Mapping[str, Any]]]
                 ) -> tuple[int, int, Frontier]:
        """Insert a batch inside the caller's transaction; the log's size, last time and
        frontier after it."""
        return self._write((EntryKind(kind).value, canonical_json(body), body)
                           for kind, body in items)

    def _write(self, entries: Iterable[tuple[str, str, Mapping[str, Any]]],
               chunk: int = 20_000) -> tuple[int, int, Frontier]:
        """Insert (kind, canonical body, fields the rollups read) inside the caller's
        transaction, a chunk of rows at a time; the log's size, last time and frontier
        after them."""
        db = self._db
        seq, last, now = self._size, self._last_time, self._clock()
        frontier = Frontier.restore(self._frontier.nodes())
        totals: dict[Key, list[int]] = {}
        rows: list[tuple[int, int, str, str, bytes]] = []
        for name, text, fields in entries:
            last = max(now, last + 1)
            rows.append((seq, last, name, text,
                         merkle.leaf_hash(leaf_data(last, name, text))))
            add_to(totals, last, name, fields)
            seq += 1
            if len(rows) >= chunk:
                self._insert(rows, frontier)
                rows = []
        self._insert(rows, frontier)
        db.executemany(UPSERT, [(*k, *v) for k, v in totals.items()])
        db.execute(
            "UPDATE tree SET size = ?, time_us = ?, frontier = ?",
            (frontier.size, last, pack_frontier(frontier)),
        )
        return frontier.size, last, frontier

    def _insert(self, rows: list[tuple[int, int, str, str, bytes]], frontier: Frontier) -> None:
        if rows:
            self._db.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", rows)
            frontier.extend([row[4] for row in rows])

    def append(self, kind: EntryKind | str, body: Mapping[str, Any]) -> int:
        return self.append_many([(kind, body)])[0]

    def head(self) -> TreeHead:
        """The current, unsigned head; its time is never before the last entry's."""
        return TreeHead(
            self.origin, self._size, self._frontier.root(), max(self._clock(), self._last_time)
        )

    def sign_head(self) -> SignedTreeHead:
        """Sign and store the current head, committing the log to everything before it."""
        signed = self._signing(always=True)
        assert signed is not None
        return signed

    def sign_tail(self) -> SignedTreeHead | None:
        """Sign a head over the entries no signed head covers yet (whoever wrote them, a
        crashed process included); None when every entry is covered."""
        return self._signing(always=False)

    def maybe_sign(
        self, every_entries: int = 1000, every_seconds: float = 5
    ) -> SignedTreeHead | None:
        """Sign when enough entries or enough time have gone by since the last head."""
        fresh = self._size - self._signed_size
        due = fresh >= every_entries or (
            fresh > 0 and self._clock() - self._signed_time >= every_seconds * 1_000_000
        )
        return self.sign_tail() if due else None

    def _signing(self, always: bool) -> SignedTreeHead | None:
        key = self._signing_key()
        db = self._db
        db.begin()
        try:
            self._load()
            last = db.execute("SELECT size, time_us FROM heads ORDER BY id DESC LIMIT 1"
                              ).fetchone()
            covered = last[0] if last else 0
            if not always and covered >= self._size:
                db.commit()
                if last:
                    self._signed_size, self._signed_time = last
                return None
            signed = self._signed(self._key_in_force(key))
            db.commit()
        except BaseException:
            db.rollback()
            raise
        self._signed_size, self._signed_time = signed.head.size, signed.head.time_us
        return signed

    def _signed(self, key: Ed25519PrivateKey) -> SignedTreeHead:
        """Sign the current head and store it, with the tree's frontier at its size, inside
        the caller's transaction."""
        signed = sign(self.head(), key)
        h = signed.head
        self._db.execute(
            "INSERT INTO heads (size, time_us, root, key_id, signature) VALUES (?,?,?,?,?)",
            (h.size, h.time_us, h.root, signed.key_id, signed.signature),
        )
        self._db.execute("INSERT INTO frontiers VALUES (?, ?) ON CONFLICT (size) DO NOTHING",
                         (h.size, pack_frontier(self._frontier)))
        return signed

    def _key_in_force(self, key: Ed25519PrivateKey) -> Ed25519PrivateKey:
        """The key the log's last rotation entry announced, when there is one: another
        process may have rotated it since this one read its key, so the key is read again
        from where it is kept; an old key is refused, never used."""
        row = self._db.execute(
            f"SELECT seq, body FROM entries WHERE kind = 'key-rotation' AND {OTHERS} "
            "ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return key
        seq, body = row
        try:
            expected = announced(body, self.origin).vkey
        except NoteError as error:
            raise KeyRefused(f"entry {seq}, the log's last key rotation, is unreadable: "
                             f"{error}") from None
        if self._vkey(key) == expected:
            return key
        again = self._reread_key()
        if again is not None and self._vkey(again) == expected:
            self._key = again
            return again
        raise KeyRefused(f"entry {seq} rotated {self.origin}'s key to {expected}; the key this "
                         "process reads is another, so it will not sign")

    def _reread_key(self) -> Ed25519PrivateKey | None:
        if self._key_source is None or isinstance(self._key_source, Ed25519PrivateKey):
            return None
        return self._key_source()

    def _vkey(self, key: Ed25519PrivateKey) -> str:
        return log_verifier(self.origin, key.public_key()).vkey

    def rotate_key(self, new_key: Ed25519PrivateKey) -> SignedTreeHead:
        """Announce `new_key` in a key-rotation entry and sign a head covering it with the key
        in force, in one transaction; later heads are signed with the new key."""
        key = self._signing_key()
        announced_vkey = self._vkey(new_key)
        db = self._db
        db.begin()
        try:
            self._load()
            key = self._key_in_force(key)
            if announced_vkey == self._vkey(key):
                raise KeyRefused("the new key is the key already in force")
            state = self._written([(EntryKind.KEY_ROTATION,
                                    announcement(log_verifier(self.origin,
                                                              new_key.public_key())))])
            self._size, self._last_time, self._frontier = state
            signed = self._signed(key)
            db.commit()
        except BaseException:
            db.rollback()
            self._load()
            raise
        self._key = new_key
        self._signed_size, self._signed_time = signed.head.size, signed.head.time_us
        return signed

    def key_rotations(self) -> list[AuditEntry]:
        """The log's key-rotation entries, oldest first."""
        return self.events([EntryKind.KEY_ROTATION])

    def frontier_at(self, size: int) -> Frontier | None:
        """The tree's right edge at a signed head's size, when the log kept it."""
        row = self._db.execute("SELECT frontier FROM frontiers WHERE size = ?", (size,)
                               ).fetchone()
        return None if row is None else unpack_frontier(size, bytes(row[0]))

    def growth_proof(self, old: int, new: int) -> list[bytes]:
        """The consistency proof from size `old` to `new`, read from the frontier kept at the
        old head and the leaves since; from every leaf only where no frontier was kept."""
        if new > self._size:
            self._load()  # another handle may have appended since this one looked
        if not 0 <= old <= new <= self._size:
            raise NoEntry(f"size {old} is not a prefix of size {new} in a log of {self._size}")
        frontier = self.frontier_at(old) if 0 < old < new else None
        if frontier is None:
            return self.consistency_proof(old, new)
        rows = self._db.execute("SELECT leaf FROM entries WHERE seq >= ? AND seq < ? ORDER BY "
                                "seq", (old, new))
        return growth.consistency(frontier, [bytes(leaf) for (leaf,) in rows])

    def cosigned(self, name: str, key_id: bytes) -> tuple[int, int] | None:
        """The largest size a witness (by its key's name and id) cosigned, and the time in
        its cosignature (seconds since the epoch); None when it cosigned nothing kept here."""
        row = self._db.execute(
            "SELECT size, signature FROM cosignatures WHERE name = ? AND key_id = ? "
            "ORDER BY size DESC LIMIT 1", (name, key_id)).fetchone()
        if row is None:
            return None
        size, blob = row
        return int(size), int.from_bytes(bytes(blob)[:8], "big")

    def first_head_after(self, size: int) -> SignedTreeHead | None:
        """The oldest signed head larger than `size`: how long a witness has been behind."""
        row = self._db.execute(
            "SELECT size, time_us, root, key_id, signature FROM heads WHERE size > ? "
            "ORDER BY size, id LIMIT 1", (size,)).fetchone()
        if row is None:
            return None
        n, t, root, key_id, sig = row
        return SignedTreeHead(TreeHead(self.origin, n, bytes(root), t), bytes(key_id),
                              bytes(sig))

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
        if size is not None and size > self._size:
            self._load()  # another handle may have appended since this one looked
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

    def since(self, seq: int, kinds: Sequence[EntryKind]) -> list[AuditEntry]:
        """Entries of these kinds after `seq`, oldest first: a catch-up reads only the kinds
        it wants, not the history an import may have appended meanwhile."""
        if not kinds:
            return []
        marks = ", ".join("?" * len(kinds))
        rows = self._db.execute(
            f"SELECT seq, time_us, kind, body, leaf FROM entries WHERE seq > ? AND kind IN "
            f"({marks}) ORDER BY seq", [seq, *(k.value for k in kinds)])
        return [AuditEntry(n, t, EntryKind(k), json.loads(b), leaf)
                for n, t, k, b, leaf in rows]

    def events(self, kinds: Sequence[EntryKind]) -> list[AuditEntry]:
        """Every entry of the given kinds other than decisions (policy changes, reviews...)."""
        if not kinds:
            return []
        marks = ", ".join("?" * len(kinds))
        rows = self._db.execute(
            f"SELECT seq, time_us, kind, body, leaf FROM entries WHERE kind IN ({marks}) "
            f"AND {OTHERS} ORDER BY seq", [k.value for k in kinds]
        )
        return [AuditEntry(seq, t, EntryKind(k), json.loads(b), leaf)
                for seq, t, k, b, leaf in rows]

    def verify(self, keys: Ed25519PublicKey | Sequence[Ed25519PublicKey],
               trusted: Sequence[TrustedCheckpoint] = (), *, rollups: bool = True
               ) -> VerifyReport:
        """Recompute every leaf, the tree, and every signed head from what is stored; heads
        must be signed by the chain of `keys` (first key first), and the tree must hold every
        `trusted` checkpoint."""
        chain = [keys] if isinstance(keys, Ed25519PublicKey) else list(keys)
        return verify_log(self._db, self.origin, chain, trusted, rollups=rollups)
