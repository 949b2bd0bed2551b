"""The nlets-text reader: a switch's printed transactions read as the protocol's own parser
reads them, every malformed transaction named by line, and no input that crashes it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.history import nlets
from stateline.history.errors import Problems
from stateline.history.rows import Reading, Row
from stateline.protocol import Field, Outcome, Record, Section

from . import samples
from .samples import REQUESTS, STATE, Request

TODAY = date(2026, 1, 15)


def read(text: str, zone: object = UTC, today: date = TODAY) -> tuple[list[Row], list[str]]:
    problems = Problems()
    rows = nlets.read(text, Reading("switch.log", STATE, zone, today, problems))  # type: ignore[arg-type]
    return rows, [str(p) for p in problems.kept]


def test_every_transaction_becomes_the_request_it_records() -> None:
    rows, problems = read(samples.nlets_text())
    assert problems == []
    assert [(r.time, r.line, r.ori, r.key, r.outcome) for r in rows] == [
        ("2024-02-01T09:15:00.000000+00:00", 1, "WASPD0100", "DQ", "released"),
        ("2024-06-03T14:03:00.000000+00:00", 16, "VTICE0900", "DQ", "denied"),
        ("2025-03-12T14:03:00.000000+00:00", 28, "ORPPD0000", "DQ", "partial"),
        ("2025-03-12T14:03:00.000000+00:00", 44, "NYHSI0100", "RQ", "released"),
        ("2025-07-04T23:59:00.000000+00:00", 57, "ZZ9999999", "DQ", "no-record"),
        ("2025-12-31T08:00:00.000000+00:00", 69, "WASPD0100", "KQ", "error"),
    ]
    released, denied, partial, vehicle, _, rejected = rows
    assert (released.released, released.withheld, released.records, released.photo) == (
        ("identity", "license", "photo"), (), ("WDL123456",), True)
    assert (denied.released, denied.records, denied.terms) == ((), (), ("OLN/WDL123456",
                                                                         "IMQ/Y"))
    assert (partial.released, partial.withheld, partial.photo, partial.reason) == (
        ("identity", "license"), ("photo",), False, "T")
    assert (vehicle.records, vehicle.released) == (("1HGCM82633A004352",), ("vehicle",))
    assert (rejected.reject, rejected.records) == (".14.", ())


def test_times_are_read_in_the_zone_given_and_kept_in_utc() -> None:
    from zoneinfo import ZoneInfo

    rows, _ = read(samples.nlets_text(REQUESTS[:1]), zone=ZoneInfo("America/Los_Angeles"))
    assert rows[0].time == "2024-02-01T17:15:00.000000+00:00"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_any_line_ending_reads_the_same_even_mixed_in_one_file(newline: str) -> None:
    expected, _ = read(samples.nlets_text())
    mixed = samples.nlets_text(REQUESTS[:3], newline) + "\r\n" + \
        samples.nlets_text(REQUESTS[3:], "\r")
    for text in (samples.nlets_text(newline=newline), mixed):
        rows, problems = read(text)
        assert problems == []
        assert [r[:-1] for r in rows] == [r[:-1] for r in expected]


def test_a_query_cut_off_before_its_response_is_refused_by_line() -> None:
    text = samples.nlets_text(REQUESTS[:2]) + "\n" + samples.query_text(REQUESTS[2]) + "\n"
    rows, problems = read(text)
    assert len(rows) == 2
    assert problems == ["switch.log line 28: a query with no response: the transaction is cut "
                        "off (each query is followed by the state's response, then a blank "
                        "line)"]


def test_a_response_cut_mid_header_is_refused_with_the_protocols_reason() -> None:
    cut = samples.transaction(REQUESTS[0]).split("\n")[:7]
    _, problems = read("\n".join(cut) + "\n")
    assert problems == ["switch.log line 6: .03. TXT NOT FOUND NO TXT LINE AFTER THE OUTPUT "
                        "HEADER"]


def test_two_transactions_without_a_blank_line_between_are_refused() -> None:
    text = samples.transaction(REQUESTS[0]) + "\n" + samples.transaction(REQUESTS[1])
    rows, problems = read(text)
    assert rows == [] and problems == [
        "switch.log line 15, column 1: a third message in one transaction: a query and its "
        "response are followed by a blank line"]


def test_a_request_after_today_is_refused_naming_its_line_and_column() -> None:
    later = Request(samples.ICE, datetime(2026, 1, 16, 0, 1), "DQ",
                    (Field("OLN", "WDL123456"),), Outcome.DENIED)
    _, problems = read(samples.nlets_text((REQUESTS[0], later)))
    assert problems == ["switch.log line 18, column 1: 2026-01-16T00:01:00.000000+00:00 (UTC) "
                        "is after today, 2026-01-15"]


def test_another_states_records_are_refused() -> None:
    text = samples.transaction(REQUESTS[0], state="OR")
    _, problems = read(text)
    assert problems == [
        "switch.log line 3, column 24: the query was delivered to ORNLETS00, not to WA",
        "switch.log line 10, column 1: the answer is OR's, not WA's"]


def test_a_response_to_someone_else_or_of_the_wrong_key_is_refused() -> None:
    query = samples.query_text(REQUESTS[0])
    other = samples.response_text(REQUESTS[3]).replace("NYHSI0100", "ORPPD0000")
    _, problems = read(f"{query}\n{other}\n")
    assert problems == [
        "switch.log line 6, column 1: RR does not answer DQ (a DR or an ER does)",
        "switch.log line 8, column 24: the response went to ORPPD0000, not to WASPD0100, who "
        "asked"]


def test_a_request_whose_time_has_no_utc_equivalent_is_refused() -> None:
    last = Request(samples.ICE, datetime(9999, 12, 31, 23, 59), "DQ",
                   (Field("OLN", "WDL123456"),), Outcome.DENIED)
    _, problems = read(samples.nlets_text((last,)), zone=ZoneInfo("America/Los_Angeles"))
    assert problems == ["switch.log line 3, column 1: 9999-12-31T23:59:00-08:00 is no time in "
                        "UTC (before year 1 or after 9999)"]


@pytest.mark.parametrize(("line", "label"), [
    ("ZZZ: OLN/WDL1", "zzz"),  # as format_text writes a section: the fast path's
    ("PHOTOS: IMG/Y", "photos"),
    ("Zzz: OLN/WDL1", "zzz"),  # not as format_text writes it: the protocol's parser's
    ("PHOTOS:  IMG/Y", "photos")])
def test_a_section_that_names_no_data_element_is_refused(line: str, label: str) -> None:
    text = samples.transaction(REQUESTS[0]).replace("PHOTO: IMG/P0001", line)
    assert line in text
    rows, problems = read(text + "\n")
    assert rows == [] and problems == [
        f"switch.log line 6: {label!r} is not a data element (identity description address "
        "license vehicle registration history credential ssn photo)"]


def test_a_message_that_is_not_a_query_is_refused() -> None:
    text = samples.transaction(REQUESTS[0]).replace("DQ.WASPD0100", "AM.WASPD0100", 1)
    _, problems = read(text)
    assert len(problems) == 1 and problems[0].startswith("switch.log line 1")


# The fast path and the protocol's parser.

_SECTIONS = {"driver": ("identity", "description", "address", "license", "photo"),
             "vehicle": ("vehicle", "registration"), "history": ("identity", "history")}
_PREFIXES = st.sampled_from(["OLN", "NAM", "DOB", "VIN", "LIC", "ADR", "CLS", "IMG"])
_VALUES = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"),
                                exclude_characters="."), max_size=12)
_FIELDS = st.lists(st.builds(Field, _PREFIXES, _VALUES.filter(lambda v: v.strip() != "")),
                   min_size=1, max_size=4).map(tuple)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    key = draw(st.sampled_from(["DQ", "DNQ", "KQ", "RQ", "RNQ", "RPQ"]))
    outcome = draw(st.sampled_from([Outcome.RELEASED, Outcome.PARTIAL, *Outcome]))
    group = {"DQ": "driver", "DNQ": "driver", "KQ": "history"}.get(key, "vehicle")
    records: tuple[Record, ...] = ()
    if outcome in (Outcome.RELEASED, Outcome.PARTIAL):
        records = tuple(Record(tuple(
            Section(e, withheld=True) if draw(st.booleans()) else Section(e, draw(_FIELDS))
            for e in draw(st.lists(st.sampled_from(_SECTIONS[group]), min_size=1, max_size=3,
                                   unique=True))))
            for _ in range(draw(st.integers(1, 2))))
    reject = draw(st.sampled_from([None, None, None, ".14. FIELDS MISSING", "0 STRUCTURE"]))
    return Request(draw(st.sampled_from([samples.ICE, samples.IN_STATE, "ab1234567"])),
                   draw(st.datetimes(datetime(1990, 1, 1), datetime(2025, 12, 31))), key,
                   draw(_FIELDS), outcome, records, draw(st.integers(0, 99_999 - 300)), reject)


_EDITS = [" ", ".", "", "a", "\t", "9", "/", ": ", "X/", "\n", "é", "ß", "\x85"]


def _edit(text: str, data: st.DataObject) -> str:
    """The text with a few characters changed, most often after its header, so both paths
    see it slightly wrong."""
    body = text.find("TXT") + 4
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(body if data.draw(st.booleans()) else 0,
                                   max(len(text) - 1, body)))
        text = text[:at] + data.draw(st.sampled_from(_EDITS)) + text[at + 1:]
    return text


@settings(max_examples=300)
@given(requests(), st.data())
def test_the_fast_path_reads_exactly_what_the_protocols_parser_reads(
        request: Request, data: st.DataObject) -> None:
    for text, fast, slow in (
            (samples.query_text(request), nlets.fast_query, nlets.protocol_query),
            (samples.response_text(request), nlets.fast_response, nlets.protocol_response)):
        for candidate in (text, _edit(text, data)):
            lines = candidate.split("\n")
            found = fast(lines)  # type: ignore[operator]
            if found is None:
                continue
            assert found == slow(candidate)  # type: ignore[operator]
    assert nlets.fast_query(samples.query_text(request).split("\n")) is not None
    assert nlets.fast_response(samples.response_text(request).split("\n")) is not None


@pytest.mark.parametrize("line", [
    "IDENTITY: OLN/wdl123456", "IDENTITY: OLN/WDL123456 .NAM/X", "IDENTITY: OLN/ WDL123456",
    "Identity: OLN/WDL123456", "IDENTITY: OLN/WDL.123456", "IDENTITY: OLN/STRAßE",
    "IDENTITY:  OLN/WDL123456", "PHOTO: WITHHELD BY OR POLICY", "PHOTO: ", "ID1: OLN/X",
    "IDENTITY: NAM/X.OLN/WDL123456.OLN/WDL000000", "IDENTITY: OLN/WDL\x85123"])
def test_the_two_paths_agree_on_a_section_written_oddly(line: str) -> None:
    text = samples.response_text(REQUESTS[0]).replace(
        "IDENTITY: OLN/WDL123456.NAM/DOE,JANE Q.DOB/19850314.SEX/F", line)
    found = nlets.fast_response(text.split("\n"))
    try:
        expected = nlets.protocol_response(text)
    except Exception:
        assert found is None
        return
    assert found in (None, expected)


_TEXT = st.text(st.sampled_from([*samples.nlets_text(REQUESTS[:3]), "\r", "\x00", "é",
                                 "\u2028"]), max_size=400)


@settings(max_examples=300)
@given(st.data())
def test_no_text_crashes_the_reader(data: st.DataObject) -> None:
    text = data.draw(_TEXT) if data.draw(st.booleans()) else _edit(samples.nlets_text(), data)
    rows, problems = read(text)
    assert all(isinstance(r, Row) for r in rows)
    assert all(p.startswith("switch.log") for p in problems)
