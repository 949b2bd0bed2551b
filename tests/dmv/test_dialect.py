"""Each database's spelling of the same statements and plate patterns."""

from __future__ import annotations

from stateline.dmv.dialect import POSTGRES, SQLITE, create_indexes, create_table
from stateline.dmv.rows import PEOPLE


def test_placeholders_and_percent_signs() -> None:
    text = "SELECT 1 FROM vehicles v WHERE v.plate = ? AND v.plate_year % ? = ?"
    assert SQLITE.sql(text) == text
    assert POSTGRES.sql(text) == ("SELECT 1 FROM vehicles v WHERE v.plate = %s "
                                  "AND v.plate_year %% %s = %s")


def test_protocol_wildcards_in_each_spelling() -> None:
    assert SQLITE.pattern("AB*1?") == "AB*1?"
    assert POSTGRES.pattern("AB*1?") == "AB%1_"


def test_tables_and_indexes_come_from_one_description() -> None:
    assert create_table(SQLITE, PEOPLE).startswith(
        "CREATE TABLE IF NOT EXISTS people (id INTEGER PRIMARY KEY, oln TEXT, ")
    assert 'oln TEXT COLLATE "C"' in create_table(POSTGRES, PEOPLE)
    assert create_indexes(PEOPLE)[0] == (
        "CREATE UNIQUE INDEX IF NOT EXISTS people_oln ON people (oln)")
