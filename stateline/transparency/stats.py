"""Report periods, and the counts a public report publishes, tabulated from audit rollups alone.

Pure: rollups in, cells out. A cell is one published number named by a `Cell` key. A count
that appears in two tables (ICE's requests for the period end a row of one table and a column
of another) is one cell under one key, so disclosure control sees every margin the tables share.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from ..audit import Rollup
from ..audit.rollups import DISCLOSED
from ..directory.categories import CATEGORIES
from ..errors import RequesterError
from .suppress import Equation

ANY = "*"
"""A cell's dimension summed over: the cell is a total."""

HEADLINE = tuple(c for c in CATEGORIES if c != "in-state")
"""The requesters the letters to governors ask about (ICE, HSI, CBP, USCIS, other DHS, other
federal, 287(g) partners, out-of-state): their requests and disclosures for a year are the
headline, marked only where the count itself is small."""
HEADLINE_MEASURES = ("requests", "disclosures")

OUTCOMES = ("released", "partial", "denied", "held", "no-record", "error")
"""How requests were first decided (DESIGN.md "Audit entry")."""
REVIEW_OUTCOMES = ("released", "partial", "denied", "no-record", "error", "refused")
"""How held requests ended after review (`refused`: a release the policy in force then denied;
the request stayed held)."""
GROUPS = ("driver", "vehicle", "history")
OTHER = "other"
"""The group of requests for keys no state answers (their outcome is `error`)."""
GATEWAY = "gateway"
"""Requests the state's gateway decided, beside those read from imported records (whose
rows are named by `provenance.ImportedFile.label`)."""


YEARS = range(1900, 9999)
"""Years a period may cover: each day of one, and the day after it, is a real date."""


