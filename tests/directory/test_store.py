"""The directory on disk: lookups however an ORI is typed, filters, snapshots, and a version
that moves by one on every edit and only then."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.datadir import DataDir
from stateline.directory import Agency, Directory, DirectoryError, NoNation, UnknownAgency

from .samples import CBP, DMV, FBI, HSI, ICE, PARTNER, PORTLAND, SAMPLES, SPOKANE, agencies


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Directory]:
    with Directory.open(DataDir(tmp_path)) as opened:
        opened.put_many(SAMPLES)
        yield opened


def test_a_new_directory_is_empty_at_version_0(tmp_path: Path) -> None:
    with Directory.open(DataDir(tmp_path / "new")) as directory:
        assert directory.version == 0
        assert directory.agencies() == []
    assert (tmp_path / "new" / "nation.db").is_file()


def test_a_missing_directory_is_not_created_when_reading(tmp_path: Path) -> None:
    with pytest.raises(NoNation) as caught:
        Directory.open(DataDir(tmp_path / "nowhere"), create=False)
    assert str(caught.value) == (f"no nation at {tmp_path / 'nowhere'}: run "
                                 f"`stateline nation init {tmp_path / 'nowhere'}`")
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_or_a_database_path_opens_the_same_directory(directory: Directory,
                                                              tmp_path: Path) -> None:
    for where in (tmp_path, str(tmp_path), tmp_path / "nation.db"):
        with Directory.open(where, create=False) as again:
            assert again.version == directory.version == 1


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nation.db").write_text("these are not the agencies you are looking for " * 50)
    with pytest.raises(NoNation, match="is not a Stateline directory"):
        Directory.open(DataDir(tmp_path))


@pytest.mark.parametrize("typed", ["vtice0900", "  VTICE0900 ", "VtIcE0900\n"])
def test_an_agency_is_found_however_its_ori_is_typed(directory: Directory, typed: str) -> None:
    assert directory.get(typed) == ICE
    assert directory.snapshot().get(typed) == ICE


def test_an_absent_ori_is_none_and_a_malformed_one_an_error(directory: Directory) -> None:
    assert directory.get("WAXXX0000") is None
    with pytest.raises(DirectoryError, match="not 9 letters"):
        directory.get("WA")


def test_agencies_come_back_exactly_as_they_went_in(directory: Directory) -> None:
    assert directory.agencies() == sorted(SAMPLES, key=lambda a: a.ori)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"state": "wa"}, [FBI, HSI, DMV, SPOKANE]),
    ({"state": "TX", "component": "cbp"}, [CBP]),
    ({"component": "ICE"}, [ICE]),
    ({"program": "287G"}, [PARTNER]),
    ({"program": "287"}, []),
    ({"active": False}, [DMV]),
    ({"state": "WA", "active": True}, [FBI, HSI, SPOKANE]),
])
def test_filters_narrow_the_list(directory: Directory, filters: dict[str, object],
                                 expected: list[object]) -> None:
    assert directory.agencies(**filters) == expected  # type: ignore[arg-type]


def test_every_edit_moves_the_version_on_by_one(directory: Directory) -> None:
    assert directory.version == 1
    assert directory.put(replace(SPOKANE, name="Spokane PD")).version == 2
    assert directory.put_many([PORTLAND]).version == 3
    assert directory.remove("orppd0000").version == 4
    assert directory.put_many([ICE], replace=True).version == 5
    assert directory.version == 5


def test_a_refused_edit_leaves_the_version_alone(directory: Directory) -> None:
    with pytest.raises(UnknownAgency, match="no agency WAXXX0000"):
        directory.remove("waxxx0000")
    assert directory.version == 1
    assert len(directory.agencies()) == len(SAMPLES)


def test_an_edit_says_what_it_changed(directory: Directory) -> None:
    moved = replace(SPOKANE, contact="records@agencies.example")
    new = replace(SPOKANE, ori="WASPD0200", name="Spokane Valley Police")
    change = directory.put_many([moved, new, ICE])
    assert (change.added, change.updated, change.unchanged, change.removed) == (1, 1, 1, 0)
    change = directory.put_many([ICE, HSI], replace=True)
    assert (change.added, change.updated, change.unchanged, change.removed) == (
        0, 0, 2, len(SAMPLES) - 1)
    assert directory.agencies() == [ICE, HSI]


def test_the_version_and_rows_are_shared_with_other_connections(directory: Directory,
                                                                tmp_path: Path) -> None:
    with Directory.open(DataDir(tmp_path), create=False) as other:
        other.remove(PORTLAND.ori)
    assert directory.version == 2
    assert directory.get(PORTLAND.ori) is None


def test_a_snapshot_is_frozen_at_its_version(directory: Directory) -> None:
    snapshot = directory.snapshot()
    directory.remove(ICE.ori)
    assert snapshot.version == 1 and directory.version == 2
    assert snapshot.get("vtice0900") == ICE
    assert len(snapshot) == len(SAMPLES)
    with pytest.raises(TypeError):
        snapshot.agencies[ICE.ori] = HSI  # type: ignore[index]


def test_storage_keeps_letters_and_sorted_programs_as_text_in_wal_mode(
        directory: Directory, tmp_path: Path) -> None:
    directory.put(replace(PARTNER, programs=frozenset({"task-force", "287g"})))
    raw = sqlite3.connect(tmp_path / "nation.db")
    try:
        row = raw.execute("SELECT permissions, programs, active FROM agency WHERE ori = ?",
                          (PARTNER.ori,)).fetchone()
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        raw.close()
    assert row == ("AD", "287g;task-force", 1)
    assert mode == "wal"


def test_a_batch_the_size_of_a_nation_is_one_edit(tmp_path: Path) -> None:
    many = [replace(SPOKANE, ori=f"WA{number:07d}") for number in range(20_000)]
    with Directory.open(tmp_path) as directory:
        change = directory.put_many(many)
        assert (change.added, change.version) == (20_000, 1)
        assert len(directory.snapshot()) == 20_000


@settings(max_examples=25, deadline=None)
@given(st.lists(agencies(), max_size=6, unique_by=lambda a: a.ori))
def test_any_agency_is_stored_and_read_back_unchanged(drawn: list[Agency]) -> None:
    with tempfile.TemporaryDirectory() as folder, Directory.open(folder) as directory:
        directory.put_many(drawn)
        assert directory.agencies() == sorted(drawn, key=lambda a: a.ori)
        assert all(directory.get(a.ori.lower()) == a for a in drawn)
