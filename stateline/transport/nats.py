"""The NATS carrier, switch side: an envelope is a request on its state's subject, answered by
one gateway process of the state's queue group; late answers come back on a JetStream stream
the switch reads with a durable consumer, acknowledging each only once its handler has kept it.

JetStream acknowledges before it syncs to disk, so nothing of record lives on the bus: the
audit log stays in each gateway's database, the submissions in the switch's (DESIGN.md
"Storage and scale").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import nats
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from ..errors import ServiceError
from .base import (
    Envelope,
    LateHandler,
    Reply,
    StateUnavailable,
    TransportError,
    envelope_to_json,
    reply_from_json,
)

log = logging.getLogger("stateline.transport")

DEFAULT_PREFIX = "stateline"
MSG_ID = "Nats-Msg-Id"
ERROR_HEADER = "Stateline-Error"
"""Set on a gateway's reply instead of an answer; UNAVAILABLE means "not taken, hold it"."""
UNAVAILABLE = "unavailable"
CONNECT_SECONDS = 5
LATE_BATCH = 50
RETRY_SECONDS = 5.0
"""How long a late answer whose handler failed waits before it is offered again."""
LATE_DEDUPE_SECONDS = 24 * 3600.0
"""A gateway that published a late answer and died before marking it sent publishes it again
on restart; the stream drops the copy if it comes within a day."""
HELD_DEDUPE_SECONDS = 120.0

_PREFIX = re.compile(r"[A-Za-z0-9_-]{1,32}")


class BusUnavailable(ServiceError):
    """The NATS server cannot be reached, or its streams are not as Stateline needs them."""

    code = "bus-unavailable"


class GatewayFailed(TransportError):
    """The gateway took the message and could not answer it (nothing was released)."""


@dataclass(frozen=True, slots=True)
class Names:
    """Subjects, streams and the consumer of one network on a NATS server. Another prefix is
    another network on the same server (tests take a random one)."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"{self.prefix!r}: a prefix is 1-32 letters, digits, _ or -")

    def gateway(self, state: str) -> str:
        return f"{self.prefix}.gw.{state}"

    def queue(self, state: str) -> str:
        """The queue group a state's gateway processes share: one of them takes each query."""
        return f"{self.prefix}-gw-{state}"

    def late(self, state: str) -> str:
        return f"{self.prefix}.late.{state}"

    def held(self, state: str) -> str:
        return f"{self.prefix}.held.{state}"

    @property
    def submit(self) -> str:
        return f"{self.prefix}.switch.submit"

    @property
    def show(self) -> str:
        return f"{self.prefix}.switch.show"

    def _stream(self, what: str) -> str:
        return f"{self.prefix.upper().replace('-', '_')}_{what}"

    @property
    def late_stream(self) -> str:
        return self._stream("LATE")

    @property
    def held_stream(self) -> str:
        return self._stream("HELD")

    @property
    def leases(self) -> str:
        """The key-value bucket of hold leases (which switch delivers a state's held traffic)."""
        return self._stream("HOLD_LEASES")

    @property
    def late_consumer(self) -> str:
        return "switch"

    def late_stream_config(self) -> StreamConfig:
        """Late answers: each removed once a switch acknowledges it (work queue)."""
        return StreamConfig(name=self.late_stream, subjects=[f"{self.prefix}.late.*"],
                            storage=StorageType.FILE, retention=RetentionPolicy.WORK_QUEUE,
                            duplicate_window=LATE_DEDUPE_SECONDS)

    def held_stream_config(self) -> StreamConfig:
        """Held traffic: kept until the switch deletes a message after its state answered."""
        return StreamConfig(name=self.held_stream, subjects=[f"{self.prefix}.held.*"],
                            storage=StorageType.FILE, retention=RetentionPolicy.LIMITS,
                            duplicate_window=HELD_DEDUPE_SECONDS)


NETWORK = Names()
"""The network's names when no prefix is given: stream STATELINE_HELD, subjects stateline.*."""


def shown(url: str) -> str:
    """A server URL fit to print: any user name, password or token taken out."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def connect(url: str, name: str) -> NATS:
    """A connection that fails at once if the server cannot be reached, then rides out server
    restarts by reconnecting for as long as it lives."""

    async def quietly(error: Exception) -> None:
        log.warning("NATS %s: %s", shown(url), error or type(error).__name__)

    try:
        client = await nats.connect(url, name=name, allow_reconnect=False,
                                    connect_timeout=CONNECT_SECONDS, error_cb=quietly)
    except (TimeoutError, OSError, nats.errors.Error) as error:
        raise BusUnavailable(f"cannot reach NATS at {shown(url)}: "
                             f"{error or type(error).__name__}") from None
    client.options["allow_reconnect"] = True
    client.options["max_reconnect_attempts"] = -1
    return client


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Make the stream if it is missing; refuse one that carries other subjects."""
    assert config.name is not None
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(config)
        return
    if set(info.config.subjects or ()) != set(config.subjects or ()):
        raise BusUnavailable(f"stream {config.name} carries {info.config.subjects}, "
                             f"not {config.subjects}")


