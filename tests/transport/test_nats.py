"""The NATS carrier over a real server, in one process: gateways answer on their state's queue
group and share it, a state without one is unavailable at once, late answers reach the switch
once, held traffic comes back in order, and the switch runs over all of it."""

from __future__ import annotations

import asyncio
import json

import pytest

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.gateway import Gateway
from stateline.gateway.outbox import Outbox
from stateline.gateway.worker import GatewayThread
from stateline.protocol import Field, Message, Outcome, Stamp
from stateline.sim.nation import build_nation
from stateline.transport.base import Envelope, Reply, StateUnavailable, envelope_to_json
from stateline.transport.jetstream_holds import JetStreamHolds
from stateline.transport.nats import ERROR_HEADER, MSG_ID, Names, NatsTransport, connect
from stateline.transport.nats_gateway import NatsGateway, late_id
from stateline.transport.nats_switch import (
    Refused,
    SubmissionService,
    show,
    submit,
    switch_over_nats,
)

from .natsbus import LOCAL, SENDER, envelope, names, nats_url, olns, switch_config, token

pytestmark = pytest.mark.nats
__all__ = ["names"]


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("nats"))
    build_nation(data, ("WA", "OR"), residents=100, seed=9)
    switch_config(data)
    return data


class Served:
    """A gateway thread for a state, served on NATS over a connection of its own."""

    def __init__(self, data: DataDir, state: str, names: Names, *,
                 outbox: bool = False) -> None:
        self.data, self.state, self.names, self.outbox = data, state, names, outbox

    async def __aenter__(self) -> NatsGateway:
        self.worker = GatewayThread(self.data, self.state)
        self.worker.start()
        self.client = await connect(nats_url(), f"test-{self.state}")
        self.file = Outbox(self.data, self.state) if self.outbox else None
        self.gateway = NatsGateway(self.worker, self.client, self.names, outbox=self.file,
                                   poll=0.05)
        await self.gateway.start()
        return self.gateway

    async def __aexit__(self, *_: object) -> None:
        await self.gateway.stop()
        await self.client.close()
        await asyncio.to_thread(self.worker.stop)
        if self.file is not None:
            self.file.close()


def audited(data: DataDir, state: str, message_id: str) -> int:
    with open_state_log(data, state) as log:
        return sum(1 for seq in range(log.size)
                   if log.entry(seq).body.get("message_id") == message_id)


def test_a_gateway_answers_and_a_state_without_one_is_unavailable_at_once(
        nation: DataDir, names: Names) -> None:
    async def scenario() -> None:
        transport = await NatsTransport.connect(nats_url(), names)
        try:
            async with Served(nation, "WA", names) as gateway:
                reply = await transport.deliver(envelope(nation, "WA", "N1"), 5)
                assert (reply.message_id, reply.state, reply.response.key) == ("N1", "WA", "DR")
                assert not reply.late and gateway.answered == 1
                with pytest.raises(StateUnavailable, match="no OR gateway is listening"):
                    await transport.deliver(envelope(nation, "OR", "N2"), 60)
                await asyncio.to_thread(gateway.worker.stop)
                with pytest.raises(StateUnavailable, match="stopping"):
                    await transport.deliver(envelope(nation, "WA", "N3"), 5)
            with pytest.raises(StateUnavailable, match="no WA gateway"):
                await transport.deliver(envelope(nation, "WA", "N4"), 5)
        finally:
            await transport.close()

    asyncio.run(scenario())
    assert audited(nation, "WA", "N1") == 1 and audited(nation, "WA", "N3") == 0


def test_a_leg_of_a_multi_state_query_reaches_the_gateway_as_one(nation: DataDir,
                                                                 names: Names) -> None:
    async def scenario() -> None:
        transport = await NatsTransport.connect(nats_url(), names)
        try:
            async with Served(nation, "WA", names):
                for message_id, multi in (("N10", True), ("N11", False)):
                    sent = envelope(nation, "WA", message_id)
                    await transport.deliver(Envelope(sent.message_id, sent.state, sent.message,
                                                     multi), 5)
        finally:
            await transport.close()

    asyncio.run(scenario())
    with open_state_log(nation, "WA") as log:
        bodies = [log.entry(seq).body for seq in range(log.size)]
    assert [(b["message_id"], b["multi_state"]) for b in bodies
            if b.get("message_id") in ("N10", "N11")] == [("N10", True), ("N11", False)]


