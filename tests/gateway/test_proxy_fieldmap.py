"""Field maps and the reader of a DMV responder's answers, as a coordinator writing a map and
an attacker shaping an answer meet them: a map that cannot be trusted is refused with its
setting named, and no answer, however shaped, gets a field past the map."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.dmv.elements import tag_driver
from stateline.dmv.layouts import LAYOUTS, write
from stateline.dmv.records import Credential, Person
from stateline.gateway.answers import Reading, read_records
from stateline.gateway.fieldmap import (
    STYLES,
    FieldMap,
    FieldMapError,
    load_field_map,
    parse_field_map,
)
from stateline.gateway.upstream import UnreadableAnswer, UpstreamError, UpstreamNoAnswer

MAPS = {name: load_field_map(name, Path(".")) for name in LAYOUTS}
PERSON = Person("WDLTEST00001", "ROE", "RILEY", "Q", "", date(1990, 4, 5), "X", 66, 150, "BRO",
                "BLK", "1 SAMPLE WAY", "TESTVILLE", "WA", "98000", "C", "VALID", "NONE", "NONE",
                date(2024, 1, 2), date(2032, 1, 2), Credential.STANDARD, "000112222")
"""Synthetic: an SSN in the never-issued 000 area."""


def answer(layout: str) -> str:
    return write(LAYOUTS[layout], [tag_driver(PERSON)], "DR")


BASE = """
[answer]
style = "labeled"
record = "--- RECORD "
no_record = ["NO RECORD FOUND"]

[fields]
"LICENSE NO:" = { element = "identity", as = "OLN" }
"""


@pytest.mark.parametrize(("text", "problem"), [
    ("[answer]\nstyle = 'labeled'", "needs an \\[answer\\] table and a \\[fields\\] table"),
    (BASE.replace('"labeled"', '"columns"'), "style must be prefixed or labeled"),
    (BASE.replace('record = "--- RECORD "', 'record = ""'), "record must be the text"),
    (BASE.replace('no_record = ["NO RECORD FOUND"]', "no_record = []"), "with at least one"),
    (BASE + '"SSN:" = "ssn number"', "must name one of identity"),
    (BASE + '"SOCIAL SECURITY:" = "ssn"', "not 2-4 capitals and digits; give it one"),
    (BASE + '"SOC/" = "ssn"', "a labeled map names fields as LABEL:"),
    (BASE + '"SSN:" = { element = "ssn", as = "SOC", weight = 1 }', "no setting weight"),
    (BASE + '"DOB:" = { element = "identity", date = "DD.MM.YY" }', "date must be one of"),
    (BASE + '"PIC:" = { element = "ssn", image = true }', "belongs to a photo field"),
    (BASE + '"PIC:" = { element = "photo", image = true }\n'
            '"IMG:" = { element = "photo", image = true }', "only one field may carry"),
    (BASE + '"SSN:" = { element = "ssn", as = "OLN" }', "answered in two elements"),
    (BASE.replace('"--- RECORD "', '"RECORD "')
     + '"RECORD NO:" = { element = "identity", as = "RNO" }', "starts like a record or image"),
    (BASE.replace('as = "OLN"', 'as = "LNO"'), "no field is answered as OLN or VIN"),
    (BASE + "[extra]\n", "no table extra"),
    ("[answer\n", "field map"),
])
def test_a_map_that_cannot_be_trusted_is_refused_naming_its_setting(text: str,
                                                                    problem: str) -> None:
    with pytest.raises(FieldMapError, match=problem):
        parse_field_map(text, "field map")


def test_every_field_a_layout_writes_is_named_by_its_map() -> None:
    for name, layout in LAYOUTS.items():
        mapped = MAPS[name].rules
        assert sorted(k for k in layout.keys.values() if k not in mapped) == [], name


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_no_record_and_unavailable_answers_are_told_apart(layout: str) -> None:
    fmap = MAPS[layout]
    assert read_records(LAYOUTS[layout].no_record, fmap, "driver") == Reading((), ())
    with pytest.raises(UpstreamNoAnswer):
        read_records("TEMPORARILY UNAVAILABLE", fmap, "driver")


def _never_past_the_map(reading: Reading, fmap: FieldMap) -> None:
    answered = {(rule.element, rule.prefix) for rule in fmap.rules.values()}
    pattern = re.compile(r"[A-Z][A-Z0-9]{0,7}/" if fmap.style == "prefixed"
                         else r"[A-Z][A-Z0-9 #'()\-]{0,39}:")
    for hit in reading.hits:
        for element, fields in hit.elements.items():
            assert all((element, f.prefix) in answered or (element, f.prefix) ==
                       ("photo", "IMG") for f in fields)
        assert all(pattern.fullmatch(name) for name in hit.unmapped)


@given(st.text(max_size=400))
def test_any_text_is_read_or_refused_never_anything_else(text: str) -> None:
    for fmap in MAPS.values():
        try:
            reading = read_records(text, fmap, "driver")
        except UpstreamError:
            continue
        _never_past_the_map(reading, fmap)


@given(layout=st.sampled_from(sorted(LAYOUTS)), at=st.integers(0, 40),
       line=st.text(st.characters(codec="utf-8"), max_size=60))
def test_a_line_slipped_into_a_real_answer_never_gets_past_the_map(layout: str, at: int,
                                                                   line: str) -> None:
    lines = answer(layout).split("\n")
    lines.insert(min(at, len(lines)), line)
    fmap = MAPS[layout]
    try:
        reading = read_records("\n".join(lines), fmap, "driver")
    except UpstreamError:
        return
    _never_past_the_map(reading, fmap)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_field_unknown_to_the_map_is_kept_apart_with_its_value_nowhere(layout: str) -> None:
    extra = "XRAY/QUEBEC ZULU" if STYLES[MAPS[layout].style] == "/" else "XRAY: QUEBEC ZULU"
    lines = answer(layout).split("\n")
    lines.insert(2, extra)
    (hit,) = read_records("\n".join(lines), MAPS[layout], "driver").hits
    assert hit.unmapped == (extra.split("/")[0] + "/" if "/" in extra else "XRAY:",)
    assert not any("QUEBEC" in f.value for fields in hit.elements.values() for f in fields)


@pytest.mark.parametrize("second", ["OLN/X0000000001", "NAM/OTHER,PERSON", "DOB/19800101",
                                    "VIN/1HGCM82633A000001", "LIC/ZZZ999", "ODL/X0000000001"])
def test_a_record_giving_an_identifier_twice_is_refused_whole(second: str) -> None:
    """Which of two license numbers is the record's? Whoever answers may differ: none is."""
    prefix = second.split("/")[0]
    lines = answer("prefixed").split("\n")
    first = {"VIN": "VIN/1HGCM82633A000002", "LIC": "LIC/AAA111",
             "ODL": "ODL/WDLTEST00001"}.get(prefix)
    if first is not None:
        lines.insert(2, first)
    lines.insert(2, second)
    with pytest.raises(UnreadableAnswer, match=f"{prefix}"):
        read_records("\n".join(lines), MAPS["prefixed"], "driver")
    again = answer("prefixed").replace("SEX/X", "SEX/X.OLN/WDLTEST00001")
    (hit,) = read_records(again, MAPS["prefixed"], "driver").hits
    assert hit.record_id == "WDLTEST00001", "the same value twice is one identifier"