def state_of(subject: str) -> str:
    return subject.rsplit(".", 1)[-1]


class NatsTransport:
    """The switch's side: deliveries as requests, late answers from the late stream."""

    def __init__(self, client: NATS, names: Names = NETWORK, *, owned: bool = False,
                 retry: float = RETRY_SECONDS) -> None:
        """`owned`: closing the transport closes the connection too. `retry`: seconds before
        a late answer whose handler failed is offered again."""
        self.client, self.names = client, names
        self._js = client.jetstream()
        self._owned, self._retry = owned, retry
        self._handler: LateHandler | None = None
        self._reading: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, names: Names = NETWORK, *,
                      retry: float = RETRY_SECONDS) -> NatsTransport:
        client = await connect(url, "stateline-switch")
        transport = cls(client, names, owned=True, retry=retry)
        try:
            await transport.prepare()
        except BaseException:
            await client.close()
            raise
        return transport

    async def prepare(self) -> None:
        """Make the late-answer stream if no gateway has made it yet."""
        try:
            await ensure_stream(self._js, self.names.late_stream_config())
        except nats.errors.Error as error:
            raise BusUnavailable(f"cannot set up stream {self.names.late_stream}: "
                                 f"{error}") from None

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        """The reply of whichever gateway process of the state takes the request. No process
        listening, or none answering within `timeout`, is StateUnavailable: the switch holds
        the message and offers it again, with the same id, so a gateway can tell a repeat."""
        state = envelope.state
        headers = {MSG_ID: f"{envelope.message_id}.{state}"}
        try:
            answer = await self.client.request(self.names.gateway(state),
                                               envelope_to_json(envelope),
                                               timeout=max(timeout, 0.001), headers=headers)
        except nats.errors.NoRespondersError:
            raise StateUnavailable(f"no {state} gateway is listening") from None
        except TimeoutError:
            raise StateUnavailable(f"no {state} gateway answered within {timeout:g} s") from None
        except nats.errors.Error as error:
            raise StateUnavailable(f"the bus to {state} failed: "
                                   f"{error or type(error).__name__}") from None
        failure = (answer.headers or {}).get(ERROR_HEADER)
        if failure == UNAVAILABLE:
            raise StateUnavailable(f"the {state} gateway is stopping")
        if failure is not None:
            raise GatewayFailed(f"the {state} gateway could not answer: {failure}")
        reply = reply_from_json(answer.data)
        if (reply.message_id, reply.state) != (envelope.message_id, state) or reply.late:
            raise TransportError(f"{state} answered {reply.message_id} ({reply.state}) "
                                 f"to {envelope.message_id}")
        return reply

    def on_late(self, handler: LateHandler) -> None:
        """Hand late answers to `handler` from now on; reading starts on the running loop."""
        self._handler = handler
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            if self._reading is None:
                self._reading = loop.create_task(self._read_late(), name="late-answers")

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
            self._reading = None
        if self._owned and not self.client.is_closed:
            await self.client.close()

    async def _read_late(self) -> None:
        names = self.names
        config = ConsumerConfig(durable_name=names.late_consumer, ack_wait=30.0,
                                filter_subject=f"{names.prefix}.late.*")
        while True:
            try:
                reader = await self._js.pull_subscribe(
                    f"{names.prefix}.late.*", durable=names.late_consumer,
                    stream=names.late_stream, config=config)
                break
            except nats.errors.Error as error:
                log.warning("cannot read late answers yet (%s); trying again", error)
                await asyncio.sleep(self._retry)
        while True:
            try:
                batch = await reader.fetch(LATE_BATCH, timeout=1.0)
            except TimeoutError:  # nothing came (nats-py raises its own or asyncio's)
                continue
            except nats.errors.Error as error:
                log.warning("reading late answers failed (%s); trying again", error)
                await asyncio.sleep(1.0)
                continue
            for message in batch:
                try:
                    await self._hand(message)
                except nats.errors.Error as error:  # unacknowledged: it comes again
                    log.warning("acknowledging a late answer failed: %s", error)

    async def _hand(self, message: Msg) -> None:
        """One late answer to the handler; acknowledged only once the handler returns."""
        try:
            reply = reply_from_json(message.data)
            if reply.state != state_of(message.subject) or not reply.late:
                raise TransportError(f"a {reply.state} answer on {message.subject}")
        except TransportError as error:
            log.error("dropped a late answer that is not one: %s", error)
            await message.term()
            return
        handler = self._handler
        try:
            if handler is None:
                raise RuntimeError("no handler for late answers")
            await handler(reply)
        except Exception:
            log.exception("keeping the late answer to %s failed; it comes again",
                          reply.message_id)
            await message.nak(delay=self._retry)
            return
        await message.ack()
