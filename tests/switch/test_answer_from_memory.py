"""What a sender is answered is built from the rows the switch has just kept, without reading
them back: it must equal what the sender reads later, after a restart too; an answer another
switch adds meanwhile must still reach it; and a directory edit counts from the next message."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.protocol import Message, format_text
from stateline.sim.nation import build_nation
from stateline.switch import Service, Submission, Switch, SwitchConfig
from stateline.switch.submissions import Sent, SubmissionStore
from stateline.transport.base import Envelope, LateHandler, Reply
from stateline.transport.inprocess import InProcessTransport

from .conftest import running, samples, token

SENDER = "ORPPD0000"


@pytest.fixture(scope="module")
def small_nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("memory-nation"))
    build_nation(data, ("WA", "OR", "NY"), residents=60, seed=11)
    return data


def test_a_sender_is_answered_what_it_reads_back_then_and_after_a_restart(
        small_nation: DataDir) -> None:
    data = small_nation
    wa, ny = samples(data, "WA", 1)[0], samples(data, "NY", 1)[0]
    secret = token(data, SENDER)
    texts = [
        f"DQ.{SENDER}.WA.TXT\nOLN/{wa.oln}",                       # one state, a hit
        f"DQ.{SENDER}.NL.TXT\nNAM/{ny.name}.DOB/{ny.dob}",         # fan-out: a summary
        f"DQ.{SENDER}.WA.OR.TXT\nOLN/{wa.oln}",                    # two states named
        f"RQ.{SENDER}.OR.TXT\nVIN/1HGCM82633A004352",              # no record
        f"DQ.{SENDER}.NY.TXT\nOLN/{ny.oln}",                       # NY out: .02., held
        f"DQ.{SENDER}.NL.TXT\nOLN/{ny.oln}",                       # fan-out, NY held
        f"DQ.{SENDER}.XX.TXT\nOLN/{wa.oln}",                       # ER reject
    ]

    async def sending() -> list[Submission]:
        async with running(data) as switch:
            await switch.set_status("NY", Service.OUT, "test operator")
            answered = [await switch.submit(text, secret) for text in texts]
            for sub in answered:
                assert switch.submission(sub.message_id) == sub
            return answered

    answered = asyncio.run(sending())
    assert [bool(sub.responses) for sub in answered] == [True] * len(texts)
    assert answered[0].responses[0].fields  # the state's fields, from its record
    assert answered[4].pending == ("NY",) and answered[5].pending == ("NY",)
    assert not answered[6].accepted

    async def reading() -> list[Submission]:
        async with running(data) as switch:
            await switch.set_status("NY", Service.IN, "test operator", deliver=False)
            return [switch.submission(sub.message_id) for sub in answered]

    assert asyncio.run(reading()) == answered


class Meanwhile:
    """Carries each message to the in-process gateways; for the message with `marked` in
    it, another switch on the same data folder first keeps a late answer of its own."""

    def __init__(self, data: DataDir, marked: str) -> None:
        self.data, self.marked = data, marked
        self.gateways = InProcessTransport(data, ("WA",))
        self.gateways.start()

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        if self.marked in format_text(envelope.message):
            other = SubmissionStore(self.data)
            try:
                other.respond(envelope.message_id, Sent(
                    "WA", Message("DR", "WAOLN0000", (SENDER,), body="REVIEWED ANSWER"),
                    "released", "WA-0000000001", late=True))
            finally:
                other.close()
        return await self.gateways.deliver(envelope, timeout)

    def on_late(self, handler: LateHandler) -> None:
        self.gateways.on_late(handler)

    async def close(self) -> None:
        await self.gateways.close()


def test_an_answer_another_switch_keeps_while_the_sender_waits_reaches_the_sender(
        small_nation: DataDir) -> None:
    data = small_nation
    people = samples(data, "WA", 5)
    secret = token(data, SENDER)
    marked = people[2].oln

    async def scenario() -> None:
        switch = Switch(data, Meanwhile(data, marked), config=SwitchConfig(states=("WA",)),
                        retry=False)
        await switch.start()
        try:
            subs = await asyncio.gather(*(
                switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}", secret)
                for person in people))
            for person, sub in zip(people, subs, strict=True):
                shown = [(r.state, r.reference, r.late) for r in sub.responses]
                if person.oln == marked:  # in the order kept
                    assert shown == [("WA", "WA-0000000001", True), ("WA", None, False)]
                else:
                    assert shown == [("WA", None, False)]
                assert switch.submission(sub.message_id) == sub
        finally:
            await switch.close()

    asyncio.run(scenario())


def test_a_directory_edit_counts_from_the_next_message(small_nation: DataDir) -> None:
    data = small_nation
    person = samples(data, "WA", 1)[0]
    secret = token(data, SENDER)
    text = f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}"

    def set_active(active: bool) -> None:
        with Directory.open(data) as directory:
            agency = directory.get(SENDER)
            assert agency is not None
            directory.put(replace(agency, active=active))

    async def scenario() -> None:
        async with running(data) as switch:
            assert (await switch.submit(text, secret)).accepted
            set_active(False)
            await asyncio.sleep(0)
            refused = await switch.submit(text, secret)
            assert not refused.accepted
            assert f"SENDING ORI {SENDER} IS NOT ACTIVE" in refused.responses[0].text
            set_active(True)
            await asyncio.sleep(0)
            assert (await switch.submit(text, secret)).accepted

    try:
        asyncio.run(scenario())
    finally:
        set_active(True)
