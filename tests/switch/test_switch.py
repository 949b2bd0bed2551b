"""The switch over a fake wire: who gets in, what is rejected and logged, what a sender sees
when a state is slow, and what a state may not send on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import MappingProxyType

import pytest

from stateline.datadir import DataDir
from stateline.protocol import Answer, Message, Outcome, format_answer, parse
from stateline.switch import AuthenticationError, Service, Switch, SwitchConfig, UnknownMessage
from stateline.switch.config import DMV_KEYS
from stateline.switch.credentials import CredentialBook
from stateline.switch.traffic import Search
from stateline.transport.base import Envelope, LateHandler, Reply

from .conftest import token

SENDER = "ORPPD0000"
CONFIG = SwitchConfig(wait_seconds=5, states=("WA", "OR", "NY", "TX"),
                      participation=MappingProxyType({"TX": DMV_KEYS - {"DNQ"}}))
Answerer = Callable[[Envelope], Awaitable[Reply]]


def answer(envelope: Envelope, outcome: Outcome = Outcome.NO_RECORD, *, key: str = "DR",
           sender: str | None = None) -> Reply:
    state = envelope.state
    body = format_answer(Answer(state, "driver", outcome))
    response = Message(key, sender or f"{state}OLN0000", (envelope.message.sender,),
                       envelope.message.control, body=body)
    return Reply(envelope.message_id, state, response, outcome)


async def no_record(envelope: Envelope) -> Reply:
    return answer(envelope)


class Wire:
    """A transport that records what it carries and answers as told."""

    def __init__(self, answerer: Answerer = no_record) -> None:
        self.answerer = answerer
        self.carried: list[Envelope] = []
        self.late: LateHandler | None = None
        self.closed = False

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        self.carried.append(envelope)
        return await self.answerer(envelope)

    def on_late(self, handler: LateHandler) -> None:
        self.late = handler

    async def close(self) -> None:
        self.closed = True


def run(data: DataDir, wire: Wire, scenario: Callable[[Switch], Awaitable[None]]) -> None:
    async def main() -> None:
        switch = Switch(data, wire, config=CONFIG, retry=False)
        await switch.start()
        try:
            await scenario(switch)
        finally:
            await switch.close()
    asyncio.run(main())


def refusals(data: DataDir) -> list[tuple[str | None, str | None, str]]:
    with CredentialBook(data) as book:
        return [(r.credential_ori, r.claimed_ori, r.reason) for r in book.refusals(3)]


def test_an_unknown_or_revoked_token_is_refused_and_logged(nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        with pytest.raises(AuthenticationError):
            await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", "slag_not-a-token")
        assert refusals(nation)[0] == (None, SENDER, "unknown or revoked token")
        with CredentialBook(nation) as book:
            [credential] = [c for c in book.credentials(SENDER) if book.check(secret) == c]
            book.revoke(credential.id)
        with pytest.raises(AuthenticationError):
            await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", secret)

    run(nation, wire, scenario)
    assert wire.carried == []


def test_a_message_naming_another_ori_is_rejected_from_the_switch_and_logged(
        nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit("DQ.WASPD0100.WA.TXT\nOLN/W1", secret)
        assert not sub.accepted
        [reject] = sub.responses
        assert (reject.key, reject.state, reject.outcome) == ("ER", "NL", "rejected")
        er = parse(reject.text)
        assert er.sender == "NL0000000" and er.header is not None
        assert er.header.receiving_ori == SENDER
        assert "SENDING ORI WASPD0100 IS NOT THE ORI OF THIS CREDENTIAL" in reject.text
        assert refusals(nation)[0] == (SENDER, "WASPD0100",
                                       "SENDING ORI WASPD0100 IS NOT THE ORI OF THIS CREDENTIAL")

    run(nation, wire, scenario)
    assert wire.carried == []


@pytest.mark.parametrize(("ori", "text", "words"), [
    ("WAOLN0000", "DQ.WAOLN0000.WA.TXT\nOLN/W1", ".01. INVALID HEADER INFORMATION\n"
                                                 "ORI WAOLN0000 LACKS PERMISSION D FOR DQ"),
    ("ORPPD0000", "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE", ".05. DOB INVALID OR MISSING"),
    ("ORPPD0000", "DQ.ORPPD0000.WA", ".03. TXT NOT FOUND"),
    ("ORPPD0000", "RPQ.ORPPD0000.NL.TXT\nLIC/AB*123", ".19. INVALID DESTINATION ORIS"),
    ("ORPPD0000", "DQ.ORPPD0000.R1.TXT\nOLN/W1", ".02. MESSAGE TYPE NOT ALLOWED"),
])
def test_a_message_the_switch_cannot_take_gets_an_er_quoting_its_start(
        nation: DataDir, ori: str, text: str, words: str) -> None:
    wire = Wire()
    secret = token(nation, ori)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(text, secret)
        assert not sub.accepted and sub.pending == ()
        [reject] = sub.responses
        body = parse(reject.text).body
        assert body is not None and body.startswith(words)
        assert body.endswith(text.replace("\n", "\n")[:100])

    run(nation, wire, scenario)
    assert wire.carried == []


def test_an_ori_missing_from_the_directory_is_rejected(nation: DataDir) -> None:
    secret = token(nation, "WA9999999")

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit("DQ.WA9999999.WA.TXT\nOLN/W1", secret)
        assert "SENDING ORI WA9999999 IS NOT IN THE DIRECTORY" in sub.responses[0].text

    run(nation, Wire(), scenario)


def test_the_er_quotes_only_the_first_100_characters(nation: DataDir) -> None:
    secret = token(nation, SENDER)
    text = f"DQ.{SENDER}.WA.TXT\nNAM/" + "X" * 200

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(text, secret)
        assert sub.responses[0].text.endswith("\n" + text[:100])

    run(nation, Wire(), scenario)


def test_states_are_stamped_and_delivered_the_rewritten_key(nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQG.{SENDER}.NL.*C7.TXT\nNAM/DOE,JANE.DOB/19800101", secret)
        assert sub.accepted and sub.pending == ()
        assert sorted(e.state for e in wire.carried) == ["NY", "OR", "TX", "WA"]
        for envelope in wire.carried:
            delivered = envelope.message
            assert delivered.key == "DQ" and delivered.control == "C7"
            assert delivered.destinations == () and delivered.header is not None
            assert delivered.header.receiving_ori == f"{envelope.state}NLETS00"
            assert envelope.message_id == sub.message_id
        [summary] = sub.responses  # no-record answers are left to the summary
        assert summary.summary is not None
        assert summary.summary.groups["no_record"] == ("NY", "OR", "TX", "WA")

    run(nation, wire, scenario)


def test_a_state_that_does_not_take_the_key_gets_01_and_nl_skips_it(nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DNQ.{SENDER}.TX.WA.TXT\nNAM/DOE,JANE", secret)
        tx, wa = sub.responses
        assert (tx.key, tx.state, tx.outcome) == ("SM", "TX", "rejected")
        assert ".01. USER DOES NOT RESPOND TO MSG TYPE, SWITCH WILL NOT FORWARD" in tx.text
        assert (wa.state, wa.outcome) == ("WA", "no-record")
        sub = await switch.submit(f"DNQ.{SENDER}.NL.TXT\nNAM/DOE,JANE", secret)
        assert sub.responses[0].summary is not None
        assert sub.responses[0].summary.sent_to == ("NY", "OR", "WA")

    run(nation, wire, scenario)
    assert "TX" not in {e.state for e in wire.carried}


def test_a_slow_state_is_reported_not_answered_and_its_answer_arrives_late(
        nation: DataDir) -> None:
    release = asyncio.Event()

    async def slow_ny(envelope: Envelope) -> Reply:
        if envelope.state == "NY":
            await release.wait()
            return answer(envelope, Outcome.RELEASED)
        return answer(envelope)

    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.NL.TXT\nOLN/W1", secret, wait=0.2)
        assert sub.pending == ("NY",)
        [summary] = sub.responses
        assert summary.summary is not None
        assert summary.summary.groups["not_answered"] == ("NY",)
        assert "NO ANSWER WITHIN 0.2 S: NY" in summary.text
        release.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not switch.submission(sub.message_id).pending:
                break
        later = switch.submission(sub.message_id)
        summary, ny = later.responses
        assert summary.summary is not None and summary.summary.groups["hit"] == ("NY",)
        assert summary.outcome == "released"
        assert (ny.state, ny.outcome, ny.late) == ("NY", "released", True)

    run(nation, Wire(slow_ny), scenario)


def test_late_replies_from_the_wire_join_their_submission(nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", secret)
        assert wire.late is not None
        envelope = wire.carried[0]
        reply = answer(envelope, Outcome.RELEASED)
        await wire.late(Reply(reply.message_id, "WA", reply.response, Outcome.RELEASED,
                              "WA-0123456789", late=True))
        await wire.late(Reply(reply.message_id, "WA", reply.response, Outcome.RELEASED,
                              "WA-0123456789", late=True))  # offered twice, kept once
        await wire.late(Reply("M-UNKNOWN", "WA", reply.response, Outcome.RELEASED, late=True))
        first, late = switch.submission(sub.message_id).responses
        assert (first.state, first.outcome) == ("WA", "no-record")
        assert (late.outcome, late.reference, late.late) == ("released", "WA-0123456789", True)
        assert parse(late.text).header is not None

    run(nation, wire, scenario)


@pytest.mark.parametrize(("key", "sender", "words"), [
    ("ER", "NL0000000", "WA SENT AN ER; ONLY NL0000000 SENDS REJECTS"),
    ("DR", "ORLIC0000", "WA ANSWERED AS ORLIC0000"),
])
def test_a_state_may_not_send_rejects_or_answer_as_someone_else(
        nation: DataDir, key: str, sender: str, words: str) -> None:
    async def impostor(envelope: Envelope) -> Reply:
        return answer(envelope, Outcome.RELEASED, key=key, sender=sender)

    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", secret)
        [view] = sub.responses
        assert (view.key, view.outcome) == ("SM", "error")
        assert parse(view.text).sender == "NL0000000" and words in view.text

    run(nation, Wire(impostor), scenario)


def test_only_the_sender_may_read_its_answers(nation: DataDir) -> None:
    secret, other = token(nation, SENDER), token(nation, "WASPD0100")

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", secret)
        assert switch.submission(sub.message_id, secret) == sub
        with pytest.raises(AuthenticationError):
            switch.submission(sub.message_id, other)
        with pytest.raises(UnknownMessage):
            switch.submission("M20260101-0000000000")

    run(nation, Wire(), scenario)


def test_every_message_in_and_out_is_in_the_traffic_log(nation: DataDir) -> None:
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.OR.TXT\nOLN/W1", secret)
        found = switch.stores.traffic.search(Search(message_id=sub.message_id))
        assert sorted((e.direction, e.key, e.destination) for e in found) == [
            ("in", "DQ", "WA OR"), ("out", "DQ", "OR"), ("out", "DQ", "WA"),
            ("out", "DR", SENDER), ("out", "DR", SENDER)]

    run(nation, Wire(), scenario)


def test_closing_the_switch_closes_its_transport(nation: DataDir) -> None:
    wire = Wire()

    async def scenario(switch: Switch) -> None:
        assert not wire.closed

    run(nation, wire, scenario)
    assert wire.closed


def test_a_state_that_fails_is_reported_as_an_error_not_left_pending(nation: DataDir) -> None:
    async def broken(envelope: Envelope) -> Reply:
        raise OSError("disk full")

    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/W1", secret)
        [view] = sub.responses
        assert (view.key, view.state, view.outcome) == ("SM", "WA", "error")
        assert "WA COULD NOT ANSWER; TRY AGAIN LATER" in view.text and sub.pending == ()
        assert await switch.stores.holds.counts() == {}

    run(nation, Wire(broken), scenario)


def test_the_json_form_is_taken_like_the_text_form(nation: DataDir) -> None:
    wire = Wire()
    secret = token(nation, SENDER)
    raw = ('{"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"], "control": "J1",'
           ' "fields": [{"prefix": "OLN", "value": "W1"}], "body": null, "header": null}')

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(raw, secret, form="json")
        assert sub.accepted and [v.state for v in sub.responses] == ["WA"]
        assert wire.carried[0].message.control == "J1"
        bad = await switch.submit('{"key": "DQ"}', secret, form="json")
        assert not bad.accepted and bad.responses[0].key == "ER"

    run(nation, wire, scenario)


def test_a_held_message_whose_leg_was_already_answered_is_let_go_not_sent_twice(
    nation: DataDir,
) -> None:
    secret = token(nation, SENDER)
    wire = Wire()

    async def scenario(switch: Switch) -> None:
        await switch.set_status("WA", Service.OUT, "test", deliver=False)
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/WDL1234567", secret)
        assert sub.pending == ("WA",) and wire.carried == []
        [held] = await switch.stores.holds.waiting("WA")
        # The switch kept an answer for this leg, then stopped before letting go of the hold.
        reply = answer(Envelope(sub.message_id, "WA", held.message))
        switch.courier.answered(reply, SENDER, late=True)
        await switch.set_status("WA", Service.IN, "test", deliver=False)
        assert await switch.deliver_held("WA") == 1
        assert wire.carried == []
        assert await switch.stores.holds.waiting("WA") == []
        assert [r.late for r in switch.submission(sub.message_id).responses].count(True) == 1

    run(nation, wire, scenario)
