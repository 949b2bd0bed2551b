"""What each sender sent and what came back, in DIR/switch.db, so answers that arrive late
(reviewed requests, held traffic delivered when a state returns) can be read after a restart.
A state's answer is kept as its text and as the record it sent (JSON), and the sender is shown
its fields from the record: the switch never parses an answer.

While its sender waits, a submission opened here is also kept in memory exactly as its rows
were written, so the answer the sender gets is built without reading them back. Memory gives
way to the database when a row of it could not be written, or when another switch has added
an answer to it: checked when switch.db's data_version (read once per turn of the loop) shows
that another connection has written, so such an answer counts from the next turn."""

from __future__ import annotations

import base64
import contextlib
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
"""How many headers (and submissions still waited on) opened here are kept in memory."""

CHECKED = 500
"""Submissions in memory checked against switch.db in one statement."""

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
        self._live: dict[str, _Live] = {}
        """Submissions opened here whose senders still wait, as their rows were written."""
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
        """Keep a new submission and its legs; its sender's answer is built from memory until
        `forget` (see the module's docstring)."""
        if len(self._headers) >= RECENT:
            self._headers.clear()
        if len(self._live) >= RECENT:
            self._live.clear()
        with self.lock:
            self._waiting.submissions.append(
                (header.message_id, _now(), header.sender, header.credential, header.key,
                 int(header.accepted), int(header.fan_out), header.wait))
            self._waiting.open(header.message_id, legs)
            self._headers[header.message_id] = header
            self._live[header.message_id] = _Live(header, self.version()[0], dict(legs), [])
            self._written()

    def respond(self, message_id: str, sent: Sent, leg_status: str | None = None) -> str:
        """Keep a message sent back, and the state's new leg status, in one transaction; its
        text as kept (the traffic log takes the same)."""
        photos = json.dumps([base64.b64encode(p).decode("ascii") for p in sent.photos]) \
            if sent.photos else "[]"
        answer = None if sent.answer is None else \
            json.dumps(answer_to_json(sent.answer), separators=(",", ":"))
        text = format_text(sent.message)
        with self.lock:
            self._waiting.responses.append(
                (message_id, _now(), sent.state, sent.message.key, sent.outcome, text,
                 sent.message.body, sent.reference, int(sent.late), photos,
                 int(sent.summary), answer))
            if leg_status is not None:
                self._waiting.status(message_id, sent.state, leg_status)
            live = self._live.get(message_id)
            if live is not None:
                live.sent.append((sent, text))
                if leg_status is not None and sent.state in live.legs:
                    live.legs[sent.state] = leg_status
            self._written()
        return text

    def forget(self, message_id: str) -> None:
        """The sender has its answer: what comes later is read from the database."""
        self._live.pop(message_id, None)

    def commit(self) -> None:
        """Write the rows kept, then commit; waiters are woken even when the write fails
        (their submissions are then read back from what was written)."""
        try:
            self.write()
        finally:
            super().commit()

    def unwritten(self) -> bool:
        return not self._waiting.empty

    def write(self) -> None:
        """Write the rows kept since the last write, in one transaction with any others of
        this turn: a turn's answers (a fan-out's fifty, or many senders' one each) cost four
        statements, not four each. A row that cannot be written costs only itself
        (Store.write_batches)."""
        with self.lock:
            rows = self._waiting
            if rows.empty or self._shared.closed:
                return
            self._waiting = _Rows()
            try:
                dropped = self._write(rows)
            except BaseException:
                self._unlive(rows)
                raise
            if dropped:
                self._unlive(rows)

    def _write(self, rows: _Rows) -> int:
        return self.write_batches((
            ("INSERT INTO submission VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows.submissions),
            ("INSERT INTO leg VALUES (?, ?, ?, ?)", rows.legs),
            ("INSERT INTO response (message_id, time, state, key, outcome, text, body,"
             " reference, late, photos, summary, answer)"
             " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             rows.responses),
            ("UPDATE leg SET status = ? WHERE message_id = ? AND state = ?",
             rows.statuses),
        ))

    def _unlive(self, rows: _Rows) -> None:
        """Rows not (all) written: their submissions are read from the database from now on,
        so no sender is shown a row that is not there."""
        for message_id in {*(row[0] for row in rows.submissions),
                           *(row[0] for row in rows.legs),
                           *(row[0] for row in rows.responses),
                           *(row[1] for row in rows.statuses)}:
            self._live.pop(message_id, None)

    def _kept(self, message_id: str) -> _Live | None:
        """The submission in memory, while it holds every row of it in switch.db: checked
        again only after another connection has written (every one in memory at once)."""
        live = self._live.get(message_id)
        if live is None:
            return None
        version = self.version()[0]
        if live.version != version:
            self._recheck(version)
        return self._live.get(message_id)

    def _recheck(self, version: int) -> None:
        """Keep in memory only the submissions that another switch has added no answer to:
        one count of responses per submission, in one statement per `CHECKED` of them."""
        with self.lock:
            self.write()
            live = [(message_id, kept) for message_id, kept in self._live.items()
                    if kept.version != version]
            for start in range(0, len(live), CHECKED):
                some = dict(live[start:start + CHECKED])
                counts = dict(self.db.execute(
                    "SELECT message_id, count(*) FROM response WHERE message_id IN"
                    f" ({', '.join('?' * len(some))}) GROUP BY message_id",
                    tuple(some)).fetchall())
                for message_id, kept in some.items():
                    if counts.get(message_id, 0) == len(kept.sent):
                        kept.version = version
                    else:
                        self._live.pop(message_id, None)

    def _written(self) -> None:
        """Rows kept: written at once without a running loop, else by the commit on the
        loop's next turn (or before anything reads them back)."""
        loop = running_loop()
        if loop is None:
            self.write()
        elif not self._shared.scheduled:
            self._shared.scheduled = True
            loop.call_soon(self.commit)

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
        with self.lock:
            live = self._kept(message_id)
            if live is not None:
                return list(live.legs.items())
        self.write()
        with self.lock:
            rows = self.db.execute("SELECT state, status FROM leg WHERE message_id = ?"
                                   " ORDER BY place", (message_id,)).fetchall()
        return [(state, status) for state, status in rows]

    def view(self, message_id: str) -> Submission:
        """The submission as it stands: a fan-out's summary reflects every answer so far, and
        its no-record answers are left to the summary (as Nlets drops NO HIT answers)."""
        with self.lock:  # the HTTP API may read while the loop keeps an answer
            live = self._kept(message_id)
            if live is not None:
                return live.view()
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
            if is_summary:
                views.append(_current_summary(key, state, _read(text), text, head, legs))
            elif _shown(head, outcome):
                answer = _answer(message_id, kept)
                views.append(ResponseView(
                    key, state, outcome, fields_from(answer), text, reference, bool(late),
                    tuple(base64.b64decode(p) for p in json.loads(photos)), answer=answer))
        return Submission(message_id, head.accepted, tuple(views), _pending(legs))


@dataclass(slots=True)
class _Live:
    """A submission opened here while its sender waits: its header, legs and responses
    exactly as its rows were written."""

    head: Header
    version: int
    """switch.db's data_version when its rows were last known to be all of them: another
    connection (another switch) may add a late answer to them."""
    legs: dict[str, str]
    sent: list[tuple[Sent, str]]
    """Each response with its text as kept, in the order they were kept."""

    def view(self) -> Submission:
        """What `SubmissionStore.view` reads back from the rows, built from memory."""
        head, legs = self.head, list(self.legs.items())
        views = []
        for sent, text in sorted(self.sent, key=lambda kept: not kept[0].summary):
            key = sent.message.key
            if sent.summary:
                views.append(_current_summary(key, sent.state, sent.message, text, head, legs))
            elif _shown(head, sent.outcome):
                views.append(ResponseView(key, sent.state, sent.outcome,
                                          fields_from(sent.answer), text, sent.reference,
                                          sent.late, tuple(sent.photos), answer=sent.answer))
        return Submission(head.message_id, head.accepted, tuple(views), _pending(legs))


@dataclass(slots=True)
class _Rows:
    """Rows kept in memory until the next write, in the order they are written."""

    submissions: list[tuple[str, str, str, str, str, int, int, float]] = field(
        default_factory=list)
    legs: list[tuple[str, int, str, str]] = field(default_factory=list)
    responses: list[tuple[str, str, str, str, str, str, str | None, str | None, int, str,
                          int, str | None]] = field(default_factory=list)
    statuses: list[tuple[str, str, str]] = field(default_factory=list)
    places: dict[tuple[str, str], int] = field(default_factory=dict)
    """Where each leg's row is in `legs`, by (message id, state)."""

    @property
    def empty(self) -> bool:
        return not (self.submissions or self.legs or self.responses or self.statuses)

    def open(self, message_id: str, legs: Sequence[tuple[str, str]]) -> None:
        for n, (state, status) in enumerate(legs):
            self.places.setdefault((message_id, state), len(self.legs))
            self.legs.append((message_id, n, state, status))

    def status(self, message_id: str, state: str, status: str) -> None:
        """A leg's new status: written with its row when that is still to be written (a
        state that answers within the turn it was sent), else as an update after it."""
        place = self.places.get((message_id, state))
        if place is None:
            self.statuses.append((status, message_id, state))
            return
        _, n, _, _ = self.legs[place]
        self.legs[place] = (message_id, n, state, status)


def summary_body(head: Header, legs: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The summary's text and its outcome, from the legs as they stand."""
    summary = summarize(head.key, legs)
    return summary_text(summary, head.wait), summary.outcome


def _shown(head: Header, outcome: str) -> bool:
    """Whether a state's answer is shown: a fan-out leaves no-record answers to its summary."""
    return not (head.fan_out and outcome == "no-record")


def _pending(legs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(state for state, status in legs if status in OWING)


def _current_summary(key: str, state: str, sent: Message | None, text: str, head: Header,
                     legs: Sequence[tuple[str, str]]) -> ResponseView:
    """The summary as the legs stand now, in the header it was sent with (its text as kept
    when `sent`, read back from that text, is None)."""
    summary = summarize(head.key, legs)
    if sent is not None:
        with contextlib.suppress(Reject):
            text = format_text(Message(sent.key, sent.sender, (), sent.control,
                                       body=summary_text(summary, head.wait),
                                       header=sent.header))
    return ResponseView(key, state, summary.outcome, (), text, None, False, (), summary)


def _read(text: str) -> Message | None:
    try:
        return parse(text)
    except Reject:
        return None


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