def test_a_gateway_refuses_what_is_not_an_envelope_for_its_state_or_has_no_reply_subject(
        nation: DataDir, names: Names) -> None:
    async def scenario() -> None:
        async with Served(nation, "WA", names) as gateway:
            for data in (b"not json", envelope_to_json(envelope(nation, "OR", "N5"))):
                answer = await gateway.client.request(names.gateway("WA"), data, timeout=5)
                assert answer.data == b"" and answer.headers
                assert answer.headers[ERROR_HEADER]
            await gateway.client.publish(names.gateway("WA"),  # nobody to answer
                                         envelope_to_json(envelope(nation, "WA", "N9")))
            await gateway.client.flush()
            await asyncio.sleep(0.3)

    asyncio.run(scenario())
    assert audited(nation, "OR", "N5") == 0 and audited(nation, "WA", "N9") == 0


def test_a_repeat_that_comes_while_the_first_is_answered_is_answered_once(
        nation: DataDir, names: Names) -> None:
    async def scenario() -> tuple[Reply, Reply, int]:
        transport = await NatsTransport.connect(nats_url(), names)
        try:
            async with Served(nation, "WA", names) as gateway:
                sent = envelope(nation, "WA", "N6")
                first, second = await asyncio.gather(transport.deliver(sent, 5),
                                                     transport.deliver(sent, 5))
                return first, second, gateway.repeats
        finally:
            await transport.close()

    first, second, repeats = asyncio.run(scenario())
    assert first == second and repeats == 1
    assert audited(nation, "WA", "N6") == 1


def test_two_gateways_in_one_queue_group_share_a_state(nation: DataDir, names: Names) -> None:
    async def scenario() -> tuple[int, int]:
        transport = await NatsTransport.connect(nats_url(), names)
        try:
            async with Served(nation, "WA", names) as one, Served(nation, "WA", names) as two:
                replies = await asyncio.gather(*(
                    transport.deliver(envelope(nation, "WA", f"Q{n}"), 10) for n in range(60)))
                assert {r.message_id for r in replies} == {f"Q{n}" for n in range(60)}
                return one.answered, two.answered
        finally:
            await transport.close()

    one, two = asyncio.run(scenario())
    assert one + two == 60 and one > 0 and two > 0


def test_a_late_answer_reaches_the_switch_once(nation: DataDir, names: Names) -> None:
    with Gateway(nation, "WA") as gateway:
        result = gateway.handle(envelope(nation, "WA").message, message_id="N7")
    with Outbox(nation, "WA") as outbox:
        outbox.put("N7", SENDER, result)
        [late] = [row for row in outbox.pending() if row.message_id == "N7"]
    got: list[Reply] = []

    async def keep(reply: Reply) -> None:
        got.append(reply)

    async def scenario() -> None:
        transport = await NatsTransport.connect(nats_url(), names)
        transport.on_late(keep)
        try:
            async with Served(nation, "WA", names, outbox=True) as served:
                for _ in range(200):
                    if got:
                        break
                    await asyncio.sleep(0.02)
                assert served.published == 1
                again = await served.client.jetstream().publish(
                    names.late("WA"), b"{}", headers={MSG_ID: late_id(late)})
                assert again.duplicate  # a gateway that died before marking it sent
            async with Served(nation, "WA", names, outbox=True) as other:
                await asyncio.sleep(0.3)
                assert other.published == 0
        finally:
            await transport.close()

    asyncio.run(scenario())
    [reply] = got
    assert (reply.message_id, reply.state, reply.late) == ("N7", "WA", True)
    assert reply.response == result.response and reply.outcome is result.outcome


