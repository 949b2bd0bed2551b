"""Text that cannot be written as UTF-8 (a lone surrogate, as JSON's \\ud800 escape or a
command line's undecodable bytes give) is refused by both codecs with a reject that can
itself be written anywhere: never a message that fails later in a store or on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.protocol import Reject, RejectCode, read, read_json

LONE = ("\ud800", "\udfff", "\udcff")
GOOD: dict[str, Any] = {"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"],
                        "control": "C1", "fields": [{"prefix": "OLN", "value": "WDL1"}]}


def _with(member: str, lone: str) -> dict[str, Any]:
    doc = json.loads(json.dumps(GOOD))
    if member == "destinations":
        doc["destinations"] = [f"W{lone}"]
    elif member in ("prefix", "value"):
        doc["fields"][0][member] = f"X{lone}"
    elif member == "body":
        doc = {**doc, "key": "AM", "fields": [], "body": f"hello {lone}"}
    elif member == "unknown-key-value":
        doc = {**doc, "key": "ZZ", "fields": [{"prefix": "ABC", "value": lone}]}
    else:
        doc[member] = f"D{lone}" if member != "key" else lone
    return doc


def _writable(reject: Reject) -> None:
    json.dumps(reject.as_json(), ensure_ascii=False).encode("utf-8")
    reject.text.encode("utf-8")


@pytest.mark.parametrize("lone", LONE)
@pytest.mark.parametrize("member", ["key", "sender", "destinations", "control", "prefix",
                                    "value", "body", "unknown-key-value"])
def test_a_lone_surrogate_in_any_json_member_is_a_structure_reject(member: str,
                                                                   lone: str) -> None:
    raw = json.dumps(_with(member, lone))  # ASCII: the surrogate travels as \\udXXX
    with pytest.raises(Reject) as caught:
        read_json(raw)
    assert caught.value.code is RejectCode.STRUCTURE
    assert "UTF-8" in caught.value.text
    _writable(caught.value)


@pytest.mark.parametrize("raw", [
    "DQ.ORPPD0000.WA.TXT\nOLN/WDL\ud800",
    "AM.ORPPD0000.WA.TXT\nHELLO \udcff",
    "D\ud800.ORPPD0000.WA.TXT\nOLN/WDL1",
    "DQ.ORPPD0000.WA.*C\udfff.TXT\nOLN/WDL1",
])
def test_a_lone_surrogate_in_legacy_text_is_a_structure_reject(raw: str) -> None:
    with pytest.raises(Reject) as caught:
        read(raw)
    assert caught.value.code is RejectCode.STRUCTURE
    _writable(caught.value)


def test_a_reject_built_from_unwritable_text_can_still_be_written() -> None:
    reject = Reject(RejectCode.HEADER, "MESSAGE KEY \ud800 IS NOT VALID", original="\udcff!")
    _writable(reject)
    assert "MESSAGE KEY" in reject.text


@given(st.text(st.characters(codec=None, categories=None), max_size=40))
def test_any_text_read_either_way_is_a_message_or_a_writable_reject(raw: str) -> None:
    for reader, text in ((read, raw), (read_json, json.dumps({**GOOD, "control": raw}))):
        try:
            message = reader(text)
        except Reject as reject:
            _writable(reject)
        else:
            json.dumps(repr(message)).encode("utf-8")
            for value in (message.key, message.control or "", message.body or "",
                          *(f.value for f in message.fields)):
                value.encode("utf-8")
