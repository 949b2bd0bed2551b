"""The local carrier between the switch and gateway processes, in one test process: answers
come back batched, a gateway process that goes away ends every delivery waiting on it as
`StateUnavailable` (so the switch holds them), and its return is announced."""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.protocol import Outcome, read
from stateline.roles.frames import frame, read_frame
from stateline.roles.gateways import GatewayServer
from stateline.roles.local import LocalTransport
from stateline.sim.nation import build_nation
from stateline.transport.base import Envelope, StateUnavailable, TransportError


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    folder = DataDir(tmp_path_factory.mktemp("local"))
    build_nation(folder, ("WA", "OR"), residents=60, seed=3)
    return folder


@pytest.fixture
def sockets() -> Iterator[Path]:
    """A short folder: a unix socket's path must fit in 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="sl-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def queries(data: DataDir, count: int) -> list[Envelope]:
    store = open_store(data.dmv_url("WA"))
    people = store.sample(count, seed=1)
    store.close()
    return [Envelope(f"M{n}", "WA", read(f"DQ.ORPPD0000.WA.TXT\nOLN/{p.oln}"))
            for n, p in enumerate(people)]


class Running:
    """A gateway server for WA on a socket, in this process, that can be stopped and
    started again as a process would be."""

    def __init__(self, data: DataDir, path: Path) -> None:
        self.data, self.path = data, path
        self.server: GatewayServer | None = None
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.server = GatewayServer(self.data, ["WA"], self.path)
        await asyncio.to_thread(self.server.open)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.server.serve(self.stop))
        while not self.path.exists():
            await asyncio.sleep(0.01)

    async def kill(self) -> None:
        """As a process dies: the socket closes on whatever was in flight."""
        assert self.server is not None and self.task is not None
        self.stop.set()
        await self.task
        await asyncio.to_thread(self.server.close)


def test_many_deliveries_share_frames_and_each_gets_its_answer(data: DataDir,
                                                                sockets: Path) -> None:
    async def go() -> None:
        gateway = Running(data, sockets / "wa.sock")
        await gateway.start()
        transport = LocalTransport(data, {"WA": gateway.path})
        await transport.connect()
        try:
            sent = queries(data, 40)
            replies = await asyncio.gather(*(transport.deliver(e, 30) for e in sent))
            assert [r.message_id for r in replies] == [e.message_id for e in sent]
            assert all(r.state == "WA" and r.outcome is not Outcome.ERROR for r in replies)
            assert all(r.answer is not None for r in replies)
            link = transport._by_state["WA"]
            assert link.out is not None and link.out.frames < len(sent)
        finally:
            await transport.close()
            await gateway.kill()

    asyncio.run(go())


def test_a_gateway_that_goes_away_leaves_its_state_unavailable_until_it_is_back(
        data: DataDir, sockets: Path) -> None:
    async def go() -> None:
        gateway = Running(data, sockets / "wa.sock")
        await gateway.start()
        transport = LocalTransport(data, {"WA": gateway.path})
        back: list[tuple[str, ...]] = []

        async def returned(states: tuple[str, ...]) -> None:
            back.append(states)

        transport.on_back(returned)
        await transport.connect()
        try:
            first = queries(data, 2)
            assert (await transport.deliver(first[0], 30)).message_id == "M0"
            await gateway.kill()
            with pytest.raises(StateUnavailable):
                await transport.deliver(first[1], 30)
            assert not transport.running("WA")
            await gateway.start()
            while not back:
                await asyncio.sleep(0.01)
            assert back == [("WA",)] and transport.running("WA")
            assert (await transport.deliver(first[1], 30)).message_id == "M1"
        finally:
            await transport.close()
            await gateway.kill()

    asyncio.run(go())


def test_a_state_no_process_serves_is_unavailable(data: DataDir, sockets: Path) -> None:
    async def go() -> None:
        transport = LocalTransport(data, {"WA": sockets / "none.sock"})
        with pytest.raises(StateUnavailable, match="OR"):
            await transport.deliver(Envelope("M1", "OR", read(
                "DQ.ORPPD0000.OR.TXT\nOLN/X1")), 1)
        with pytest.raises(StateUnavailable, match="not running"):
            await transport.deliver(queries(data, 1)[0], 1)
        await transport.close()

    asyncio.run(go())


def test_an_answer_that_cannot_be_read_fails_its_delivery_alone(data: DataDir,
                                                                 sockets: Path) -> None:
    """A gateway process whose answer the switch cannot read (here: a text past the bounds of
    an answer record) costs that one delivery, not the connection and the others on it."""
    async def go() -> None:
        path = sockets / "odd.sock"
        envelopes = queries(data, 3)
        ended = asyncio.Event()

        async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while (items := await read_frame(reader)) is not None:
                answers = []
                for item in items:
                    if item["e"]["message_id"] == "M0":
                        answers.append(json.dumps({"n": item["n"], "r": {
                            "message_id": "M0", "answer": {
                                "state": "WA", "group": "driver", "outcome": "denied",
                                "reason": "x" * 5000}}}).encode())
                    else:
                        answers.append(json.dumps({"n": item["n"],
                                                   "unavailable": "later"}).encode())
                writer.write(frame(answers))
                await writer.drain()
            writer.close()
            ended.set()

        server = await asyncio.start_unix_server(peer, path=str(path))
        transport = LocalTransport(data, {"WA": path})
        try:
            outcomes = await asyncio.gather(*(transport.deliver(e, 30) for e in envelopes),
                                            return_exceptions=True)
            assert isinstance(outcomes[0], TransportError)
            assert all(isinstance(o, StateUnavailable) for o in outcomes[1:])
            assert transport.running("WA")
        finally:
            await transport.close()
            server.close()
            await server.wait_closed()
            await asyncio.wait_for(ended.wait(), 10)  # the peer saw the end, closed its side

    asyncio.run(go())


@pytest.mark.parametrize("garbage", [
    b"\x00\x00\x00\x05hello", struct.pack(">I", 2 ** 31) + b"x", b"\x00\x00\x00\x02{}",
    b"\x00\x00\x00\x0b[{\"n\": \"1\"}]", b"\x00\x00\x00\x12[{\"n\": 1, \"e\": 5}]"])
def test_hostile_bytes_end_one_connection_and_the_gateway_keeps_serving(
        data: DataDir, sockets: Path, garbage: bytes) -> None:
    async def go() -> None:
        gateway = Running(data, sockets / "wa.sock")
        await gateway.start()
        try:
            reader, writer = await asyncio.open_unix_connection(str(gateway.path))
            writer.write(garbage)
            writer.write_eof()
            said = await asyncio.wait_for(reader.read(), 10)  # an answer (n: 1) or the end
            assert b'"r"' not in said
            writer.close()
            transport = LocalTransport(data, {"WA": gateway.path})
            reply = await transport.deliver(queries(data, 1)[0], 30)
            assert reply.outcome is not Outcome.ERROR
            await transport.close()
        finally:
            await gateway.kill()

    asyncio.run(go())
