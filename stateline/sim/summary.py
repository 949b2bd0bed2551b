"""What a run did to each state's audit log, read from the rollups kept beside the entries
(never a rescan): requests (live, or imported from a state switch's records) and disclosures
by statistics category, denials, holds, photos."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..audit import open_state_log
from ..audit.entries import FIRST_HAND_KINDS
from ..audit.rollups import DISCLOSED
from ..datadir import DataDir

Counts = Counter[tuple[str, str, str]]
"""Entries and photos per (category, outcome, "entries" | "photos")."""


def snapshot(data: DataDir, states: Iterable[str]) -> dict[str, Counts]:
    """Each state's request counts so far, live and imported, all days together."""
    found: dict[str, Counts] = {}
    for state in states:
        counts: Counts = Counter()
        with open_state_log(data, state) as log:
            for row in log.rollups():
                if row.kind in FIRST_HAND_KINDS:
                    counts[(row.category, row.outcome, "entries")] += row.entries
                    counts[(row.category, row.outcome, "photos")] += row.photos
        found[state] = counts
    return found


@dataclass(frozen=True, slots=True)
class StateSummary:
    state: str
    requests: int
    disclosed: int
    """Answered with records, whole or with elements withheld."""
    denied: int
    held: int
    """Held for the state's review."""
    no_record: int
    photos: int
    categories: dict[str, tuple[int, int]]
    """Requests and disclosures per statistics category."""


def summarize(state: str, before: Counts, after: Counts) -> StateSummary:
    """The difference the run made: `after` less `before`."""
    delta = Counter(after)
    delta.subtract(before)

    def total(outcomes: Iterable[str], what: str = "entries") -> int:
        wanted = frozenset(outcomes)
        return sum(n for (_, outcome, kind), n in delta.items()
                   if kind == what and outcome in wanted)

    categories: dict[str, tuple[int, int]] = {}
    for (category, outcome, kind), n in sorted(delta.items()):
        if kind != "entries" or n <= 0:
            continue
        requests, disclosed = categories.get(category, (0, 0))
        categories[category] = (requests + n, disclosed + (n if outcome in DISCLOSED else 0))
    every = {outcome for _, outcome, _ in delta}
    return StateSummary(state, total(every), total(DISCLOSED), total(["denied"]),
                        total(["held"]), total(["no-record"]), total(every, "photos"),
                        categories)
