"""Properties of the XML codec under generated input: exact round trips with legacy text and
JSON, and nothing but a Reject out of random bytes, random trees and damaged messages.

Messages and answers are drawn by the strategies of test_fuzz.py, from the key table and the
field rules, so a new key or rule is covered here too.
"""

from __future__ import annotations

import re
import string
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from stateline.protocol import (
    KEYS,
    Answer,
    Message,
    Reject,
    format_text,
    format_xml,
    from_json,
    parse,
    parse_xml,
    read,
    read_xml,
    read_xml_answer,
    response_to,
    to_json,
    validate,
)
from stateline.protocol.xmltree import NAMESPACES

from .test_fuzz import (
    NO_CONTROLS,
    _check_reject,
    answers,
    messages,
    oris,
    unknown_messages,
    valid_messages,
)

SOME = settings(max_examples=100, deadline=None)
MANY = settings(max_examples=200, deadline=None)
TODAY = date(2026, 11, 25)

NOT_IN_XML = re.compile("[\ufffe\uffff]")
"""Characters no XML 1.0 document can hold; a message carrying them is written with U+FFFD."""


def xml_can_carry(message: Message) -> bool:
    return NOT_IN_XML.search(format_text(message)) is None


# --- Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("delivered", [False, True], ids=["plain", "delivered"])
@pytest.mark.parametrize("key", sorted(KEYS))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_a_valid_message_survives_xml_exactly(key: str, delivered: bool,
                                              data: st.DataObject) -> None:
    message = data.draw(valid_messages((KEYS[key],), delivered))
    assume(xml_can_carry(message))
    xml = format_xml(message, today=TODAY)
    assert parse_xml(xml) == message
    assert read_xml(xml) == message
    text = format_text(message)
    assert format_text(read_xml(format_xml(read(text), today=TODAY))) == text
    assert from_json(to_json(parse_xml(xml))) == message


@MANY
@given(messages)
def test_xml_is_a_fixed_point_of_parse_and_format(message: Message) -> None:
    assume(xml_can_carry(message))
    xml = format_xml(message, today=TODAY)
    assert format_xml(parse_xml(xml), today=TODAY) == xml


@SOME
@given(unknown_messages())
def test_an_unknown_key_travels_in_xml_with_its_text_intact(message: Message) -> None:
    assume(xml_can_carry(message))
    assert read_xml(format_xml(message)) == message


def _kq(dob: str) -> Message:
    return read(f"KQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE.DOB/{dob}")


@SOME
@given(messages, st.dates(date(1950, 1, 1), date(2099, 12, 31)))
@example(_kq("010200"), date(2000, 1, 1))
@example(_kq("022900"), date(2000, 1, 1))
@example(_kq("022900"), date(2000, 2, 29))
@example(_kq("123199"), date(1999, 12, 31))
@example(_kq("010100"), date(2000, 1, 1))
def test_the_century_chosen_for_a_six_digit_dob_never_changes_the_message(
        message: Message, today: date) -> None:
    assume(xml_can_carry(message))
    assert parse_xml(format_xml(message, today=today)) == message


@SOME
@given(answers(least_fields=1, notes=st.text(NO_CONTROLS, max_size=40)), oris)
def test_an_answer_survives_its_xml_response(answer: Answer, requester: str) -> None:
    query = Message("DQ", requester, ("WA",), fields=read("DQ.X00000000.WA.TXT\nOLN/X1").fields)
    response = response_to(query, answer, "WAOLN0000")
    assume(xml_can_carry(response))
    xml = format_xml(response)
    assert read_xml_answer(xml) == answer
    assert parse_xml(xml) == response


# --- Robustness: only Reject escapes ---------------------------------------------------------


def _reads_xml_safely(raw: str) -> Message | None:
    """read_xml returns or Rejects (checked, quoting the input); what it accepts, legacy text
    accepts the same, and XML writes back readably."""
    try:
        message = read_xml(raw)
    except Reject as reject:
        _check_reject(reject, raw)
        return None
    assume(xml_can_carry(message))
    assert read(format_text(message)) == message
    assert validate(parse_xml(format_xml(message, today=TODAY))) == message
    return message


@MANY
@given(st.one_of(st.binary().map(lambda b: b.decode("utf-8", errors="replace")),
                 st.binary().map(lambda b: b.decode("latin-1")),
                 st.text(),
                 st.text("<>/=\"'&;![]-:? nN2aA", max_size=80)))
