"""What each sender sent and what came back, in DIR/switch.db, so answers that arrive late
(reviewed requests, held traffic delivered when a state returns) can be read after a restart.
A state's answer is kept as its text and as the record it sent (JSON), and the sender is shown
its fields from the record: the switch never parses an answer."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..datadir import DataDir
from ..errors import Side
from ..protocol import Answer, Message, Reject, answer_from_json, answer_to_json, format_text, parse
from .db import Store, running_loop
from .errors import SwitchError
from .merge import HELD_FOR_DELIVERY, WAITING, summarize, summary_text
from .views import ResponseView, Submission, fields_from

SCHEMA = """
CREATE TABLE IF NOT EXISTS submission (
    message_id TEXT PRIMARY KEY,
    time TEXT NOT NULL,
    sender TEXT NOT NULL,
    credential TEXT NOT NULL,
    key TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    fan_out INTEGER NOT NULL,
    wait REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leg (
    message_id TEXT NOT NULL,
    place INTEGER NOT NULL,
    state TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (message_id, state)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS response (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    time TEXT NOT NULL,
    state TEXT NOT NULL,
    key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    text TEXT NOT NULL,
    body TEXT,
    reference TEXT,
    late INTEGER NOT NULL,
    photos TEXT NOT NULL,
    summary INTEGER NOT NULL,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS response_message ON response (message_id, id);
"""

RECENT = 10_000
"""How many headers of submissions opened here are kept in memory."""

log = logging.getLogger("stateline.switch")

OWING = frozenset({WAITING, HELD_FOR_DELIVERY, "held"})
"""Leg statuses whose state still owes the sender an answer."""


class UnknownMessage(SwitchError, LookupError):
    """No message with this id went through this switch."""

    code, status, side = "not-found", 404, Side.REQUESTER


@dataclass(frozen=True, slots=True)
class Sent:
    """One message the switch sends back to the sender, as delivered (header stamped)."""

    state: str
    message: Message
    outcome: str
    reference: str | None = None
    late: bool = False
    photos: tuple[bytes, ...] = ()
    summary: bool = False
    answer: Answer | None = None
    """The state's answer as the record it sent with the text; None for the switch's own."""


@dataclass(frozen=True, slots=True)
class Header:
    message_id: str
    sender: str
    credential: str
    key: str
    accepted: bool
    fan_out: bool
    wait: float


class SubmissionStore(Store):
    def __init__(self, data: DataDir) -> None:
        super().__init__(data.switch_db, SCHEMA)
        self._with_answer_column()
        self._headers: dict[str, Header] = {}
        """Headers of the submissions opened here lately: they never change once written."""
        self._waiting = _Rows()

    def _with_answer_column(self) -> None:
        """Give a switch.db made before answers were kept as records its `answer` column;
        the rows it holds show no fields."""
        def columns() -> set[str]:
            return {row[1] for row in self.db.execute("PRAGMA table_info(response)")}

        try:
            with self.lock:
                if "answer" in columns():
                    return
                try:
                    self.db.execute("ALTER TABLE response ADD COLUMN answer TEXT")
                except sqlite3.OperationalError:
                    if "answer" not in columns():  # else another process added it first
                        raise
        except sqlite3.Error as error:
            self.close()
            raise SwitchError(f"cannot use {self.path}: {error}") from None

    def open(self, header: Header, legs: Sequence[tuple[str, str]]) -> None:
        if len(self._headers) >= RECENT:
            self._headers.clear()
        with self.lock:
            self._waiting.submissions.append(
                (header.message_id, _now(), header.sender, header.credential, header.key,
                 int(header.accepted), int(header.fan_out), header.wait))
            self._waiting.legs += [(header.message_id, n, state, status)
                                   for n, (state, status) in enumerate(legs)]
            self._headers[header.message_id] = header
            self._written()

    def respond(self, message_id: str, sent: Sent, leg_status: str | None = None) -> None:
        """Keep a message sent back, and the state's new leg status, in one transaction."""
        photos = json.dumps([base64.b64encode(p).decode("ascii") for p in sent.photos]) \
            if sent.photos else "[]"
        answer = None if sent.answer is None else \
            json.dumps(answer_to_json(sent.answer), separators=(",", ":"))
        with self.lock:
            self._waiting.responses.append(
                (message_id, _now(), sent.state, sent.message.key, sent.outcome,
                 format_text(sent.message), sent.message.body, sent.reference, int(sent.late),
                 photos, int(sent.summary), answer))
            if leg_status is not None:
                self._waiting.statuses.append((leg_status, message_id, sent.state))
            self._written()

    def commit(self) -> None:
        self.write()
        super().commit()

    async def committed(self) -> None:
        self.write()
        await super().committed()

    def write(self) -> None:
        """Write the rows kept since the last write, in one transaction with any others of
        this turn: a fan-out's fifty answers cost four statements, not two hundred. A row
        that cannot be written costs only itself (Store.write_batches)."""
        with self.lock:
            rows = self._waiting
            if rows.empty or self._shared.closed:
                return
            self._waiting = _Rows()
            self.write_batches((
                ("INSERT INTO submission VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows.submissions),
                ("INSERT INTO leg VALUES (?, ?, ?, ?)", rows.legs),
                ("INSERT INTO response (message_id, time, state, key, outcome, text, body,"
                 " reference, late, photos, summary, answer)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 rows.responses),
                ("UPDATE leg SET status = ? WHERE message_id = ? AND state = ?",
                 rows.statuses),
            ))

    def _written(self) -> None:
        """Rows kept: written at once without a running loop, else on the loop's next turn
        (or before anything reads them back)."""
        loop = running_loop()
        if loop is None:
            self.write()
        elif not self._waiting.scheduled:
            self._waiting.scheduled = True
            loop.call_soon(self.write)

    def known(self, message_id: str) -> bool:
        if message_id in self._headers:
            return True
        self.write()
        with self.lock:
            row = self.db.execute("SELECT 1 FROM submission WHERE message_id = ?",
                                  (message_id,)).fetchone()
        return row is not None

    def has_late(self, message_id: str, state: str, reference: str, outcome: str) -> bool:
        """Whether this reviewed answer is already kept: a late answer may be offered twice
        (two switches reading one outbox, or a crash before it was marked delivered)."""
        self.write()
        with self.lock:
            row = self.db.execute(
                "SELECT 1 FROM response WHERE message_id = ? AND state = ? AND reference = ?"
                " AND outcome = ? AND late = 1", (message_id, state, reference,
                                                  outcome)).fetchone()
        return row is not None

    def header(self, message_id: str) -> Header:
        known = self._headers.get(message_id)
        if known is not None:
            return known
        self.write()
        with self.lock:
            row = self.db.execute("SELECT message_id, sender, credential, key, accepted, fan_out,"
                                  " wait FROM submission WHERE message_id = ?",
                                  (message_id,)).fetchone()
        if row is None:
            raise UnknownMessage(f"no message {message_id!r} went through this switch")
        id_, sender, credential, key, accepted, fan_out, wait = row
        return Header(id_, sender, credential, key, bool(accepted), bool(fan_out), wait)

    def legs(self, message_id: str) -> list[tuple[str, str]]:
        self.write()
        with self.lock:
            rows = self.db.execute("SELECT state, status FROM leg WHERE message_id = ?"
                                   " ORDER BY place", (message_id,)).fetchall()
        return [(state, status) for state, status in rows]

    def view(self, message_id: str) -> Submission:
        """The submission as it stands: a fan-out's summary reflects every answer so far, and
        its no-record answers are left to the summary (as Nlets drops NO HIT answers)."""
        head = self.header(message_id)
        legs = self.legs(message_id)
        self.write()
        with self.lock:
            rows = self.db.execute(
                "SELECT state, key, outcome, text, reference, late, photos, summary, answer"
                " FROM response WHERE message_id = ? ORDER BY summary DESC, id",
                (message_id,)).fetchall()
        views = []
        for state, key, outcome, text, reference, late, photos, is_summary, kept in rows:
            if head.fan_out and outcome == "no-record" and not is_summary:
                continue
            answer = _answer(message_id, kept)
            view = ResponseView(key, state, outcome, fields_from(answer), text, reference,
                                bool(late), tuple(base64.b64decode(p) for p in json.loads(photos)),
                                answer=answer)
            if is_summary:
                view = _current_summary(view, head, legs)
            views.append(view)
        pending = tuple(state for state, status in legs if status in OWING)
        return Submission(message_id, head.accepted, tuple(views), pending)


@dataclass(slots=True)
class _Rows:
    """Rows kept in memory until the next write, in the order they are written."""

    submissions: list[tuple[str, str, str, str, str, int, int, float]] = field(
        default_factory=list)
    legs: list[tuple[str, int, str, str]] = field(default_factory=list)
    responses: list[tuple[str, str, str, str, str, str, str | None, str | None, int, str,
                          int, str | None]] = field(default_factory=list)
    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    scheduled: bool = False

    @property
    def empty(self) -> bool:
        return not (self.submissions or self.legs or self.responses or self.statuses)


def summary_body(head: Header, legs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The summary's text and its outcome, from the legs as they stand."""
    summary = summarize(head.key, legs)
    return summary_text(summary, head.wait), summary.outcome


def _current_summary(view: ResponseView, head: Header,
                     legs: Sequence[tuple[str, str]]) -> ResponseView:
    summary = summarize(head.key, legs)
    text = view.text
    try:
        sent = parse(view.text)
        text = format_text(Message(sent.key, sent.sender, (), sent.control,
                                   body=summary_text(summary, head.wait), header=sent.header))
    except Reject:
        pass
    return ResponseView(view.key, view.state, summary.outcome, (), text, None, False, (),
                        summary)


def _answer(message_id: str, kept: str | None) -> Answer | None:
    """A response row's answer record. One that cannot be read (switch.db edited by hand)
    shows no fields rather than keep the sender from the rest of the submission."""
    if kept is None:
        return None
    try:
        return answer_from_json(json.loads(kept))
    except (ValueError, RecursionError, Reject) as error:
        log.error("the answer kept for %s cannot be read: %s", message_id, error)
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
