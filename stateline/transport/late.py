"""Late answers (requests released or denied after review) as a switch on this machine gets
them: read from each state's outbox in the data folder every `poll` seconds and handed to the
switch's handler; one is marked delivered only after the handler has kept it. Shared by the
carriers whose gateways write to the same folder (in this process, or in processes of their
own); over NATS the gateway publishes them instead."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from ..datadir import DataDir
from ..gateway.outbox import Late, Outbox
from .base import LateHandler, Reply, reply_of

log = logging.getLogger("stateline.transport")

POLL_SECONDS = 0.5


class LateAnswers:
    def __init__(self, data: DataDir, states: Iterable[str], poll: float = POLL_SECONDS) -> None:
        self.data, self.states, self.poll = data, tuple(states), poll
        self.handler: LateHandler | None = None
        self._outboxes: dict[str, Outbox] = {}
        self._polling: asyncio.Task[None] | None = None
        self._collecting = asyncio.Lock()

    def hand_to(self, handler: LateHandler) -> None:
        """Hand late answers to `handler` from now on, polling when a loop runs."""
        self.handler = handler
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            if self._polling is None:
                self._polling = loop.create_task(self._poll(), name="outbox-poll")

    async def collect(self) -> int:
        """Hand every late answer on file to the handler now; how many went."""
        handler = self.handler
        if handler is None:
            return 0
        handed = 0
        async with self._collecting:
            for state in self.states:
                outbox = self._outbox(state)
                if outbox is None:
                    continue
                for late in outbox.pending():
                    await handler(late_reply(late))
                    outbox.mark_delivered(late.id)
                    handed += 1
        return handed

    async def close(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        for outbox in self._outboxes.values():
            outbox.close()
        self._outboxes.clear()

    def _outbox(self, state: str) -> Outbox | None:
        if state not in self._outboxes:
            try:
                self._outboxes[state] = Outbox(self.data, state)
            except Exception as error:
                log.warning("cannot read %s's outbox: %s", state, error)
                return None
        return self._outboxes[state]

    async def _poll(self) -> None:
        while True:
            try:
                await self.collect()
            except Exception:
                log.exception("reading late answers failed; trying again")
            await asyncio.sleep(self.poll)


def late_reply(late: Late) -> Reply:
    return reply_of(late.message_id, late.state, late.result, late=True)
