"""The PostgreSQL store: one schema per state in a shared database, clear connect errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from stateline.dmv import StoreError, StoreURLError, open_store
from stateline.dmv.postgres import PostgresStore

from .conftest import state_records


@pytest.fixture
def schemas(postgres_url: str) -> Iterator[list[str]]:
    names = [f"t_{uuid.uuid4().hex[:16]}" for _ in range(2)]
    yield names
    with psycopg.connect(postgres_url, autocommit=True) as db:
        for name in names:
            db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.mark.postgres
def test_states_sharing_a_database_do_not_see_each_other(postgres_url: str,
                                                         schemas: list[str]) -> None:
    washington = open_store(postgres_url, schema=schemas[0])
    oregon = open_store(postgres_url, schema=schemas[1])
    assert isinstance(washington, PostgresStore)
    washington.load(state_records())
    assert washington.by_oln("WDL0001") and oregon.by_oln("WDL0001") == []
    assert oregon.counts()["people"] == 0
    washington.close()
    oregon.close()
    again = open_store(postgres_url, schema=schemas[0])
    assert again.by_plate("ABC1234", "26", "PC")
    again.close()


def test_a_database_that_does_not_answer_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_url_libpq_cannot_read_is_a_url_error() -> None:
    with pytest.raises(StoreURLError):
        open_store("postgresql://localhost/db?nonsense=1")