def test_reading_any_text_as_xml_returns_or_rejects(raw: str) -> None:
    _reads_xml_safely(raw)


_NAMES = sorted({
    "n2:NLETS", "n2:NLETSMessageHeader", "n2:NLETSInquiryData", "n2:NLETSResponseData",
    "n2:NLETSMailData", "n2:ResponseText", "n2:MailMessageText", "n2:ReasonCode", "n2:Person",
    "nh2:MessageKeyCodeText", "nh2:OriginatingORIID", "nh2:DestinationORIID",
    "nh2:DocumentControlFieldText", "nh2:MessageReceiveDate", "nh2:SendMessageNumeric",
    "nc:PersonName", "nc:PersonSurName", "nc:PersonGivenName", "nc:PersonBirthDate", "nc:Date",
    "nc:Vehicle", "nc:VehicleIdentification", "nc:IdentificationID", "nc:Year",
    "n2c:Driver", "j:PersonAugmentation", "st:Answer", "st:Record", "st:Element", "st:Field",
    "x:Other",
})
_VALUES = st.one_of(st.sampled_from(["DQ", "DR", "AA", "WA", "ORPPD0000", "WAOLN0000", "F",
                                     "1985-03-14", "2026", "DOE", "JANE", "true", "partial",
                                     "identity", "WITHHELD BY WA POLICY", ""]),
                    st.text(string.ascii_uppercase + string.digits + " ,/-", max_size=12))
_ATTRIBUTES = st.dictionaries(st.sampled_from(["n2:key", "st:text", "state", "group", "outcome",
                                               "name", "withheld", "prefix", "n2:version"]),
                              _VALUES, max_size=3)


def _clark(name: str) -> str:
    prefix, colon, local = name.partition(":")
    uri = NAMESPACES.get(prefix, "urn:example:other")
    return f"{{{uri}}}{local}" if colon else name


@st.composite
def trees(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    element = ET.Element(_clark(draw(st.sampled_from(_NAMES))),
                         {_clark(k): v for k, v in draw(_ATTRIBUTES).items()})
    if depth < 5 and draw(st.booleans()):
        element.extend(draw(st.lists(trees(depth + 1), max_size=4)))
    else:
        element.text = draw(_VALUES)
    return element


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A well-formed document shaped roughly like Nlets XML, often with a real header."""
    root = ET.Element(_clark("n2:NLETS"))
    if draw(st.booleans()):
        header = ET.SubElement(root, _clark("n2:NLETSMessageHeader"))
        for name, value in (("nh2:MessageKeyCodeText", st.sampled_from([*sorted(KEYS), "AA"])),
                            ("nh2:OriginatingORIID", oris), ("nh2:DestinationORIID",
                                                             st.sampled_from(["WA", "NL"]))):
            ET.SubElement(header, _clark(name)).text = draw(value)
    root.extend(draw(st.lists(trees(1), max_size=3)))
    return ET.tostring(root, encoding="unicode")


@MANY
@given(documents())
def test_any_well_formed_tree_reads_or_rejects(raw: str) -> None:
    _reads_xml_safely(raw)


EDITS = "<>/&\"' \n=:!-[]"


@st.composite
def mutated_xml(draw: st.DrawFn) -> str:
    """A valid message's XML after a few keystroke-sized edits."""
    message = draw(messages)
    assume(xml_can_carry(message))
    text = format_xml(message, today=TODAY)
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["delete", "insert", "repeat", "truncate", "swap"]))
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 60)))
        if edit == "delete":
            text = text[:at] + text[end:]
        elif edit == "insert":
            text = text[:at] + draw(st.sampled_from(EDITS)) + text[at:]
        elif edit == "repeat":
            text = text[:end] + text[at:end] + text[end:]
        elif edit == "swap":
            text = text[:at] + text[at:end].swapcase() + text[end:]
        else:
            text = text[:at]
    return text


@MANY
@given(mutated_xml())
def test_a_damaged_message_reads_or_rejects(raw: str) -> None:
    _reads_xml_safely(raw)


@SOME
@given(mutated_xml())
def test_text_parse_refuses_xml_with_a_reject(raw: str) -> None:
    try:
        parse(raw)
    except Reject as reject:
        _check_reject(reject, raw)
