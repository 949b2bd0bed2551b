"""The switch's carrier to gateway processes on this machine: one unix socket per process,
frames of many envelopes out and many replies back.

A delivery waits for its answer as long as the gateway process lives (an answer being audited
is never cut short: giving up on it would have the switch deliver it twice). When the process
dies, every delivery in flight to it ends `StateUnavailable` at once, so the switch holds it
(`.02.`) and delivers it again, in order, when the process is back; a watcher reconnects and
tells the switch (`on_back`). Late answers (reviewed requests) are read from each state's
outbox in the data folder, as in a single process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from ..datadir import DataDir
from ..transport.base import (
    Envelope,
    LateHandler,
    Reply,
    StateUnavailable,
    TransportError,
    envelope_to_json,
    refused,
    reply_from_object,
)
from ..transport.late import POLL_SECONDS, LateAnswers
from .frames import FrameError, Outgoing, read_frame

log = logging.getLogger("stateline.roles")

RECONNECT_SECONDS = 0.05
"""How often a lost gateway process is looked for again."""

BackHandler = Callable[[tuple[str, ...]], Awaitable[None]]


class _Link:
    """One connection to one gateway process, and the deliveries waiting on it."""

    def __init__(self, path: Path, states: tuple[str, ...]) -> None:
        self.path, self.states = path, states
        self.out: Outgoing | None = None
        self.waiting: dict[int, asyncio.Future[Reply]] = {}
        self.reading: asyncio.Task[None] | None = None
        self.opening = asyncio.Lock()
        self.lost = False
        """The process went away since the last connection: its states have traffic held."""

    @property
    def up(self) -> bool:
        return self.out is not None

    async def connect(self) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self.path))
        self.out = Outgoing(writer)
        self.reading = asyncio.create_task(self._read(reader, writer),
                                           name=f"link-{'-'.join(self.states)}")

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (items := await read_frame(reader)) is not None:
                for item in items:
                    self._answer(item)
        except (FrameError, ConnectionError, TransportError) as error:
            log.warning("gateway process for %s: %s", " ".join(self.states), error)
        finally:
            self.out, self.lost = None, True
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.close()
            gone = f"the gateway process for {' '.join(self.states)} stopped"
            waiting, self.waiting = self.waiting, {}
            for future in waiting.values():
                if not future.done():
                    future.set_exception(StateUnavailable(gone))

    def _answer(self, item: Any) -> None:
        """One answer to the delivery it names. An answer that cannot be read fails that
        delivery alone (its sender is told the state could not answer); an answer to no
        delivery means the peer is not what it should be, and ends the connection."""
        number = item.get("n") if isinstance(item, dict) else None
        future = self.waiting.pop(number, None) if isinstance(number, int) else None
        if future is None or future.done():
            raise TransportError(f"an answer to no delivery: {str(item)[:100]}")
        try:
            if "r" in item:
                future.set_result(reply_from_object(item["r"]))
            elif "unavailable" in item:
                future.set_exception(StateUnavailable(str(item["unavailable"])[:500]))
            else:
                future.set_exception(TransportError(str(item.get("error", "no answer"))[:500]))
        except TransportError as error:
            log.error("gateway process for %s sent an answer that cannot be read: %s",
                      " ".join(self.states), error)
            future.set_exception(error)

    async def close(self) -> None:
        if self.out is not None:
            self.out.writer.close()
        if self.reading is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reading


class LocalTransport:
    """Gateway processes by socket: `routes` maps each state to its process's socket."""

    def __init__(self, data: DataDir, routes: Mapping[str, Path], *,
                 poll: float = POLL_SECONDS) -> None:
        self.data = data
        self.states = tuple(sorted(routes))
        links: dict[Path, list[str]] = {}
        for state, path in routes.items():
            links.setdefault(path, []).append(state)
        self._links = {path: _Link(path, tuple(sorted(states))) for path, states in links.items()}
        self._by_state = {state: self._links[path] for state, path in routes.items()}
        self._numbers = itertools.count(1)
        self._late = LateAnswers(data, self.states, poll)
        self._back: BackHandler | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def running(self, state: str) -> bool:
        link = self._by_state.get(state.upper())
        return link is not None and link.up

    async def connect(self) -> None:
        """Connect to every gateway process that is up now; watch for the rest."""
        for link in self._links.values():
            with contextlib.suppress(OSError):
                await self._open(link)
        self._tasks.append(asyncio.create_task(self._watch(), name="gateway-watch"))

    def on_back(self, handler: BackHandler) -> None:
        """Where to say that a gateway process's states are reachable again."""
        self._back = handler

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        invalid = refused(envelope)
        if invalid is not None:
            return invalid
        link = self._by_state.get(envelope.state)
        if link is None:
            raise StateUnavailable(f"no gateway process serves {envelope.state}")
        if not link.up:
            try:
                await self._open(link)
            except OSError as error:
                raise StateUnavailable(f"the {envelope.state} gateway process is not "
                                       f"running: {error}") from None
        out = link.out
        if out is None:
            raise StateUnavailable(f"the {envelope.state} gateway process stopped")
        number = next(self._numbers)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        link.waiting[number] = future
        out.send(b'{"n":%d,"e":%s}' % (number, envelope_to_json(envelope)))
        return await future

    def on_late(self, handler: LateHandler) -> None:
        self._late.hand_to(handler)

    async def collect_late(self) -> int:
        """Hand every late answer on file to the handler now; how many went."""
        return await self._late.collect()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await asyncio.gather(*(link.close() for link in self._links.values()))
        await self._late.close()

    async def _open(self, link: _Link) -> None:
        async with link.opening:
            if link.up:
                return
            await link.connect()
            if link.lost:
                link.lost = False
                log.info("gateway process for %s is back", " ".join(link.states))
                if self._back is not None:
                    self._tasks.append(asyncio.create_task(self._returned(link.states)))

    async def _returned(self, states: tuple[str, ...]) -> None:
        assert self._back is not None
        try:
            await self._back(states)
        except Exception:
            log.exception("after %s came back", " ".join(states))

    async def _watch(self) -> None:
        """Reconnect to gateway processes that went away, and say when they are back."""
        while True:
            await asyncio.sleep(RECONNECT_SECONDS)
            for link in self._links.values():
                if link.up:
                    continue
                with contextlib.suppress(OSError):
                    await self._open(link)
