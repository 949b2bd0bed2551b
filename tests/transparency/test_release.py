"""A year's public reports as an attacker reads them: every figure published for the year, in
every period and every table, tied by every equation a reader knows, and the differencing
attack of issue 13 replayed. No withheld count has a single possible value; the headline the
letters ask for is marked only where the count itself is small."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from stateline.audit import EntryKind, Rollup
from stateline.datadir import DataDir
from stateline.transparency import snapshot
from stateline.transparency.derive import exposed
from stateline.transparency.model import as_json
from stateline.transparency.release import decide, key
from stateline.transparency.report import build, head_day
from stateline.transparency.stats import (
    ANY,
    HEADLINE,
    Cell,
    Period,
    PeriodError,
    Table,
    parse_period,
    parse_published,
)
from stateline.transparency.suppress import Equation

from .synthetic_log import Writer, decision, many, review

Key = tuple[str, str, str, str, str]


def published_periods(year: str, through: date) -> list[Period]:
    """What the public can ask for: the year, its quarters and months begun by `through`."""
    every = [parse_period(year), *(parse_period(f"{year}-Q{q}") for q in range(1, 5)),
             *(parse_period(f"{year}-{m:02d}") for m in range(1, 13))]
    return [p for p in every if p.first <= through]


def reader_system(documents: dict[str, dict[str, Any]]) -> tuple[
        dict[Key, Any], list[Equation[Key]]]:
    """From the published JSON alone: every place's published value or mark, by the count it
    shows, and every equation a reader can write: each table's rows and columns, the
    identity between disclosures and released or partial decisions and reviews, a month's row
    in a longer period being that month's total, and each year or quarter being the sum of
    its parts."""
    shown: dict[Key, Any] = {}
    equations: list[Equation[Key]] = []
    for label, document in documents.items():
        for t in document["tables"]:
            table = Table(t["id"], t["title"], t["measure"], t["rows"]["dimension"],
                          tuple(t["rows"]["labels"]), t["columns"]["dimension"],
                          tuple(t["columns"]["labels"]))
            grid = [*t["cells"], t["column_totals"]]
            for row, values, total in zip((*table.rows, ANY), grid,
                                          (*t["row_totals"], t["total"]), strict=True):
                for column, value in zip((*table.columns, ANY), (*values, total), strict=True):
                    place = key(label, table.cell(row, column))
                    assert shown.setdefault(place, value) == value, (label, place)
            equations += [Equation(key(label, e.total), tuple(key(label, p) for p in e.parts))
                          for e in table.equations()]
        for category in {k[2] for k in shown if k[0] == label}:
            parts = tuple((label, measure, category, ANY, outcome)
                          for measure in ("requests", "reviews")
                          for outcome in ("released", "partial"))
            equations.append(Equation((label, "disclosures", category, ANY, ANY),
                                      tuple(p for p in parts if p in shown)))
    for label in documents:
        parts = [p.label for p in parse_period(label).parts() if p.label in documents]
        for place in [k for k in shown if k[0] == label]:
            terms = tuple((part, *place[1:]) for part in parts)
            if terms and all(term in shown for term in terms):
                equations.append(Equation(place, terms))
    return shown, equations


def audit(documents: dict[str, dict[str, Any]], truth: dict[Key, int]) -> set[Key]:
    """The withheld counts a reader can pin to one value (the project's exposure audit, on a
    system built from the published documents)."""
    shown, equations = reader_system(documents)
    for place, value in shown.items():
        if isinstance(value, int):
            assert truth[place] == value, place
    small = {k for k, v in shown.items() if isinstance(v, str) and v.startswith("<")}
    withheld = {k for k, v in shown.items() if v == "withheld"}
    return set(exposed(truth, equations, small, withheld, 10).cells)


def every_report(data: DataDir, year: str, through: date) -> dict[str, dict[str, Any]]:
    return {p.label: as_json(build(data, "WA", p)) for p in published_periods(year, through)}


def truth_of(data: DataDir, year: str) -> dict[Key, int]:
    """Every count of the year as of the head, which only the state knows."""
    found = snapshot.read(data, "WA", parse_period(year))
    return decide(found.rollups, parse_period(year), head_day(found.head), 10).values()


@pytest.fixture(scope="module")
def november(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Issue 13's log: 25 ICE requests on 2 November, 3 more on the 3rd, and a year of other
    traffic around them, small counts included."""
    data = DataDir(tmp_path_factory.mktemp("november"))
    writer = Writer(data)
    for month in range(1, 11):
        writer.at(date(2026, month, 12), [
            *many(decision("ICE", "denied"), 4 + month % 3),
            *many(decision("HSI", "released"), 9 + month % 4),
            *many(decision("CBP", "released", photo=True), 2 + month % 2),
            *many(decision("in-state", "released", key="RQ"), 40),
            *many(decision("out-of-state", "partial"), 12),
            *many(decision("USCIS", "no-record"), month % 2),
        ])
        if month == 6:
            writer.at(date(2026, 6, 20), [(EntryKind.REVIEW, review("HSI", "released"))] * 3)
    writer.at(date(2026, 11, 2), [*many(decision("ICE", "denied"), 25),
                                  *many(decision("in-state", "released"), 30)])
    writer.at(date(2026, 11, 3), [*many(decision("ICE", "denied"), 3),
                                  *many(decision("in-state", "released"), 20)])
    writer.sign(date(2026, 11, 3))
    return data


