"""What a report reads from a state's audit log, all at one moment: the signed head it counts
up to (with the cosignatures of the witnesses the state names), the rollups of the period's
days as they stood at that head, and the policy changes before it.

Rollups are cumulative over the whole log, and a gateway keeps appending, so the rollups, the
log's size and its heads are read in one read-only snapshot transaction. The entries after the
head (a gateway signs every 1,000 entries or 5 seconds, and when it stops) are then taken back
out of the rollups, counted by the rules the rollups are kept by. The report is therefore exactly
the entries the signed head commits to, read without rescanning them. The same connection
serves `verify`, which does rescan them. Nothing here writes, or creates a log that is not there.

The head is the newest one every witness in the state's `[[audit.witness]]` tables has
cosigned (the newest head when it names none): a report is only as good as the checkpoint a
reader can check it against, and witnesses cosign a little after the state signs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..audit import AuditEntry, EntryKind, Rollup, SignedTreeHead, TreeHead, audit_db, audit_url
from ..audit.keys import log_chain
from ..audit.note import Signature, Verifier
from ..audit.rollups import accumulate, recompute_sql
from ..audit.rollups import implied as implied_rollups
from ..audit.sql import OTHERS, Db, connect_readonly
from ..audit.witnessing import configured_witnesses
from ..datadir import DataDir
from ..errors import ServiceError
from . import provenance
from .provenance import FileMonth, made_between
from .stats import Period, SourceMonth

MAX_TAIL = 200_000
"""Entries after the head a report counts up to that a report will count back out."""

COUNTED = ("decision", "imported", "review")
"""Entries a report counts: requests live or imported, and reviews."""
_COUNTED = ", ".join(f"'{kind}'" for kind in COUNTED)


class SnapshotError(ServiceError):
    """A log a report cannot be computed from: none, no signed head, or a head that fails."""

    code = "no-signed-head"


@dataclass(frozen=True, slots=True)
class Snapshot:
    head: SignedTreeHead
    """The head counted up to, with its witnesses' cosignature lines."""
    log_key: Verifier
    """The log's key that signed it."""
    witnesses: tuple[Verifier, ...]
    """The witnesses the state names."""
    rollups: list[Rollup]
    """The period's rollups as of the head, summed per month."""
    policy_changes: list[AuditEntry]
    """Every policy change below the head, oldest first."""
    tail: int
    """Entries after the head, counted back out."""
    imported: tuple[FileMonth, ...] = ()
    """The period's requests read from imported files, by file and month, below the head."""

    @property
    def sources(self) -> list[SourceMonth]:
        return sources(self.imported)


def sources(imported: Sequence[FileMonth]) -> list[SourceMonth]:
    """Imported files' requests by month as a report's table counts them."""
    found: dict[tuple[str, str], int] = {}
    for f in imported:
        key = (provenance.label(f.sha256), f.month)
        found[key] = found.get(key, 0) + f.requests
    return [SourceMonth(label, month, n) for (label, month), n in sorted(found.items())]


def log_keys(data: DataDir, state: str) -> list[Verifier]:
    """The keys the state's heads are checked with (more than one after a key rotation)."""
    found = log_chain(data, state, origin(state))
    if not found:
        raise SnapshotError(f"{state} has no log key in {data.root}: its heads cannot be "
                            "checked")
    return found


def witnesses(data: DataDir, state: str) -> tuple[Verifier, ...]:
    """The witnesses the state names in its config.toml (`[[audit.witness]]`, `vkey`)."""
    return tuple(w.verifier for w in configured_witnesses(data, state))


def origin(state: str) -> str:
    return f"stateline/{state.upper()}"


