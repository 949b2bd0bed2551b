"""CSV and JSONL exports read through a column map: the same requests as the switch's printed
log, a map that does not fit refused before any row is read, every bad cell named by row (or
line) and column, and no input that crashes the readers."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.history import HistoryError, nlets, tabular
from stateline.history.columns import ColumnMap, load, parse
from stateline.history.errors import Problems
from stateline.history.rows import Reading, Row

from . import samples
from .samples import STATE

TODAY = date(2026, 1, 15)


def column_map(text: str) -> ColumnMap:
    problems: list[str] = []
    found = parse(tomllib.loads(text), problems)
    assert found is not None, problems
    return found


CSV_MAP, JSONL_MAP = column_map(samples.CSV_MAP), column_map(samples.JSONL_MAP)


def read_csv(text: str, columns: ColumnMap = CSV_MAP) -> tuple[list[Row], list[str]]:
    problems = Problems()
    rows = tabular.read_csv(text, columns, Reading("x.csv", STATE, UTC, TODAY, problems))
    return rows, [str(p) for p in problems.kept]


def read_jsonl(text: str, columns: ColumnMap = JSONL_MAP) -> tuple[list[Row], list[str]]:
    problems = Problems()
    rows = tabular.read_jsonl(text, columns, Reading("x.jsonl", STATE, UTC, TODAY, problems))
    return rows, [str(p) for p in problems.kept]


def facts(rows: list[Row]) -> list[tuple[object, ...]]:
    """What an entry keeps of each row, but where it was read and an ER's code."""
    return [(r.time, r.ori, r.key, r.outcome, r.released, r.withheld, r.records, r.photo,
             r.terms, r.reason) for r in rows]


def test_csv_and_jsonl_read_the_requests_the_printed_log_holds() -> None:
    problems = Problems()
    printed = nlets.read(samples.nlets_text(), Reading("log", STATE, UTC, TODAY, problems))
    from_csv, csv_problems = read_csv(samples.csv_text())
    from_jsonl, jsonl_problems = read_jsonl(samples.jsonl_text())
    assert csv_problems == jsonl_problems == []
    assert facts(from_csv) == facts(printed)
    assert [f[:4] + f[6:] for f in facts(from_jsonl)] == [f[:4] + f[6:] for f in facts(printed)]
    assert [r.line for r in from_csv] == [2, 3, 4, 5, 6, 7]  # the header is row 1
    assert [r.line for r in from_jsonl] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_any_line_ending_reads_the_same_even_mixed_in_one_file(newline: str) -> None:
    expected, _ = read_csv(samples.csv_text())
    mixed = samples.csv_text(samples.REQUESTS[:3], newline) + \
        samples.csv_text(samples.REQUESTS[3:], "\r").split("\r", 1)[1]
    for text in (samples.csv_text(newline=newline), mixed):
        rows, problems = read_csv(text)
        assert problems == [] and facts(rows) == facts(expected)
    lines = samples.jsonl_text().splitlines()
    rows, problems = read_jsonl("\r\n".join(lines[:2]) + "\r" + "\n".join(lines[2:]))
    assert problems == [] and facts(rows) == facts(read_jsonl(samples.jsonl_text())[0])


def test_a_map_column_the_header_lacks_is_refused_before_any_row_is_read() -> None:
    text = samples.csv_text().replace("mke,", "message_key,", 1) + "garbage,row\r\n"
    rows, problems = read_csv(text)
    assert rows == []
    assert problems == [
        "x.csv row 1, column mke: the map's [key] column is not in the header (the file has: "
        "sent, ori, message_key, text, result, returned, held_back, photo, records, dest)"]


def test_a_map_key_the_first_object_lacks_is_refused_before_the_rest_is_read() -> None:
    text = samples.jsonl_text().replace('"from"', '"sender"', 1)
    rows, problems = read_jsonl(text)
    assert rows == [] and problems == [
        "x.jsonl line 1, column from: the map's [sender] key is not in the first object (it "
        "has: at, sender, key, query, outcome, elements, photo, records)"]


