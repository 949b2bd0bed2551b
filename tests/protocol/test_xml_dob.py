"""A six-digit DOB in Nlets XML: NIEM's date needs a century, which the writer picks on its day
and records beside the legacy spelling, so the message reads back the same on any other day."""

from __future__ import annotations

from datetime import date

import pytest

from stateline.protocol import Message, Reject, RejectCode, birth_date, format_xml, parse_xml, read


def _kq(dob: str, first: str = "NAM/DOE,JANE") -> Message:
    return read(f"KQ.ORPPD0000.WA.TXT\n{first}.DOB/{dob}")


@pytest.mark.parametrize(("dob", "written_on", "element"), [
    ("010200", date(2000, 1, 1), "1900-01-02"),
    ("022900", date(2000, 1, 1), "2000-02-29"),
    ("022900", date(1950, 6, 1), "2000-02-29"),
    ("022900", date(2000, 2, 29), "2000-02-29"),
    ("010100", date(2000, 1, 1), "2000-01-01"),
    ("010100", date(1999, 12, 31), "1900-01-01"),
    ("123199", date(1999, 12, 31), "1999-12-31"),
    ("031485", date(2099, 12, 31), "2085-03-14"),
], ids=["2000-is-after-the-writers-day", "leap-day-only-in-2000", "leap-day-from-1950",
        "leap-day-on-the-day", "born-on-the-writers-day", "a-day-before-the-century",
        "last-day-of-the-century", "late-writer"])
def test_a_six_digit_dob_reads_back_whatever_day_it_was_written(
        dob: str, written_on: date, element: str) -> None:
    message = _kq(dob)
    xml = format_xml(message, today=written_on)
    assert f"<nc:Date>{element}</nc:Date>" in xml
    assert f'st:day="{written_on.isoformat()}"' in xml
    assert parse_xml(xml) == message


def test_a_dob_no_day_can_change_carries_no_day() -> None:
    xml = format_xml(_kq("19850314", first="SEX/F.NAM/DOE,JANE"), today=date(2000, 1, 1))
    assert "st:text" in xml and "st:day" not in xml


def test_a_day_that_names_another_century_than_the_elements_is_refused() -> None:
    xml = format_xml(_kq("010200"), today=date(2000, 1, 1))
    with pytest.raises(Reject) as caught:
        parse_xml(xml.replace('st:day="2000-01-01"', 'st:day="2000-01-02"'))
    assert caught.value.code is RejectCode.FORMAT
    assert "st:text DOES NOT SPELL THE QUERY" in caught.value.text


@pytest.mark.parametrize("day", ["2000-02-30", "20000101", "2000-1-01", "", "01/01/2000"])
def test_a_day_that_is_no_date_is_refused(day: str) -> None:
    xml = format_xml(_kq("010200"), today=date(2000, 1, 1))
    with pytest.raises(Reject) as caught:
        parse_xml(xml.replace('st:day="2000-01-01"', f'st:day="{day}"'))
    assert caught.value.code is RejectCode.FORMAT
    assert "st:day" in caught.value.text


def test_without_a_day_the_reader_settles_the_century_on_its_own() -> None:
    message = _kq("031485")
    xml = format_xml(message, today=date(2026, 11, 25)).replace(' st:day="2026-11-25"', "")
    assert "st:day" not in xml
    assert parse_xml(xml) == message


@pytest.mark.parametrize("today", [date(1950, 1, 1), date(2000, 1, 1), date(2000, 2, 28)])
def test_the_leap_day_of_00_is_2000s_even_before_it_came(today: date) -> None:
    assert birth_date("022900", today) == date(2000, 2, 29)
    assert birth_date("022804", today) == date(1904, 2, 28)
