"""Frames between roles: many values per frame, every length bounded before it is believed,
and bytes that are not a frame end the connection with a clear error, never a crash."""

from __future__ import annotations

import asyncio
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.roles import frames
from stateline.roles.frames import FrameError, frame, read_frame

values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                      lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def read(data: bytes) -> list[object] | None:
    async def go() -> list[object] | None:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await read_frame(reader)
    return asyncio.run(go())


@given(st.lists(values, max_size=10))
def test_what_is_framed_is_read_back(items: list[object]) -> None:
    assert read(frame([json.dumps(item).encode() for item in items])) == items


@given(st.binary(max_size=64))
def test_any_bytes_are_a_frame_or_a_frame_error(data: bytes) -> None:
    try:
        found = read(data)
    except FrameError:
        return
    assert found is None or isinstance(found, list)


def test_a_clean_end_of_stream_is_no_frame() -> None:
    assert read(b"") is None


def test_a_length_past_the_limit_is_refused_before_anything_is_read() -> None:
    with pytest.raises(FrameError, match="past the"):
        read(struct.pack(">I", frames.MOST_BYTES + 1))


@pytest.mark.parametrize("payload", [b"{}", b"[1,", b"\xff\xfe"])
def test_a_frame_that_is_not_a_json_array_is_refused(payload: bytes) -> None:
    with pytest.raises(FrameError):
        read(struct.pack(">I", len(payload)) + payload)


def test_a_frame_cut_short_is_refused() -> None:
    with pytest.raises(FrameError, match="ended inside"):
        read(struct.pack(">I", 10) + b"[1]")


def test_values_queued_in_one_turn_leave_as_one_frame() -> None:
    async def go() -> tuple[int, list[object] | None]:
        sent = bytearray()

        class Writer:
            def write(self, data: bytes) -> None:
                sent.extend(data)

            def is_closing(self) -> bool:
                return False

        out = frames.Outgoing(Writer())  # type: ignore[arg-type]
        for n in range(50):
            out.send(json.dumps({"n": n}).encode())
        await asyncio.sleep(0)
        reader = asyncio.StreamReader()
        reader.feed_data(bytes(sent))
        reader.feed_eof()
        return out.frames, await read_frame(reader)

    count, items = asyncio.run(go())
    assert count == 1 and items == [{"n": n} for n in range(50)]


def test_a_value_no_frame_could_hold_is_refused_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "MOST_BYTES", 100)

    async def go() -> None:
        class Writer:
            def write(self, data: bytes) -> None:
                raise AssertionError("nothing is written")

            def is_closing(self) -> bool:
                return False

        frames.Outgoing(Writer()).send(b'"' + b"x" * 200 + b'"')  # type: ignore[arg-type]

    with pytest.raises(FrameError, match="past the frame limit"):
        asyncio.run(go())