def test_a_csv_row_with_too_few_cells_and_a_file_cut_in_a_quote_are_refused() -> None:
    lines = samples.csv_text().split("\r\n")
    short = lines[2].rsplit(",", 3)[0]
    text = "\r\n".join([lines[0], lines[1], short, *lines[3:6]]) + '\r\n"02/01/2024 09:15,WA'
    rows, problems = read_csv(text)
    assert len(rows) == 4
    assert problems == ["x.csv row 3: has 7 cells, the header has 10",
                        "x.csv row 7: not readable as CSV (unexpected end of data): a quote "
                        "left open, or the file cut off"]


def test_a_jsonl_line_cut_mid_object_is_refused_with_its_column() -> None:
    lines = samples.jsonl_text().splitlines()
    rows, problems = read_jsonl("\n".join([*lines[:3], lines[3][:50]]) + "\n")
    assert len(rows) == 3
    assert problems == ["x.jsonl line 4, column 51: not a JSON object (Expecting ',' "
                        "delimiter): a line cut off, or two on one line"]


def test_every_bad_cell_is_named_by_row_and_column() -> None:
    lines = samples.csv_text().split("\r\n")
    lines[2] = "13/45/2024 09:15,WASPD01,DQX,OLN/X,MAYBE,identity|face,,P,WDL123456,OR"
    rows, problems = read_csv("\r\n".join(lines))
    assert len(rows) == 5
    assert problems == [
        "x.csv row 3, column sent: '13/45/2024 09:15' is not a time in the form %m/%d/%Y %H:%M",
        "x.csv row 3, column ori: 'WASPD01' is not an ORI (9 letters or digits)",
        "x.csv row 3, column mke: 'DQX' is not a query key a state answers (DNQ DQ DQG KQ RNQ "
        "RPQ RQ RQG)",
        "x.csv row 3, column result: 'MAYBE' is not an outcome the map knows (DENIED, ERROR, "
        "HELD, HIT, NO HIT, NO-RECORD, PARTIAL, PARTIAL HIT, RELEASED)",
        "x.csv row 3, column returned: 'face' is not a data element (identity description "
        "address license vehicle registration history credential ssn photo)",
        "x.csv row 3, column photo: 'p' is neither a true word (y) nor a false one ('n')",
        "x.csv row 3, column dest: 'OR': this import takes requests to WA only"]


def test_a_row_dated_after_today_is_refused_naming_its_row_and_column() -> None:
    text = samples.csv_text(samples.REQUESTS[:1]).replace("02/01/2024", "01/16/2026")
    _, problems = read_csv(text)
    assert problems == ["x.csv row 2, column sent: 2026-01-16T09:15:00.000000+00:00 (UTC) is "
                        "after today, 2026-01-15"]


def test_a_time_with_an_offset_keeps_it_and_one_without_takes_the_zone() -> None:
    from zoneinfo import ZoneInfo

    zoned = column_map(samples.JSONL_MAP.replace('column = "at"',
                                                 'column = "at"\nzone = "America/New_York"'))
    text = samples.jsonl_text(samples.REQUESTS[:2])
    local = text.replace("T09:15:00Z", "T09:15:00")
    rows, _ = read_jsonl(local, zoned)
    assert [r.time for r in rows] == ["2024-02-01T14:15:00.000000+00:00",
                                      "2024-06-03T14:03:00.000000+00:00"]
    assert ZoneInfo("America/New_York")  # the zone is a real one


@pytest.mark.parametrize(("key", "value", "half"), [("records", ["WDL\ud800"], "WDL\\ud800"),
                                                  ("query", "OLN/WDL\udfff", "OLN/WDL\\udfff")])
