"""Each state's service status (in service, out of service, removed), changed only by operator
commands, every change logged with who made it and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType

from ..datadir import DataDir
from ..protocol import STATES
from .db import Store
from .errors import SwitchError
from .routing import Service

SCHEMA = """
CREATE TABLE IF NOT EXISTS service (
    state TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    since TEXT NOT NULL,
    who TEXT NOT NULL,
    note TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS service_log (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    state TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    who TEXT NOT NULL,
    note TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StatusChange:
    time: datetime
    state: str
    old: Service
    new: Service
    who: str
    note: str

    def to_json(self) -> dict[str, object]:
        return {"time": self.time.isoformat(), "state": self.state, "old": self.old.value,
                "new": self.new.value, "who": self.who, "note": self.note}


class StatusBoard(Store):
    """Service status per state in DIR/switch.db; a state never set is in service."""

    def __init__(self, data: DataDir, *, share: Store | None = None,
                 before: Store | None = None) -> None:
        super().__init__(data.switch_db, SCHEMA, full=True, share=share, before=before)
        self._current: Mapping[str, Service] = {}
        self._current_at: tuple[int, int] = (-1, -1)

    def current(self) -> Mapping[str, Service]:
        """Every state not in service, with its status (read again only after anyone, here
        or in another process, has written to the database)."""
        with self.lock:
            version = self.version()
            if version == self._current_at:
                return self._current
            rows = self.db.execute("SELECT state, status FROM service").fetchall()
            self._current = MappingProxyType({state: Service(status) for state, status in rows
                                              if status != Service.IN.value})
            self._current_at = version
        return self._current

    def get(self, state: str) -> Service:
        return self.current().get(state, Service.IN)

    def set(self, state: str, status: Service, who: str, note: str = "") -> StatusChange:
        """Change a state's status and log the change in the same transaction."""
        code = state.strip().upper()
        if code not in STATES:
            raise SwitchError(f"{state!r} is not a state code")
        if not who.strip():
            raise SwitchError("say who changes the status (--by NAME)")
        now = datetime.now(UTC)
        with self.transaction() as db:
            row = db.execute("SELECT status FROM service WHERE state = ?", (code,)).fetchone()
            old = Service(row[0]) if row else Service.IN
            db.execute("INSERT OR REPLACE INTO service VALUES (?, ?, ?, ?, ?)",
                       (code, status.value, now.isoformat(), who, note))
            db.execute("INSERT INTO service_log (time, state, old, new, who, note)"
                       " VALUES (?, ?, ?, ?, ?, ?)",
                       (now.isoformat(timespec="microseconds"), code, old.value, status.value,
                        who, note))
        return StatusChange(now, code, old, status, who, note)

    def history(self, state: str | None = None, limit: int = 100) -> list[StatusChange]:
        where, args = ("WHERE state = ?", (state.strip().upper(),)) if state else ("", ())
        with self.lock:
            rows = self.db.execute("SELECT time, state, old, new, who, note FROM service_log "
                                   f"{where} ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        return [StatusChange(datetime.fromisoformat(t), s, Service(o), Service(n), w, note)
                for t, s, o, n, w, note in rows]
