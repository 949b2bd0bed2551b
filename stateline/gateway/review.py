"""The review queue: held requests kept in the state's state.db until a reviewer acts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from ..datadir import DataDir
from ..errors import NotFoundError
from ..policy.engine import Decision, Reason, Verdict
from ..policy.store import connect
from .outbox import SCHEMA as OUTBOX_SCHEMA
from .outbox import file_late

if TYPE_CHECKING:
    from .pipeline import Result

_SCHEMA = """
CREATE TABLE IF NOT EXISTS held (
    reference TEXT PRIMARY KEY,
    time TEXT NOT NULL,
    ori TEXT NOT NULL,
    key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    message TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'held',
    reviewer TEXT,
    reviewed_at TEXT
);
CREATE TABLE IF NOT EXISTS reconciled (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
"""


class ReviewError(NotFoundError):
    """A held request cannot be found or has already been reviewed."""



@dataclass(frozen=True, slots=True)
class Held:
    reference: str
    time: datetime
    ori: str
    key: str
    message_id: str
    message: str
    """The query as JSON (protocol jsonform), so it is read back exactly as held."""
    decision: Decision
    status: str


@dataclass(frozen=True, slots=True)
class Hold:
    """A request to put on file for review, as the gateway decided it."""

    reference: str
    ori: str
    key: str
    message_id: str
    message: str
    decision: Decision


def new_reference(state: str) -> str:
    """Short, unguessable, and unique without asking the database first."""
    return f"{state}-{uuid.uuid4().hex[:10].upper()}"


class ReviewQueue:
    """Held requests of one state. Every write is its own durable transaction."""

    def __init__(self, data: DataDir, state: str) -> None:
        self._db = connect(data, state, _SCHEMA + OUTBOX_SCHEMA)

    def hold(self, reference: str, ori: str, key: str, message_id: str, message: str,
             decision: Decision) -> None:
        self.hold_many([Hold(reference, ori, key, message_id, message, decision)])

    def hold_many(self, holds: Sequence[Hold]) -> None:
        """Put requests on file for review in one durable transaction: all of them or none.
        A request already on file (a start after a crash filed it first) stays as it is."""
        with self._transaction():
            self.put_back(holds, datetime.now(UTC))

    def put_back(self, holds: Sequence[Hold], when: datetime) -> None:
        """File requests inside the caller's transaction, keeping any already on file."""
        time = when.isoformat(timespec="microseconds")
        rows = [(h.reference, time, h.ori, h.key, h.message_id, h.message,
                 json.dumps(_decision_json(h.decision))) for h in holds]
        self._db.executemany(
            "INSERT INTO held (reference, time, ori, key, message_id, message, decision)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING", rows)

    def statuses(self, references: Sequence[str]) -> dict[str, str]:
        """The status of each of these requests that is on file."""
        found: dict[str, str] = {}
        for reference in references:
            row = self._db.execute("SELECT status FROM held WHERE reference = ?",
                                   (reference,)).fetchone()
            if row is not None:
                found[reference] = row[0]
        return found

    def reconciled(self) -> int:
        """The log size up to which the log and this queue were last found to agree."""
        row = self._db.execute("SELECT seq FROM reconciled WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def mark_reconciled(self, size: int) -> None:
        self._db.execute("INSERT INTO reconciled VALUES (1, ?) ON CONFLICT (id) DO UPDATE"
                         " SET seq = excluded.seq", (size,))

    @contextmanager
    def settling(self) -> Iterator[ReviewQueue]:
        """One write transaction on the queue for a start's reconciliation: while it is open
        no review can be between its audit entry and its close-out."""
        with self._transaction():
            yield self

    def get(self, reference: str) -> Held:
        row = self._db.execute(
            "SELECT reference, time, ori, key, message_id, message, decision, status"
            " FROM held WHERE reference = ?", (reference.strip().upper(),)).fetchone()
        if row is None:
            raise ReviewError(f"no held request {reference!r}")
        ref, time, ori, key, message_id, message, decision, status = row
        return Held(ref, datetime.fromisoformat(time), ori, key, message_id, message,
                    _decision(json.loads(decision)), status)

    def pending(self) -> list[Held]:
        rows = self._db.execute("SELECT reference FROM held WHERE status = 'held' ORDER BY time")
        return [self.get(ref) for (ref,) in rows.fetchall()]

    def close_out(self, reference: str, status: str, reviewer: str) -> None:
        """Mark a held request reviewed; refuses one already reviewed, so it leaves once."""
        cursor = self._db.execute(
            "UPDATE held SET status = ?, reviewer = ?, reviewed_at = ?"
            " WHERE reference = ? AND status = 'held'",
            (status, reviewer, datetime.now(UTC).isoformat(timespec="microseconds"),
             reference))
        if cursor.rowcount != 1:
            raise ReviewError(f"{reference} is not waiting for review")

    def file_late(self, held: Held, requester: str, result: Result) -> None:
        """File the reviewed answer for the switch inside `reviewing`'s transaction: the
        request leaves the queue and its late answer is on file in the same commit."""
        file_late(self._db, held.message_id, requester, result)

    @contextmanager
    def reviewing(self, reference: str, status: str, reviewer: str) -> Iterator[Held]:
        """A held request closed out as `status` by `reviewer` when the block completes. The
        gateway audits the review inside the block, so a review whose audit entry did not
        commit leaves the request held; and while the block runs no other review can take
        it."""
        with self._transaction():
            held = self.get(reference)
            self.close_out(held.reference, status, reviewer)
            yield held

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ReviewQueue:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _decision_json(decision: Decision) -> dict[str, object]:
    return {"verdict": decision.verdict.value, "action": decision.action,
            "released": list(decision.released), "withheld": list(decision.withheld),
            "reasons": [[r.policy, r.text] for r in decision.reasons],
            "version": decision.version}


def _decision(value: dict[str, object]) -> Decision:
    def strings(name: str) -> tuple[str, ...]:
        items = value[name]
        assert isinstance(items, list)
        return tuple(str(item) for item in items)

    reasons = value["reasons"]
    assert isinstance(reasons, list)
    return Decision(Verdict(value["verdict"]), str(value["action"]), strings("released"),
                    strings("withheld"), tuple(Reason(str(p), str(t)) for p, t in reasons),
                    str(value["version"]))
