"""The default carrier: every state's gateway in this process, one `GatewayThread` each.

A delivery is a call into the state's gateway thread; the reply comes back once the gateway's
audit entry is durable. Late answers (reviewed requests) are read from each state's outbox
every `poll` seconds and handed to the switch's late handler; one is marked delivered only
after the handler has kept it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from ..datadir import DataDir
from ..gateway.worker import GatewayClosed, GatewayThread
from .base import Envelope, LateHandler, Reply, StateUnavailable, refused, reply_of
from .late import POLL_SECONDS, LateAnswers

log = logging.getLogger("stateline.transport")



class InProcessTransport:
    """Gateways for `states` (default: every state in the data folder). `start` opens them
    all; with `lazy`, a state's gateway opens on its first delivery instead."""

    def __init__(self, data: DataDir, states: Iterable[str] | None = None, *,
                 lazy: bool = False, poll: float = POLL_SECONDS) -> None:
        self.data = data
        self.states = tuple(s.upper() for s in (states if states is not None
                                                else data.states()))
        self._lazy = lazy
        self._threads: dict[str, GatewayThread] = {}
        self._opening: dict[str, asyncio.Lock] = {}
        self._late = LateAnswers(data, self.states, poll)

    def start(self) -> None:
        """Open every state's gateway now; raises what opening one raised."""
        for state in self.states:
            self._open(state)

    def stop_state(self, state: str) -> None:
        """Stop one state's gateway (it answers what it has queued first): from now on the
        state is unavailable, as a state whose system is down."""
        thread = self._threads.pop(state.upper(), None)
        if thread is not None:
            thread.stop()

    def running(self, state: str) -> bool:
        thread = self._threads.get(state.upper())
        return thread is not None and thread.running

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        """The gateway's reply. A running in-process gateway takes a message at once, so
        `timeout` never cuts an answer short: an answer being audited is awaited."""
        invalid = refused(envelope)
        if invalid is not None:
            return invalid
        thread = await self._thread(envelope.state)
        try:
            result = await thread.answer(envelope.message, envelope.message_id,
                                         envelope.multi_state, envelope.again)
        except GatewayClosed as error:
            raise StateUnavailable(str(error)) from None
        return reply_of(envelope.message_id, envelope.state, result)

    def on_late(self, handler: LateHandler) -> None:
        self._late.hand_to(handler)

    async def collect_late(self) -> int:
        """Hand every late answer on file to the handler now; how many went."""
        return await self._late.collect()

    async def close(self) -> None:
        await self._late.close()
        threads = list(self._threads.values())
        self._threads.clear()
        await asyncio.gather(*(asyncio.to_thread(t.stop) for t in threads))

    async def _thread(self, state: str) -> GatewayThread:
        thread = self._threads.get(state)
        if thread is not None and thread.running:
            return thread
        if not self._lazy or state not in self.states:
            raise StateUnavailable(f"no {state} gateway is running here")
        async with self._opening.setdefault(state, asyncio.Lock()):
            if state not in self._threads:
                try:
                    await asyncio.to_thread(self._open, state)
                except Exception as error:
                    raise StateUnavailable(f"the {state} gateway cannot start: {error}") from None
        return self._threads[state]

    def _open(self, state: str) -> None:
        thread = GatewayThread(self.data, state)
        thread.start()
        self._threads[state] = thread
