"""The switch shows a sender a state's answer from the record the state sent, never by
reading the response text back: a text that reads otherwise, or not at all, changes nothing
the sender is shown as fields, and answers kept before records travelled show none."""

from __future__ import annotations

import ast
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.protocol import (
    Answer,
    Field,
    Message,
    Outcome,
    OutputHeader,
    Record,
    Section,
    Stamp,
    format_answer,
    format_text,
    format_xml,
    read_xml_answer,
    responses,
    xmlform,
)
from stateline.switch import Switch
from stateline.switch.submissions import Sent, SubmissionStore
from stateline.switch.views import FieldView, Submission
from stateline.transport.base import Envelope, Reply

from .conftest import token
from .test_switch import SENDER, Wire, run

RECORD = Answer("WA", "driver", Outcome.PARTIAL, (Record((
    Section("identity", (Field("OLN", "WDL123456"), Field("NAM", "DOE,JANE Q"))),
    Section("ssn", withheld=True))),), policy="no-ssn")
SHOWN = (FieldView(1, "identity", "OLN", "WDL123456"),
         FieldView(1, "identity", "NAM", "DOE,JANE Q"), FieldView(1, "ssn", withheld=True))
DECOY = Answer("WA", "driver", Outcome.RELEASED, (Record((
    Section("identity", (Field("OLN", "WDL999999"),)), Section("ssn", (Field("SOC", "1"),)))),))
BODIES = {"matching": format_answer(RECORD), "decoy": format_answer(DECOY),
          "unreadable": "THIS TEXT IS NO ANSWER AT ALL"}


def _never(body: str) -> Answer:
    raise AssertionError(f"the switch read a response text back: {body[:40]!r}")


def answering(body: str, answer: Answer | None = RECORD) -> Wire:
    async def reply(envelope: Envelope) -> Reply:
        response = Message("DR", "WAOLN0000", (envelope.message.sender,),
                           envelope.message.control, body=body)
        return Reply(envelope.message_id, "WA", response, Outcome.PARTIAL, answer=answer)
    return Wire(reply)


@pytest.mark.parametrize("body", sorted(BODIES))
def test_the_sender_sees_the_fields_of_the_record_whatever_the_text_says(
        nation: DataDir, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    secret = token(nation, SENDER)
    monkeypatch.setattr(responses, "read_answer", _never)
    monkeypatch.setattr(xmlform, "read_answer", _never)
    seen: list[Submission] = []

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/WDL123456", secret)
        seen.extend([sub, switch.submission(sub.message_id)])
        query = Message("DQ", SENDER, ("WA",), None, (Field("OLN", "WDL123456"),))
        seen.append(await switch.submit(format_xml(query), secret, form="xml"))

    run(nation, answering(BODIES[body]), scenario)
    monkeypatch.undo()
    for sub in seen:
        (view,) = sub.responses
        assert (view.state, view.outcome, view.fields) == ("WA", "partial", SHOWN)
        assert BODIES[body] in view.text  # the text goes as the state wrote it
    as_xml = seen[2].responses[0].text
    if body == "matching":  # the elements an XML sender gets are the record's
        assert read_xml_answer(as_xml) == RECORD
    else:  # a record that is not what the text says stays out of the XML text
        assert "st:Answer" not in as_xml


def test_a_reply_without_a_record_shows_no_fields_even_if_its_text_reads_as_one(
        nation: DataDir) -> None:
    secret = token(nation, SENDER)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/WDL123456", secret)
        (view,) = sub.responses
        assert view.fields == () and format_answer(RECORD) in view.text

    run(nation, answering(format_answer(RECORD), None), scenario)


def test_a_late_answer_shows_the_fields_of_its_record(nation: DataDir) -> None:
    secret = token(nation, SENDER)
    wire = answering(format_answer(DECOY), DECOY)

    async def scenario(switch: Switch) -> None:
        sub = await switch.submit(f"DQ.{SENDER}.WA.TXT\nOLN/WDL123456", secret)
        assert wire.late is not None
        response = Message("DR", "WAOLN0000", (SENDER,), None, body="RELEASED AFTER REVIEW")
        await wire.late(Reply(sub.message_id, "WA", response, Outcome.PARTIAL, "WA-0123456789",
                              late=True, answer=RECORD))
        first, later = switch.submission(sub.message_id).responses
        assert first.fields[0] == FieldView(1, "identity", "OLN", "WDL999999")
        assert later.late and later.fields == SHOWN

    run(nation, wire, scenario)


OLD_SCHEMA = """
CREATE TABLE submission (message_id TEXT PRIMARY KEY, time TEXT NOT NULL, sender TEXT NOT NULL,
    credential TEXT NOT NULL, key TEXT NOT NULL, accepted INTEGER NOT NULL,
    fan_out INTEGER NOT NULL, wait REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE leg (message_id TEXT NOT NULL, place INTEGER NOT NULL, state TEXT NOT NULL,
    status TEXT NOT NULL, PRIMARY KEY (message_id, state)) WITHOUT ROWID;
CREATE TABLE response (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, time TEXT NOT NULL,
    state TEXT NOT NULL, key TEXT NOT NULL, outcome TEXT NOT NULL, text TEXT NOT NULL,
    body TEXT, reference TEXT, late INTEGER NOT NULL, photos TEXT NOT NULL,
    summary INTEGER NOT NULL);
"""


def test_a_switch_db_from_before_records_gains_the_column_and_its_answers_show_no_fields(
        tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    stamp = Stamp(datetime(2026, 1, 2, 3, 4), 5)
    delivered = Message("DR", "WAOLN0000", control="C1", body=format_answer(RECORD),
                        header=OutputHeader(stamp, stamp, SENDER))
    data.switch_db.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data.switch_db)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO submission VALUES ('M1', 't', ?, 'c1', 'DQ', 1, 0, 5.0)", (SENDER,))
    db.execute("INSERT INTO leg VALUES ('M1', 0, 'WA', 'partial')")
    db.execute("INSERT INTO response (message_id, time, state, key, outcome, text, body,"
               " reference, late, photos, summary) VALUES ('M1', 't', 'WA', 'DR', 'partial',"
               " ?, ?, NULL, 0, '[]', 0)", (format_text(delivered), delivered.body))
    db.commit()
    db.close()
    with SubmissionStore(data) as store:
        (old,) = store.view("M1").responses
        assert old.fields == () and old.answer is None and old.text == format_text(delivered)
        store.respond("M1", Sent("WA", delivered, "partial", late=True, answer=RECORD))
        _, new = store.view("M1").responses
        assert new.fields == SHOWN and new.answer == RECORD
    with SubmissionStore(data) as store:  # opened again: the column is there already
        assert [v.fields for v in store.view("M1").responses] == [(), SHOWN]


READERS_OF_TEXT = frozenset({"read_answer", "read_xml_answer", "format_xml", "fields_of"})
"""What reads a response text back as an answer (format_xml does, for its elements)."""


def test_no_switch_module_reads_an_answer_out_of_a_text() -> None:
    import stateline.switch

    folder = Path(stateline.switch.__file__).parent
    used: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 for alias in node.names}
        names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        used[path.name] = names & READERS_OF_TEXT
    assert "submissions.py" in used and "switch.py" in used
    assert {name: found for name, found in used.items() if found} == {}
