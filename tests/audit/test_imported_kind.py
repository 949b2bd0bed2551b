"""Imported requests in the log: counted on the day they were made, and accepted by a log that
was created before the kind existed, in SQLite and in PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import AuditLog, EntryKind, Tamper
from stateline.audit.sql import POSTGRES, SQLITE, schema

from .test_log import ORIGIN, Clock, Store, query, store  # noqa: F401 (the fixture)


def made(day: str, category: str, outcome: str, records: int = 1) -> dict[str, object]:
    return {**query(category, "DQ", outcome, records=records),
            "time": f"{day}T14:03:00.000000+00:00"}


def test_an_imported_request_counts_on_the_day_it_was_made_not_the_day_it_was_appended(
        store: Store) -> None:  # noqa: F811
    key = Ed25519PrivateKey.generate()
    with store.open(key, Clock()) as audit:
        audit.append_many([
            (EntryKind.IMPORTED, made("2025-06-30", "ICE", "released")),
            (EntryKind.IMPORTED, made("2024-01-02", "CBP", "denied", records=0)),
            (EntryKind.DECISION, made("2024-01-02", "ICE", "released")),  # a live one: today
        ])
        rows = [(r.day, r.kind, r.category, r.outcome, r.entries, r.records)
                for r in audit.rollups()]
        assert rows == [
            ("2024-01-02", "imported", "CBP", "denied", 1, 0),
            ("2025-06-30", "imported", "ICE", "released", 1, 1),
            ("2026-03-01", "decision", "ICE", "released", 1, 1),
        ]
        assert [r.day for r in audit.rollups("2025-01-01", "2025-12-31")] == ["2025-06-30"]
        assert audit.verify(key.public_key()).ok  # the rollups recomputed in SQL agree


def test_verify_catches_an_imported_request_moved_to_another_day_in_the_rollups(
        store: Store) -> None:  # noqa: F811
    key = Ed25519PrivateKey.generate()
    with store.open(key, Clock()) as audit:
        audit.append(EntryKind.IMPORTED, made("2025-06-30", "ICE", "released"))
        db = store.connect()
        db.execute("UPDATE rollups SET day = '2025-07-01'")
        db.close()
        finding = audit.verify(key.public_key()).finding
        assert finding is not None and finding.tamper is Tamper.ROLLUPS


def test_a_sqlite_log_made_before_imports_existed_takes_them(tmp_path: pytest.TempPathFactory
                                                             ) -> None:
    path = tmp_path / "audit.db"  # type: ignore[operator]
    old = sqlite3.connect(path)
    for statement in schema(SQLITE):
        old.executescript(statement.replace(", 'imported'", ""))
    old.close()
    key = Ed25519PrivateKey.generate()
    with AuditLog.open(path, ORIGIN, key, Clock()) as audit:
        audit.append(EntryKind.DECISION, query("ICE", "DQ", "denied"))
        audit.append(EntryKind.IMPORTED, made("2025-06-30", "ICE", "released"))
        assert audit.verify(key.public_key()).ok
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with pytest.raises(sqlite3.IntegrityError):  # the check is wider, not gone
        check.execute("INSERT INTO entries VALUES (9, 1, 'nonsense', '{}', x'00')")


@pytest.mark.postgres
def test_a_postgresql_log_made_before_imports_existed_takes_them() -> None:
    url = os.environ["STATELINE_TEST_POSTGRES_URL"]
    old = Store(url, f"audit_test_{uuid.uuid4().hex[:12]}")
    raw = psycopg.connect(url, autocommit=True)
    try:
        raw.execute(f"CREATE SCHEMA {old.schema}")
        raw.execute(f"SET search_path TO {old.schema}")
        raw.execute("CREATE OR REPLACE FUNCTION stateline_append_only() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'the audit log is "
                    "append-only'; END$$")
        for statement in schema(POSTGRES):
            for part in statement.replace(", 'imported'", "").split(";\n"):
                raw.execute(part)
        key = Ed25519PrivateKey.generate()
        with old.open(key, Clock()) as audit:
            audit.append(EntryKind.IMPORTED, made("2025-06-30", "ICE", "released"))
            assert audit.verify(key.public_key()).ok
        with pytest.raises(psycopg.errors.CheckViolation):  # the check is wider, not gone
            raw.execute("INSERT INTO entries VALUES (9, 1, 'nonsense', '{}', '\\x00')")
    finally:
        raw.execute(f"DROP SCHEMA IF EXISTS {old.schema} CASCADE")
        raw.close()
