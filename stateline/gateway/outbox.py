"""Late answers waiting to leave a state: a reviewed request's release or denial, written
durably to the state's state.db before anything is sent, so the switch gets it even if it was
down when the coordinator acted. The transport reads `pending()` and marks each delivered.
Each answer is kept as its response text and as the record that text was written from (JSON),
so the switch can show its fields without reading the text."""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from ..datadir import DataDir
from ..policy.store import StateError, checked_state, connect
from ..protocol import Answer, Outcome, answer_from_json, answer_to_json, dumps, loads

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
    delivered TEXT,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS outbox_waiting ON outbox (delivered, id);
"""


def with_answer_column(db: sqlite3.Connection) -> None:
    """Give an outbox made before answers were kept as records its `answer` column; its rows
    read with no answer."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
    if "answer" not in columns:
        db.execute("ALTER TABLE outbox ADD COLUMN answer TEXT")


def file_late(db: sqlite3.Connection, message_id: str, requester_ori: str,
              result: Result) -> int:
    """File a late answer in the caller's transaction on state.db (the review queue files it
    in the same commit that closes the held request)."""
    with_answer_column(db)  # the queue's connection may be the first to meet an old table
    photos = json.dumps([base64.b64encode(p).decode("ascii") for p in result.photos])
    answer = None if result.answer is None else json.dumps(answer_to_json(result.answer))
    cursor = db.execute(
        "INSERT INTO outbox (time, message_id, requester, response, outcome, seq,"
        " request_id, reference, photos, answer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (datetime.now(UTC).isoformat(timespec="microseconds"), message_id, requester_ori,
         dumps(result.response), result.outcome.value, result.seq, result.request_id,
         result.reference, photos, answer))
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
        try:
            with_answer_column(self._db)
        except sqlite3.Error as error:
            self._db.close()
            raise StateError(f"cannot use {data.state_db(self.state)}: {error}") from None

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
            " photos, answer FROM outbox WHERE delivered IS NULL ORDER BY id LIMIT ?",
            (limit,)).fetchall()
        return [Late(id_, message_id, requester, self.state,
                     Result(loads(response), Outcome(outcome), seq, request_id, reference,
                            tuple(base64.b64decode(p) for p in json.loads(photos)),
                            _answer(answer)))
                for id_, message_id, requester, response, outcome, seq, request_id, reference,
                photos, answer in rows]

    def mark_delivered(self, outbox_id: int) -> None:
        self._db.execute("UPDATE outbox SET delivered = ? WHERE id = ? AND delivered IS NULL",
                         (datetime.now(UTC).isoformat(timespec="microseconds"), outbox_id))


def _answer(text: str | None) -> Answer | None:
    """A row's answer; none for a row filed before answers were kept as records."""
    return None if text is None else answer_from_json(json.loads(text))