def test_half_a_character_is_refused_naming_its_line_and_column(key: str, value: object,
                                                                half: str) -> None:
    """JSON's \\u escapes can spell a lone surrogate, which no UTF-8 body can hold."""
    lines = samples.jsonl_text(samples.REQUESTS[:2]).splitlines()
    lines[1] = json.dumps({**json.loads(lines[1]), key: value})
    rows, problems = read_jsonl("\n".join(lines) + "\n")
    assert len(rows) == 1 and problems == [
        f"x.jsonl line 2, column {key}: '{half}' holds {half[-6:]}, half of a character (a "
        "lone surrogate): not text UTF-8 can hold"]


def test_half_a_character_in_a_key_the_map_does_not_name_is_shown_escaped() -> None:
    rows, problems = read_jsonl(json.dumps({"\ud800": 1}) + "\n")
    assert rows == [] and problems[0].endswith("(it has: \\ud800)")
    assert all(p.encode() for p in problems)  # a problem can always be printed


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_a_time_with_no_utc_equivalent_is_refused_naming_its_line_and_column(at: str
                                                                             ) -> None:
    text = samples.jsonl_text(samples.REQUESTS[:1]).replace("2024-02-01T09:15:00Z", at)
    rows, problems = read_jsonl(text)
    assert rows == [] and problems == [
        f"x.jsonl line 1, column at: {at} is no time in UTC (before year 1 or after 9999)"]


@pytest.mark.parametrize(("text", "said"), [
    ("[time\ncolumn = 'x'", "not a TOML column map (Expected ']' at the end of a table "
                            "declaration (at line 1, column 6))"),
    (samples.CSV_MAP.replace("[records]\ncolumn = \"records\"\nseparator = \"|\"\n", ""),
     "[records] is missing: it names the column that holds the records"),
    (samples.CSV_MAP + "\n[recrods]\ncolumn = 'x'\n", "[recrods] is not a table a map has"),
    (samples.CSV_MAP.replace('format = "%m/%d/%Y %H:%M"', 'zone = "Mars/Olympus"'),
     "[time] zone: 'Mars/Olympus' is not a time zone"),
    (samples.CSV_MAP.replace('"NO HIT" = "no-record"', '"NO HIT" = "none"'),
     "[outcome] words: NO HIT = 'none' is not an outcome"),
    (samples.CSV_MAP.replace('column = "ori"', 'colum = "ori"'),
     "[sender] colum is not a setting of [sender]"),
])
def test_a_map_that_cannot_be_used_is_refused_naming_what_is_wrong(
        tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HistoryError) as refused:
        load(path)
    assert refused.value.code == "invalid-history"
    assert f"map.toml: {said}" in refused.value.text


_CSV = st.text(st.sampled_from([*samples.csv_text(), "\r", "\n", '"', ",", "\x00", "é"]),
               max_size=600)
_JSONL = st.text(st.sampled_from([*samples.jsonl_text(), "[", "{", '"', "\\", "\x00", "1"]),
                 max_size=600)


@settings(max_examples=300)
@given(st.data())
def test_no_csv_crashes_the_reader(data: st.DataObject) -> None:
    text = data.draw(_CSV) if data.draw(st.booleans()) else _edited(samples.csv_text(), data)
    rows, problems = read_csv(text)
    assert all(isinstance(r, Row) for r in rows) and all(p.startswith("x.csv")
                                                        for p in problems)


@settings(max_examples=300)
@given(st.data())
def test_no_jsonl_crashes_the_reader(data: st.DataObject) -> None:
    text = data.draw(_JSONL) if data.draw(st.booleans()) else \
        _edited(samples.jsonl_text(), data)
    rows, problems = read_jsonl(text)
    assert all(isinstance(r, Row) for r in rows) and all(p.startswith("x.jsonl")
                                                        for p in problems)


def _edited(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text) - 1))
        text = text[:at] + data.draw(st.sampled_from(
            ['"', ",", "\n", "", "[", "]", "true", "null", "1e999", "{}", "x" * 20])) + \
            text[at + 1:]
    return text
