"""The SQLite store: one WAL file per state, indexes the searches use, clear open errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stateline.dmv import StoreError, open_store
from stateline.dmv.sqlite import SqliteStore

from .conftest import state_records


@pytest.fixture
def built(tmp_path: Path) -> Path:
    path = tmp_path / "states" / "WA" / "dmv.db"
    store = open_store(path)
    store.load(state_records())
    store.close()
    return path


def test_a_built_store_is_wal_and_keeps_its_records(built: Path) -> None:
    with sqlite3.connect(built) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store = open_store(f"sqlite:///{built}")
    assert isinstance(store, SqliteStore)
    assert [h.record_id for h in store.by_oln("WDL0001")] == ["WDL0001"]
    store.close()


@pytest.mark.parametrize(("statement", "index"), [
    ("driver", "people_oln"),
    ("name_dob", "people_name (last_key=? AND first_key=? AND dob=?)"),
    ("name_dob_range", "people_name"),
    ("name", "people_name"),
    ("name_range", "people_name"),
    ("plate", "vehicles_plate"),
    ("vin", "vehicles_vin"),
    ("owner", "vehicles_owner"),
    ("owner_range", "vehicles_owner"),
])
def test_each_search_reads_its_index(built: Path, statement: str, index: str) -> None:
    store = SqliteStore(built)
    sql = store._sql[statement]  # the statement exactly as the store runs it
    plan = " ".join(row[3] for row in store._db.execute(
        f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")))
    store.close()
    assert f"INDEX {index}" in plan
    assert "SCAN p " not in plan and "SCAN v " not in plan


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    junk = tmp_path / "dmv.db"
    junk.write_text("not a database, just words " * 100)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(junk)
