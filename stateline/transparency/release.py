"""One year's public statistics decided together: the year, its four quarters and its twelve
months are one system of counts (a year's cell is the sum of its quarters' cells, a quarter's
of its months'), so every published report of the year takes its marks from one suppression,
and no subtraction of published figures, across tables or across periods, gives a hidden
count away. Ranges of days are never part of it: they are for staff, never published.

The year's headline (requests and disclosures per requester the letters ask about) is fixed:
marked only where the count itself is small, so complementary suppression works around it.
A release is decided from the year's counts as of one signed head, deterministically, and kept
for those counts: every page, download and period of the year served from one head shows the
same decision, made once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..audit import Rollup
from .stats import (
    ANY,
    HEADLINE,
    HEADLINE_MEASURES,
    Cell,
    Period,
    PeriodError,
    SourceMonth,
    Tabulation,
    labels,
    tabulate,
)
from .suppress import Equation, Suppression, suppress

Key = tuple[str, ...]
"""A count of the year's system: period label, measure, category, group, outcome, and for a
count of requests by where they were counted from, its source sixth."""

KEPT = 32
"""Releases kept in memory, one per year's counts and threshold."""


@dataclass(frozen=True, slots=True)
class Decided:
    """One period's tables and counts, and the mark each published place shows instead of
    its count (places not named show the count)."""

    tabulation: Tabulation
    marks: Mapping[Cell, str]

    def shown(self, cell: Cell) -> int | str:
        return self.marks.get(cell, self.tabulation.counts[cell])


@dataclass(frozen=True, slots=True)
class Release:
    """Every period of a year begun by `through`, tabulated, and one suppression over all."""

    year: Period
    through: date
    tabulations: Mapping[str, Tabulation]
    suppression: Suppression[Key]

    def of(self, period: Period) -> Decided:
        tab = self.tabulations.get(period.label)
        if tab is None:
            raise PeriodError(f"period {period.label} is not one of {self.year.label}'s "
                              f"published periods up to {self.through.isoformat()}")
        marks = {cell: mark for cell in tab.counts
                 if (mark := self.suppression.mark(key(period.label, cell))) is not None}
        return Decided(tab, marks)

    def values(self) -> dict[Key, int]:
        """Every count of the system (a reader's attack needs them all)."""
        return {key(label, cell): n for label, tab in self.tabulations.items()
                for cell, n in tab.counts.items()}


def key(label: str, cell: Cell) -> Key:
    """A month's row in a year's or a quarter's month-by-month table is that month's total:
    one count under one key, wherever it is published."""
    found = (cell.month if cell.month != ANY else label, cell.measure, cell.category,
             cell.group, cell.outcome)
    return found if cell.source == ANY else (*found, cell.source)


def headline(year: Period) -> list[Key]:
    return [key(year.label, Cell(measure, category))
            for category in HEADLINE for measure in HEADLINE_MEASURES]


def decide(rollups: Sequence[Rollup], year: Period, through: date,
           threshold: int, sources: Sequence[SourceMonth] = ()) -> Release:
    """The year's release from its rollups (and its imported files' requests by month) as of
    a head whose day is `through`."""
    if year.kind != "year":
        raise ValueError(f"{year.label} is not a year")
    if through < year.first:
        raise PeriodError(f"period {year.label} begins after the latest signed head "
                          f"({through.isoformat()})")
    named = labels(rollups, sources)
    periods = [p for p in (year, *year.quarters(),
                           *(m for q in year.quarters() for m in q.parts()))
               if p.first <= through]
    tabs = {p.label: tabulate(_within(rollups, p), p.months(through), named,
                              _months_of(sources, p)) for p in periods}
    equations = {(e.total, e.parts): e for label, tab in tabs.items()
                 for e in _keyed(label, tab.equations)}
    for parent in periods:
        parts = [p.label for p in parent.parts() if p.label in tabs]
        for cell in tabs[parent.label].counts if parts else ():
            if cell.month == ANY:
                total, terms = key(parent.label, cell), tuple(key(p, cell) for p in parts)
                equations[(total, terms)] = Equation(total, terms)
    values: dict[Key, int] = {}
    for label, tab in tabs.items():
        for cell, n in tab.counts.items():
            if values.setdefault(key(label, cell), n) != n:
                raise ValueError(f"{label} counts {cell} twice, differently")
    keep = {key(label, cell): rank for label, tab in tabs.items()
            for cell, rank in tab.ranks.items()}
    hidden = suppress(values, list(equations.values()), threshold, keep, headline(year))
    return Release(year, through, tabs, hidden)


def _within(rollups: Iterable[Rollup], period: Period) -> list[Rollup]:
    first, last = period.first.isoformat(), period.last.isoformat()
    return [r for r in rollups if first <= r.day <= last]


def _months_of(sources: Iterable[SourceMonth], period: Period) -> list[SourceMonth]:
    first, last = period.first.isoformat()[:7], period.last.isoformat()[:7]
    return [s for s in sources if first <= s.month <= last]


def _keyed(label: str, equations: Iterable[Equation[Cell]]) -> Iterable[Equation[Key]]:
    for e in equations:
        yield Equation(key(label, e.total), tuple(key(label, p) for p in e.parts))


_kept: OrderedDict[Hashable, Release] = OrderedDict()
_lock = threading.Lock()


def decided(rollups: Sequence[Rollup], year: Period, through: date,
            threshold: int, sources: Sequence[SourceMonth] = ()) -> Release:
    """`decide`, made once for the same counts: a year's pages, downloads and periods, and
    the heads that add nothing to its counts (a year that has ended), share one decision."""
    name = (year.label, min(through, year.last), threshold, tuple(sorted(rollups)),
            tuple(sorted(sources, key=lambda s: (s.source, s.month, s.requests))))
    with _lock:
        found = _kept.get(name)
        if found is not None:
            _kept.move_to_end(name)
            return found
    made = decide(rollups, year, through, threshold, sources)
    with _lock:
        _kept[name] = made
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return made
