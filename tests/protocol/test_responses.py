"""Response texts: records with withheld elements marked, status lines, and ER rejects."""

from __future__ import annotations

from datetime import datetime

import pytest

from stateline.protocol import (
    Answer,
    Field,
    Outcome,
    OutputHeader,
    Record,
    Reject,
    RejectCode,
    Section,
    Stamp,
    format_answer,
    format_text,
    parse,
    read,
    read_answer,
    reject_message,
    response_to,
)
from stateline.protocol.responses import response_with

RECORD = Record((
    Section("identity", (Field("OLN", "WDL123456"), Field("NAM", "DOE,JANE Q"),
                         Field("DOB", "19850314"), Field("SEX", "F"))),
    Section("address", withheld=True),
    Section("photo", withheld=True),
))


def test_a_partial_answer_marks_every_withheld_element() -> None:
    answer = Answer("WA", "driver", Outcome.PARTIAL, (RECORD,), policy="no-photos-out-of-state")
    assert format_answer(answer) == (
        "WA DRIVER RESPONSE: PARTIAL\n"
        "SOME ELEMENTS WITHHELD BY WA POLICY\n"
        "POLICY: no-photos-out-of-state\n"
        "RECORD 1 OF 1\n"
        "IDENTITY: OLN/WDL123456.NAM/DOE,JANE Q.DOB/19850314.SEX/F\n"
        "ADDRESS: WITHHELD BY WA POLICY\n"
        "PHOTO: WITHHELD BY WA POLICY"
    )
    assert RECORD.withheld == ("address", "photo")


@pytest.mark.parametrize(
    ("answer", "line"),
    [
        (Answer("WA", "driver", Outcome.NO_RECORD), "NOT ON FILE"),
        (Answer("WA", "vehicle", Outcome.DENIED, policy="block-ice",
                reason="No state resources for civil immigration enforcement."),
         "REASON: No state resources for civil immigration enforcement"),
        (Answer("WA", "history", Outcome.HELD, policy="hsi-review", reference="WA-000123"),
         "REFERENCE: WA-000123"),
        (Answer("WA", "driver", Outcome.ERROR, note="DMV store unavailable"),
         "WA COULD NOT ANSWER"),
    ],
)
def test_status_answers_say_what_happened_in_plain_words(answer: Answer, line: str) -> None:
    body = format_answer(answer)
    assert line in body
    assert read_answer(body) == answer


def test_a_denial_names_the_policy_and_its_reason() -> None:
    body = format_answer(Answer("WA", "driver", Outcome.DENIED, policy="block-ice",
                                reason="No ICE access."))
    assert body.splitlines() == [
        "WA DRIVER RESPONSE: DENIED",
        "REQUEST DENIED BY WA POLICY",
        "POLICY: block-ice",
        "REASON: No ICE access",
    ]


def test_answers_with_several_records_read_back_equal() -> None:
    second = Record((Section("vehicle", (Field("VIN", "1HGCM82633A004352"),)),
                     Section("registration", (Field("LIC", "ABC1234"), Field("LIY", "2026")))))
    answer = Answer("OR", "vehicle", Outcome.RELEASED, (RECORD, second))
    assert read_answer(format_answer(answer)) == answer


def test_a_response_goes_back_to_the_requester_with_its_control_field() -> None:
    query = read("DQ.ORPPD0000.WA.*CASE42.TXT\nOLN/WDL123456")
    response = response_to(query, Answer("WA", "driver", Outcome.NO_RECORD), "WAOLN0000")
    assert format_text(response) == (
        "DR.WAOLN0000.ORPPD0000.*CASE42.TXT\nWA DRIVER RESPONSE: NO-RECORD\nNOT ON FILE"
    )
    assert read(format_text(response)) == response


@pytest.mark.parametrize(("key", "answer_key"),
                         [("RQ", "RR"), ("KQ", "KR"), ("RPQ", "RPR"), ("DNQ", "DNR")])
def test_each_query_key_is_answered_with_its_response_key(key: str, answer_key: str) -> None:
    texts = {"RQ": "VIN/1HGCM8", "KQ": "OLN/X1", "RPQ": "LIC/AB*12", "DNQ": "NAM/DOE,J"}
    query = read(f"{key}.ORPPD0000.WA.TXT\n{texts[key]}")
    answer = Answer("WA", "driver", Outcome.NO_RECORD)
    assert response_to(query, answer, "WAOLN0000").key == answer_key


def test_an_answer_written_earlier_makes_the_same_response() -> None:
    query = read("DQ.ORPPD0000.WA.*CASE42.TXT\nOLN/WDL123456")
    answer = Answer("WA", "driver", Outcome.PARTIAL, (RECORD,), policy="no-photos-out-of-state")
    written = format_answer(answer)
    assert response_with(query, written, "WAOLN0000") == response_to(query, answer, "WAOLN0000")
    with pytest.raises(Reject, match="NOT A QUERY"):
        response_with(read("AM.ORPPD0000.WA.TXT\nHELLO"), written, "WAOLN0000")


def test_an_er_reject_comes_from_the_switch_with_its_output_header() -> None:
    reject = Reject(RejectCode.MISSING, "DQ NEEDS ONE OF", key="DQ",
                    original="DQ.ORPPD0000.WA.TXT")
    stamp = Stamp(datetime(2026, 11, 25, 9, 15), 7)
    message = reject_message(reject, OutputHeader(stamp, stamp, "ORPPD0000"))
    assert format_text(message) == (
        "ER.NL0000000\n09:15 11/25/2026 00007\n09:15 11/25/2026 00007 ORPPD0000\nTXT\n"
        ".14. FIELDS MISSING\nDQ NEEDS ONE OF\nDQ.ORPPD0000.WA.TXT"
    )
    assert parse(format_text(message)) == message


@pytest.mark.parametrize("body", ["", "HELLO", "WA DRIVER RESPONSE: MAYBE", "XX BOAT RESPONSE: X"])
def test_text_that_is_not_an_answer_is_rejected(body: str) -> None:
    with pytest.raises(Reject):
        read_answer(body)


def test_a_section_names_its_element_in_lower_case() -> None:
    assert Section(" Identity ", (Field("OLN", "WDL123456"),)).element == "identity"
    assert Section("identity", withheld=True).element == "identity"


@pytest.mark.parametrize("name", ["id entity", "ssn2", "", "ssn2"])
def test_a_section_refuses_a_name_that_is_not_a_word(name: str) -> None:
    with pytest.raises(Reject, match="IS NOT A WORD"):
        Section(name, withheld=True)


def test_a_section_carries_fields_or_a_withheld_mark() -> None:
    with pytest.raises(Reject, match="MUST CARRY FIELDS OR BE WITHHELD"):
        Section("identity")
    with pytest.raises(Reject, match="MUST CARRY FIELDS OR BE WITHHELD"):
        Section("identity", (Field("OLN", "WDL123456"),), withheld=True)