def test_ranges_of_days_are_not_published_periods() -> None:
    for text in ("2026-11-02..2026-11-02", "2026-11-02..2026-11-03", "2026-11-03..2026-11-03"):
        assert not parse_period(text).published
        with pytest.raises(PeriodError, match=r"only years .* quarters .* and months"):
            parse_published(text)
    assert [parse_published(t).kind for t in ("2026", "2026-q3", "2026-11")] == [
        "year", "quarter", "month"]


def test_the_differencing_attack_recovers_nothing(november: DataDir) -> None:
    through = date(2026, 11, 3)
    documents = every_report(november, "2026", through)
    assert len(documents) == 1 + 4 + 11
    assert audit(documents, truth_of(november, "2026")) == set()
    ice_by_day = [as_json(build(november, "WA", parse_period(f"2026-11-0{d}..2026-11-0{d}")))
                  for d in (2, 3)]  # what staff may still see, never published
    assert [d["tables"][0]["row_totals"][0] for d in ice_by_day] == [25, "<10"]


def test_every_period_of_a_year_shows_one_decision(november: DataDir) -> None:
    """A count is shown the same wherever it is published: November's ICE requests in the
    year's month table, in the fourth quarter's, and as November's own total."""
    documents = every_report(november, "2026", date(2026, 11, 3))
    shown, _ = reader_system(documents)  # asserts every place of a count agrees
    assert shown[("2026-11", "requests", "ICE", ANY, ANY)] in (28, "withheld")
    year = documents["2026"]["headline"]
    assert year["requests"][HEADLINE.index("ICE")] == sum(
        4 + m % 3 for m in range(1, 11)) + 28
    assert documents["2026-Q4"]["headline"] is None


def rollups(rng: random.Random, months: Iterable[int]) -> list[Rollup]:
    """A year of monthly counts with many small ones, like a state's minor requesters."""
    rates = {"ICE": 14, "HSI": 11, "CBP": 6, "USCIS": 1, "DHS-other": 1, "federal-other": 4,
             "287(g) partner": 3, "out-of-state": 30, "in-state": 120}
    found = []
    for month in months:
        for category, rate in rates.items():
            for group, share in (("driver", 0.6), ("vehicle", 0.3), ("history", 0.1)):
                for outcome, part in (("released", 0.6), ("partial", 0.15), ("denied", 0.1),
                                      ("no-record", 0.15)):
                    n = sum(rng.random() < rate * share * part / 4 for _ in range(4))
                    if n:
                        photos = sum(rng.random() < 0.3 for _ in range(n)) \
                            if outcome in ("released", "partial") else 0
                        records = n if outcome in ("released", "partial") else 0
                        found.append(Rollup(f"2025-{month:02d}-01", "decision", category, group,
                                            outcome, n, photos, records))
    return found


