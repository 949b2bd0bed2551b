"""CSV import and export: every problem reported by row and column, all-or-nothing, and a file
that round-trips exactly. The reader is fuzzed: nothing but a CsvError may come out of it."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateline.directory import (
    Agency,
    CsvError,
    Directory,
    export_file,
    format_agencies,
    read_agencies,
    read_bytes,
    read_file,
)
from stateline.directory.store import COLUMNS

from .samples import ICE, PARTNER, SAMPLES, SPOKANE, agencies

HEADER = ",".join(COLUMNS)
GOOD = format_agencies(SAMPLES)


def problems(text: str) -> list[str]:
    with pytest.raises(CsvError) as caught:
        read_agencies(text)
    return [str(error) for error in caught.value.errors]


def test_the_export_form_is_sorted_with_yes_no_letters_and_programs() -> None:
    lines = format_agencies([SPOKANE, PARTNER]).splitlines()
    assert lines == [
        HEADER,
        "TX0020000,Benton County Sheriff's Office,TX,county,SO,,,yes,AD,287g,yes,"
        "sheriff.tx002@agencies.example",
        "WASPD0100,Spokane Police Department,WA,local,PD,,,yes,ACD,,yes,",
    ]


def test_reading_the_export_gives_back_the_same_agencies() -> None:
    assert read_agencies(GOOD) == sorted(SAMPLES, key=lambda a: a.ori)


@given(st.lists(agencies(), max_size=8, unique_by=lambda a: a.ori))
def test_any_directory_round_trips_through_csv(drawn: list[Agency]) -> None:
    text = format_agencies(drawn)
    if drawn:
        again = read_agencies(text)
        assert again == sorted(drawn, key=lambda a: a.ori)
        assert format_agencies(again) == text


def test_export_then_import_leaves_the_directory_as_it_was(tmp_path: Path) -> None:
    with Directory.open(tmp_path / "a") as first, Directory.open(tmp_path / "b") as second:
        first.put_many(SAMPLES)
        written = export_file(first, tmp_path / "agencies.csv")
        assert (len(written), written.version) == (len(SAMPLES), 1)
        second.put_many(read_file(tmp_path / "agencies.csv"))
        assert second.agencies() == first.agencies()
        export_file(second, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "agencies.csv").read_bytes()


def test_cells_are_read_generously() -> None:
    text = (f"{HEADER.upper().replace(',', ' , ')}\n"
            " waspd0100 , Spokane Police Department ,wa,LOCAL,pd,,,TRUE,d a,,1,\n"
            "\n"
            "orppd0000,Portland Police Bureau,or,local,pd,,,y,ACD,,n,\n")
    spokane, portland = read_agencies("\ufeff" + text)
    assert spokane.ori == "WASPD0100" and spokane.permissions == frozenset("AD")
    assert spokane.active and not portland.active


def test_a_bad_level_is_reported_with_its_row_and_column() -> None:
    rows = GOOD.splitlines()
    rows[6] = rows[6].replace(",federal,", ",federall,")
    assert problems("\n".join(rows)) == [
        "row 7, column level: 'federall' is not one of local, county, state, federal, tribal, "
        "international"]


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    rows = GOOD.splitlines()
    rows[1] = rows[1].replace(",no,", ",maybe,")
    rows[2] = rows[2].replace(",FE,", ",XX,")
    rows[3] = "waxxx0000,Nowhere,WA,local"
    rows.append(rows[10].replace("Spokane", "Spokane Valley"))
    assert problems("\n".join(rows)) == [
        "row 2, column criminal_justice: 'maybe' is not yes or no",
        "row 3, column agency_type: NYTSA0100: agency type 'XX' is not one of PD SO SA LE FE "
        "JA JC JG JJ JF NJ",
        "row 4: has 4 cells, the header has 12",
        "row 12, column ori: WASPD0100 is already on row 11",
    ]


def test_blank_rows_are_skipped_but_still_counted() -> None:
    rows = GOOD.splitlines()
    text = "\n".join([rows[0], "", ",,,,,,,,,,,", rows[1].replace("CACIS0100", "cacis01")])
    assert problems(text) == ["row 4, column ori: ORI 'cacis01' is not 9 letters or digits"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "the file is empty"),
    ("\n \n", "the file is empty"),
    (HEADER + "\n", "the file has a header but no agencies"),
    (HEADER.replace(",contact", "") + "\n", "row 1: missing columns: 'contact'"),
    (HEADER + ",notes\n", "row 1: unknown columns: 'notes'"),
    (HEADER + ",ori\n", "row 1: repeated columns: 'ori'"),
    ('"unclosed\n' + "x" * 200_000, "not readable as CSV"),
])
def test_a_file_without_agencies_or_with_a_bad_header_is_refused(text: str,
                                                                  expected: str) -> None:
    assert problems(text)[0].startswith(expected)


def test_bytes_that_are_not_utf8_are_refused_with_their_line() -> None:
    data = GOOD.encode().replace(b"Spokane", b"Sp\xf6kane")
    with pytest.raises(CsvError) as caught:
        read_bytes(data, "latin.csv")
    assert str(caught.value).startswith("latin.csv: 1 error, nothing imported\n")
    assert "not UTF-8 text: byte 0xf6 on line 11" in str(caught.value)


def test_a_missing_file_is_a_csv_error(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="cannot read"):
        read_file(tmp_path / "missing.csv")


def test_a_refused_file_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text(GOOD.replace("Portland", "Port\x07land"))
    with Directory.open(tmp_path) as directory:
        directory.put_many([ICE])
        with pytest.raises(CsvError, match="column name: ORPPD0000: name contains control"):
            directory.put_many(read_file(tmp_path / "bad.csv"), replace=True)
        assert directory.version == 1
        assert directory.agencies() == [ICE]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=400), st.text(max_size=400).map(lambda t: f"{HEADER}\n{t}")))
def test_arbitrary_text_is_read_or_refused_with_a_csv_error(text: str) -> None:
    with contextlib.suppress(CsvError):
        read_agencies(text)


@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_read_or_refused_with_a_csv_error(data: bytes) -> None:
    with contextlib.suppress(CsvError):
        read_bytes(data)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = format_agencies(draw(st.lists(agencies(), min_size=1, max_size=4,
                                         unique_by=lambda a: a.ori)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(("insert", "delete", "duplicate")))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(',"\n\r;\x00 xé')) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        else:
            text = text + text[at:]
    return text


@given(mutated())
def test_mutated_valid_csv_is_read_or_refused_with_a_csv_error(text: str) -> None:
    try:
        read_agencies(text)
    except CsvError as error:
        assert error.errors
        assert all(error.row is None or error.row >= 1 for error in error.errors)


FORMULAS = ("=HYPERLINK(\"http://x.example\",\"hi\")", "+1+1", "-2+3", "@SUM(A1)",
            "'=already quoted", "''+twice", "plain 'quoted' name")


@pytest.mark.parametrize("text", FORMULAS)
def test_an_exported_cell_a_spreadsheet_would_run_is_neutralised_and_reads_back(
        text: str) -> None:
    agency = Agency("WASPD0199", text, "WA", SPOKANE.level, "PD", contact=text)
    exported = format_agencies([agency])
    cells = next(csv.reader(io.StringIO(exported.splitlines()[1])))
    for cell in (cells[COLUMNS.index("name")], cells[COLUMNS.index("contact")]):
        assert cell[0] not in "=+-@\t\r"
        assert cell == (f"'{text}" if text.lstrip("'")[0] in "=+-@" else text)
    assert read_agencies(exported) == [agency]


def test_an_import_still_refuses_what_is_invalid_behind_a_quote() -> None:
    row = ["WASPD0199", "'=X", "WA", "local", "'PD", "", "", "yes", "AD", "", "yes", ""]
    assert problems(HEADER + "\n" + ",".join(row)) == [
        "row 2, column agency_type: WASPD0199: agency type \"'PD\" is not one of "
        "PD SO SA LE FE JA JC JG JJ JF NJ"]


@given(st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
               max_size=20).map(str.strip).filter(bool))
def test_any_name_survives_export_and_import(name: str) -> None:
    agency = Agency("WASPD0199", name, "WA", SPOKANE.level, "PD")
    assert read_agencies(format_agencies([agency])) == [agency]
