"""A gateway process: the gateways of one or several states, each on its own thread
(`GatewayThread`), answering the switch over one local socket.

The switch sends frames of envelopes; each answer goes back once its audit entry is durable,
in frames gathered per turn of the event loop. The socket listens only once every state's
gateway is open (its log signed up to date), so a switch that can connect can be answered.
A query for a state this process does not serve, or whose gateway has stopped, is answered
`unavailable`, and the switch holds it as for any state out of service.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from ..datadir import DataDir
from ..errors import ServiceError
from ..gateway.pipeline import Result
from ..gateway.worker import GatewayClosed, GatewayThread
from ..transport.base import (
    Envelope,
    Reply,
    TransportError,
    envelope_from_object,
    refused,
    reply_of,
    reply_to_json,
)
from .frames import FrameError, Outgoing, read_frame

log = logging.getLogger("stateline.roles")


class GatewayServer:
    """Serve `states`' gateways on the unix socket at `path` until `stop` is set."""

    def __init__(self, data: DataDir, states: Sequence[str], path: Path) -> None:
        self.data, self.path = data, path
        self.states = tuple(s.upper() for s in states)
        self.threads: dict[str, GatewayThread] = {}
        self._writers: set[asyncio.StreamWriter] = set()
        self._locks: list[IO[bytes]] = []

    def open(self) -> None:
        """Open every state's gateway, each under the state's lock (DIR/states/XX/gateway.lock,
        so no two gateway processes ever write one log); raises what opening one raised (the
        process then exits, and the supervisor tries again)."""
        for state in self.states:
            self._locks.append(_lock(self.data.state_dir(state) / "gateway.lock", state))
            thread = GatewayThread(self.data, state)
            thread.start()
            self.threads[state] = thread

    def close(self) -> None:
        """Answer what is queued, sign every log's head, show it to the witnesses."""
        for thread in self.threads.values():
            thread.stop()
        for lock in self._locks:
            lock.close()

    async def serve(self, stop: asyncio.Event) -> None:
        self.path.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(self._connection, path=str(self.path))
        try:
            await stop.wait()
        finally:
            server.close()
            for writer in list(self._writers):  # the switch holds what was in flight
                writer.close()
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        out = Outgoing(writer)
        self._writers.add(writer)
        try:
            while (items := await read_frame(reader)) is not None:
                for item in items:
                    self._take(item, out)
        except (FrameError, ConnectionError) as error:
            log.warning("the switch's connection ended: %s", error)
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(ConnectionError):
                writer.close()

    def _take(self, item: Any, out: Outgoing) -> None:
        number = item.get("n") if isinstance(item, dict) else None
        if not isinstance(number, int):
            raise FrameError("an item without its number")
        try:
            envelope = envelope_from_object(item.get("e"))
        except TransportError as error:
            out.send(_refusal(number, "error", str(error)))
            return
        invalid = refused(envelope)
        if invalid is not None:
            out.send(_answer(number, invalid))
            return
        thread = self.threads.get(envelope.state)
        try:
            if thread is None:
                raise GatewayClosed(f"no {envelope.state} gateway in this process")
            future = thread.submit(envelope.message, envelope.message_id,
                                   envelope.multi_state, envelope.again)
        except GatewayClosed as error:
            out.send(_refusal(number, "unavailable", str(error)))
            return
        loop = asyncio.get_running_loop()
        future.add_done_callback(
            lambda done: loop.call_soon_threadsafe(_answered, number, envelope, done, out))


class GatewayBusy(ServiceError):
    """Another gateway process serves the state on this data folder."""

    code = "gateway-busy"


def _lock(path: Path, state: str) -> IO[bytes]:
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise GatewayBusy(f"another gateway process serves {state} on this data folder "
                          f"({path} is held)") from None
    return handle


def _answered(number: int, envelope: Envelope, done: Future[Result], out: Outgoing) -> None:
    try:
        result = done.result()
    except GatewayClosed as error:
        out.send(_refusal(number, "unavailable", str(error)))
        return
    except Exception as error:  # nothing was committed for this batch
        log.error("%s: %s could not be answered: %s", envelope.state, envelope.message_id,
                  error)
        out.send(_refusal(number, "error", f"{type(error).__name__}: {error}"))
        return
    out.send(_answer(number, reply_of(envelope.message_id, envelope.state, result)))


def _answer(number: int, reply: Reply) -> bytes:
    return b'{"n":%d,"r":%s}' % (number, reply_to_json(reply))


def _refusal(number: int, kind: str, text: str) -> bytes:
    return json.dumps({"n": number, kind: text[:500]}).encode()