def test_a_late_answer_whose_handler_fails_comes_again(nation: DataDir, names: Names) -> None:
    with Gateway(nation, "OR") as gateway:
        result = gateway.handle(envelope(nation, "OR").message, message_id="N8")
    with Outbox(nation, "OR") as outbox:
        outbox.put("N8", SENDER, result)
    calls: list[str] = []

    async def flaky(reply: Reply) -> None:
        calls.append(reply.message_id)
        if len(calls) == 1:
            raise RuntimeError("switch store full")

    async def scenario() -> None:
        client = await connect(nats_url(), "test-switch")
        transport = NatsTransport(client, names, owned=True, retry=0.2)
        await transport.prepare()
        transport.on_late(flaky)
        try:
            async with Served(nation, "OR", names, outbox=True):
                for _ in range(200):
                    if len(calls) >= 2:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.4)
        finally:
            await transport.close()

    asyncio.run(scenario())
    assert calls == ["N8", "N8"]


def held_query(n: int, state: str) -> Message:
    return Message("DQ", LOCAL, (state,), None, (Field("OLN", f"W{n}"),))


def test_held_messages_come_back_in_order_after_a_reopen(names: Names) -> None:
    from datetime import datetime

    stamp = Stamp(datetime(2026, 1, 2, 3, 4), 42)

    async def scenario() -> None:
        client = await connect(nats_url(), "test-holds")
        try:
            holds = await JetStreamHolds.open(client, names)
            for n in range(3):
                for state in ("WA", "OR"):
                    await holds.put(f"M{n}{state}", state, held_query(n, state), stamp)
            again = await holds.put("M0WA", "WA", held_query(0, "WA"), stamp)
            await holds.close()
        finally:
            await client.close()
        client = await connect(nats_url(), "test-holds")
        try:
            holds = await JetStreamHolds.open(client, names)
            assert await holds.counts() == {"WA": 3, "OR": 3}
            waiting = await holds.waiting("WA")
            assert [h.message_id for h in waiting] == ["M0WA", "M1WA", "M2WA"]
            assert waiting[0].id == again.id
            assert waiting[1].message == held_query(1, "WA") and waiting[1].received == stamp
            await holds.delivered(waiting[0])
            await holds.delivered(waiting[0])  # another switch got there first: no error
            assert [h.message_id for h in await holds.waiting("WA", limit=1)] == ["M1WA"]
            assert await holds.counts() == {"WA": 2, "OR": 3}
        finally:
            await client.close()

    asyncio.run(scenario())


def test_what_another_switch_holds_shows_within_a_moment(names: Names) -> None:
    from datetime import datetime

    stamp = Stamp(datetime(2026, 1, 2, 3, 4), 7)

    async def scenario() -> None:
        client = await connect(nats_url(), "test-counts")
        try:
            here = await JetStreamHolds.open(client, names, fresh=0.2)
            there = await JetStreamHolds.open(client, names, fresh=0.2)
            assert await there.counts() == {}
            held = await here.put("C1", "WA", held_query(1, "WA"), stamp)
            assert await here.counts() == {"WA": 1}  # its own put counts at once
            await asyncio.sleep(0.25)
            assert await there.counts() == {"WA": 1}
            await there.delivered(held)
            assert await there.counts() == {}
            await asyncio.sleep(0.25)
            assert await here.counts() == {}
        finally:
            await client.close()

    asyncio.run(scenario())


def test_one_switch_at_a_time_delivers_a_state(names: Names) -> None:
    async def scenario() -> None:
        client = await connect(nats_url(), "test-leases")
        try:
            first = await JetStreamHolds.open(client, names, lease=0.3)
            second = await JetStreamHolds.open(client, names, lease=0.3)
            assert await first.claim("WA", "one")
            assert await first.claim("WA", "one")  # renewing
            assert not await second.claim("WA", "two")
            assert await second.claim("OR", "two")
            await first.release("WA", "one")
            assert await second.claim("WA", "two")
            await asyncio.sleep(0.4)  # two stopped without letting go: the lease lapses
            assert await first.claim("WA", "one")
        finally:
            await client.close()

    asyncio.run(scenario())


