"""A state's audit log written entry by entry at times a test chooses, with bodies shaped like
the gateway's, so a report's counts are known in advance to the last cell."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from stateline.audit import AuditLog, EntryKind, load_or_create_key, signing_key
from stateline.datadir import DataDir
from stateline.policy.presets import preset

LOCAL_ORI = "WA0340000"
"""A local police agency: its ORI must never appear in a public report."""
SUBJECT = "OLN/WDLPRIVATE01"
"""A query term: never in a public report either."""
REVIEWER = "j.smith"
"""A coordinator's name: never in a public report."""

_serial = count()


def decision(category: str, outcome: str = "released", key: str = "DQ", records: int = 1,
             photo: bool = False, ori: str = LOCAL_ORI) -> dict[str, Any]:
    n = next(_serial)
    found = [f"WA-DL-{n:06d}-{i}" for i in range(records)] if outcome in (
        "released", "partial") else []
    return {
        "time": "", "request_id": f"{n:032x}", "message_id": "", "ori": ori,
        "sender": {"ori": ori, "name": "Seattle Police Department", "state": "WA"},
        "category": category, "key": key, "reason": "", "destination": "WA",
        "terms": [SUBJECT], "outcome": outcome, "policies": [], "released": [],
        "withheld": [], "records": found, "photo_released": photo, "policy_version": "",
        "court_order": None,
    }


def review(category: str, outcome: str, records: int = 1) -> dict[str, Any]:
    return {**decision(category, outcome, records=records), "reviewer": REVIEWER,
            "reference": "WA-H000001"}


def policy_change(name: str) -> dict[str, Any]:
    return {"time": "", "change": 1, "change_kind": "policy", "who": REVIEWER,
            "note": "per the governor's office, call 555-0100", "old_version": "",
            "new_version": name, "text": preset(name).text()}


def micros(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


@dataclass
class Clock:
    now: int = 0

    def __call__(self) -> int:
        return self.now


@dataclass
class Writer:
    """Appends batches at chosen moments to a state's log in a data folder."""

    data: DataDir
    state: str = "WA"
    clock: Clock = field(default_factory=Clock)
    target: Path | str | None = None

    def open(self) -> AuditLog:
        self.data.state_dir(self.state).mkdir(parents=True, exist_ok=True)
        key = load_or_create_key(signing_key(self.data, self.state))
        target = self.target or self.data.state_dir(self.state) / "audit.db"
        # Entries stay unsigned until `sign`, as a running gateway leaves them between heads.
        return AuditLog.open(target, f"stateline/{self.state}", key, self.clock,
                             sign_on_close=False)

    def at(self, day: date, entries: Iterable[tuple[EntryKind, dict[str, Any]]],
           hour: int = 12) -> None:
        self.clock.now = micros(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
        with self.open() as log:
            log.append_many(list(entries))

    def sign(self, day: date, hour: int = 23) -> int:
        self.clock.now = micros(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
        with self.open() as log:
            return log.sign_head().head.size


def many(body: dict[str, Any], times: int) -> list[tuple[EntryKind, dict[str, Any]]]:
    return [(EntryKind.DECISION, body)] * times
