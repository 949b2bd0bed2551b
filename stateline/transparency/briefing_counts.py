"""The numbers a coordinator's briefing gives: requests by category over the last twelve
months and this year against last, the federal offices that asked most, and every policy
change. Counts come from the audit rollups and the replay history; nothing is rescanned twice.
Requests imported from the state switch's records count like live ones, on the day they were
made, and how many were imported is kept beside each count that includes them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from ..audit import AuditEntry, Rollup
from ..audit.entries import FIRST_HAND_KINDS
from .recorded import ShapeCount, ordered

DISCLOSED = ("released", "partial")
OUTCOMES = ("released", "partial", "no-record", "held", "denied", "error")
FEDERAL_LIMIT = 12
"""Federal offices listed by name; the rest are in their component's total."""


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    outcomes: dict[str, int]
    photos: int

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def disclosed(self) -> int:
        return sum(self.outcomes.get(o, 0) for o in DISCLOSED)


@dataclass(frozen=True, slots=True)
class YearRow:
    category: str
    last_year: int
    last_year_to_date: int
    this_year_to_date: int

    @property
    def change(self) -> float | None:
        """This year to date against the same days last year; None when there were none."""
        if not self.last_year_to_date:
            return None
        return self.this_year_to_date / self.last_year_to_date - 1


@dataclass(frozen=True, slots=True)
class Volumes:
    today: date
    months: tuple[str, ...]
    """The last twelve months, YYYY-MM, this month last (so far)."""
    monthly: dict[str, tuple[int, ...]]
    """Requests per month by category."""
    categories: tuple[CategoryRow, ...]
    """The twelve months' requests by category and outcome, photos released."""
    years: tuple[YearRow, ...]
    imported: tuple[int, ...] = ()
    """Of each month's requests, those imported from the state switch's records."""
    imported_years: tuple[int, int, int] = (0, 0, 0)
    """Imported requests of last year, of last year to the same day, of this year so far."""

    @property
    def built_from_imported(self) -> bool:
        """Some of what the charts show was read from the state switch's records."""
        return any(self.imported) or any(self.imported_years)


def twelve_months(today: date) -> tuple[str, ...]:
    year, month = today.year, today.month
    found = []
    for _ in range(12):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return tuple(reversed(found))


def volumes(rollups: Iterable[Rollup], today: date) -> Volumes:
    """From live and imported request rollups reaching back to the start of last year."""
    months = twelve_months(today)
    first = f"{months[0]}-01"
    last_year_to_date = _same_day_last_year(today).isoformat()
    monthly: dict[str, Counter[str]] = {}
    outcomes: dict[str, Counter[str]] = {}
    photos: Counter[str] = Counter()
    years: dict[str, list[int]] = {}
    imported: Counter[str] = Counter()
    imported_years = [0, 0, 0]
    for r in rollups:
        if r.kind not in FIRST_HAND_KINDS or not r.day or r.day > today.isoformat():
            continue
        was_imported = r.kind == "imported"
        if r.day >= first:
            monthly.setdefault(r.category, Counter())[r.day[:7]] += r.entries
            outcomes.setdefault(r.category, Counter())[r.outcome] += r.entries
            photos[r.category] += r.photos
            imported[r.day[:7]] += r.entries if was_imported else 0
        year = int(r.day[:4])
        counts = years.setdefault(r.category, [0, 0, 0])
        for into in (counts, imported_years) if was_imported else (counts,):
            if year == today.year - 1:
                into[0] += r.entries
                into[1] += r.entries if r.day <= last_year_to_date else 0
            elif year == today.year:
                into[2] += r.entries
    order = ordered(set(monthly) | set(years))
    return Volumes(
        today, months,
        {c: tuple(monthly.get(c, Counter())[m] for m in months) for c in order if c in monthly},
        tuple(CategoryRow(c, {o: outcomes[c][o] for o in OUTCOMES if outcomes[c][o]},
                          photos[c]) for c in order if c in outcomes),
        tuple(YearRow(c, *years[c]) for c in order if c in years),
        tuple(imported[m] for m in months),
        (imported_years[0], imported_years[1], imported_years[2]))


def _same_day_last_year(today: date) -> date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


@dataclass(slots=True)
class Requester:
    """A federal office (or a component's total) and how its requests came out."""

    component: str
    name: str
    ori: str
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def disclosed(self) -> int:
        return sum(self.outcomes[o] for o in DISCLOSED)


@dataclass(frozen=True, slots=True)
class FederalRequesters:
    components: tuple[Requester, ...]
    offices: tuple[Requester, ...]


def federal_requesters(counted: Sequence[ShapeCount],
                       limit: int = FEDERAL_LIMIT) -> FederalRequesters:
    """Federal senders as recorded, by component (department when none) and by office."""
    offices: dict[str, Requester] = {}
    components: dict[str, Requester] = {}
    for item in counted:
        sender = json.loads(item.shape.sender) if item.shape.sender else {}
        if not isinstance(sender, dict) or sender.get("level") != "federal":
            continue
        component = str(sender.get("component") or sender.get("department") or "other")
        ori = str(sender.get("ori", item.shape.ori))
        office = offices.setdefault(ori, Requester(component, str(sender.get("name", "")), ori))
        office.outcomes[item.shape.outcome] += item.entries
        total = components.setdefault(component, Requester(component, "", ""))
        total.outcomes[item.shape.outcome] += item.entries
    return FederalRequesters(
        tuple(sorted(components.values(), key=lambda r: (-r.requests, r.component))),
        tuple(sorted(offices.values(), key=lambda r: (-r.requests, r.ori))[:limit]))


@dataclass(frozen=True, slots=True)
class PolicyChange:
    time: str
    who: str
    note: str
    old_version: str
    new_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    failed: str
    compared: bool = True
    """False when the text it replaced is not in this log, so nothing can be compared."""


_ID = re.compile(r'@id\(\s*"([^"]*)"\s*\)')


def policy_changes(entries: Iterable[AuditEntry]) -> tuple[PolicyChange, ...]:
    """Every policy change the log holds, oldest first, with the policies it added and
    removed (by @id) against the text before it."""
    found = []
    before: list[str] | None = None
    for entry in entries:
        body = entry.body
        text = body.get("text")
        old = str(body.get("old_version", ""))
        known = before
        if known is None and not old:
            known = []  # the state's first policy: everything in it is added
        ids = _ID.findall(text) if isinstance(text, str) else known or []
        failed = str(body.get("failed", ""))
        found.append(PolicyChange(
            str(body.get("time", "")), str(body.get("who", "")), str(body.get("note", "")),
            old, str(body.get("new_version", "")),
            tuple(i for i in ids if known is not None and i not in known),
            tuple(i for i in known or [] if i not in ids), failed, known is not None))
        if not failed:
            before = ids
    return tuple(found)


def months_back(today: date) -> date:
    """The first day of the twelve months a briefing counts."""
    return date.fromisoformat(f"{twelve_months(today)[0]}-01")