@pytest.mark.parametrize("seed", range(4))
def test_the_headline_is_marked_only_where_the_count_is_small(seed: int) -> None:
    """Ten or more: always shown. From 1 to 9: marked, or shown where the headline's other
    counts and the zeros beside them give it away whatever is withheld (`given`)."""
    rng = random.Random(seed)
    months = range(1, 3 + seed)
    release = decide(rollups(rng, months), parse_period("2025"), date(2025, max(months), 28),
                     10)
    year = release.of(parse_period("2025"))
    for category in HEADLINE:
        for measure in ("requests", "disclosures"):
            cell = Cell(measure, category)
            count, mark = year.tabulation.counts[cell], year.marks.get(cell)
            if count >= 10 or count == 0:
                assert mark is None, (category, measure, count, mark)
            else:
                assert mark in ("<10", "withheld") or key("2025", cell) in (
                    release.suppression.given), (category, measure, count, mark)
    values = release.values()
    hidden = release.suppression
    assert not exposed(values, _equations(release), hidden.primary - hidden.masked,
                       hidden.secondary | hidden.masked, 10).cells


def _equations(release: Any) -> list[Equation[Key]]:
    """The release's equations, as the reader writes them from its documents."""
    documents = {label: {"tables": [_table_json(t, release, label) for t in tab.tables]}
                 for label, tab in release.tabulations.items()}
    return reader_system(documents)[1]


def _table_json(table: Table, release: Any, label: str) -> dict[str, Any]:
    decided = release.of(parse_period(label))
    value = decided.shown
    return {"id": table.id, "title": table.title, "measure": table.measure,
            "rows": {"dimension": table.row_dimension, "labels": list(table.rows)},
            "columns": {"dimension": table.column_dimension, "labels": list(table.columns)},
            "cells": [[value(table.cell(r, c)) for c in table.columns] for r in table.rows],
            "row_totals": [value(table.cell(r)) for r in table.rows],
            "column_totals": [value(table.cell(column=c)) for c in table.columns],
            "total": value(table.cell())}


DEMO_WA = {"ICE": {"denied": 14}, "HSI": {"released": 6, "partial": 13, "no-record": 4},
           "CBP": {"released": 14, "partial": 4, "no-record": 3},
           "USCIS": {"denied": 3}, "DHS-other": {"released": 1, "partial": 1},
           "federal-other": {"released": 13, "partial": 10, "no-record": 1},
           "287(g) partner": {"released": 18, "partial": 3, "no-record": 3},
           "out-of-state": {"released": 56, "partial": 31, "no-record": 81},
           "in-state": {"released": 314, "no-record": 25}}
"""WA's first decisions at the end of the demo, by requester and outcome (issue 13)."""


def test_the_letters_figures_hold_still_after_the_demo_and_after_more_traffic(
        tmp_path: Path) -> None:
    """At the end of the demo HSI's and CBP's disclosures were withheld; eleven queries
    later HSI's showed 19 and CBP's requests were withheld. Now every headline count of ten
    or more is shown both times."""
    data = DataDir(tmp_path)
    writer = Writer(data)
    day = date(2026, 12, 7)
    writer.at(day, [entry for category, outcomes in DEMO_WA.items()
                    for outcome, n in outcomes.items()
                    for entry in many(decision(category, outcome), n)], hour=16)
    writer.sign(day, hour=17)
    before = build(data, "WA", parse_period("2026"))
    writer.at(day, [*many(decision("HSI", "released"), 5), *many(decision("CBP", "partial"), 6)],
              hour=18)
    writer.sign(day, hour=19)
    after = build(data, "WA", parse_period("2026"))
    for report in (before, after):
        disclosed = report.table("disclosures-by-category-and-group")
        by_requester = dict(zip(disclosed.rows, disclosed.row_totals, strict=True))
        assert isinstance(by_requester["HSI"], int) and isinstance(by_requester["CBP"], int)
        requests = report.table("requests-by-category-and-outcome")
        assert all(isinstance(v, int) for c, v in zip(requests.rows, requests.row_totals,
                                                       strict=True) if c in ("HSI", "CBP"))
        headline = report.headline
        assert headline is not None
        for n, category in enumerate(headline.categories):
            for values in (headline.requests, headline.disclosures):
                assert isinstance(values[n], int) or category in ("USCIS", "DHS-other"), (
                    category, values[n])
    assert before.headline is not None and after.headline is not None
    hsi = HEADLINE.index("HSI")
    assert (before.headline.disclosures[hsi], after.headline.disclosures[hsi]) == (19, 24)
    assert json.dumps(as_json(after)).count('"withheld"') > 0  # the detail still protects
