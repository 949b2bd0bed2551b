"""The switch carries Nlets XML as it carries text: an agency sends XML end to end through the
switch to the state gateways, and its answers, status messages and rejects come back in XML."""

from __future__ import annotations

import asyncio
import contextlib

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import format_xml, parse, read, read_xml, read_xml_answer
from stateline.switch import AuthenticationError
from stateline.switch.credentials import CredentialBook
from stateline.switch.traffic import Search

from .conftest import running, samples, token

WA_LOCAL, LOCAL, ICE = "WASPD0100", "ORPPD0000", "VTICE0900"


def audited_message_ids(data: DataDir, state: str) -> list[str]:
    with open_state_log(data, state) as log:
        return [log.entry(seq).body.get("message_id", "") for seq in range(log.size)
                if log.entry(seq).kind.value == "decision"]


def test_an_xml_query_goes_end_to_end_and_its_answer_comes_back_in_xml(
        nation: DataDir) -> None:
    person = samples(nation, "WA")[0]
    secret = token(nation, WA_LOCAL)
    query = format_xml(read(f"DQ.{WA_LOCAL}.WA.*CASE9.TXT\nOLN/{person.oln}.IMQ/Y"))

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(query, secret, form="xml")
            assert sub.accepted and sub.pending == ()
            [answer] = sub.responses
            assert (answer.key, answer.state, answer.outcome) == ("DR", "WA", "released")
            delivered = read_xml(answer.text)
            assert (delivered.sender, delivered.control) == ("WAOLN0000", "CASE9")
            assert delivered.header is not None and delivered.header.receiving_ori == WA_LOCAL
            assert read_xml_answer(answer.text).records[0].sections[0].fields[0].value \
                == person.oln
            assert ("identity", "OLN", person.oln) in [(f.element, f.prefix, f.value)
                                                       for f in answer.fields]
            assert sub.message_id in audited_message_ids(nation, "WA")
            assert switch.submission(sub.message_id, secret, form="xml") == sub
            as_text = switch.submission(sub.message_id, secret).responses[0].text
            assert parse(as_text) == delivered
            [logged] = [e for e in switch.stores.traffic.search(
                Search(message_id=sub.message_id)) if e.direction == "in"]
            assert logged.text == query and logged.sender == WA_LOCAL

    asyncio.run(scenario())


def test_a_multi_state_xml_query_gets_its_summary_in_xml(nation: DataDir) -> None:
    person = samples(nation, "OR")[0]
    secret = token(nation, LOCAL)
    query = format_xml(read(f"DQ.{LOCAL}.NL.TXT\nNAM/{person.name}.DOB/{person.dob}"))

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(query, secret, form="xml")
            summary, *answers = sub.responses
            assert summary.state == "NL" and summary.summary is not None
            assert read_xml(summary.text).sender == "NL0000000"
            assert answers and all(read_xml(a.text).key == "DR" for a in answers)

    asyncio.run(scenario())


def test_malformed_xml_gets_its_er_reject_in_xml(nation: DataDir) -> None:
    secret = token(nation, LOCAL)
    raw = "<n2:NLETS xmlns:n2='http://www.nlets.org/niem/1.0'><n2:NLETSMessageHeader>"

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(raw, secret, form="xml")
            assert not sub.accepted
            [reject] = sub.responses
            er = read_xml(reject.text)
            assert (er.key, er.sender, reject.outcome) == ("ER", "NL0000000", "rejected")
            assert er.body is not None and er.body.startswith(".03. TXT NOT FOUND")
            assert er.body.split("\n")[1].startswith("XML IS NOT WELL-FORMED")
            assert er.header is not None and er.header.receiving_ori == LOCAL

    asyncio.run(scenario())


def test_a_key_the_network_does_not_carry_is_refused_by_status_not_as_malformed(
        nation: DataDir) -> None:
    """The guide's AA parses; no state takes it, so the sender gets `.01.`, in XML."""
    secret = token(nation, LOCAL)
    alert = format_xml(read(f"AA.{LOCAL}.WA.*TESTALERT1.TXT\nSYNTHETIC ALERT TEXT"))

    async def scenario() -> None:
        async with running(nation) as switch:
            sub = await switch.submit(alert, secret, form="xml")
            assert sub.accepted
            [status] = sub.responses
            assert status.outcome == "rejected"
            message = read_xml(status.text)
            assert message.key == "SM" and message.body is not None
            assert message.body.startswith(".01. USER DOES NOT RESPOND TO MSG TYPE")
            assert "DESTINATION WA MESSAGE AA" in message.body

    asyncio.run(scenario())


def test_a_policy_blocking_ice_holds_for_xml_as_for_text(nation: DataDir) -> None:
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(nation, "WA", preset("block-ice").text(), who="test")
    person = samples(nation, "WA")[1]
    secret = token(nation, ICE)
    text = f"DQ.{ICE}.WA.TXT\nOLN/{person.oln}"

    async def scenario() -> None:
        async with running(nation) as switch:
            by_text = await switch.submit(text, secret)
            by_xml = await switch.submit(format_xml(read(text)), secret, form="xml")
            assert by_text.responses[0].outcome == by_xml.responses[0].outcome == "denied"
            answer = read_xml_answer(by_xml.responses[0].text)
            assert answer.policy == "block-ice" and answer.records == ()

    asyncio.run(scenario())


def test_an_unknown_token_logs_the_ori_the_xml_claims(nation: DataDir) -> None:
    query = format_xml(read(f"DQ.{LOCAL}.WA.TXT\nOLN/X1"))

    async def scenario() -> None:
        async with running(nation) as switch:
            with contextlib.suppress(AuthenticationError):
                await switch.submit(query, "not-a-token", form="xml")

    asyncio.run(scenario())
    with CredentialBook(nation) as book:
        latest = book.refusals(1)[0]
    assert (latest.claimed_ori, latest.reason) == (LOCAL, "unknown or revoked token")
