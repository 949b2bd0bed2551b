"""Late answers waiting to leave a state: a reviewed request's release or denial, written
durably to the state's state.db before anything is sent, so the switch gets it even if it was
down when the coordinator acted. The transport reads `pending()` and marks each delivered."""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from ..datadir import DataDir
from ..policy.store import checked_state, connect
from ..protocol import Outcome, dumps, loads

if TYPE_CHECKING:
    from .pipeline import Result

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    message_id TEXT NOT NULL,
    requester TEXT NOT NULL,
    response TEXT NOT NULL,
    outcome TEXT NOT NULL,
    seq INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    reference TEXT,
    photos TEXT NOT NULL,
    delivered TEXT
);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (delivered, id);
"""


def file_late(db: sqlite3.Connection, message_id: str, requester_ori: str,
              result: Result) -> int:
    """File a late answer in the caller's transaction on state.db (the review queue files it
    in the same commit that closes the held request)."""
    photos = json.dumps([base64.b64encode(p).decode("ascii") for p in result.photos])
    cursor = db.execute(
        "INSERT INTO outbox (time, message_id, requester, response, outcome, seq,"
        " request_id, reference, photos) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (datetime.now(UTC).isoformat(timespec="microseconds"), message_id, requester_ori,
         dumps(result.response), result.outcome.value, result.seq, result.request_id,
         result.reference, photos))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@dataclass(frozen=True, slots=True)
class Late:
    """One late answer on file: which switch message it answers, and for whom."""

    id: int
    message_id: str
    requester: str
    state: str
    result: Result


class Outbox:
    """A state's late answers. Every write is its own durable transaction."""

    def __init__(self, data: DataDir, state: str) -> None:
        self.state = checked_state(data, state)
        self._db = connect(data, self.state, SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def put(self, message_id: str, requester_ori: str, result: Result) -> int:
        """File a late answer; its id once it is on disk."""
        return file_late(self._db, message_id, requester_ori, result)

    def pending(self, limit: int = 100) -> list[Late]:
        """Answers not yet handed to the switch, oldest first."""
        from .pipeline import Result  # the pipeline files late answers through this module

        rows = self._db.execute(
            "SELECT id, message_id, requester, response, outcome, seq, request_id, reference,"
            " photos FROM outbox WHERE delivered IS NULL ORDER BY id LIMIT ?",
            (limit,)).fetchall()
        return [Late(id_, message_id, requester, self.state,
                     Result(loads(response), Outcome(outcome), seq, request_id, reference,
                            tuple(base64.b64decode(p) for p in json.loads(photos))))
                for id_, message_id, requester, response, outcome, seq, request_id, reference,
                photos in rows]

    def mark_delivered(self, outbox_id: int) -> None:
        self._db.execute("UPDATE outbox SET delivered = ? WHERE id = ? AND delivered IS NULL",
                         (datetime.now(UTC).isoformat(timespec="microseconds"), outbox_id))
