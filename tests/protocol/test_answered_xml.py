"""A response written as XML from the answer record it came with (the switch's path): the
elements come from the record, never from reading the text back, and a reader takes them."""

from __future__ import annotations

import pytest

from stateline.protocol import (
    Answer,
    Field,
    Message,
    Outcome,
    Record,
    Section,
    format_answer,
    format_answered_xml,
    format_xml,
    parse_xml,
    read_xml_answer,
    response_to,
    responses,
    xmlform,
)

QUERY = Message("DQ", "ORPPD0000", ("WA",), "C1", (Field("OLN", "WDL123456"),))
ANSWER = Answer("WA", "driver", Outcome.PARTIAL, (Record((
    Section("identity", (Field("OLN", "WDL123456"),)), Section("ssn", withheld=True))),),
    policy="no-ssn")


def _never(body: str) -> Answer:
    raise AssertionError(f"a response text was read back: {body[:40]!r}")


def test_the_elements_come_from_the_record_without_reading_the_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    response = response_to(QUERY, ANSWER, "WAOLN0000")
    expected = format_xml(response)
    monkeypatch.setattr(xmlform, "read_answer", _never)
    monkeypatch.setattr(responses, "read_answer", _never)
    written = format_answered_xml(response, ANSWER)
    monkeypatch.undo()
    assert written == expected
    assert read_xml_answer(written) == ANSWER
    assert parse_xml(written) == response


def test_a_record_that_does_not_write_the_text_is_left_out_so_the_xml_still_reads() -> None:
    other = Answer("WA", "driver", Outcome.NO_RECORD)
    response = response_to(QUERY, ANSWER, "WAOLN0000")
    written = format_answered_xml(response, other)
    assert "st:Answer" not in written
    assert parse_xml(written) == response


def test_without_a_record_the_text_goes_alone_even_if_it_reads_as_an_answer() -> None:
    response = response_to(QUERY, ANSWER, "WAOLN0000")
    assert response.body == format_answer(ANSWER)
    written = format_answered_xml(response, None)
    assert "st:Answer" not in written
    assert parse_xml(written) == response
