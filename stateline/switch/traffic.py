"""The switch's traffic log in DIR/traffic.db: every message that enters (from an agency) or
leaves (to a state, or back to an agency), kept one rolling year and searchable by key,
sender, destination, time range and text, as Nlets' RAND log is (nlets-protocol.md §7).

Rows logged from a running event loop wait in memory for the loop's next turn, then a writer
thread of the log's own writes them in one transaction, off the loop (a search first writes
whatever waits, so it sees every row logged before it). A crash may lose the rows not yet
written: those of the last turn or two, a few milliseconds of traffic at most. The log is the
network's account of what passed, not a promise to a sender: held traffic and answers are
kept in DIR/switch.db before the sender is told."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..datadir import DataDir
from ..protocol import Message, format_text
from .db import Store, running_loop

SCHEMA = """
CREATE TABLE IF NOT EXISTS traffic (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    direction TEXT NOT NULL,
    message_id TEXT NOT NULL,
    key TEXT NOT NULL,
    sender TEXT NOT NULL,
    destination TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traffic_time ON traffic (time);
CREATE INDEX IF NOT EXISTS traffic_key ON traffic (key, time);
CREATE INDEX IF NOT EXISTS traffic_sender ON traffic (sender, time);
CREATE INDEX IF NOT EXISTS traffic_destination ON traffic (destination, time);
CREATE INDEX IF NOT EXISTS traffic_message ON traffic (message_id);
"""

IN, OUT = "in", "out"


@dataclass(frozen=True, slots=True)
class Entry:
    time: datetime
    direction: str
    """`in`: an agency's message as it reached the switch; `out`: a message the switch sent."""
    message_id: str
    key: str
    sender: str
    destination: str
    """A state code or ORI; for a message in, its destinations as sent, space-separated."""
    text: str
    id: int = 0

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "time": self.time.isoformat(), "direction": self.direction,
                "message_id": self.message_id, "key": self.key, "sender": self.sender,
                "destination": self.destination, "text": self.text}


@dataclass(frozen=True, slots=True)
class Search:
    """What to look for; every filter given must match. Text matches anywhere, any case."""

    key: str | None = None
    sender: str | None = None
    destination: str | None = None
    message_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    limit: int = 50


_FILTERS = {
    "key": "key = ?",
    "sender": "sender = ?",
    "destination": "(destination = ? OR (direction = 'in' AND"
                   " instr(' ' || destination || ' ', ' ' || ? || ' ') > 0))",
    "message_id": "message_id = ?",
    "since": "time >= ?",
    "until": "time < ?",
    "text": "instr(upper(text), ?) > 0",
}


class TrafficLog(Store):
    def __init__(self, data: DataDir) -> None:
        super().__init__(data.traffic_db, SCHEMA)
        self._rows: list[tuple[str, str, str, str, str, str, str]] = []
        self._taking = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._writing: list[Future[None]] = []

    def add(self, entries: Sequence[Entry]) -> None:
        """Log entries together: now without a running loop, else on the loop's next turn."""
        rows = [(_stamp(e.time), e.direction, e.message_id, e.key, e.sender, e.destination,
                 e.text) for e in entries]
        loop = running_loop()
        with self._taking:
            first = not self._rows
            self._rows += rows
        if loop is None:
            self.flush()
        elif first:
            loop.call_soon(self._hand_off)

    def flush(self) -> None:
        """Write every entry logged so far before this returns."""
        with self._taking:
            writing, self._writing = self._writing, []
        wait(writing)
        self._write(self._take())

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None
        super().close()

    def _take(self) -> list[tuple[str, str, str, str, str, str, str]]:
        with self._taking:
            rows, self._rows = self._rows, []
        return rows

    def _hand_off(self) -> None:
        """Give this turn's entries to the writer thread, off the event loop."""
        rows = self._take()
        if not rows:
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="traffic-log")
        with self._taking:
            self._writing = [f for f in self._writing if not f.done()]
            self._writing.append(self._writer.submit(self._write, rows))

    def _write(self, rows: list[tuple[str, str, str, str, str, str, str]]) -> None:
        with self.lock:
            if not rows or self._shared.closed:
                return
            self.write_batches((("INSERT INTO traffic (time, direction, message_id, key,"
                                 " sender, destination, text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 rows),))
            self.commit()

    def search(self, search: Search) -> list[Entry]:
        """Matching entries, newest first."""
        self.flush()
        wanted = _values(search)
        where = " AND ".join(_FILTERS[name] for name in wanted) or "1"
        args: list[object] = []
        for name, value in wanted.items():
            args += [value, value] if name == "destination" else [value]
        with self.lock:
            rows = self.db.execute(
                "SELECT id, time, direction, message_id, key, sender, destination, text"
                f" FROM traffic WHERE {where} ORDER BY time DESC, id DESC LIMIT ?",
                (*args, search.limit)).fetchall()
        return [Entry(datetime.fromisoformat(t), d, m, k, s, dest, text, id_)
                for id_, t, d, m, k, s, dest, text in rows]

    def purge(self, retention_days: int, now: datetime | None = None) -> int:
        """Drop entries older than the retention; how many were dropped."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
        self.flush()
        with self.transaction() as db:
            return db.execute("DELETE FROM traffic WHERE time < ?", (_stamp(cutoff),)).rowcount


def _values(search: Search) -> dict[str, str]:
    given = {
        "key": search.key and search.key.strip().upper(),
        "sender": search.sender and search.sender.strip().upper(),
        "destination": search.destination and search.destination.strip().upper(),
        "message_id": search.message_id and search.message_id.strip(),
        "since": search.since and _stamp(search.since),
        "until": search.until and _stamp(search.until),
        "text": search.text and search.text.upper(),
    }
    return {name: value for name, value in given.items() if value}


def _stamp(when: datetime) -> str:
    """UTC, to the microsecond, in one fixed width so text order is time order (a time
    without a zone is UTC)."""
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="microseconds")


def entry(direction: str, message_id: str, text: str, key: str, sender: str,
          destination: str) -> Entry:
    return Entry(datetime.now(UTC), direction, message_id, key, sender, destination, text)


def outgoing(message_id: str, message: Message, destination: str,
             text: str | None = None) -> Entry:
    """A message the switch sent; `text` is the message as already written, if it was."""
    return entry(OUT, message_id, format_text(message) if text is None else text,
                 message.key, message.sender, destination)
