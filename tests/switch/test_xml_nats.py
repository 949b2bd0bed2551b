"""XML over NATS: a sender names the form "xml" on the switch's submit subject, and reads its
answers back in XML on the show subject (a real server, STATELINE_TEST_NATS_URL)."""

from __future__ import annotations

import asyncio

import pytest

from stateline.datadir import DataDir
from stateline.protocol import format_xml, read, read_xml, read_xml_answer
from stateline.sim.nation import build_nation
from stateline.transport.nats import Names
from stateline.transport.nats_switch import SubmissionService, show, submit, switch_over_nats

from ..transport.natsbus import LOCAL, names, nats_url, olns, switch_config, token
from ..transport.test_nats import Served

pytestmark = pytest.mark.nats
__all__ = ["names"]


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("xml-nats"))
    build_nation(data, ("WA", "OR"), residents=100, seed=9)
    switch_config(data)
    return data


def test_an_xml_message_crosses_nats_and_its_answers_come_back_in_xml(
        nation: DataDir, names: Names) -> None:
    secret = token(nation, LOCAL)
    oln = olns(nation, "WA", 1)[0]
    query = format_xml(read(f"DQ.{LOCAL}.WA.TXT\nOLN/{oln}"))

    async def scenario() -> None:
        async with switch_over_nats(nation, nats_url(), names, retry=False) as (
                switch, transport), Served(nation, "WA", names):
            service = SubmissionService(switch, transport.client, names)
            await service.start()
            try:
                sent = await submit(nats_url(), names, query, secret, form="xml")
                assert sent["accepted"]
                [answer] = sent["responses"]
                assert read_xml(answer["text"]).key == "DR"
                assert read_xml_answer(answer["text"]).outcome.value in ("released", "partial")
                again = await show(nats_url(), names, str(sent["message_id"]), secret,
                                   form="xml")
                assert again["responses"][0]["text"] == answer["text"]
                plain = await show(nats_url(), names, str(sent["message_id"]), secret)
                assert not plain["responses"][0]["text"].startswith("<")
                rejected = await submit(nats_url(), names, "<n2:NLETS", secret, form="xml")
                assert not rejected["accepted"]
                er = read_xml(rejected["responses"][0]["text"])
                assert er.key == "ER" and (er.body or "").startswith(".03.")
            finally:
                await service.stop()

    asyncio.run(scenario())
