"""The wire to a state's own DMV responder: a query's legacy text out, the answer's text back,
over HTTP (a POST) or TCP (frames: a 4-byte big-endian length, then that many bytes of UTF-8),
each exchange within a deadline and a limit on exchanges in flight.

Whatever goes wrong on the wire is an `UpstreamError`: the gateway answers the query as the
state's "could not answer" and audits it. Nothing here reads an answer; `fieldmap` does.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import Protocol

import httpx

from ..datadir import UpstreamSettings
from ..errors import ServiceError

ANSWER_LIMIT = 1 << 20
"""Bytes an answer may take: far above any record list with photos (a photo is under 1 KiB)."""
QUERY_LIMIT = 64 * 1024
"""Bytes a query may take, as the gateway's own HTTP edge bounds what it accepts."""
FRAME = struct.Struct(">I")


class UpstreamError(ServiceError):
    """The upstream DMV responder gave no answer the gateway can use: the query is answered as
    the state's "could not answer", and audited with this text."""


class UpstreamUnreachable(UpstreamError):
    """No connection, or the responder closed it without answering."""


class UpstreamTimeout(UpstreamError):
    """No whole answer within the configured timeout."""


class UpstreamNoAnswer(UpstreamError):
    """The responder said, in words its field map lists, that it could not answer now."""


class UnreadableAnswer(UpstreamError):
    """An answer that cannot be read as the field map says: never passed on, in whole or part."""


class Wire(Protocol):
    """One exchange at a time per caller; safe to call from several threads at once."""

    url: str

    def exchange(self, text: str, deadline: float) -> str:
        """The answer's text to a query's text, by `deadline` (time.monotonic())."""

    def close(self) -> None: ...


def open_wire(settings: UpstreamSettings) -> Wire:
    if settings.scheme == "tcp":
        return TcpWire(settings.host, settings.port, settings.connections)
    return HttpWire(settings.url, settings.connections)


def _left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise UpstreamTimeout(f"{url} did not answer in time")
    return left


class _Stale(Exception):
    """A kept connection the responder had closed: the query goes again on a new one."""


class TcpWire:
    """Length-prefixed frames over kept connections, at most `connections` in flight."""

    def __init__(self, host: str, port: int, connections: int, *,
                 limit: int = ANSWER_LIMIT) -> None:
        self.url = f"tcp://{host}:{port}"
        self._address, self._limit, self._connections = (host, port), limit, connections
        self._slots = threading.BoundedSemaphore(connections)
        self._idle: list[socket.socket] = []
        self._lock = threading.Lock()

    def exchange(self, text: str, deadline: float) -> str:
        data = text.encode("utf-8")
        if len(data) > QUERY_LIMIT:
            raise UpstreamError(f"a query of {len(data)} bytes is over the {QUERY_LIMIT}-byte "
                                "limit")
        frame = FRAME.pack(len(data)) + data
        if not self._slots.acquire(timeout=_left(deadline, self.url)):
            raise UpstreamTimeout(f"{self.url}: all {self._connections} connections stayed "
                                  "busy past the timeout")
        try:
            kept = self._take()
            if kept is not None:
                try:
                    return self._over(kept, frame, deadline, kept=True)
                except _Stale:
                    pass
            return self._over(self._connect(deadline), frame, deadline, kept=False)
        finally:
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> socket.socket | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def _connect(self, deadline: float) -> socket.socket:
        try:
            connection = socket.create_connection(self._address, timeout=_left(deadline,
                                                                                self.url))
        except TimeoutError:
            raise UpstreamTimeout(f"{self.url}: no connection within the timeout") from None
        except OSError as error:
            raise UpstreamUnreachable(f"{self.url}: {error.strerror or error}") from None
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _over(self, connection: socket.socket, frame: bytes, deadline: float, *,
              kept: bool) -> str:
        """One exchange on a connection, kept for the next if it ends whole; closed if not."""
        try:
            connection.settimeout(_left(deadline, self.url))
            connection.sendall(frame)
            head = self._read(connection, FRAME.size, deadline, first=True, kept=kept)
            (size,) = FRAME.unpack(head)
            if size > self._limit:
                raise UnreadableAnswer(f"{self.url} sent a frame of {size:,} bytes, over the "
                                       f"{self._limit:,}-byte limit")
            body = self._read(connection, size, deadline, first=False, kept=kept)
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            connection.close()
            raise UnreadableAnswer(f"{self.url} sent an answer that is not UTF-8") from None
        except TimeoutError:
            connection.close()
            raise UpstreamTimeout(f"{self.url} did not answer in time") from None
        except (ConnectionResetError, BrokenPipeError) as error:
            connection.close()
            if kept:
                raise _Stale from None
            raise UpstreamUnreachable(f"{self.url}: {error.strerror or error}") from None
        except OSError as error:
            connection.close()
            raise UpstreamUnreachable(f"{self.url}: {error.strerror or error}") from None
        except BaseException:
            connection.close()
            raise
        with self._lock:
            self._idle.append(connection)
        return text

    def _read(self, connection: socket.socket, size: int, deadline: float, *, first: bool,
              kept: bool) -> bytes:
        chunks, got = [], 0
        while got < size:
            connection.settimeout(_left(deadline, self.url))
            chunk = connection.recv(min(size - got, 65536))
            if not chunk:
                if first and got == 0 and kept:
                    raise _Stale
                raise UpstreamUnreachable(f"{self.url} closed the connection "
                                          f"{'without answering' if first else 'mid-answer'}")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


class HttpWire:
    """A POST of the query's text; the answer is the body of a 200."""

    def __init__(self, url: str, connections: int, *, limit: int = ANSWER_LIMIT) -> None:
        self.url, self._limit = url, limit
        self._client = httpx.Client(
            limits=httpx.Limits(max_connections=connections,
                                max_keepalive_connections=connections),
            headers={"Content-Type": "text/plain; charset=utf-8", "Accept-Encoding": "identity"},
            follow_redirects=False)

    def exchange(self, text: str, deadline: float) -> str:
        data = text.encode("utf-8")
        if len(data) > QUERY_LIMIT:
            raise UpstreamError(f"a query of {len(data)} bytes is over the {QUERY_LIMIT}-byte "
                                "limit")
        try:
            with self._client.stream("POST", self.url, content=data,
                                     timeout=_left(deadline, self.url)) as reply:
                if reply.status_code != 200:
                    raise UpstreamUnreachable(f"{self.url} answered HTTP {reply.status_code}")
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self._limit:
                    raise UnreadableAnswer(f"{self.url} sent {int(declared):,} bytes, over the "
                                           f"{self._limit:,}-byte limit")
                body = bytearray()
                for chunk in reply.iter_raw():
                    body += chunk
                    if len(body) > self._limit:
                        raise UnreadableAnswer(f"{self.url} sent more than the "
                                               f"{self._limit:,}-byte limit")
                    _left(deadline, self.url)
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"{self.url} did not answer in time") from None
        except httpx.HTTPError as error:
            raise UpstreamUnreachable(f"{self.url}: {type(error).__name__}: {error}") from None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableAnswer(f"{self.url} sent an answer that is not UTF-8") from None

    def close(self) -> None:
        self._client.close()


__all__ = ["ANSWER_LIMIT", "HttpWire", "TcpWire", "UnreadableAnswer", "UpstreamError",
           "UpstreamNoAnswer", "UpstreamTimeout", "UpstreamUnreachable", "Wire", "open_wire"]
