"""An answer's JSON form: what a gateway sends the switch beside the response text. It reads
back equal, and every bad shape is a clear reject, never a traceback or an oversized record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.protocol import (
    Answer,
    Field,
    Outcome,
    Record,
    Reject,
    Section,
    answer_from_json,
    answer_to_json,
)
from stateline.protocol.jsonform import MOST_CHARACTERS, MOST_FIELDS, MOST_RECORDS

from .test_fuzz import answers

PARTIAL = Answer("WA", "driver", Outcome.PARTIAL, (Record((
    Section("identity", (Field("OLN", "WDL123456"), Field("NAM", "DOE,JANE Q"))),
    Section("photo", withheld=True))),), policy="no-photos-out-of-state",
    reference="WA-0A1B2C3D4E")


@settings(max_examples=200, deadline=None)
@given(answers(least_fields=0, notes=st.text(max_size=40)))
def test_an_answer_reads_back_equal_from_its_json(answer: Answer) -> None:
    written = json.dumps(answer_to_json(answer))
    assert answer_from_json(json.loads(written)) == answer


def test_the_json_names_each_element_and_marks_what_was_withheld() -> None:
    assert answer_to_json(PARTIAL) == {
        "state": "WA", "group": "driver", "outcome": "partial",
        "policy": "no-photos-out-of-state", "reason": None, "reference": "WA-0A1B2C3D4E",
        "note": None,
        "records": [{"sections": [
            {"element": "identity", "fields": [{"prefix": "OLN", "value": "WDL123456"},
                                               {"prefix": "NAM", "value": "DOE,JANE Q"}]},
            {"element": "photo", "withheld": True}]}]}


def _good() -> dict[str, Any]:
    return answer_to_json(PARTIAL)


def _with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    obj = _good()
    place: Any = obj
    for step in path[:-1]:
        place = place[step]
    place[path[-1]] = value
    return obj


SECTION = ("records", 0, "sections", 0)
FIELD = (*SECTION, "fields", 0)


@pytest.mark.parametrize(("data", "says"), [
    ([], "MUST BE AN OBJECT"),
    ({**_good(), "extra": 1}, "UNKNOWN MEMBER extra"),
    ({k: v for k, v in _good().items() if k != "state"}, "state MUST BE A STRING"),
    (_with(("state",), "WAS"), "IS NOT A 2-CHARACTER CODE"),
    (_with(("state",), "wa"), "IS NOT A 2-CHARACTER CODE"),
    (_with(("outcome",), "maybe"), "outcome IS NOT ONE OF"),
    (_with(("group",), "boat"), "IS NOT DRIVER, VEHICLE OR HISTORY"),
    (_with(("policy",), 7), "policy MUST BE A STRING"),
    (_with(("records",), {}), "records MUST BE A LIST"),
    (_with(("records", 0), []), "record 1 MUST BE AN OBJECT"),
    (_with((*SECTION, "withheld"), "yes"), "withheld MUST BE true OR false"),
    (_with((*SECTION, "withheld"), True), "MUST CARRY FIELDS OR BE WITHHELD"),
    (_with(("records", 0, "sections", 1, "withheld"), False), "MUST CARRY FIELDS"),
    (_with((*SECTION, "element"), "id entity"), "IS NOT A WORD"),
    (_with((*SECTION, "colour"), "red"), "UNKNOWN MEMBER colour"),
    (_with((*FIELD, "prefix"), "O/"), "FIELD PREFIX"),
    (_with((*FIELD, "value"), "WDL.123"), "HAS A PERIOD OR CONTROL CHARACTER"),
    (_with((*FIELD, "value"), "W\ud800"), "LONE SURROGATE"),
    (_with((*FIELD, "value"), "W" * (MOST_CHARACTERS + 1)), "LONGER THAN"),
    (_with(("note",), "N" * (MOST_CHARACTERS + 1)), "LONGER THAN"),
])
def test_a_bad_answer_is_a_reject_naming_what_is_wrong(data: object, says: str) -> None:
    with pytest.raises(Reject, match=says):
        answer_from_json(data)


def test_an_answer_is_bounded_in_records_and_in_fields() -> None:
    record = {"sections": [{"element": "identity",
                            "fields": [{"prefix": "OLN", "value": "W1"}]}]}
    too_many = _with(("records",), [record] * (MOST_RECORDS + 1))
    with pytest.raises(Reject, match=f"MORE THAN {MOST_RECORDS} RECORDS"):
        answer_from_json(too_many)
    wide = {"sections": [{"element": "history",
                          "fields": [{"prefix": "CNV", "value": "X"}] * (MOST_FIELDS // 2 + 1)}]}
    with pytest.raises(Reject, match=f"MORE THAN {MOST_FIELDS} FIELDS"):
        answer_from_json(_with(("records",), [wide, wide]))
    assert len(answer_from_json(_with(("records",), [wide])).records[0].sections[0].fields) \
        == MOST_FIELDS // 2 + 1
