"""open_store: the store a URL names, or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from stateline.dmv import StoreURLError, open_store
from stateline.dmv.sqlite import SqliteStore


@pytest.mark.parametrize("form", ["sqlite:///{}", "{}"])
def test_sqlite_by_url_or_by_path(tmp_path: Path, form: str) -> None:
    store = open_store(form.format(tmp_path / "dmv.db"))
    assert isinstance(store, SqliteStore)
    store.close()
    assert (tmp_path / "dmv.db").is_file()


def test_sqlite_by_path_object_and_in_memory(tmp_path: Path) -> None:
    for target in (tmp_path / "a" / "dmv.db", "sqlite:///:memory:"):
        store = open_store(target)
        assert store.counts()["people"] == 0
        store.close()


@pytest.mark.parametrize("url", ["", "mysql://host/db", "sqlite:/relative.db", "sqlite:",
                                 "nats://localhost:4222", "sqlite:///"])
def test_a_url_naming_no_store_is_refused_clearly(url: str) -> None:
    with pytest.raises(StoreURLError, match="is not sqlite"):
        open_store(url)
    with pytest.raises(ValueError):
        open_store(url)


def test_a_schema_is_only_for_postgresql(tmp_path: Path) -> None:
    with pytest.raises(StoreURLError, match="schema"):
        open_store(tmp_path / "dmv.db", schema="wa")