@contextmanager
def opened(data: DataDir, state: str) -> Iterator[Db]:
    """A read-only connection to the state's log, found where `open_state_log` finds it;
    never created."""
    target = audit_url(data, state) or audit_db(data, state)
    db = connect_readonly(target, "audit_" + state.lower())  # AuditLog.open's schema name
    if db is None:
        raise SnapshotError(f"{state} has no audit log yet in {data.root}")
    try:
        row = db.execute("SELECT origin FROM tree", ()).fetchone()
        if row is None or row[0] != origin(state):
            raise SnapshotError(f"{target} is not the log of {origin(state)}")
        yield db
    finally:
        db.close()


def read(data: DataDir, state: str, period: Period) -> Snapshot:
    """The period's counts as of the head reports use, read in one snapshot."""
    with opened(data, state) as db:
        keys, named = log_keys(data, state), witnesses(data, state)
        db.begin_snapshot()
        try:
            head, tail = _head(db, state, named)
            stored = db.execute(MONTHLY, (period.first.isoformat(),
                                          period.last.isoformat())).fetchall()
            after = db.execute(
                f"SELECT time_us, kind, body FROM entries WHERE seq >= ? AND seq < ? AND kind IN "
                f"({_COUNTED})", (head.head.size, head.head.size + tail)).fetchall()
            changes = policy_changes(db, head.head.size)
            files = imported(db, head.head.size, period)
        finally:
            db.commit()
    return Snapshot(head, signed_by(head, keys), named, _without(stored, after, period),
                    changes, tail, tuple(files))


def imported(db: Db, size: int, period: Period) -> list[FileMonth]:
    """The period's imported requests below `size`, by file and month: one GROUP BY over the
    imported entries the period holds, found by the time they were made."""
    return provenance.by_month(db.execute, db.dialect, period.start_us, period.end_us - 1,
                               below=size)


def checkpoint(data: DataDir, state: str) -> Snapshot:
    """The head reports are computed as of, without counts: what the state serves as its
    checkpoint."""
    with opened(data, state) as db:
        keys, named = log_keys(data, state), witnesses(data, state)
        db.begin_snapshot()
        try:
            head, tail = _head(db, state, named)
        finally:
            db.commit()
    return Snapshot(head, signed_by(head, keys), named, [], [], tail)


def signed_size(data: DataDir, state: str) -> int:
    """The size of the log's newest signed head (0 before the first)."""
    with opened(data, state) as db:
        row = db.execute("SELECT size FROM heads ORDER BY id DESC LIMIT 1", ()).fetchone()
    return 0 if row is None else int(row[0])


def signed_by(head: SignedTreeHead, keys: Sequence[Verifier]) -> Verifier:
    """The log key whose signature the head carries; SnapshotError when none verifies it."""
    for key in keys:
        if key.verify(head.head.body(), head.log_signature):
            return key
    raise SnapshotError(f"{head.head.origin}'s signed head of size {head.head.size} does not "
                        "verify with the log's keys; run `stateline audit verify`")


def _head(db: Db, state: str, named: Sequence[Verifier]) -> tuple[SignedTreeHead, int]:
    """The head reports use, with the named witnesses' verified cosignature lines, and how
    many entries the log holds after it."""
    (size,) = db.execute("SELECT size FROM tree", ()).fetchone()
    lowest = max(0, size - MAX_TAIL)
    rows = db.execute("SELECT size, time_us, root, key_id, signature FROM heads WHERE size <= ? "
                      "AND size >= ? ORDER BY id DESC", (size, lowest)).fetchall()
    lines: dict[tuple[int, bytes], list[Signature]] = {}
    for n, root, name, key_id, blob in db.execute(
            "SELECT size, root, name, key_id, signature FROM cosignatures WHERE size >= ?",
            (lowest,)):
        lines.setdefault((n, bytes(root)), []).append(Signature(name, bytes(key_id), bytes(blob)))
    for n, time_us, root, key_id, signature in rows:
        tree = TreeHead(origin(state), n, bytes(root), time_us)
        kept = cosigned(tree, lines.get((n, bytes(root)), []), named)
        if len(kept) == len(named):
            return SignedTreeHead(tree, bytes(key_id), bytes(signature), kept), size - n
    if not db.execute("SELECT 1 FROM heads LIMIT 1", ()).fetchone():
        raise SnapshotError(f"{state}'s audit log has no signed head yet: a report is computed "
                            "as of one (a gateway signs every 1,000 entries and when it stops)")
    if named:
        raise SnapshotError(
            f"no head of {state}'s log within {MAX_TAIL:,} entries of its end is cosigned by "
            f"every witness its config.toml names ({', '.join(w.name for w in named)}): a "
            "report waits for a checkpoint they all vouch for")
    raise SnapshotError(f"{state}'s log has more than {MAX_TAIL:,} entries after its latest "
                        "signed head; a report counts at most that many back out")


