"""Frames on a local stream socket: a 4-byte big-endian length, then that many bytes of JSON.

Many messages travel in one frame (a JSON array), so a busy switch pays one system call and
one wake-up per batch rather than per query. Every length is bounded before anything is read:
a peer that sends garbage is cut off, never believed."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Sequence
from typing import Any

from ..errors import ServiceError

MOST_BYTES = 64 << 20
"""The largest frame either side accepts: fifty answers with photos fit many times over."""
_LENGTH = struct.Struct(">I")


class FrameError(ServiceError):
    """Bytes on the socket that are not a frame of JSON: the connection is closed."""

    code = "frame-error"


def frame(items: Sequence[bytes]) -> bytes:
    """One frame holding already-encoded JSON values as an array."""
    payload = b"[" + b",".join(items) + b"]"
    if len(payload) > MOST_BYTES:
        raise FrameError(f"a frame of {len(payload):,} bytes is past the {MOST_BYTES:,} limit")
    return _LENGTH.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> list[Any] | None:
    """The next frame's values; None at a clean end of stream."""
    try:
        head = await reader.readexactly(_LENGTH.size)
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise FrameError("the stream ended inside a frame's length") from None
    (size,) = _LENGTH.unpack(head)
    if size > MOST_BYTES:
        raise FrameError(f"a frame of {size:,} bytes is past the {MOST_BYTES:,} limit")
    try:
        payload = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise FrameError("the stream ended inside a frame") from None
    try:
        items = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise FrameError(f"a frame that is not JSON: {error}") from None
    if not isinstance(items, list):
        raise FrameError("a frame that is not a JSON array")
    return items


class Outgoing:
    """Values waiting to be written to one stream: whatever is queued within one turn of the
    event loop leaves as one frame."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self._waiting: list[bytes] = []
        self.frames = 0

    def send(self, item: bytes) -> None:
        """Queue one encoded value; FrameError at once for one that no frame could hold."""
        if len(item) + 2 > MOST_BYTES:
            raise FrameError(f"a value of {len(item):,} bytes is past the frame limit")
        if not self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        self._waiting.append(item)

    def _flush(self) -> None:
        items, self._waiting = self._waiting, []
        if not items or self.writer.is_closing():
            return
        start, size = 0, 2
        for end, item in enumerate(items):
            if size + len(item) + 1 > MOST_BYTES and end > start:
                self._write(items[start:end])
                start, size = end, 2
            size += len(item) + 1
        self._write(items[start:])

    def _write(self, items: Sequence[bytes]) -> None:
        self.frames += 1
        self.writer.write(frame(items))