def test_the_switch_holds_for_a_gateway_that_is_gone_and_delivers_on_its_return(
        nation: DataDir, names: Names) -> None:
    secret = token(nation, LOCAL)
    oln = olns(nation, "WA", 1)[0]
    text = f"DQ.{LOCAL}.WA.TXT\nOLN/{oln}"

    async def scenario() -> None:
        async with switch_over_nats(nation, nats_url(), names, retry=False) as (switch, _):
            async with Served(nation, "WA", names):
                first = await switch.submit(text, secret)
            assert [(r.state, r.outcome) for r in first.responses] == [("WA", "partial")]
            held = await switch.submit(text, secret)
            assert [(r.state, r.key, r.outcome) for r in held.responses] == \
                [("WA", "SM", "held")] and held.pending == ("WA",)
            assert await switch.stores.holds.counts() == {"WA": 1}
            async with Served(nation, "WA", names):
                assert await switch.deliver_held("WA") == 1
                assert await switch.deliver_held("WA") == 0
            view = switch.submission(held.message_id)
            assert [(r.key, r.outcome, r.late) for r in view.responses] == \
                [("SM", "held", False), ("DR", "partial", True)]
            assert view.pending == ()
            assert await switch.stores.holds.counts() == {}

    asyncio.run(scenario())


def test_a_sender_reaches_the_switch_over_nats(nation: DataDir, names: Names) -> None:
    secret = token(nation, LOCAL)
    oln = olns(nation, "WA", 1)[0]

    async def scenario() -> None:
        async with switch_over_nats(nation, nats_url(), names, retry=False) as (
                switch, transport), Served(nation, "WA", names):
            service = SubmissionService(switch, transport.client, names)
            await service.start()
            try:
                sent = await submit(nats_url(), names, f"DQ.{LOCAL}.WA.TXT.OLN/{oln}", secret)
                assert sent["accepted"] and sent["pending"] == []
                assert [r["state"] for r in sent["responses"]] == ["WA"]
                again = await show(nats_url(), names, str(sent["message_id"]), secret)
                assert json.dumps(again, sort_keys=True) == json.dumps(sent, sort_keys=True)
                with pytest.raises(Refused) as refused:
                    await submit(nats_url(), names, f"DQ.{LOCAL}.WA.TXT.OLN/{oln}", "nope")
                assert refused.value.code == "unauthenticated"
                rejected = await submit(nats_url(), names, "DQ.ORPPD0000.WA.TXT", secret)
                assert not rejected["accepted"]
            finally:
                await service.stop()
            with pytest.raises(Refused) as nobody:
                await submit(nats_url(), names, "DQ", secret)
            assert nobody.value.code == "no-switch"

    asyncio.run(scenario())


def test_a_gateway_answers_a_message_that_breaks_the_protocol_with_a_reject(
        nation: DataDir, names: Names) -> None:
    good = envelope(nation, "WA", "N40").message
    assert good.header is not None
    bad = {
        "N41": Message("RNQ", SENDER, (), None, (Field("NAM", "DOE,JOHN"),
                                                 Field("DOB", "19901340")), header=good.header),
        "N42": Message("DQ", SENDER, (), None, (Field("OLN", good.fields[0].value),
                                                Field("XYZ", "1")), header=good.header),
        "N43": Message("ER", SENDER, (), None, body="I AM THE SWITCH", header=good.header),
    }

    async def scenario() -> dict[str, Reply]:
        transport = await NatsTransport.connect(nats_url(), names)
        try:
            async with Served(nation, "WA", names) as gateway:
                replies = {message_id: await transport.deliver(
                    Envelope(message_id, "WA", message), 5)
                    for message_id, message in bad.items()}
                assert gateway.answered == 0
                return replies
        finally:
            await transport.close()

    replies = asyncio.run(scenario())
    for message_id, naming in (("N41", "DOB 19901340"), ("N42", "XYZ"), ("N43", "ER")):
        reply = replies[message_id]
        assert (reply.response.key, reply.outcome) == ("ER", Outcome.ERROR)
        assert reply.response.header is not None
        assert reply.response.header.receiving_ori == SENDER
        assert naming in (reply.response.body or "")
        assert audited(nation, "WA", message_id) == 0
