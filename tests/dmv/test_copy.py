"""A state's records copied into PostgreSQL read exactly as the SQLite file does; a schema that
already holds records is copied over only when asked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from psycopg import sql

from stateline.datadir import DataDir
from stateline.dmv import StoreError, open_store
from stateline.dmv.copy import PostgresDmv, copy_to_postgres, holds_records, in_schema


def test_the_schema_joins_options_already_in_the_url() -> None:
    assert in_schema("postgresql://u@h/db", "dmv_wa") == \
        "postgresql://u@h/db?options=-csearch_path%3Ddmv_wa"
    assert in_schema("postgresql://u@h/db?sslmode=require&options=-cwork_mem%3D8MB",
                     "dmv_or") == ("postgresql://u@h/db?sslmode=require&options=-cwork_mem%3D8MB"
                                   "%20-csearch_path%3Ddmv_or")
    assert PostgresDmv(DataDir.resolve("x").root, "postgresql://u@h/db").dmv_url("NY") == \
        "postgresql://u@h/db?options=-csearch_path%3Ddmv_ny"


@pytest.fixture
def schema(postgres_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.mark.postgres
def test_a_copy_answers_every_search_as_the_original(small_nation: DataDir, postgres_url: str,
                                                     schema: str) -> None:
    source = small_nation.dmv_db("WA")
    assert not holds_records(postgres_url, schema)
    counts = copy_to_postgres(source, postgres_url, schema)
    assert counts["people"] == 400 and holds_records(postgres_url, schema)
    original, copy = open_store(source), open_store(in_schema(postgres_url, schema))
    try:
        for sample in original.sample(5, seed=3):
            assert copy.by_oln(sample.oln, photo=True) == original.by_oln(sample.oln, photo=True)
            assert copy.by_vin(sample.vin) == original.by_vin(sample.vin)
            born = date(int(sample.dob[:4]), int(sample.dob[4:6]), int(sample.dob[6:]))
            assert copy.by_name_dob(sample.name, born) == original.by_name_dob(sample.name, born)
    finally:
        original.close()
        copy.close()
    with pytest.raises(StoreError, match="--replace"):
        copy_to_postgres(source, postgres_url, schema)
    assert copy_to_postgres(source, postgres_url, schema, replace=True) == counts
