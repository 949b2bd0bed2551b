"""Every state's yearly reports as a static site: an index page, and for each state and year
the report as HTML with its JSON and CSV beside it. Plain files: any web server, or none."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..datadir import DataDir
from . import csv, html, snapshot
from .html import Listed
from .model import PublicReport, dumps, schema_text
from .report import build
from .stats import PeriodError, parse_period
from .suppress import DEFAULT_THRESHOLD


@dataclass(frozen=True, slots=True)
class Skipped:
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class Site:
    listed: tuple[Listed, ...]
    skipped: tuple[Skipped, ...]


def export(data: DataDir, out: Path, threshold: int = DEFAULT_THRESHOLD) -> Site:
    """Write the site into `out` (made if needed; files of the same name are replaced)."""
    listed: list[Listed] = []
    skipped: list[Skipped] = []
    for state in data.states():
        before = len(listed)
        try:
            for year, report in _reports(data, state, threshold):
                listed.append(_write(out, report, year))
            if len(listed) > before:
                _evidence(data, out, state)
        except (snapshot.SnapshotError, PeriodError) as error:
            skipped.append(Skipped(state, str(error)))
            continue
        if len(listed) == before:
            skipped.append(Skipped(state, "no requests below its latest signed head"))
    _save(out / "index.html", html.index(listed))
    _save(out / "report.schema.json", schema_text())
    return Site(tuple(listed), tuple(skipped))


def _evidence(data: DataDir, out: Path, state: str) -> None:
    """The checkpoint the reports count up to and the log's keys, beside the reports, as the
    live site serves them (a static site cannot serve consistency proofs)."""
    _save(out / state / "checkpoint", snapshot.checkpoint(data, state).head.note())
    _save(out / state / "key", "".join(f"{k.vkey}\n" for k in snapshot.log_keys(data, state)))


def _reports(data: DataDir, state: str, threshold: int) -> Iterator[tuple[str, PublicReport]]:
    with snapshot.opened(data, state) as db:
        years = snapshot.years(db)
    for year in years:
        try:
            yield year, build(data, state, parse_period(year), threshold)
        except PeriodError:
            continue  # a year whose entries all come after the latest signed head


def _write(out: Path, report: PublicReport, year: str) -> Listed:
    folder = out / report.state
    files = {"HTML": f"{year}.html", "JSON": f"{year}.json", "CSV": f"{year}.csv"}
    _save(folder / files["JSON"], dumps(report))
    _save(folder / files["CSV"], csv.render(report))
    _save(folder / files["HTML"], html.render(report, {
        "JSON": files["JSON"], "CSV": files["CSV"], "checkpoint": "checkpoint",
        "all reports": "../index.html"}))
    requests = report.table("requests-by-category-and-outcome")
    by_name = dict(zip(requests.rows, requests.row_totals, strict=True))
    return Listed(report.state, year, requests.total, by_name.get("ICE", 0),
                  by_name.get("HSI", 0),
                  {label: f"{report.state}/{name}" for label, name in files.items()})


def _save(path: Path, text: str) -> None:
    """Written beside and renamed into place, so a reader never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)
