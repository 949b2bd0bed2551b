"""Legacy text: the forms agencies type and the switch delivers, read and written exactly."""

from __future__ import annotations

from datetime import datetime

import pytest

from stateline.protocol import (
    Field,
    Message,
    OutputHeader,
    Reject,
    RejectCode,
    Stamp,
    format_text,
    parse,
)


def test_reads_a_driver_query_by_licence_number() -> None:
    message = parse("DQ.ORPPD0000.WA.TXT\nOLN/WDL123456")
    assert message == Message("DQ", "ORPPD0000", ("WA",), fields=(Field("OLN", "WDL123456"),))
    assert message.value("OLN") == "WDL123456"


def test_reads_fields_in_order_with_repeats_kept() -> None:
    message = parse("XQ.ORPPD0000.WA.TXT\nAAA/1.BBB/2.AAA/3")
    assert message.prefixes == ["AAA", "BBB", "AAA"]
    assert message.values("AAA") == ["1", "3"]


def test_reads_up_to_five_destinations_and_a_control_field() -> None:
    message = parse("DQ.ORPPD0000.WA.OR.ID.MT.NV.*CASE42.TXT\nOLN/X1")
    assert message.destinations == ("WA", "OR", "ID", "MT", "NV")
    assert message.control == "CASE42"


def test_writes_the_control_field_before_txt() -> None:
    message = Message("RQ", "ORPPD0000", ("OR",), "CASE42", (Field("VIN", "1HGCM82633A004352"),))
    assert format_text(message) == "RQ.ORPPD0000.OR.*CASE42.TXT\nVIN/1HGCM82633A004352"


@pytest.mark.parametrize(
    "sloppy",
    [
        "DQ.ORPPD0000.WA.TXT\r\nOLN/WDL123456\r\n",
        "  DQ.ORPPD0000.WA.TXT\nOLN/WDL123456.  ",
        "dq.orppd0000.wa.txt\nOLN/wdl123456",
        "DQ.ORPPD0000.WA.TXT\x7f\r\n\x00OLN/WDL123456",
        "DQ . ORPPD0000 . WA . TXT\nOLN/ WDL123456 ",
        "DQ.ORPPD0000.WA.TXTOLN/WDL123456",
    ],
)
def test_tolerates_line_ends_periods_blanks_case_and_control_characters(sloppy: str) -> None:
    assert format_text(parse(sloppy)) == "DQ.ORPPD0000.WA.TXT\nOLN/WDL123456"


def test_a_line_break_separates_fields_like_a_period() -> None:
    message = parse("DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE Q\nDOB/19850314\nSEX/F")
    assert message.prefixes == ["NAM", "DOB", "SEX"]
    assert format_text(message).endswith("NAM/DOE,JANE Q.DOB/19850314.SEX/F")


def test_never_writes_a_trailing_period_or_carriage_return() -> None:
    text = format_text(parse("AM.ORPPD0000.WA.TXT\r\nPLEASE CALL DISPATCH.\r\n"))
    assert not text.endswith(".")
    assert "\r" not in text


def test_keeps_free_text_verbatim_for_administrative_messages() -> None:
    body = "ROAD CLOSED AT MP 12, USE I-84\n  DETOUR VIA EXIT 7"
    message = parse(f"AM.ORPPD0000.WA.OR.TXT\n{body}")
    assert message.body == body
    assert message.fields == ()


def test_reads_the_delivered_form_with_its_output_header() -> None:
    text = (
        "ER.NL0000000\n08:00 01/01/2010 01239\n08:00 01/01/2011 01233 AZNLETS20\n"
        "TXT\n.01. INVALID HEADER INFORMATION"
    )
    message = parse(text)
    assert message.header == OutputHeader(
        Stamp(datetime(2010, 1, 1, 8, 0), 1239), Stamp(datetime(2011, 1, 1, 8, 0), 1233),
        "AZNLETS20",
    )
    assert message.destinations == ()
    assert message.body == ".01. INVALID HEADER INFORMATION"
    assert format_text(message) == text


def test_a_delivered_query_keeps_its_fields() -> None:
    text = "DQ.ORPPD0000.*C1\n09:15 11/25/2026 00001\n09:15 11/25/2026 00002 WAOLN0000\nTXT\nOLN/X1"
    message = parse(text)
    assert message.control == "C1"
    assert message.fields == (Field("OLN", "X1"),)
    assert format_text(message) == text


def test_an_unknown_key_is_read_generically_and_flagged_unsupported() -> None:
    from stateline.protocol import to_json

    message = parse("ZQ.ORPPD0000.WA.TXT\nABC/1.DEF/TWO")
    assert message.fields == (Field("ABC", "1"), Field("DEF", "TWO"))
    assert to_json(message)["supported"] is False


def test_an_unknown_key_with_prose_keeps_it_as_free_text() -> None:
    message = parse("ZQ.ORPPD0000.WA.TXT\nTHIS IS NOT A FIELD LIST")
    assert message.body == "THIS IS NOT A FIELD LIST"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", RejectCode.STRUCTURE),
        ("\r\n  \x00", RejectCode.STRUCTURE),
        ("HELLO", RejectCode.STRUCTURE),
        ("DQ.ORPPD0000.WA\nOLN/X1", RejectCode.NO_TXT),
        ("DQ.ORPPD000.WA.TXT\nOLN/X1", RejectCode.HEADER),
        ("D.ORPPD0000.WA.TXT\nOLN/X1", RejectCode.HEADER),
        ("DQ.ORPPD0000.TXT\nOLN/X1", RejectCode.DESTINATION),
        ("DQ.ORPPD0000.WAS.TXT\nOLN/X1", RejectCode.DESTINATION),
        ("DQ.ORPPD0000.WA.*C1.*C2.TXT\nOLN/X1", RejectCode.HEADER),
        ("DQ.ORPPD0000.WA.*TOO-LONG-CONTROL.TXT\nOLN/X1", RejectCode.HEADER),
        ("DQ.ORPPD0000.WA.TXT\nOLN WDL123456", RejectCode.FORMAT),
        ("DQ.ORPPD0000\n99:99 01/01/2026 00001\n08:00 01/01/2026 00001 WAOLN0000\nTXT",
         RejectCode.HEADER),
    ],
)
def test_unreadable_input_is_rejected_with_its_code(raw: str, code: RejectCode) -> None:
    with pytest.raises(Reject) as caught:
        parse(raw)
    assert caught.value.code is code


def test_a_reject_quotes_the_first_100_characters_of_the_input() -> None:
    raw = "DQ.ORPPD000.WA.TXT\nNAM/" + "X" * 200
    with pytest.raises(Reject) as caught:
        parse(raw)
    text = caught.value.text
    assert text.startswith(".01. INVALID HEADER INFORMATION\n")
    assert text.endswith(raw[:100])
    assert "X" * 200 not in text
