"""The wire to a state's own DMV responder: a query's legacy text out, the answer's text back,
over HTTP (a POST) or TCP (frames: a 4-byte big-endian length, then that many bytes of UTF-8),
each exchange within a deadline and a limit on exchanges in flight.

Whatever goes wrong on the wire is an `UpstreamError`: the gateway answers the query as the
state's "could not answer" and audits it. Nothing here reads an answer; `fieldmap` does.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterable
from typing import Any, Protocol

import httpcore
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
        """A kept connection with nothing waiting on it; one the responder wrote to or closed
        since its last answer is dropped, or those bytes would answer the next query."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if _quiet(connection):
                return connection
            connection.close()

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


def _quiet(connection: socket.socket) -> bool:
    """True when the connection holds no unread bytes and no end of stream."""
    try:
        connection.setblocking(False)
        connection.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


class _Deadlines(httpcore.NetworkBackend):
    """httpcore's sockets with every wait cut short at the deadline of the exchange on the
    calling thread: httpx times each read alone, so an answer sent a byte at a time would
    never time out."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()
        self._local = threading.local()

    def until(self, deadline: float | None) -> None:
        self._local.deadline = deadline

    def left(self, timeout: float | None, late: type[Exception]) -> float | None:
        deadline: float | None = getattr(self._local, "deadline", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise late("past the deadline")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
                    ) -> httpcore.NetworkStream:
        stream = self._sockets.connect_tcp(host, port, self.left(timeout, httpcore.ConnectTimeout),
                                           local_address, socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadlines: _Deadlines) -> None:
        self._stream, self._deadlines = stream, deadlines

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadlines.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadlines.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname,
                                     self._deadlines.left(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(tls, self._deadlines)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class HttpWire:
    """A POST of the query's text; the answer is the body of a 200."""

    def __init__(self, url: str, connections: int, *, limit: int = ANSWER_LIMIT) -> None:
        self.url, self._limit = url, limit
        self._deadlines = _Deadlines()
        transport = httpx.HTTPTransport()
        transport._pool = httpcore.ConnectionPool(  # httpx takes no network backend itself
            ssl_context=httpx.create_ssl_context(), max_connections=connections,
            max_keepalive_connections=connections, network_backend=self._deadlines)
        self._client = httpx.Client(
            transport=transport, trust_env=False,
            headers={"Content-Type": "text/plain; charset=utf-8", "Accept-Encoding": "identity"},
            follow_redirects=False)

    def exchange(self, text: str, deadline: float) -> str:
        data = text.encode("utf-8")
        if len(data) > QUERY_LIMIT:
            raise UpstreamError(f"a query of {len(data)} bytes is over the {QUERY_LIMIT}-byte "
                                "limit")
        self._deadlines.until(deadline)
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
        finally:
            self._deadlines.until(None)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableAnswer(f"{self.url} sent an answer that is not UTF-8") from None

    def close(self) -> None:
        self._client.close()


__all__ = ["ANSWER_LIMIT", "HttpWire", "TcpWire", "UnreadableAnswer", "UpstreamError",
           "UpstreamNoAnswer", "UpstreamTimeout", "UpstreamUnreachable", "Wire", "open_wire"]
