"""A reply carries the state's answer as a record beside its text, on every carrier and from
the outbox, so the switch never has to read the text back; a reply or outbox row from before
records travelled reads with none."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway.outbox import Outbox, file_late
from stateline.gateway.pipeline import Result
from stateline.protocol import (
    Answer,
    Field,
    Message,
    Outcome,
    OutputHeader,
    Record,
    Section,
    Stamp,
    dumps,
    format_answer,
)
from stateline.sim.nation import build_nation
from stateline.transport.base import (
    Envelope,
    Reply,
    TransportError,
    reply_from_json,
    reply_of,
    reply_to_json,
)
from stateline.transport.inprocess import InProcessTransport
from stateline.transport.late import late_reply as _late_reply
from stateline.transport.nats_gateway import late_reply

ANSWER = Answer("WA", "driver", Outcome.PARTIAL, (Record((
    Section("identity", (Field("OLN", "WDL123456"),)), Section("photo", withheld=True))),),
    policy="no-photos", reference="WA-0A1B2C3D4E")
RESPONSE = Message("DR", "WAOLN0000", ("NYHSI0100",), "C1", body=format_answer(ANSWER))

OLD_OUTBOX = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, message_id TEXT NOT NULL,
    requester TEXT NOT NULL, response TEXT NOT NULL, outcome TEXT NOT NULL,
    seq INTEGER NOT NULL, request_id TEXT NOT NULL, reference TEXT, photos TEXT NOT NULL,
    delivered TEXT);
"""


def result(answer: Answer | None = ANSWER) -> Result:
    return Result(RESPONSE, Outcome.PARTIAL, 7, "req7", "WA-0A1B2C3D4E", (b"\x89PNG",), answer)


def test_a_reply_carries_its_answer_record_across_the_wire() -> None:
    reply = reply_of("M1", "WA", result())
    assert reply.answer == ANSWER
    assert reply_from_json(reply_to_json(reply)) == reply
    bare = Reply("M1", "WA", RESPONSE, Outcome.PARTIAL)
    assert reply_from_json(reply_to_json(bare)).answer is None


def test_a_reply_from_before_records_travelled_reads_with_none() -> None:
    obj = json.loads(reply_to_json(reply_of("M1", "WA", result())))
    del obj["answer"]
    assert reply_from_json(json.dumps(obj).encode()) == reply_of("M1", "WA", result(None))


def test_a_reply_with_a_broken_answer_record_is_not_a_reply() -> None:
    obj = json.loads(reply_to_json(reply_of("M1", "WA", result())))
    obj["answer"]["records"][0]["sections"][1]["withheld"] = "maybe"
    with pytest.raises(TransportError, match="withheld MUST BE true OR false"):
        reply_from_json(json.dumps(obj).encode())


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path)
    folder.state_dir("WA").mkdir(parents=True)
    return folder


def test_a_late_answer_leaves_the_outbox_with_its_record(data: DataDir) -> None:
    with Outbox(data, "WA") as outbox:
        outbox.put("M1", "NYHSI0100", result())
        (late,) = outbox.pending()
    assert late.result == result()
    for made in (_late_reply(late), late_reply(late)):
        assert made.late and made.answer == ANSWER


def test_an_outbox_from_before_records_reads_its_rows_with_none_and_takes_new_ones(
        data: DataDir) -> None:
    db = sqlite3.connect(data.state_db("WA"))
    db.executescript(OLD_OUTBOX)
    db.execute("INSERT INTO outbox (time, message_id, requester, response, outcome, seq,"
               " request_id, reference, photos) VALUES (?, 'M0', 'NYHSI0100', ?, 'partial', 6,"
               " 'req6', NULL, '[]')", (datetime.now(UTC).isoformat(), dumps(RESPONSE)))
    db.commit()
    file_late(db, "M1", "NYHSI0100", result())  # as the review queue files one
    db.commit()
    db.close()
    with Outbox(data, "WA") as outbox:
        old, new = outbox.pending()
    assert old.result.response == RESPONSE and old.result.answer is None
    assert _late_reply(old).answer is None
    assert new.result == result()


def test_a_gateway_reply_carries_the_record_its_text_was_written_from(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    build_nation(data, ("WA",), residents=30, seed=9)
    store = open_store(data.dmv_url("WA"))
    try:
        oln = store.sample(1, seed=1)[0].oln
    finally:
        store.close()
    stamp = Stamp(datetime.now(UTC), 1)
    envelope = Envelope("M1", "WA", Message("DQ", "WASPD0100", (), None, (Field("OLN", oln),),
                                            header=OutputHeader(stamp, stamp, "WANLETS00")))

    async def main() -> Reply:
        transport = InProcessTransport(data, ("WA",))
        transport.start()
        try:
            return await transport.deliver(envelope, 5)
        finally:
            await transport.close()

    reply = asyncio.run(main())
    assert reply.answer is not None and reply.answer.records
    assert reply.response.body == format_answer(reply.answer)
    identity = {f.prefix: f.value for f in reply.answer.records[0].sections[0].fields}
    assert identity["OLN"] == oln
    assert reply_from_json(reply_to_json(reply)).answer == reply.answer
