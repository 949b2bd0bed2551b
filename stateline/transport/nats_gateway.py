"""The NATS carrier, gateway side: one state's gateway thread answering requests on the state's
queue group (several processes may serve one state; NATS hands each request to one of them),
and the state's late answers published from its outbox to the late stream.

A reply leaves only after the gateway thread has made the query's audit entry durable. A late
answer is marked sent in the outbox only after JetStream acknowledged it; its message id is
fixed by the outbox row, so a copy published again after a crash is dropped by the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from ..gateway.outbox import Late, Outbox
from ..gateway.worker import GatewayClosed, GatewayThread
from .base import (
    Envelope,
    TransportError,
    envelope_from_json,
    refused,
    reply_of,
    reply_to_json,
)
from .late import late_reply
from .nats import (
    ERROR_HEADER,
    MSG_ID,
    NETWORK,
    UNAVAILABLE,
    BusUnavailable,
    Names,
    ensure_stream,
)

log = logging.getLogger("stateline.transport")

POLL_SECONDS = 0.5
"""How often the outbox is read for late answers."""
ERROR_TEXT_LIMIT = 200


class _Refused(Exception):
    """No answer for this request; the text goes back in the error header."""


def late_id(late: Late) -> str:
    """The outbox row, and the audit entry behind it: a rebuilt data folder reuses row ids."""
    return f"{late.state}.{late.id}.{late.result.request_id}"


class NatsGateway:
    """Serve a started `GatewayThread` on NATS: `start`, then `stop` (answers what it took,
    publishes what the outbox holds, leaves the thread to its owner)."""

    def __init__(self, worker: GatewayThread, client: NATS, names: Names = NETWORK, *,
                 outbox: Outbox | None = None, poll: float = POLL_SECONDS) -> None:
        self.worker, self.client, self.names = worker, client, names
        self.state = worker.state
        self._js = client.jetstream()
        self._outbox, self._poll = outbox, poll
        self._subscription: Subscription | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: dict[str, asyncio.Future[bytes]] = {}
        self.answered = 0
        self.repeats = 0
        """Requests that arrived while the same message was still being answered."""
        self.published = 0

    async def start(self) -> None:
        names = self.names
        try:
            await ensure_stream(self._js, names.late_stream_config())
            self._subscription = await self.client.subscribe(
                names.gateway(self.state), queue=names.queue(self.state), cb=self._take)
            await self.client.flush()
        except nats.errors.Error as error:
            raise BusUnavailable(f"cannot serve {self.state} on NATS: {error}") from None
        if self._outbox is not None:
            self._publishing = asyncio.create_task(self._publish_often(),
                                                   name=f"late-{self.state}")

    async def stop(self) -> None:
        """Take no more requests, answer those taken, publish the late answers on file."""
        if self._subscription is not None:
            with contextlib.suppress(nats.errors.Error):
                await self._subscription.drain()  # type: ignore[no-untyped-call]
            self._subscription = None
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publishing is not None:
            self._publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publishing
            self._publishing = None
            try:
                await self.publish_late()
            except (nats.errors.Error, OSError, sqlite3.Error) as error:
                log.warning("%s late answers stay on file for the next start: %s",
                            self.state, error)

    async def publish_late(self) -> int:
        """Publish every late answer on file, marking each sent once the stream has it."""
        outbox = self._outbox
        if outbox is None:
            return 0
        sent = 0
        for late in await asyncio.to_thread(outbox.pending):
            await self._js.publish(self.names.late(self.state), reply_to_json(late_reply(late)),
                                   stream=self.names.late_stream,
                                   headers={MSG_ID: late_id(late)})
            await asyncio.to_thread(outbox.mark_delivered, late.id)
            sent += 1
        self.published += sent
        return sent

    async def _publish_often(self) -> None:
        while True:
            try:
                await self.publish_late()
            except Exception:
                log.exception("publishing %s late answers failed; trying again", self.state)
            await asyncio.sleep(self._poll)

    async def _take(self, message: Msg) -> None:
        # NATS calls this once per message in turn; answering in tasks lets queries that
        # arrive together share one audit commit in the gateway thread.
        if not message.reply:  # nobody to answer: nothing is decided
            log.warning("%s: a query without a reply subject was ignored", self.state)
            return
        task = asyncio.create_task(self._answer(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: Msg) -> None:
        try:
            try:
                data = await self._reply_to(message)
            except _Refused as refused:
                await self.client.publish(message.reply, b"",
                                          headers={ERROR_HEADER: str(refused)})
                return
            await message.respond(data)
        except nats.errors.Error as error:  # the switch times out and holds the message
            log.warning("%s: a reply could not be sent: %s", self.state, error)

    async def _reply_to(self, message: Msg) -> bytes:
        try:
            envelope = envelope_from_json(message.data)
        except TransportError as error:
            raise _Refused(str(error)[:ERROR_TEXT_LIMIT]) from None
        if envelope.state != self.state:
            raise _Refused(f"this is the {self.state} gateway, not {envelope.state}'s")
        invalid = refused(envelope)
        if invalid is not None:
            log.warning("%s: message %s breaks the protocol; answered with its reject",
                        self.state, envelope.message_id)
            return reply_to_json(invalid)
        key = (message.headers or {}).get(MSG_ID) or f"{envelope.message_id}.{self.state}"
        answering = self._in_flight.get(key)
        if answering is not None:
            self.repeats += 1
            return await asyncio.shield(answering)
        answering = asyncio.ensure_future(self._answered(envelope))
        self._in_flight[key] = answering
        answering.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(answering)

    async def _answered(self, envelope: Envelope) -> bytes:
        try:
            result = await self.worker.answer(envelope.message, envelope.message_id,
                                              envelope.multi_state, envelope.again)
        except GatewayClosed:
            raise _Refused(UNAVAILABLE) from None
        except Exception as error:  # nothing was committed, so nothing is released
            log.exception("%s could not answer %s", self.state, envelope.message_id)
            raise _Refused(f"{type(error).__name__}: {error}"[:ERROR_TEXT_LIMIT]) from None
        self.answered += 1
        return reply_to_json(reply_of(envelope.message_id, self.state, result))
