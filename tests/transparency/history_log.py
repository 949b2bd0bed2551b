"""Requests from before Stateline, appended as `imported` entries the way the history import
writes them (typed ImportedRecord bodies, one file's in one batch, in the order they were
made), so reports, briefings, replays and flags can be checked on them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stateline.audit import EntryKind
from stateline.audit.records import DecisionRecord, ImportedRecord, Sender, Source

ICE_SENDER = Sender(ori="VTICE0900", name="ICE Burlington Field Office", state="VT",
                    level="federal", agency_type="FE", department="DHS", component="ICE",
                    criminal_justice=True, permissions=("A", "C", "D"), programs=(),
                    active=True)
CBP_SENDER = Sender(ori="TXCBP0100", name="CBP El Paso Sector", state="TX", level="federal",
                    agency_type="FE", department="DHS", component="CBP",
                    criminal_justice=True, permissions=("A", "C", "D"), programs=(),
                    active=True)
HSI_SENDER = Sender(ori="NYHSI0100", name="HSI New York", state="NY", level="federal",
                    agency_type="FE", department="DHS", component="HSI",
                    criminal_justice=True, permissions=("A", "C", "D"), programs=(),
                    active=True)
POLICE_SENDER = Sender(ori="WASPD0100", name="Seattle Police Department", state="WA",
                       level="local", agency_type="PD", department="", component="",
                       criminal_justice=True, permissions=("A", "C", "D"), programs=(),
                       active=True)
SURGE_SENDER = Sender(ori="WA0010100", name="Tacoma Police Department", state="WA",
                      level="local", agency_type="PD", department="", component="",
                      criminal_justice=True, permissions=("A", "C", "D"), programs=(),
                      active=True)
SENDERS = {"ICE": ICE_SENDER, "CBP": CBP_SENDER, "HSI": HSI_SENDER,
           "in-state": POLICE_SENDER}


@dataclass(frozen=True)
class Made:
    """One request as the state switch recorded it."""

    when: datetime
    category: str
    outcome: str = "released"
    key: str = "DQ"
    terms: tuple[str, ...] = ("OLN/WDL0000001",)
    sender: Sender | None = None
    """Another sender than the category's usual one."""


@dataclass(frozen=True)
class File:
    """A file of the state switch's records, by its name and contents' digest."""

    name: str
    sha256: str

    @classmethod
    def named(cls, name: str) -> File:
        return cls(name, hashlib.sha256(name.encode()).hexdigest())


def _fields(made: Made, n: int) -> dict[str, Any]:
    """What a live decision and an imported request both record."""
    sender = made.sender or SENDERS.get(made.category)
    disclosed = made.outcome in ("released", "partial")
    return {"time": made.when.astimezone(UTC).isoformat(timespec="microseconds"),
            "request_id": f"{n:032x}", "message_id": "",
            "ori": sender.ori if sender else "ZZ0000000", "sender": sender,
            "category": made.category if sender else "unknown", "key": made.key,
            "reason": "", "destination": "WA", "terms": made.terms, "outcome": made.outcome,
            "released": ("identity", "license") if disclosed else (), "withheld": (),
            "records": (f"WDL{n % 10**7:07d}",) if disclosed else (),
            "photo_released": False, "court_order": None, "multi_state": False}


def body(made: Made, file: File, line: int, imported_on: date) -> dict[str, Any]:
    n = int.from_bytes(hashlib.sha256(f"{file.sha256}:{line}".encode()).digest()[:16], "big")
    return ImportedRecord(
        **_fields(made, n), policies=(), policy_version="",
        sender_as_of=imported_on.isoformat(),
        source=Source(sha256=file.sha256, file=file.name, line=line, format="nlets-text"),
    ).body()


_live = iter(range(1, 10**9))


def live(made: Made, policy: str = "block-ice") -> tuple[EntryKind, dict[str, Any]]:
    """A decision the gateway made (its entry must be appended at `made.when`)."""
    denied = made.outcome == "denied"
    return EntryKind.DECISION, DecisionRecord(
        **_fields(made, next(_live)), policies=(policy,) if denied else ("cj-may-query",),
        policy_version="0123456789abcdef.d1").body()


def entries(requests: Iterable[Made], file: File,
            imported_on: date) -> list[tuple[EntryKind, dict[str, Any]]]:
    """One file's requests as the import appends them: sorted by when they were made."""
    ordered = sorted(requests, key=lambda m: m.when)
    return [(EntryKind.IMPORTED, body(m, file, 1 + 11 * n, imported_on))
            for n, m in enumerate(ordered)]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def daily(first: date, last: date, category: str, per_day: int, outcome: str = "released",
          key: str = "DQ", skip: Sequence[int] = ()) -> list[Made]:
    """`per_day` requests every day from `first` to `last`, an hour apart (weekdays in
    `skip`, 0 Monday, have none)."""
    found = []
    day = first
    while day <= last:
        if day.weekday() not in skip:
            found += [Made(at(day, 8) + timedelta(hours=n), category, outcome, key)
                      for n in range(per_day)]
        day += timedelta(days=1)
    return found