def cosigned(head: TreeHead, lines: Sequence[Signature],
              named: Sequence[Verifier]) -> tuple[Signature, ...]:
    """For each named witness in turn, its line that verifies over the head, if any."""
    text = head.body()
    found = []
    for witness in named:
        line = next((s for s in lines if witness.verify(text, s)), None)
        if line is not None:
            found.append(line)
    return tuple(found)


MONTHLY = ("SELECT substr(day, 1, 7) || '-01', kind, category, grp, outcome, sum(entries), "
           "sum(photos), sum(records) FROM rollups WHERE day >= ? AND day <= ? AND kind IN "
           f"({_COUNTED}) GROUP BY 1, 2, 3, 4, 5")
"""The period's rollups summed per month in the database (dated the month's first day): the
tables need no finer grain, and a year is then a few thousand rows at most."""


def _without(stored: Sequence[tuple[Any, ...]], tail: Sequence[tuple[int, str, str]],
             period: Period) -> list[Rollup]:
    """The monthly rollups less what the entries after the head added to them (each on the
    day the rollups put it: an imported request's is the day it was made)."""
    later: dict[tuple[str, ...], list[int]] = {}
    first, last = period.first.isoformat(), period.last.isoformat()
    for (day, *rest), counts in accumulate(
            (t, kind, json.loads(body)) for t, kind, body in tail).items():
        if not first <= day <= last:
            continue
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
    # OTHERS matches the index on events, so requests are never read.
    rows = db.execute("SELECT seq, time_us, kind, body, leaf FROM entries WHERE kind = ? AND "
                      f"{OTHERS} AND seq < ? ORDER BY seq",
                      (EntryKind.POLICY_CHANGE.value, size)).fetchall()
    return [AuditEntry(seq, t, EntryKind(kind), json.loads(body), bytes(leaf))
            for seq, t, kind, body, leaf in rows]


def recount(db: Db, size: int, period: Period) -> list[Rollup]:
    """The period's rollups recomputed from the entries below `size`, by the rules of
    `audit.rollups` (for `verify`: a full scan of the period's entries): live ones by when
    they were appended, imported ones by when they were made."""
    anchor = "WHERE seq < ?"
    sql = recompute_sql(db.dialect)
    if anchor not in sql:
        raise RuntimeError("audit.rollups.recompute_sql no longer filters by size")
    live = sql.replace(anchor, f"{anchor} AND time_us >= ? AND time_us < ? AND kind IN "
                               "('decision', 'review')")
    made, bounds = made_between(db.dialect, period.start_us, period.end_us - 1)
    past = sql.replace(anchor, f"{anchor} AND {made}")
    return implied_rollups([*db.execute(live, (size, period.start_us, period.end_us)),
                            *db.execute(past, (size, *bounds))])


def years(db: Db) -> list[str]:
    """Years in which the log counts requests or reviews, oldest first."""
    rows = db.execute("SELECT DISTINCT substr(day, 1, 4) FROM rollups WHERE kind IN "
                      f"({_COUNTED}) ORDER BY 1", ()).fetchall()
    return [str(year) for (year,) in rows]
