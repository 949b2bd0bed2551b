"""The output header the switch stamps on every message it delivers: when it took the message
and the count on the line it came in on, when it sent it and the count on the line it left
by, and the receiving ORI (nlets-protocol.md §1.5). Counters run per line (ORI), 00001 to
99999 and round again; times are UTC.

A counter never repeats: numbers are handed out from memory in blocks of `BLOCK`, and the
end of a block is synced to disk before its first number is used. Closing stores the number
last used, so a restart after a clean close goes on from it; after a crash, from the end of
the last block (a gap of up to `BLOCK` on each line, never a repeat)."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

from ..datadir import DataDir
from ..protocol import MULTI_STATE, Message, OutputHeader, Stamp
from ..protocol.model import COUNTER_LIMIT
from .db import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS line (
    ori TEXT PRIMARY KEY,
    received INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"""

BLOCK = 1000
"""Counter numbers reserved on disk at a time, per line and direction."""

_READ = {direction: f"SELECT {direction} FROM line WHERE ori = ?"
         for direction in ("received", "sent")}
_WRITE = {direction: f"INSERT INTO line (ori, {direction}) VALUES (?, ?) ON CONFLICT (ori)"
                     f" DO UPDATE SET {direction} = excluded.{direction}"
          for direction in ("received", "sent")}
_SETTLE = {direction: f"UPDATE line SET {direction} = ? WHERE ori = ? AND {direction} = ?"
           for direction in ("received", "sent")}


def state_line(state: str) -> str:
    """The ORI a state's traffic is delivered to: its control terminal."""
    return f"{state}NLETS00"


class Lines(Store):
    """Per-line counters in DIR/switch.db."""

    def __init__(self, data: DataDir, *, share: Store | None = None,
                 before: Store | None = None) -> None:
        super().__init__(data.switch_db, SCHEMA, full=True, share=share, before=before)
        self._counters: dict[tuple[str, str], list[int]] = {}
        """(ORI, direction) -> [last used, last reserved on disk, numbers left]"""

    def received(self, ori: str, at: datetime | None = None) -> Stamp:
        """The stamp for a message the switch takes in from this line."""
        return Stamp(at or this_minute(), self._next(ori, "received"))

    def header(self, received: Stamp, receiving_ori: str) -> OutputHeader:
        """The header for a message sent now to `receiving_ori`."""
        return OutputHeader(received, Stamp(this_minute(), self._next(receiving_ori, "sent")),
                            receiving_ori)

    def close(self) -> None:
        """Keep the numbers last used, where no one reserved past them meanwhile."""
        with self.lock:
            if self._counters and not self._shared.closed:
                with self.transaction() as db:
                    for (ori, direction), (used, reserved, _) in self._counters.items():
                        db.execute(_SETTLE[direction], (used, ori, reserved))
                self._counters.clear()
        super().close()

    def _next(self, ori: str, direction: str) -> int:
        with self.lock:
            counter = self._counters.get((ori, direction))
            if counter is None or counter[2] == 0:
                counter = self._reserve(ori, direction)
            counter[0] = _step(counter[0], 1)
            counter[2] -= 1
            return counter[0]

    def _reserve(self, ori: str, direction: str) -> list[int]:
        with self.transaction() as db:
            row = db.execute(_READ[direction], (ori,)).fetchone()
            used = row[0] if row else 0
            reserved = _step(used, BLOCK)
            db.execute(_WRITE[direction], (ori, reserved))
        counter = self._counters[(ori, direction)] = [used, reserved, BLOCK]
        return counter


def _step(counter: int, count: int) -> int:
    """The counter `count` numbers on: 99999 is followed by 00001."""
    return (counter - 1 + count) % (COUNTER_LIMIT - 1) + 1


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def this_minute() -> datetime:
    """Now to the minute, all a stamp keeps (UTC, no zone): made once a minute, not per
    stamp."""
    return _minute(int(time.time() // 60))


@functools.lru_cache(maxsize=2)
def _minute(number: int) -> datetime:
    return datetime.fromtimestamp(number * 60, UTC).replace(tzinfo=None)


def stamped(message: Message, header: OutputHeader, key: str | None = None) -> Message:
    """The message as delivered: its key (rewritten if given), no destinations, the header."""
    return Message(key or message.key, message.sender, (), message.control, message.fields,
                   message.body, header)


def addressed(message: Message, key: str, state: str, multi_state: bool = False) -> Message:
    """The message as routed to one state, before it is stamped (as held traffic is kept). A
    leg of a multi-state query keeps `NL` beside its state, so the state is told it was one
    of several (Cedar's `context.multi_state`), even after the message was held."""
    destinations = (state, MULTI_STATE) if multi_state else (state,)
    return Message(key, message.sender, destinations, message.control, message.fields,
                   message.body)