class PeriodError(RequesterError, ValueError):
    """A period that cannot be read, or that the log cannot report on."""

    code = "invalid-period"


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    first: date
    last: date

    @property
    def start_us(self) -> int:
        return _micros(self.first)

    @property
    def end_us(self) -> int:
        """The first microsecond after the period."""
        return _micros(self.last + timedelta(days=1))

    @property
    def kind(self) -> str:
        """year, quarter, month or range: what its label reads as."""
        return next((form for pattern, form in _FORMS if pattern.fullmatch(self.label)),
                    "range")

    @property
    def published(self) -> bool:
        """Only years, quarters and months are published: their suppression is decided once
        for the year, where overlapping ranges of days could be subtracted from each other."""
        return self.kind in PUBLISHED

    @property
    def year(self) -> Period:
        return parse_period(str(self.first.year))

    def quarters(self) -> tuple[Period, ...]:
        """The quarters of a year."""
        return tuple(parse_period(f"{self.first.year}-Q{q}") for q in range(1, 5))

    def parts(self) -> tuple[Period, ...]:
        """What a year or a quarter is the sum of: its quarters, or its months."""
        if self.kind == "year":
            return self.quarters()
        if self.kind == "quarter":
            return tuple(parse_period(month) for month in self.months())
        return ()

    def months(self, through: date | None = None) -> tuple[str, ...]:
        """YYYY-MM of every month the period touches, up to `through` if that is earlier."""
        last = min(self.last, through) if through else self.last
        found, year, month = [], self.first.year, self.first.month
        while (year, month) <= (last.year, last.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return tuple(found)


def _micros(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000


PUBLISHED = ("year", "quarter", "month")

_FORMS = (
    (re.compile(r"(\d{4})"), "year"),
    (re.compile(r"(\d{4})-[Qq]([1-4])"), "quarter"),
    (re.compile(r"(\d{4})-(\d{2})"), "month"),
    (re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})"), "range"),
)


def parse_period(text: str) -> Period:
    """A year (2025), quarter (2025-Q1), month (2025-03) or range of days
    (2025-01-01..2025-06-30, both days included)."""
    given = text.strip()
    for pattern, form in _FORMS:
        found = pattern.fullmatch(given)
        if found is None:
            continue
        try:
            first, last = _bounds(form, found.groups())
        except ValueError:
            break
        if first > last:
            raise PeriodError(f"period {given!r} ends before it begins")
        if first.year not in YEARS or last.year not in YEARS:
            raise PeriodError(f"period {given!r} is outside the years {YEARS.start}-"
                              f"{YEARS.stop - 1}")
        label = given.upper() if form == "quarter" else given
        return Period(label, first, last)
    raise PeriodError(f"period {given!r} is not a year (2025), quarter (2025-Q1), month "
                      "(2025-03) or range of days (2025-01-01..2025-06-30)")


def parse_published(text: str) -> Period:
    """A period the public may ask for: a year, a quarter or a month, never a range."""
    period = parse_period(text)
    if not period.published:
        raise PeriodError(f"period {text.strip()!r}: only years (2025), quarters (2025-Q1) and "
                          "months (2025-03) are published")
    return period


def _bounds(form: str, parts: Sequence[str]) -> tuple[date, date]:
    if form == "range":
        return date.fromisoformat(parts[0]), date.fromisoformat(parts[1])
    year = int(parts[0])
    if form == "year":
        return date(year, 1, 1), date(year, 12, 31)
    first_month = 3 * int(parts[1]) - 2 if form == "quarter" else int(parts[1])
    last_month = first_month + 2 if form == "quarter" else first_month
    return (date(year, first_month, 1),
            date(year, last_month, calendar.monthrange(year, last_month)[1]))


class Cell(NamedTuple):
    """One published number: a measure, and a value or ANY for each dimension."""

    measure: str
    category: str = ANY
    group: str = ANY
    outcome: str = ANY
    month: str = ANY
    source: str = ANY
    """Where requests were counted from: the gateway or an imported file (requests only)."""


@dataclass(frozen=True, slots=True)
class Table:
    """Rows by columns of one measure, with row totals, column totals and a grand total."""

    id: str
    title: str
    measure: str
    row_dimension: str
    rows: tuple[str, ...]
    column_dimension: str
    columns: tuple[str, ...]

    def cell(self, row: str = ANY, column: str = ANY) -> Cell:
        return Cell(self.measure)._replace(**{self.row_dimension: row,
                                              self.column_dimension: column})

    def equations(self) -> list[Equation[Cell]]:
        """Each row and each column sums to its total, and the totals to the grand total."""
        rows = [Equation(self.cell(r), tuple(self.cell(r, c) for c in self.columns))
                for r in self.rows]
        columns = [Equation(self.cell(column=c), tuple(self.cell(r, c) for r in self.rows))
                   for c in self.columns]
        grand = [Equation(self.cell(), tuple(self.cell(r) for r in self.rows)),
                 Equation(self.cell(), tuple(self.cell(column=c) for c in self.columns))]
        return rows + columns + grand

    def places(self) -> list[Cell]:
        """Every cell the table shows, totals included."""
        return [self.cell(r, c) for r in (*self.rows, ANY) for c in (*self.columns, ANY)]


@dataclass(frozen=True, slots=True)
class Tabulation:
    """Every cell of a report's tables with its count, and the tables that show them."""

    tables: tuple[Table, ...]
    counts: dict[Cell, int]
    equations: tuple[Equation[Cell], ...]

    @property
    def ranks(self) -> dict[Cell, int]:
        """The totals a report exists for, by how much they matter: ICE's and HSI's requests
        and disclosures and the total of requests (3), other requesters' (2), other grand
        totals (1). Disclosure control withholds them only when nothing else protects a
        count."""
        ranks = {Cell(t.measure): 1 for t in self.tables}
        for measure in HEADLINE_MEASURES:
            for category in self.tables[0].rows:
                ranks[Cell(measure, category)] = 3 if category in ("ICE", "HSI") else 2
        ranks[Cell("requests")] = 3
        return ranks


class Labels(NamedTuple):
    """The rows and columns every table of a report names, in order."""

    categories: tuple[str, ...]
    groups: tuple[str, ...]
    outcomes: tuple[str, ...]
    reviewed: tuple[str, ...]
    sources: tuple[str, ...] = ()
    """Where requests were counted from, when some were imported (none: all were live)."""


@dataclass(frozen=True, slots=True)
class SourceMonth:
    """Requests of one month counted from one source: the gateway, or an imported file."""

    source: str
    month: str
    """YYYY-MM."""
    requests: int


def labels(rollups: Iterable[Rollup], sources: Iterable[SourceMonth] = ()) -> Labels:
    """The known labels in their order, then any others the rollups hold, so that totals are
    always the sum of what is shown (and periods read together name the same rows)."""
    rollups = list(rollups)
    return _labels(_base(rollups), _by_source(rollups, sources))


def _labels(base: dict[Cell, int], by_source: dict[Cell, int]) -> Labels:
    return Labels(
        _with_others(CATEGORIES, (c.category for c in base)),
        _with_others(GROUPS, (c.group for c in base)),
        _with_others(OUTCOMES, (c.outcome for c in base if c.measure == "requests")),
        _with_others(REVIEW_OUTCOMES, (c.outcome for c in base if c.measure == "reviews")),
        _sources(by_source))


def _sources(by_source: dict[Cell, int]) -> tuple[str, ...]:
    """Imported files in the order of their labels, then the gateway if it counted any."""
    files = sorted({c.source for c in by_source} - {GATEWAY, ANY})
    return (*files, *((GATEWAY,) if Cell("requests", source=GATEWAY) in by_source else ()))


def tabulate(rollups: Iterable[Rollup], months: Sequence[str], named: Labels | None = None,
             sources: Iterable[SourceMonth] = ()) -> Tabulation:
    """The report's tables from the rollups of the period's days, a row for each of `months`
    (and any other month they hold), with the rows and columns `named` (by default those the
    rollups hold). Requests are decision and imported entries; disclosures are those or
    review entries released or partial; reviews are held requests answered after review;
    photos and records are what those disclosures released. With `sources` (the imported
    files' requests by month), a table says where the requests were counted from."""
    rollups = list(rollups)
    base = _base(rollups)
    by_source = _by_source(rollups, sources, every=bool(named and named.sources))
    found = _labels(base, by_source)
    named = named or found
    if any(set(have) - set(want) for have, want in zip(found, named, strict=True)):
        raise ValueError("the rollups hold labels the tables do not name")
    categories, groups, outcomes, reviewed, origins = named
    months = sorted({*months, *(c.month for c in base if c.month != ANY)})
    tables = _tables(categories, groups, outcomes, reviewed, tuple(months), origins)
    counts = {**_margins(base), **by_source}
    equations = [e for t in tables for e in t.equations()]
    equations += [_disclosed(category) for category in (*categories, ANY)]
    keys = {k for t in tables for k in t.places()}
    return Tabulation(tables, {k: counts.get(k, 0) for k in sorted(keys)}, tuple(equations))


def _by_source(rollups: Sequence[Rollup], sources: Iterable[SourceMonth],
               every: bool = False) -> dict[Cell, int]:
    """Requests by source and month, and by source: the gateway's from its decisions'
    rollups, each imported file's as given. Empty when nothing was imported, unless `every`
    (a period of a year that imported some)."""
    counts: dict[Cell, int] = {}
    for s in sources:
        _add(counts, Cell("requests", month=s.month, source=s.source), s.requests)
        _add(counts, Cell("requests", source=s.source), s.requests)
    if not counts and not every:
        return counts
    for r in rollups:
        if r.kind == "decision":
            _add(counts, Cell("requests", month=r.day[:7], source=GATEWAY), r.entries)
            _add(counts, Cell("requests", source=GATEWAY), r.entries)
    return counts


def _base(rollups: Iterable[Rollup]) -> dict[Cell, int]:
    """Counts by every dimension (photos and records by category and group only)."""
    base: dict[Cell, int] = {}
    for r in rollups:
        if r.kind not in ("decision", "imported", "review"):
            continue
        category, group = r.category or "unknown", r.group or OTHER
        month = r.day[:7]
        measure = "reviews" if r.kind == "review" else "requests"
        _add(base, Cell(measure, category, group, r.outcome, month), r.entries)
        if r.outcome in DISCLOSED:
            _add(base, Cell("disclosures", category, group, ANY, month), r.entries)
            _add(base, Cell("photos", category, group, ANY, ANY), r.photos)
            _add(base, Cell("records", category, group, ANY, ANY), r.records)
    return base


def _with_others(known: tuple[str, ...], found: Iterable[str]) -> tuple[str, ...]:
    return known + tuple(sorted(set(found) - set(known) - {ANY}))


def _add(counts: dict[Cell, int], cell: Cell, value: int) -> None:
    if value:
        counts[cell] = counts.get(cell, 0) + value


def _margins(base: dict[Cell, int]) -> dict[Cell, int]:
    """Each base count added to every total it falls under."""
    counts: dict[Cell, int] = {}
    for cell, value in base.items():
        dims = cell[1:]
        keys = {Cell(cell.measure, *(ANY if mask >> i & 1 else d for i, d in enumerate(dims)))
                for mask in range(16)}
        for key in keys:
            counts[key] = counts.get(key, 0) + value
    return counts


def _disclosed(category: str) -> Equation[Cell]:
    """Disclosures are released or partial outcomes, first-hand or after review: a reader can
    add the cells of two tables to get a third, so disclosure control must know it too."""
    parts = tuple(Cell(measure, category, ANY, outcome)
                  for measure in ("requests", "reviews") for outcome in DISCLOSED)
    return Equation(Cell("disclosures", category), parts)


def _tables(categories: tuple[str, ...], groups: tuple[str, ...], outcomes: tuple[str, ...],
            reviewed: tuple[str, ...], months: tuple[str, ...],
            sources: tuple[str, ...] = ()) -> tuple[Table, ...]:
    """The report's tables; the month-by-month series only when there is more than one
    month (a single month's row would repeat the period's totals), and where requests were
    counted from only when some were imported."""
    series = len(months) > 1
    every = (
        Table("requests-by-category-and-outcome", "Requests by requester and first decision",
              "requests", "category", categories, "outcome", outcomes),
        Table("requests-by-category-and-group", "Requests by requester and message group",
              "requests", "category", categories, "group", groups),
        Table("requests-by-group-and-outcome", "Requests by message group and first decision",
              "requests", "group", groups, "outcome", outcomes),
        Table("requests-by-month", "Requests by month and requester",
              "requests", "month", months, "category", categories),
        Table("disclosures-by-category-and-group",
              "Disclosures (released or partial) by requester and message group",
              "disclosures", "category", categories, "group", groups),
        Table("disclosures-by-month", "Disclosures by month and requester",
              "disclosures", "month", months, "category", categories),
        Table("reviews-by-category-and-outcome", "Held requests answered after review",
              "reviews", "category", categories, "outcome", reviewed),
        Table("photos-by-category-and-group", "License photos released",
              "photos", "category", categories, "group", groups),
        Table("records-by-category-and-group", "Records disclosed",
              "records", "category", categories, "group", groups),
        *((Table("requests-by-source", "Requests by where they were counted from",
                 "requests", "source", sources, "month", months),) if sources else ()),
    )
    return tuple(t for t in every if series or t.row_dimension != "month")
