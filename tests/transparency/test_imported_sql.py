"""Imported requests read in bulk give the same answers from a SQLite log and a PostgreSQL log:
placed by when they were made (years before they were appended), merged in time with live
decisions, paged through the index on that time, found by the audit search, grouped by the
file they were read from, and recounted from the entries for `verify`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import AuditLog, EntryKind, search
from stateline.audit.sql import connect
from stateline.transparency import provenance, recorded, snapshot
from stateline.transparency.recorded import first_request, requests, shapes
from stateline.transparency.stats import parse_period

from .history_log import File, Made, at, entries, live

DAY = 86_400_000_000
APPENDED = recorded.micros(date(2026, 3, 1)) or 0
"""When the entries were appended: live ones a day apart from here, imported ones after."""
FILE_A, FILE_B = File.named("a.txt"), File.named("b.txt")
MADE_A = [Made(at(date(2025, month, 10)), "ICE") for month in (1, 2, 3)]
MADE_B = [Made(at(date(2025, 2, 11), 9), "CBP", "denied"), Made(at(date(2026, 3, 2), 8), "CBP")]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[AuditLog, str, str]]:
    """Three live decisions appended at midnight on 1-3 March 2026, then two files
    imported on 4 March: requests of 2025, and one made on 2 March 2026 at 08:00."""
    ticks = iter(range(APPENDED, APPENDED + 100 * DAY, DAY))
    url = os.environ.get("STATELINE_TEST_POSTGRES_URL", "")
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    target = str(tmp_path / "audit.db") if request.param == "sqlite" else url
    with AuditLog.open(target, "stateline/WA", Ed25519PrivateKey.generate(),
                       lambda: next(ticks), schema=schema) as opened:
        for n in range(3):
            opened.append(*live(Made(at(date(2026, 3, 1 + n)), "HSI")))
        opened.append_many([*entries(MADE_A, FILE_A, date(2026, 3, 4)),
                            *entries(MADE_B, FILE_B, date(2026, 3, 4))])
        yield opened, target, schema
    if request.param == "postgres":
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_requests_come_in_the_order_they_were_made(log: tuple[AuditLog, str, str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    audit, _, _ = log
    monkeypatch.setattr(recorded, "CHUNK", 2)  # several pages of the index
    rows = list(requests(audit))
    assert [(r.category, r.imported) for r in rows] == [
        ("ICE", True), ("ICE", True), ("CBP", True), ("ICE", True), ("HSI", False),
        ("HSI", False), ("CBP", True), ("HSI", False)]
    assert rows[0].time_us == recorded.micros(at(date(2025, 1, 10)))
    assert [r.time_us for r in rows] == sorted(r.time_us for r in rows)
    since, until = recorded.micros(date(2025, 2, 1)), recorded.micros(date(2025, 2, 28))
    assert [r.category for r in requests(audit, since, until)] == ["ICE", "CBP"]
    assert first_request(audit) == recorded.micros(at(date(2025, 1, 10)))


def test_shapes_keep_imported_requests_apart(log: tuple[AuditLog, str, str]) -> None:
    audit, _, _ = log
    found = {(s.shape.category, s.shape.outcome, s.shape.imported): s.entries
             for s in shapes(audit)}
    assert found == {("ICE", "released", True): 3, ("CBP", "denied", True): 1,
                     ("CBP", "released", True): 1, ("HSI", "released", False): 3}
    march = recorded.micros(date(2025, 3, 1))
    assert sum(s.entries for s in shapes(audit, march, recorded.micros(date(2025, 12, 31))
                                         )) == 1


def test_the_files_a_range_was_read_from(log: tuple[AuditLog, str, str]) -> None:
    audit, _, _ = log
    found = provenance.imported_files(audit.select, audit.dialect,
                                      recorded.micros(date(2025, 1, 1)),
                                      recorded.micros(date(2025, 12, 31)))
    assert [(f.sha256, f.file, f.imported_on, f.requests) for f in found] == [
        (FILE_A.sha256, "a.txt", "2026-03-04", 3), (FILE_B.sha256, "b.txt", "2026-03-04", 1)]
    months = provenance.by_month(audit.select, audit.dialect)
    assert [(m.file, m.month, m.requests) for m in months if m.sha256 == FILE_B.sha256] == [
        ("b.txt", "2025-02", 1), ("b.txt", "2026-03", 1)]


def test_the_audit_search_finds_imported_requests_by_when_they_were_made(
        log: tuple[AuditLog, str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    audit, _, _ = log
    monkeypatch.setattr(search, "PAGE", 2)
    every = list(search.scan(audit, search.SEARCHED))
    assert [e.body["category"] for e in every] == ["HSI", "CBP", "HSI", "HSI", "ICE", "CBP",
                                                   "ICE", "ICE"]
    assert [search.made_us(e) for e in every] == sorted(
        (search.made_us(e) for e in every), reverse=True)
    year = list(search.scan(audit, search.SEARCHED, recorded.micros(date(2025, 1, 1)),
                            recorded.micros(date(2025, 12, 31), end=True)))
    assert [e.kind for e in year] == [EntryKind.IMPORTED] * 4
    assert [e.body["category"] for e in search.scan(audit, [EntryKind.DECISION])] == [
        "HSI"] * 3


def test_the_rollups_recounted_for_verify_place_imported_requests_when_made(
        log: tuple[AuditLog, str, str]) -> None:
    audit, target, schema = log
    db = connect(target, schema)
    try:
        year = snapshot.recount(db, audit.size, parse_period("2025"))
        assert sorted((r.day, r.kind, r.category, r.entries) for r in year) == [
            ("2025-01-10", "imported", "ICE", 1), ("2025-02-10", "imported", "ICE", 1),
            ("2025-02-11", "imported", "CBP", 1), ("2025-03-10", "imported", "ICE", 1)]
        march = snapshot.recount(db, audit.size, parse_period("2026-03"))
        assert sorted((r.day, r.kind) for r in march) == [
            ("2026-03-01", "decision"), ("2026-03-02", "decision"),
            ("2026-03-02", "imported"), ("2026-03-03", "decision")]
        assert snapshot.years(db) == ["2025", "2026"]
        files = snapshot.imported(db, audit.size - 1, parse_period("2026"))
        assert [(f.file, f.month) for f in files] == []  # the last entry is past that size
    finally:
        db.close()
