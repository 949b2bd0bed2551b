"""Store-and-forward: messages for a state that is out of service, kept durably and delivered
in the order they came when it returns. `HoldStore` is the interface the switch uses (a
JetStream stream can stand behind it); `SqliteHolds` keeps them in DIR/switch.db."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from ..datadir import DataDir
from ..protocol import Message, Stamp, dumps, loads
from .db import Store

LEASE_SECONDS = 30.0
"""How long one switch may deliver a state's held traffic before another may take over."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS hold (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL,
    message TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_counter INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS hold_state ON hold (state, id);
CREATE TABLE IF NOT EXISTS hold_lease (
    state TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until REAL NOT NULL
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class HeldMessage:
    id: int
    """Its place in the store: a later message for the same state has a larger id."""
    message_id: str
    state: str
    message: Message
    """Routed and rewritten, addressed to the state; stamped only when it is delivered."""
    received: Stamp
    time: datetime


class HoldStore(Protocol):
    async def put(self, message_id: str, state: str, message: Message,
                  received: Stamp) -> HeldMessage:
        """Keep a message; durable before this returns, since the sender is told it is held."""
        ...

    async def waiting(self, state: str, limit: int = 100) -> list[HeldMessage]:
        """The state's held messages, oldest first."""
        ...

    async def counts(self) -> dict[str, int]:
        """How many messages are held, per state that has any."""
        ...

    async def delivered(self, held: HeldMessage) -> None: ...

    async def claim(self, state: str, owner: str) -> bool:
        """Take (or renew) the right to deliver a state's held traffic, so two switches on
        the same store never deliver the same message at once."""
        ...

    async def release(self, state: str, owner: str) -> None: ...

    async def close(self) -> None: ...


class SqliteHolds:
    """Held traffic in DIR/switch.db, every change synced to disk before it returns."""

    def __init__(self, data: DataDir, *, share: Store | None = None,
                 before: Store | None = None) -> None:
        self._store = Store(data.switch_db, SCHEMA, full=True, share=share, before=before)
        self._counts: dict[str, int] = {}
        self._counts_at: tuple[int, int] = (-1, -1)

    async def put(self, message_id: str, state: str, message: Message,
                  received: Stamp) -> HeldMessage:
        now = datetime.now(UTC)
        with self._store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO hold (time, message_id, state, message, received_at,"
                " received_counter) VALUES (?, ?, ?, ?, ?, ?)",
                (now.isoformat(timespec="microseconds"), message_id, state, dumps(message),
                 received.at.isoformat(), received.counter))
        assert cursor.lastrowid is not None
        return HeldMessage(cursor.lastrowid, message_id, state, message, received, now)

    async def waiting(self, state: str, limit: int = 100) -> list[HeldMessage]:
        with self._store.lock:
            rows = self._store.db.execute(
                "SELECT id, message_id, state, message, received_at, received_counter, time"
                " FROM hold WHERE state = ? ORDER BY id LIMIT ?", (state, limit)).fetchall()
        return [HeldMessage(id_, message_id, code, loads(text),
                            Stamp(datetime.fromisoformat(at), counter),
                            datetime.fromisoformat(when))
                for id_, message_id, code, text, at, counter, when in rows]

    async def counts(self) -> dict[str, int]:
        """Read again only after anyone, here or in another process, wrote to the database:
        the switch asks before every delivery."""
        with self._store.lock:
            version = self._store.version()
            if version != self._counts_at:
                self._counts = dict(self._store.db.execute(
                    "SELECT state, count(*) FROM hold GROUP BY state").fetchall())
                self._counts_at = version
            return dict(self._counts)

    async def delivered(self, held: HeldMessage) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM hold WHERE id = ?", (held.id,))

    async def claim(self, state: str, owner: str) -> bool:
        now = time.time()
        with self._store.transaction() as db:
            row = db.execute("SELECT owner, until FROM hold_lease WHERE state = ?",
                             (state,)).fetchone()
            if row is not None and row[0] != owner and row[1] > now:
                return False
            db.execute("INSERT OR REPLACE INTO hold_lease VALUES (?, ?, ?)",
                       (state, owner, now + LEASE_SECONDS))
        return True

    async def release(self, state: str, owner: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM hold_lease WHERE state = ? AND owner = ?", (state, owner))

    async def close(self) -> None:
        self._store.close()
