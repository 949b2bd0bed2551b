"""The network as an agency sees it: queries through the switch to in-process state gateways
and back, multi-state merges, status messages, held traffic delivered later, late reviews."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import parse
from stateline.switch import Service, Switch
from stateline.switch.traffic import Search
from stateline.transport.inprocess import InProcessTransport

from .conftest import running, samples, token

LOCAL = "ORPPD0000"
WA_LOCAL = "WASPD0100"
HITS = ("released", "partial")
ICE = "VTICE0900"
HSI = "NYHSI0100"


def use_policy(data: DataDir, state: str, name: str) -> None:
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, state, preset(name).text(), who="test")


def audited_message_ids(data: DataDir, state: str) -> list[str]:
    with open_state_log(data, state) as log:
        return [log.entry(seq).body.get("message_id", "") for seq in range(log.size)
                if log.entry(seq).kind.value == "decision"]


def test_a_driver_query_comes_back_stamped_from_the_state(nation: DataDir) -> None:
    person = samples(nation, "WA")[0]
    secret = token(nation, WA_LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(f"DQ.{WA_LOCAL}.WA.*CASE1.TXT\nOLN/{person.oln}", secret)
            assert sub.accepted and sub.pending == ()
            [answer] = sub.responses
            assert (answer.key, answer.state, answer.outcome) == ("DR", "WA", "released")
            assert ("identity", "OLN", person.oln) in [(f.element, f.prefix, f.value)
                                                       for f in answer.fields]
            delivered = parse(answer.text)
            assert delivered.sender == "WAOLN0000" and delivered.control == "CASE1"
            assert delivered.header is not None and delivered.header.receiving_ori == WA_LOCAL
            assert sub.message_id in audited_message_ids(nation, "WA")
            assert switch.submission(sub.message_id) == sub
            logged = switch.stores.traffic.search(Search(message_id=sub.message_id))
            assert {(e.direction, e.destination) for e in logged} == \
                {("in", "WA"), ("out", "WA"), ("out", WA_LOCAL)}

    asyncio.run(scenario())


def test_a_vehicle_query_by_vin(nation: DataDir) -> None:
    car = samples(nation, "OR")[1]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(f"RQ.{LOCAL}.OR.TXT\nVIN/{car.vin}", secret)
            [answer] = sub.responses
            assert (answer.key, answer.state) == ("RR", "OR")
            assert answer.outcome in ("released", "partial")
            assert any(f.prefix == "VIN" and f.value == car.vin for f in answer.fields)
            assert parse(answer.text).sender == "ORLIC0000"

    asyncio.run(scenario())


def test_an_nl_query_is_answered_by_every_state_under_one_summary(nation: DataDir) -> None:
    person = samples(nation, "NY")[0]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(
                f"DQ.{LOCAL}.NL.TXT\nNAM/{person.name}.DOB/{person.dob}", secret)
            summary, *answers = sub.responses
            assert (summary.state, summary.key) == ("NL", "DR")
            assert summary.outcome in ("released", "partial")
            assert summary.summary is not None
            assert summary.summary.sent_to == ("NY", "OR", "WA")
            assert summary.summary.groups["hit"] == ("NY",)
            assert summary.summary.groups["no_record"] == ("OR", "WA")
            assert "HIT: NY" in summary.text and "NO RECORD: OR WA" in summary.text
            assert parse(summary.text).sender == "NL0000000"
            assert [a.state for a in answers] == ["NY"]
            assert answers[0].outcome in ("released", "partial")
            for state in ("NY", "OR", "WA"):
                assert sub.message_id in audited_message_ids(nation, state)

    asyncio.run(scenario())


def test_an_nl_query_counts_denials_in_its_summary(nation: DataDir) -> None:
    person = samples(nation, "WA")[0]
    use_policy(nation, "NY", "block-ice")
    secret = token(nation, ICE)

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(f"DQ.{ICE}.NL.TXT\nOLN/{person.oln}", secret)
            summary = sub.responses[0]
            assert summary.summary is not None
            assert summary.summary.groups["denied"] == ("NY",)
            assert summary.summary.groups["hit"] == ("WA",)
            assert {(a.state, a.outcome) for a in sub.responses[1:]} == \
                {("WA", "partial"), ("NY", "denied")}

    try:
        asyncio.run(scenario())
    finally:
        use_policy(nation, "NY", "cj-baseline")


def test_a_state_out_of_service_gets_its_traffic_in_order_when_it_returns(
        nation: DataDir) -> None:
    people = samples(nation, "WA", 3)
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            await switch.set_status("WA", Service.OUT, "test operator")
            subs = [await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{p.oln}", secret)
                    for p in people]
            for sub in subs:
                [status] = sub.responses
                assert (status.key, status.state, status.outcome) == ("SM", "WA", "held")
                assert ".02. USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL FORWARD" \
                    in status.text
                assert sub.pending == ("WA",)
            assert await switch.stores.holds.counts() == {"WA": 3}
            before = len(audited_message_ids(nation, "WA"))
            assert await switch.deliver_held() == 0  # still out of service
            switch.stores.status.set("WA", Service.IN, "test operator")
            assert await switch.deliver_held("WA") == 3
            assert audited_message_ids(nation, "WA")[before:] == [s.message_id for s in subs]
            for sub, person in zip(subs, people, strict=True):
                later = switch.submission(sub.message_id)
                assert later.pending == ()
                status, answer = later.responses
                assert (answer.state, answer.late) == ("WA", True) and answer.outcome in HITS
                assert any(f.value == person.oln for f in answer.fields)
            assert await switch.stores.holds.counts() == {}

    asyncio.run(scenario())


def test_held_traffic_survives_a_restart_and_is_delivered_by_the_next_switch(
        nation: DataDir) -> None:
    person = samples(nation, "OR")[0]
    secret = token(nation, LOCAL)

    async def before_restart() -> str:
        async with running(nation) as switch:
            switch.stores.status.set("OR", Service.OUT, "test operator")
            sub = await switch.submit(f"DQ.{LOCAL}.OR.TXT\nOLN/{person.oln}", secret)
            assert sub.responses[0].outcome == "held"
            switch.stores.status.set("OR", Service.IN, "test operator")
            return sub.message_id

    async def after_restart(message_id: str) -> None:
        switch = Switch(nation, InProcessTransport(nation, lazy=True))  # retries on
        await switch.start()
        try:
            for _ in range(200):
                if switch.submission(message_id).pending == ():
                    break
                await asyncio.sleep(0.05)
            answer = switch.submission(message_id).responses[-1]
            assert (answer.state, answer.late) == ("OR", True) and answer.outcome in HITS
        finally:
            await switch.close()

    asyncio.run(after_restart(asyncio.run(before_restart())))


def test_a_state_on_remove_status_gets_04_and_nothing_is_kept(nation: DataDir) -> None:
    person = samples(nation, "NY")[0]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            await switch.set_status("NY", Service.REMOVED, "test operator")
            try:
                sub = await switch.submit(f"DQ.{LOCAL}.NY.TXT\nOLN/{person.oln}", secret)
            finally:
                await switch.set_status("NY", Service.IN, "test operator")
            [status] = sub.responses
            assert (status.key, status.outcome) == ("SM", "rejected")
            assert ".04. USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL NOT FORWARD" in status.text
            assert sub.accepted and sub.pending == ()
            assert await switch.stores.holds.counts() == {}

    asyncio.run(scenario())


def test_a_state_whose_gateway_is_down_is_held_for_like_one_out_of_service(
        nation: DataDir) -> None:
    person = samples(nation, "NY")[1]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation, states=("WA", "OR")) as switch:
            sub = await switch.submit(f"DQ.{LOCAL}.NY.TXT\nOLN/{person.oln}", secret)
            [status] = sub.responses
            assert (status.key, status.state, status.outcome) == ("SM", "NY", "held")
            assert sub.pending == ("NY",)
            assert await switch.stores.holds.counts() == {"NY": 1}
            assert await switch.deliver_held("NY") == 0
        async with running(nation) as switch:
            assert await switch.deliver_held("NY") == 1
            assert switch.submission(sub.message_id).responses[-1].outcome in HITS

    asyncio.run(scenario())


def test_a_reviewed_answer_reaches_the_sender_late(nation: DataDir) -> None:
    person = samples(nation, "WA")[1]
    use_policy(nation, "WA", "block-ice-review-hsi")
    secret = token(nation, HSI)

    async def scenario() -> None:
        transport = InProcessTransport(nation)
        transport.start()
        switch = Switch(nation, transport, retry=False)
        await switch.start()
        try:
            sub = await switch.submit(f"DQ.{HSI}.WA.TXT\nOLN/{person.oln}", secret)
            [held] = sub.responses
            assert held.outcome == "held" and held.reference is not None
            assert sub.pending == ("WA",)
            transport.stop_state("WA")
            with Gateway(nation, "WA") as gateway:
                gateway.release(held.reference, "J. Rivera")  # files the late answer
            assert await transport.collect_late() == 1
            assert await transport.collect_late() == 0
            later = switch.submission(sub.message_id)
            assert later.pending == ()
            answer = later.responses[-1]
            assert (answer.late, answer.reference) == (True, held.reference)
            assert answer.outcome in HITS
            assert parse(answer.text).header is not None
        finally:
            await switch.close()

    try:
        asyncio.run(scenario())
    finally:
        use_policy(nation, "WA", "cj-baseline")


@pytest.mark.parametrize(("key", "destination"), [("DQG", "R8"), ("DQ", "WA.R8")])
def test_a_region_reaches_its_states_on_the_network_once_each(nation: DataDir, key: str,
                                                              destination: str) -> None:
    person = samples(nation, "WA")[2]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(
                f"{key}.{LOCAL}.{destination}.TXT\nNAM/{person.name}.DOB/{person.dob}", secret)
            summary = sub.responses[0]
            assert summary.summary is not None
            assert sorted(summary.summary.sent_to) == ["OR", "WA"]
            logged = switch.stores.traffic.search(Search(message_id=sub.message_id,
                                                         destination="WA"))
            delivered = [e for e in logged if e.direction == "out"]
            assert len(delivered) == 1 and delivered[0].key == "DQ"

    asyncio.run(scenario())


def test_each_state_of_an_nl_query_is_told_it_was_one_of_several(nation: DataDir) -> None:
    person = samples(nation, "WA")[0]
    secret = token(nation, LOCAL)

    async def scenario() -> None:
        transport = InProcessTransport(nation)
        transport.start()
        switch = Switch(nation, transport, retry=False)
        await switch.start()
        try:
            await switch.submit(f"DQ.{LOCAL}.NL.TXT\nOLN/{person.oln}", secret)
            await switch.submit(f"DQ.{LOCAL}.WA.TXT\nOLN/{person.oln}", secret)
        finally:
            await switch.close()

    asyncio.run(scenario())
    with open_state_log(nation, "WA") as log:
        last = [log.entry(seq).body for seq in range(log.size - 2, log.size)]
    assert [(b["key"], b["multi_state"]) for b in last] == [("DQ", True), ("DQ", False)]
