"""A state's DMV records copied from its SQLite file into PostgreSQL, one schema per state
(`dmv_wa`), so gateway processes on other machines can read them. The copy commits whole or
not at all, and is checked by counting both sides."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..datadir import DataDir
from . import open_store
from .dialect import POSTGRES, create_indexes, create_table, drop_indexes
from .rows import TABLES
from .sqlite import SqliteStore
from .store import StoreError


def schema_for(state: str) -> str:
    return f"dmv_{state.lower()}"


def in_schema(url: str, schema: str) -> str:
    """The URL with libpq's search_path set to `schema`, so a store opened on it reads that
    state's tables (other options in the URL are kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = [value for key, value in query if key == "options"]
    rest = [(key, value) for key, value in query if key != "options"]
    merged = " ".join([*options, f"-csearch_path={schema}"])
    return urlunsplit(parts._replace(query=urlencode([*rest, ("options", merged)],
                                                     quote_via=quote)))


@dataclass(frozen=True, slots=True)
class PostgresDmv(DataDir):
    """A data folder whose states' DMV records are read from PostgreSQL, schema dmv_<state>
    (everything else stays in the folder): what a gateway opens its store from."""

    database: str = ""

    def dmv_url(self, state: str) -> str:
        return in_schema(self.database, schema_for(state))


def copy_to_postgres(source: Path, url: str, schema: str, *,
                     replace: bool = False) -> dict[str, int]:
    """Copy every record; a schema that already holds records is refused unless `replace`.
    The counts in PostgreSQL, once they match the source's."""
    import psycopg  # loads only for those who use PostgreSQL
    from psycopg import sql

    if not source.is_file():
        raise StoreError(f"no DMV store at {source}")
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with psycopg.connect(url) as db, db.cursor() as cursor:
            name = sql.Identifier(schema)
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
            cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(name))
            for table in TABLES.values():
                cursor.execute(create_table(POSTGRES, table))
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table.name})")
                row = cursor.fetchone()
                if row is not None and row[0] and not replace:
                    raise StoreError(f"schema {schema} already holds {table.name}; "
                                     "--replace copies over it")
                cursor.execute(f"TRUNCATE {table.name}")
                for statement in drop_indexes(table):
                    cursor.execute(statement)
                columns = ", ".join(table.columns)
                with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
                    for values in lite.execute(f"SELECT {columns} FROM {table.name} "
                                               "ORDER BY id"):
                        copy.write_row(values)
                for statement in create_indexes(table):
                    cursor.execute(statement)
                cursor.execute(f"ANALYZE {table.name}")
    except psycopg.Error as error:
        raise StoreError(f"cannot copy the records into PostgreSQL: {error}") from None
    except sqlite3.Error as error:
        raise StoreError(f"cannot read {source}: {error}") from None
    finally:
        lite.close()
    return _checked(source, url, schema)


def holds_records(url: str, schema: str) -> bool:
    """Whether the schema has a people table with anyone in it."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute("SELECT to_regclass(%s)", (f"{schema}.people",)).fetchone()
            if row is None or row[0] is None:
                return False
            found = db.execute(f"SELECT EXISTS (SELECT 1 FROM {schema}.people)").fetchone()
    except psycopg.Error as error:
        raise StoreError(f"cannot read the DMV store: {error}") from None
    return bool(found and found[0])


def _checked(source: Path, url: str, schema: str) -> dict[str, int]:
    before = SqliteStore(source)
    try:
        expected = before.counts()
    finally:
        before.close()
    after = open_store(in_schema(url, schema))
    try:
        copied = after.counts()
    finally:
        after.close()
    if copied != expected:
        raise StoreError(f"the copy in {schema} holds {copied}, not {expected}")
    return copied


def copy_state(data: DataDir, state: str, url: str, *, replace: bool = False) -> dict[str, int]:
    return copy_to_postgres(data.dmv_db(state), url, schema_for(state), replace=replace)
