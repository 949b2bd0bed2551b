"""A year half imported from the state switch's records and half decided live, read as an
attacker reads its reports: the table of where requests were counted from is one more set of
equations tied to the others, and with it no withheld count has a single possible value."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from stateline.datadir import DataDir
from stateline.transparency import snapshot
from stateline.transparency.derive import exposed
from stateline.transparency.model import as_json
from stateline.transparency.release import decide
from stateline.transparency.report import build, head_day
from stateline.transparency.stats import parse_period

from .history_log import File, Made, at, entries, live
from .synthetic_log import Writer
from .test_release import reader_system

FIRST = File.named("WA-first-half.txt")
SECOND = File.named("WA-second-quarter.txt")


def month_of(year: int, month: int, counts: dict[str, int]) -> list[Made]:
    """Each category's requests spread over the month's first days."""
    return [Made(at(date(year, month, 1) + timedelta(days=n % 20), 8 + n % 10), category)
            for category, count in counts.items() for n in range(count)]


@pytest.fixture(scope="module")
def half_and_half(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Two files imported in July (January to March, April to the first days of July),
    small counts among them; the gateway's own requests from July, small counts there too,
    and a November of four requests in all."""
    data = DataDir(tmp_path_factory.mktemp("half-and-half"))
    writer = Writer(data)
    first = [m for month in (1, 2, 3) for m in month_of(2026, month, {
        "ICE": 12 + month, "HSI": month % 3 * 4, "CBP": 3, "in-state": 40})]
    second = [m for month in (4, 5, 6) for m in month_of(2026, month, {
        "ICE": 2 + month, "HSI": 11, "CBP": month % 2 * 2, "in-state": 45})]
    second += month_of(2026, 7, {"in-state": 3})
    writer.at(date(2026, 7, 1), entries(first, FIRST, date(2026, 7, 1)), hour=1)
    writer.at(date(2026, 7, 1), entries(second, SECOND, date(2026, 7, 1)), hour=2)
    for month in (7, 8, 9, 10, 11):
        day = date(2026, month, 10)
        made = [Made(at(day, 12), category) for category, count in {
            "ICE": month - 5, "HSI": 12, "CBP": 4 if month == 8 else 0,
            "in-state": 50}.items() for _ in range(count if month < 11 else 0)]
        made += [Made(at(day, 12), "in-state")] * (4 if month == 11 else 0)
        writer.at(day, [live(m) for m in made], hour=12)
    writer.sign(date(2026, 11, 30))
    return data


def test_where_requests_came_from_gives_no_withheld_count_away(
        half_and_half: DataDir) -> None:
    through = date(2026, 11, 30)
    periods = [parse_period("2026"), *(parse_period(f"2026-Q{q}") for q in range(1, 5)),
               *(parse_period(f"2026-{m:02d}") for m in range(1, 12))]
    documents = {p.label: as_json(build(half_and_half, "WA", p)) for p in periods}
    year = documents["2026"]
    assert [s["kind"] for s in year["sources"]] == ["imported", "imported", "gateway"]
    assert "requests-by-source" in [t["id"] for t in year["tables"]]
    found = snapshot.read(half_and_half, "WA", parse_period("2026"))
    truth = decide(found.rollups, parse_period("2026"), head_day(found.head), 10,
                   found.sources).values()
    shown, equations = reader_system(documents)
    for place, value in shown.items():
        if isinstance(value, int):
            assert truth[place] == value, place
    small = {k for k, v in shown.items() if isinstance(v, str) and v.startswith("<")}
    withheld = {k for k, v in shown.items() if v == "withheld"}
    assert set(exposed(truth, equations, small, withheld, 10).cells) == set()
    assert small  # there are small counts to protect, where requests came from too
    assert documents["2026-11"]["sources"] == [{
        "label": "gateway", "kind": "gateway", "sha256": "", "imported": "", "requests": "<10",
        "said": "decided by the state's gateway"}]
    assert through == head_day(found.head)
