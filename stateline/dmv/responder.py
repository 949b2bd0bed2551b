"""A state's DMV system as a standalone responder, for a gateway in proxy mode to sit in front
of: it answers DQ, DNQ, KQ, RQ, RNQ and RPQ from the state's records in one of the layouts real
DMV systems answer in (`layouts`), over HTTP (POST the query's legacy text; the answer is the
body) or TCP (frames: a 4-byte big-endian length, then that many bytes of UTF-8).

Like the DMV system behind a state switch, it answers whoever asks: who may see what is the
gateway's decision, never the DMV's.
"""

from __future__ import annotations

import asyncio
import signal
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..protocol import Message, Reject, format_text, read, spec_for
from .layouts import ANSWERED, Layout, write
from .records import Hit
from .store import DmvStore

QUERY_LIMIT = 64 * 1024
"""Bytes a query may take; a longer frame or body is refused and its connection closed."""
FRAME = struct.Struct(">I")
UNAVAILABLE = "TEMPORARILY UNAVAILABLE"
"""What the DMV answers when its own store fails (the shipped field maps list it)."""

Search = Callable[[DmvStore, Message, bool], list[Hit]]
"""One query key's search on the store; the bool asks for photos."""


@dataclass(slots=True)
class Responder:
    """Answers one query's text with the response message's text; never raises."""

    store: DmvStore
    searches: Mapping[str, Search]
    """By the key the search runs as (regional keys as their state keys)."""
    layout: Layout
    driver_ori: str
    vehicle_ori: str
    answered: int = field(default=0)

    def answer(self, raw: str) -> str:
        try:
            query = read(raw)
        except Reject as reject:
            return f"REJECTED {reject.text}"
        spec = spec_for(query.key)
        action = (spec.delivered_as or spec.key) if spec is not None else query.key
        if spec is None or spec.response not in ANSWERED or action not in self.searches:
            return f"REJECTED {query.key} IS NOT A QUERY THIS DMV ANSWERS"
        try:
            hits = self.searches[action](self.store, query, query.value("IMQ") == "Y")
            body = write(self.layout, hits, spec.response)
        except Reject as reject:  # the query's terms: a DOB that names no date, say
            body = f"REJECTED {reject.text}"
        except Exception:  # the store failed: the DMV's own words for "try again"
            body = UNAVAILABLE
        ori = self.vehicle_ori if spec.group == "vehicle" else self.driver_ori
        self.answered += 1
        return format_text(Message(spec.response, ori, (query.sender,), query.control,
                                   body=body))


async def serve_tcp(responder: Responder, host: str, port: int,
                    started: Callable[[str], None]) -> None:
    """Answer framed queries until SIGTERM or SIGINT; each connection carries any number."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (size,) = FRAME.unpack(await reader.readexactly(FRAME.size))
                if size > QUERY_LIMIT:
                    return  # no resynchronising past a frame that cannot be a query
                query = (await reader.readexactly(size)).decode("utf-8", errors="replace")
                answer = responder.answer(query).encode("utf-8")
                writer.write(FRAME.pack(len(answer)) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await asyncio.start_server(connection, host, port)
    async with server:
        bound = server.sockets[0].getsockname()[1]
        started(f"tcp://{host}:{bound}")
        await stop.wait()


def http_app(responder: Responder) -> Starlette:
    """POST any path with the query's text; the answer's text comes back as a 200's body."""

    async def answer(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > QUERY_LIMIT:
            return PlainTextResponse("QUERY TOO LONG", 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > QUERY_LIMIT:
                return PlainTextResponse("QUERY TOO LONG", 413)
        return PlainTextResponse(responder.answer(body.decode("utf-8", errors="replace")))

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


__all__ = ["FRAME", "QUERY_LIMIT", "Responder", "http_app", "serve_tcp"]
