"""The in-process carrier: a running gateway answers, a stopped one is unavailable, a lazy one
opens on its first message, and late answers on file reach the handler once."""

from __future__ import annotations

import asyncio

import pytest

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway import Gateway
from stateline.gateway.outbox import Outbox
from stateline.protocol import Field, Message, Outcome, OutputHeader, Stamp
from stateline.sim.nation import build_nation
from stateline.switch.stamping import now
from stateline.transport.base import Envelope, Reply, StateUnavailable
from stateline.transport.inprocess import InProcessTransport

SENDER = "WASPD0100"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("inprocess"))
    build_nation(data, ("WA", "OR"), residents=100, seed=9)
    return data


def envelope(data: DataDir, state: str, message_id: str = "M1") -> Envelope:
    store = open_store(data.dmv_url(state))
    try:
        oln = store.sample(1, seed=1)[0].oln
    finally:
        store.close()
    header = OutputHeader(Stamp(now(), 1), Stamp(now(), 1), f"{state}NLETS00")
    return Envelope(message_id, state, Message("DQ", SENDER, (), None, (Field("OLN", oln),),
                                               header=header))


def test_a_running_gateway_answers_and_a_stopped_one_is_unavailable(nation: DataDir) -> None:
    async def scenario() -> None:
        transport = InProcessTransport(nation, ["WA"])
        transport.start()
        try:
            reply = await transport.deliver(envelope(nation, "WA"), 5)
            assert (reply.message_id, reply.state, reply.response.key) == ("M1", "WA", "DR")
            assert reply.outcome is Outcome.RELEASED and not reply.late
            with pytest.raises(StateUnavailable):
                await transport.deliver(envelope(nation, "OR"), 5)
            transport.stop_state("WA")
            assert not transport.running("WA")
            with pytest.raises(StateUnavailable):
                await transport.deliver(envelope(nation, "WA"), 5)
        finally:
            await transport.close()

    asyncio.run(scenario())


def test_a_lazy_transport_opens_a_gateway_on_its_first_message(nation: DataDir) -> None:
    async def scenario() -> None:
        transport = InProcessTransport(nation, lazy=True)
        try:
            assert not transport.running("OR")
            reply = await transport.deliver(envelope(nation, "OR"), 5)
            assert reply.response.sender == "OROLN0000" and transport.running("OR")
            assert not transport.running("WA")
        finally:
            await transport.close()
        assert not transport.running("OR")

    asyncio.run(scenario())


def test_late_answers_on_file_reach_the_handler_once(nation: DataDir) -> None:
    with Gateway(nation, "WA") as gateway:
        result = gateway.handle(envelope(nation, "WA").message, message_id="M7")
    with Outbox(nation, "WA") as outbox:
        outbox.put("M7", SENDER, result)
    got: list[Reply] = []

    async def handler(reply: Reply) -> None:
        got.append(reply)

    async def scenario() -> None:
        transport = InProcessTransport(nation, ["WA"], poll=0.05)
        transport.on_late(handler)
        try:
            for _ in range(100):
                if got:
                    break
                await asyncio.sleep(0.02)
            assert await transport.collect_late() == 0
        finally:
            await transport.close()

    asyncio.run(scenario())
    [reply] = got
    assert (reply.message_id, reply.state, reply.late) == ("M7", "WA", True)
    assert reply.response == result.response and reply.outcome is result.outcome


def test_a_handler_that_fails_leaves_the_answer_on_file(nation: DataDir) -> None:
    with Gateway(nation, "OR") as gateway:
        result = gateway.handle(envelope(nation, "OR").message, message_id="M8")
    with Outbox(nation, "OR") as outbox:
        outbox.put("M8", SENDER, result)

    async def failing(reply: Reply) -> None:
        raise RuntimeError("switch store full")

    async def scenario() -> None:
        transport = InProcessTransport(nation, ["OR"])
        transport.on_late(failing)
        try:
            with pytest.raises(RuntimeError):
                await transport.collect_late()
        finally:
            await transport.close()

    asyncio.run(scenario())
    with Outbox(nation, "OR") as outbox:
        assert [late.message_id for late in outbox.pending()] == ["M8"]


def test_a_message_that_breaks_the_protocol_is_answered_with_its_reject_not_decided(
        nation: DataDir) -> None:
    """Whoever hands a gateway a message, the switch's validator runs again first: a bad date
    is a reject naming the field, and nothing reaches the audit log."""
    async def scenario() -> None:
        transport = InProcessTransport(nation, ["WA"])
        transport.start()
        try:
            header = OutputHeader(Stamp(now(), 1), Stamp(now(), 1), "WANLETS00")
            bad = Message("RNQ", SENDER, (), None,
                          (Field("NAM", "DOE,JANE"), Field("DOB", "19901340")), header=header)
            reply = await transport.deliver(Envelope("M2", "WA", bad), 5)
            assert reply.outcome is Outcome.ERROR and reply.response.key == "ER"
            assert "DOB" in (reply.response.body or "")
        finally:
            await transport.close()

    with Gateway(nation, "WA") as gateway:
        before = gateway.log.size
    asyncio.run(scenario())
    with Gateway(nation, "WA") as gateway:
        assert gateway.log.size == before
