"""Reading recorded requests in bulk gives the same answers from a SQLite log and a PostgreSQL
log: the same shapes and counts, the same rows, the same time ranges."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import AuditLog, EntryKind
from stateline.transparency.recorded import Window, at, requests, seq_range, shapes

START = 1_772_366_400_000_000
DAY = 86_400_000_000
ICE = {"ori": "VTICE0900", "name": "ICE Office", "state": "VT", "level": "federal",
       "agency_type": "FE", "department": "DHS", "component": "ICE", "criminal_justice": True,
       "permissions": ["A", "C", "D"], "programs": [], "active": True}
POLICE = {**ICE, "ori": "WASPD0100", "name": "Police", "state": "WA", "level": "local",
          "agency_type": "PD", "department": "", "component": "", "programs": ["287g"]}


def body(n: int, sender: dict[str, Any] | None, outcome: str, image: bool = False,
         order: str | None = None) -> dict[str, Any]:
    return {"request_id": f"{n:032x}", "ori": sender["ori"] if sender else "WAXXX9999",
            "sender": sender, "category": "ICE" if sender is ICE else "287(g) partner",
            "key": "DQ", "reason": "", "terms": [f"OLN/A{n}"] + (["IMQ/Y"] if image else []),
            "outcome": outcome, "released": ["license", "identity"] if outcome != "denied"
            else [], "withheld": ["ssn"], "court_order": order}


ENTRIES = [
    body(0, ICE, "partial"), body(1, ICE, "partial"), body(2, ICE, "partial", image=True),
    body(3, ICE, "partial", order="2026-CV-1"), body(4, POLICE, "released"),
    body(5, None, "denied"), body(6, POLICE, "released"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditLog]:
    """The entries a day apart, starting at START, after one policy change."""
    ticks = iter(range(START - DAY, START + 100 * DAY, DAY))
    key = Ed25519PrivateKey.generate()
    url = os.environ.get("STATELINE_TEST_POSTGRES_URL", "")
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    target: Path | str = tmp_path / "audit.db" if request.param == "sqlite" else url
    with AuditLog.open(target, "stateline/WA", key, lambda: next(ticks),
                       schema=schema) as opened:
        opened.append(EntryKind.POLICY_CHANGE, {"text": "", "who": "test"})
        for entry in ENTRIES:
            opened.append(EntryKind.DECISION, entry)
        yield opened
    if request.param == "postgres":
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_shapes_group_identical_requests(log: AuditLog) -> None:
    found = {(s.shape.ori, s.shape.image_requested, s.shape.court_order): (s.entries, s.newest)
             for s in shapes(log)}
    assert found == {("VTICE0900", False, False): (2, 2), ("VTICE0900", True, False): (1, 3),
                     ("VTICE0900", False, True): (1, 4), ("WASPD0100", False, False): (2, 7),
                     ("WAXXX9999", False, False): (1, 6)}
    police = next(s.shape for s in shapes(log) if s.shape.ori == "WASPD0100")
    assert (police.released, police.withheld, police.outcome) == (
        ("identity", "license"), ("ssn",), "released")
    assert '"287g"' in police.sender
    unknown = next(s.shape for s in shapes(log) if s.shape.ori == "WAXXX9999")
    assert unknown.sender == ""


def test_attestation_windows_mark_their_requests(log: AuditLog) -> None:
    window = Window("VTICE0900", START + DAY, START + 3 * DAY)
    attested = {s.newest: s.shape.attested for s in shapes(log, attested=[window])}
    assert attested == {1: False, 2: True, 3: True, 4: False, 7: False, 6: False}


def test_time_ranges(log: AuditLog) -> None:
    assert seq_range(log, None, None) == (0, 8)
    assert seq_range(log, START + DAY, START + 2 * DAY) == (2, 4)
    assert sum(s.entries for s in shapes(log, START + 4 * DAY)) == 3
    rows = list(requests(log, START, START + 2 * DAY))
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].terms == ("OLN/A0",) and rows[2].terms == ("OLN/A2", "IMQ/Y")
    assert (rows[0].level, rows[0].component, rows[0].request_id) == ("federal", "ICE",
                                                                      f"{0:032x}")


def test_rows_by_sequence_number(log: AuditLog) -> None:
    found = at(log, [5, 6, 99])
    assert set(found) == {5, 6}
    assert found[5].programs == ("287g",) and found[6].name == ""
