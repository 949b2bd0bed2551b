"""The JSON form: the same message as legacy text, and a clear reject for every bad shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stateline.protocol import (
    Reject,
    RejectCode,
    dumps,
    format_text,
    from_json,
    loads,
    parse,
    read_json,
    to_json,
)

DELIVERED = (
    "DR.WAOLN0000.*C9\n09:15 11/25/2026 00041\n09:15 11/25/2026 00042 ORPPD0000\nTXT\n"
    "WA DRIVER RESPONSE: NO-RECORD\nNOT ON FILE"
)


@pytest.mark.parametrize(
    "text",
    [
        "DQ.ORPPD0000.WA.OR.*CASE42.TXT\nNAM/DOE,JANE Q.DOB/19850314.SEX/F",
        "AM.ORPPD0000.WA.TXT\nLINE ONE\nLINE TWO",
        DELIVERED,
        "ZQ.ORPPD0000.WA.TXT\nABC/1",
    ],
)
def test_json_and_text_describe_the_same_message(text: str) -> None:
    message = parse(text)
    assert from_json(to_json(message)) == message
    assert loads(dumps(message)) == message
    assert format_text(loads(dumps(message))) == text


def test_the_json_shape_is_documented_and_stable() -> None:
    assert to_json(parse("DQ.ORPPD0000.WA.TXT\nOLN/WDL123456")) == {
        "key": "DQ",
        "sender": "ORPPD0000",
        "destinations": ["WA"],
        "control": None,
        "fields": [{"prefix": "OLN", "value": "WDL123456"}],
        "body": None,
        "header": None,
        "supported": True,
    }
    header = to_json(parse(DELIVERED))["header"]
    assert header == {
        "received": {"at": "2026-11-25T09:15", "counter": 41},
        "sent": {"at": "2026-11-25T09:15", "counter": 42},
        "receiving_ori": "ORPPD0000",
    }


def test_agencies_may_send_json_with_only_the_members_they_need() -> None:
    message = read_json('{"key": "rq", "sender": "orppd0000", "destinations": ["wa"],'
                        ' "fields": [{"prefix": "vin", "value": "1hgcm82633a004352"}]}')
    assert format_text(message) == "RQ.ORPPD0000.WA.TXT\nVIN/1HGCM82633A004352"


def good() -> dict[str, Any]:
    return {"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"],
            "fields": [{"prefix": "OLN", "value": "X1"}]}


@pytest.mark.parametrize(
    ("change", "code", "says"),
    [
        (lambda d: d.pop("key"), RejectCode.STRUCTURE, "key MUST BE A STRING"),
        (lambda d: d.update(sender=12), RejectCode.STRUCTURE, "sender MUST BE A STRING"),
        (lambda d: d.update(destinations="WA"), RejectCode.STRUCTURE, "MUST BE A LIST"),
        (lambda d: d.update(destinations=[1]), RejectCode.STRUCTURE, "LIST OF STRINGS"),
        (lambda d: d.update(fields=[["OLN", "X1"]]), RejectCode.STRUCTURE, "MUST BE AN OBJECT"),
        (lambda d: d.update(fields=[{"prefix": "OLN"}]), RejectCode.STRUCTURE, "value"),
        (lambda d: d.update(extra=1), RejectCode.STRUCTURE, "UNKNOWN MEMBER extra"),
        (lambda d: d.update(header={"sent": 1}), RejectCode.STRUCTURE, "MUST BE AN OBJECT"),
        (lambda d: d.update(body="HELLO", key="AM", fields=[{"prefix": "AB", "value": "1"}]),
         RejectCode.STRUCTURE, "NOT BOTH"),
        (lambda d: d.update(sender="SHORT"), RejectCode.HEADER, "9 CHARACTERS"),
        (lambda d: d.update(destinations=[]), RejectCode.DESTINATION, "NO DESTINATION"),
        (lambda d: d.update(fields=[{"prefix": "OLN", "value": "A.B"}]), RejectCode.FORMAT,
         "PERIOD"),
        (lambda d: d.update(fields=[]), RejectCode.MISSING, "FIELDS MISSING"),
    ],
)
def test_a_bad_json_message_gets_a_clear_reject(change: Any, code: RejectCode, says: str) -> None:
    data = good()
    change(data)
    with pytest.raises(Reject) as caught:
        read_json(json.dumps(data))
    assert caught.value.code is code
    assert says in caught.value.text


@pytest.mark.parametrize("raw", ["", "{", "[]", "null", '"DQ"', "1e999999", "[" * 5000])
def test_text_that_is_not_a_json_object_is_a_structure_reject(raw: str) -> None:
    with pytest.raises(Reject) as caught:
        loads(raw)
    assert caught.value.code is RejectCode.STRUCTURE
