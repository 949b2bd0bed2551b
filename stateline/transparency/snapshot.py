"""What a report reads from a state's audit log, all at one moment: the latest signed head, the
rollups of the period's days as they stood at that head, and the policy changes before it.

Rollups are cumulative over the whole log, and a gateway keeps appending, so the rollups, the
log's size and its heads are read in one read-only snapshot transaction. The entries after the
head (a gateway signs every 1,000 entries or 5 seconds, and when it stops) are then taken back
out of the rollups, counted by the rules the rollups are kept by. The report is therefore exactly
the entries the signed head commits to, read without rescanning them. The same connection
serves `verify`, which does rescan them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..audit import (
    AuditEntry,
    EntryKind,
    Rollup,
    SignedTreeHead,
    TreeHead,
    audit_db,
    audit_url,
    load_or_create_key,
    signing_key,
)
from ..audit.checkpoint import verify as signature_ok
from ..audit.rollups import accumulate, recompute_sql
from ..audit.rollups import implied as implied_rollups
from ..audit.sql import Db, connect
from ..datadir import DataDir
from ..errors import ServiceError
from .stats import Period

MAX_TAIL = 200_000
"""Entries after the latest signed head a report will count back out of the rollups."""

COUNTED = ("decision", "review")


class SnapshotError(ServiceError):
    """A log a report cannot be computed from: none, no signed head, or a head that fails."""

    code = "no-signed-head"


@dataclass(frozen=True, slots=True)
class Snapshot:
    head: SignedTreeHead
    rollups: list[Rollup]
    """The period's rollups as of the head, summed per month."""
    policy_changes: list[AuditEntry]
    """Every policy change below the head, oldest first."""
    tail: int
    """Entries after the head, counted back out."""


def public_key(data: DataDir, state: str) -> Ed25519PublicKey:
    path = signing_key(data, state)
    if not path.is_file():
        raise SnapshotError(f"{state} has no signing key at {path}: its heads cannot be checked")
    return load_or_create_key(path).public_key()


@contextmanager
def opened(data: DataDir, state: str) -> Iterator[Db]:
    """A connection to the state's log, found where `open_state_log` finds it; never created."""
    target = audit_url(data, state) or audit_db(data, state)
    if not isinstance(target, str) and not target.is_file():
        raise SnapshotError(f"{state} has no audit log yet in {data.root}")
    db = connect(target, "audit_" + state.lower())  # AuditLog.open's default schema name
    try:
        (origin,) = db.execute("SELECT origin FROM tree", ()).fetchone()
        if origin != f"stateline/{state}":
            raise SnapshotError(f"{target} is the log of {origin}, not stateline/{state}")
        yield db
    finally:
        db.close()


def read(data: DataDir, state: str, period: Period) -> Snapshot:
    """The period's counts as of the latest signed head, read in one snapshot."""
    with opened(data, state) as db:
        key = public_key(data, state)
        db.begin_snapshot()
        try:
            (size,) = db.execute("SELECT size FROM tree", ()).fetchone()
            row = db.execute("SELECT size, time_us, root, key_id, signature FROM heads "
                             "WHERE size <= ? ORDER BY id DESC LIMIT 1", (size,)).fetchone()
            if row is None:
                raise SnapshotError(f"{state}'s audit log has no signed head yet: a report is "
                                    "computed as of one (a gateway signs every 1,000 entries "
                                    "and when it stops)")
            head = SignedTreeHead(TreeHead(f"stateline/{state}", row[0], row[2], row[1]),
                                  row[3], row[4])
            if size - head.head.size > MAX_TAIL:
                raise SnapshotError(f"{state}'s log has {size - head.head.size:,} entries after "
                                    f"its latest signed head; a report counts at most "
                                    f"{MAX_TAIL:,} back out")
            stored = db.execute(MONTHLY, (period.first.isoformat(),
                                          period.last.isoformat())).fetchall()
            tail = db.execute(
                "SELECT time_us, kind, body FROM entries WHERE seq >= ? AND seq < ? AND kind IN "
                "('decision', 'review')", (head.head.size, size)).fetchall()
            changes = policy_changes(db, head.head.size)
        finally:
            db.commit()
    if not signature_ok(head, key):
        raise SnapshotError(f"{state}'s latest signed head (size {head.head.size}) does not "
                            "verify with the state's key; run `stateline audit verify`")
    return Snapshot(head, _without(stored, tail, period), changes, size - head.head.size)


MONTHLY = ("SELECT substr(day, 1, 7) || '-01', kind, category, grp, outcome, sum(entries), "
           "sum(photos), sum(records) FROM rollups WHERE day >= ? AND day <= ? AND kind IN "
           "('decision', 'review') GROUP BY 1, 2, 3, 4, 5")
"""The period's rollups summed per month in the database (dated the month's first day): the
tables need no finer grain, and a year is then a few thousand rows at most."""


def _without(stored: Sequence[tuple[Any, ...]], tail: Sequence[tuple[int, str, str]],
             period: Period) -> list[Rollup]:
    """The monthly rollups less what the entries after the head added to them."""
    later: dict[tuple[str, ...], list[int]] = {}
    for (day, *rest), counts in accumulate(
            (t, kind, json.loads(body)) for t, kind, body in tail
            if period.start_us <= t < period.end_us).items():
        into = later.setdefault((day[:7] + "-01", *rest), [0, 0, 0])
        for n, value in enumerate(counts):
            into[n] += value
    found = []
    for day, kind, category, group, outcome, entries, photos, records in stored:
        less = later.get((day, kind, category, group, outcome), [0, 0, 0])
        if int(entries) - less[0]:
            found.append(Rollup(day, kind, category, group, outcome, int(entries) - less[0],
                                int(photos) - less[1], int(records) - less[2]))
    return found


def policy_changes(db: Db, size: int) -> list[AuditEntry]:
    # `kind <> 'decision'` matches the index on events, so decisions are never read.
    rows = db.execute("SELECT seq, time_us, kind, body, leaf FROM entries WHERE kind = ? AND "
                      "kind <> 'decision' AND seq < ? ORDER BY seq",
                      (EntryKind.POLICY_CHANGE.value, size)).fetchall()
    return [AuditEntry(seq, t, EntryKind(kind), json.loads(body), bytes(leaf))
            for seq, t, kind, body, leaf in rows]


def recount(db: Db, size: int, period: Period) -> list[Rollup]:
    """The period's rollups recomputed from the entries below `size`, by the rules of
    `audit.rollups` (for `verify`: a full scan of the period's entries)."""
    anchor = "WHERE seq < ?"
    sql = recompute_sql(db.dialect)
    if anchor not in sql:
        raise RuntimeError("audit.rollups.recompute_sql no longer filters by size")
    sql = sql.replace(anchor, f"{anchor} AND time_us >= ? AND time_us < ? AND kind IN "
                              "('decision', 'review')")
    return implied_rollups(db.execute(sql, (size, period.start_us, period.end_us)))


def years(db: Db) -> list[str]:
    """Years in which the log counts requests or reviews, oldest first."""
    rows = db.execute("SELECT DISTINCT substr(day, 1, 4) FROM rollups WHERE kind IN "
                      "('decision', 'review') ORDER BY 1", ()).fetchall()
    return [str(year) for (year,) in rows]
