"""The output header the switch stamps on every message it delivers: when it took the message
and the count on the line it came in on, when it sent it and the count on the line it left
by, and the receiving ORI (nlets-protocol.md §1.5). Counters run per line (ORI), 00001 to
99999 and round again; times are UTC."""

from __future__ import annotations

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

_NEXT = {
    direction: f"INSERT INTO line (ori, {direction}) VALUES (?, 1) ON CONFLICT (ori) DO UPDATE"
               f" SET {direction} = {direction} % {COUNTER_LIMIT - 1} + 1 RETURNING {direction}"
    for direction in ("received", "sent")
}


def state_line(state: str) -> str:
    """The ORI a state's traffic is delivered to: its control terminal."""
    return f"{state}NLETS00"


class Lines(Store):
    """Per-line counters in DIR/switch.db."""

    def __init__(self, data: DataDir) -> None:
        super().__init__(data.switch_db, SCHEMA)

    def received(self, ori: str, at: datetime | None = None) -> Stamp:
        """The stamp for a message the switch takes in from this line."""
        return Stamp(at or now(), self._next(ori, "received"))

    def header(self, received: Stamp, receiving_ori: str) -> OutputHeader:
        """The header for a message sent now to `receiving_ori`."""
        return OutputHeader(received, Stamp(now(), self._next(receiving_ori, "sent")),
                            receiving_ori)

    def _next(self, ori: str, direction: str) -> int:
        with self.transaction() as db:
            counter: int = db.execute(_NEXT[direction], (ori,)).fetchone()[0]
        return counter


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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
