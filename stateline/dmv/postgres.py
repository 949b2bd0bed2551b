"""A state's DMV records in PostgreSQL (psycopg 3, sync), for gateways past one machine.

Several states can share one database, each in its own schema. Bulk loads use COPY, the
fastest path psycopg offers (about 3x executemany, see tech-notes §5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from .dialect import POSTGRES, create_indexes, create_table
from .rows import TABLES, Row, Table
from .sql import SqlStore
from .store import LoadError, StoreError, StoreURLError

BUILDING = ("SET synchronous_commit TO off", "SET maintenance_work_mem TO '512MB'")
"""A bulk load needs no flush per commit: a crash mid-load means loading again anyway."""
SERVING = ("RESET synchronous_commit", "RESET maintenance_work_mem")


class PostgresStore(SqlStore):
    dialect = POSTGRES

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        super().__init__()
        try:
            self._db = psycopg.connect(url, autocommit=True)
        except psycopg.ProgrammingError as error:
            raise StoreURLError(f"{url} is not a PostgreSQL URL libpq takes: {error}") from None
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to the DMV store: {error}") from None
        self._cursor = self._db.cursor()
        try:
            if schema:
                name = sql.Identifier(schema)
                self._cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(name))
                self._cursor.execute(sql.SQL("SET search_path TO {}").format(name))
            self._run(create_table(POSTGRES, table) for table in TABLES.values())
            if any(self._query(f"any_{name}") for name in TABLES):
                self._run(s for table in TABLES.values() for s in create_indexes(table))
        except psycopg.Error as error:
            self._db.close()
            raise StoreError(f"cannot set up the DMV store: {error}") from None
        self._copies = {name: f"COPY {name} ({', '.join(table.columns)}) FROM STDIN"
                        for name, table in TABLES.items()}

    def _rows(self, statement: str, params: Sequence[object]) -> list[Row]:
        self._cursor.execute(statement, params)
        return self._cursor.fetchall()

    def _run(self, statements: Iterable[str]) -> None:
        try:
            for statement in statements:
                self._cursor.execute(statement)
        except psycopg.IntegrityError as error:
            raise LoadError(f"records clash: {error}") from None

    def _copy(self, table: Table, rows: list[Row]) -> None:
        try:
            self._begin()
            with self._cursor.copy(self._copies[table.name]) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as error:
            raise LoadError(f"cannot load {table.name}: {error}") from None

    def _many(self, statement: str, rows: Sequence[Sequence[object]]) -> int:
        try:
            self._begin()
            self._cursor.executemany(statement, rows)
        except psycopg.Error as error:
            raise LoadError(f"cannot load records: {error}") from None
        return self._cursor.rowcount

    def _begin(self) -> None:
        if self._db.info.transaction_status == TransactionStatus.IDLE:
            self._cursor.execute("BEGIN")

    def _commit(self) -> None:
        if self._db.info.transaction_status != TransactionStatus.IDLE:
            self._cursor.execute("COMMIT")

    def _start_load(self, fresh: bool) -> None:
        self._run(BUILDING)

    def _finish_load(self, fresh: bool) -> None:
        self._run([f"ANALYZE {', '.join(TABLES)}", *SERVING])

    def _abandon(self, fresh: bool) -> None:
        if self._db.info.transaction_status != TransactionStatus.IDLE:
            self._cursor.execute("ROLLBACK")
        if fresh:
            self._run([f"TRUNCATE {', '.join(TABLES)}"])
        self._run(SERVING)

    def close(self) -> None:
        self._db.close()
