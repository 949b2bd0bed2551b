"""Requests imported from a state switch's records, read as a coordinator, a governor's office
and the public read them: counted in reports of the years they were made, with where they came
from said in every form; in the briefing's charts and flags; replayed under a proposed block;
and, as in Washington, CBP's traffic rising after ICE was blocked, flagged from history."""

from __future__ import annotations

import csv as stdlib_csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from typer.testing import CliRunner

from stateline.audit import EntryKind
from stateline.cli import app
from stateline.datadir import DataDir
from stateline.policy.presets import preset
from stateline.sim.nation import build_nation
from stateline.transparency import csv, html
from stateline.transparency.briefing import Briefing, briefing, render, to_json
from stateline.transparency.flags import FlagReport, find_flags
from stateline.transparency.flags import to_json as flags_json
from stateline.transparency.model import PublicReport, as_json, dumps, schema_text
from stateline.transparency.report import build
from stateline.transparency.site import export
from stateline.transparency.stats import parse_period
from stateline.transparency.verify import verify
from stateline.transparency.whatif import Shift, whatif

from .history_log import (
    SURGE_SENDER,
    File,
    Made,
    Sender,
    at,
    daily,
    entries,
    live,
)
from .synthetic_log import Writer, policy_change
from .traffic import fresh_log

runner = CliRunner()
NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)
BLOCK = date(2025, 6, 2)
"""A Monday: ICE's requests are denied from this day on, as the switch's records show."""
IMPORTED_ON = date(2025, 10, 1)
LIVE_FROM = date(2025, 10, 2)
SURGE_FROM = date(2025, 12, 21)
"""The last thirty days before NOW: a police department's volume jumps eightfold."""
PARTNER = Sender(ori="WA0400000", name="Yakima County Sheriff", state="WA", level="county",
                 agency_type="SO", department="", component="", criminal_justice=True,
                 permissions=("A", "C", "D"), programs=("287g",), active=True)
FILE_2024 = File.named("WA-switch-2024.txt")
FILE_2025 = File.named("WA-switch-2025.txt")


def made_2024() -> list[Made]:
    first, last = date(2024, 1, 1), date(2024, 12, 31)
    return [*daily(first, last, "ICE", 2), *daily(first, last, "HSI", 1),
            *daily(first, last, "CBP", 1), *daily(first, last, "in-state", 6),
            *(Made(m.when, "in-state", sender=SURGE_SENDER)
              for m in daily(first, last, "in-state", 1))]


def made_2025() -> list[Made]:
    first, last, before = date(2025, 1, 1), date(2025, 9, 30), BLOCK - timedelta(days=1)
    return [*daily(first, before, "ICE", 2), *daily(BLOCK, last, "ICE", 2, "denied"),
            *daily(first, before, "CBP", 1), *daily(BLOCK, last, "CBP", 3),
            *daily(first, last, "HSI", 1), *daily(first, last, "in-state", 6),
            *(Made(m.when, "in-state", sender=SURGE_SENDER)
              for m in daily(first, last, "in-state", 1)),
            *(Made(m.when, "287(g) partner", sender=PARTNER)
              for m in daily(date(2025, 8, 4), date(2025, 8, 15), "in-state", 1))]


def live_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def made_live(day: date) -> list[Made]:
    """A day of the gateway's own traffic: ICE refused, CBP up, the rest as before."""
    when = at(day, 12)
    surge = 8 if day >= SURGE_FROM else 1
    return [*(Made(when, "ICE", "denied") for _ in range(2)),
            *(Made(when, "CBP") for _ in range(3)), Made(when, "HSI"),
            *(Made(when, "in-state") for _ in range(6)),
            *(Made(when, "in-state", sender=SURGE_SENDER) for _ in range(surge))]


@pytest.fixture(scope="module")
def washington(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """WA's switch records for 2024 and 2025 to September, imported on 1 October 2025, when
    Stateline was installed blocking ICE; then the gateway's own traffic up to NOW, and a
    signed head the day before."""
    data = DataDir(tmp_path_factory.mktemp("washington"))
    build_nation(data, ("WA", "OR"), residents=200, seed=5)
    fresh_log(data)
    writer = Writer(data)
    writer.at(IMPORTED_ON, entries(made_2024(), FILE_2024, IMPORTED_ON), hour=9)
    writer.at(IMPORTED_ON, entries(made_2025(), FILE_2025, IMPORTED_ON), hour=10)
    writer.at(IMPORTED_ON, [(EntryKind.POLICY_CHANGE, policy_change("block-ice"))], hour=11)
    for day in live_days(LIVE_FROM, NOW.date() - timedelta(days=1)):
        writer.at(day, [live(m) for m in made_live(day)], hour=12)
    writer.sign(NOW.date() - timedelta(days=1))
    return data


def said(file: File) -> str:
    return f"from the state switch's records, imported on {IMPORTED_ON} ({file.sha256[:12]})"


def requests(report: PublicReport, category: str) -> Any:
    table = report.table("requests-by-category-and-outcome")
    return table.row_totals[table.rows.index(category)]


def test_a_year_of_imported_requests_is_reported_and_says_where_it_came_from(
        washington: DataDir) -> None:
    report = build(washington, "WA", parse_period("2024"))
    assert requests(report, "ICE") == 2 * 366 and requests(report, "CBP") == 366
    assert report.table("requests-by-category-and-outcome").total == 11 * 366
    assert [(c.kind, c.sha256, c.imported_on, c.requests) for c in report.sources] == [
        ("imported", FILE_2024.sha256, IMPORTED_ON.isoformat(), 11 * 366)]
    document = as_json(report)
    assert document["sources"][0]["sha256"] == FILE_2024.sha256  # whole in JSON
    assert document["sources"][0]["said"] == said(FILE_2024)
    page = html.render(report)
    assert f"4,026 requests {said(FILE_2024)}".replace("'", "&#39;") in page
    assert FILE_2024.sha256 in page
    rows = list(stdlib_csv.reader(io.StringIO(csv.render(report))))
    assert ["about", "", "", "source_1", "", "", said(FILE_2024)] in rows
    assert ["about", "", "", "source_1_sha256", "", "", FILE_2024.sha256] in rows
    assert FILE_2024.name not in json.dumps(document)  # the file's name stays with the state


def test_a_year_of_imported_and_live_requests_says_both(washington: DataDir) -> None:
    report = build(washington, "WA", parse_period("2025"))
    days = live_days(LIVE_FROM, date(2025, 12, 31))
    assert [(c.label, c.requests) for c in report.sources] == [
        (f"imported {FILE_2025.sha256[:12]}", len(made_2025())),
        ("gateway", sum(len(made_live(day)) for day in days))]
    assert requests(report, "ICE") == 2 * 273 + 2 * len(days)
    table = report.table("requests-by-source")
    months = dict(zip(table.columns, table.cells[table.rows.index("gateway")], strict=True))
    assert months["2025-09"] == 0 and months["2025-11"] == 13 * 30
    assert report.headline is not None
    assert report.headline.requests[0] == 2 * 273 + 2 * len(days)
    quarter = build(washington, "WA", parse_period("2025-Q4"))
    assert [c.kind for c in quarter.sources] == ["gateway"]  # none imported in it
    assert build(washington, "WA", parse_period("2025-Q2")).sources[0].kind == "imported"


def test_every_form_of_the_report_carries_the_provenance(washington: DataDir,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "2025.json"
    done = runner.invoke(app, ["report", "--data", str(washington.root), "--state", "WA",
                               "--period", "2025", "--format", "json", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"requests {said(FILE_2025)}" in done.output
    assert "requests decided by the state's gateway" in done.output
    document = json.loads(out.read_text())
    jsonschema_rs.validator_for(json.loads(schema_text())).validate(document)
    assert [s["kind"] for s in document["sources"]] == ["imported", "gateway"]
    table = next(t for t in document["tables"] if t["id"] == "requests-by-source")
    assert table["rows"]["dimension"] == "source" and table["total"] == sum(
        s["requests"] for s in document["sources"])


def test_a_report_with_imported_requests_verifies_against_the_entries(
        washington: DataDir) -> None:
    for label in ("2024", "2025", "2025-06", "2025-Q3"):
        report = build(washington, "WA", parse_period(label))
        verdict = verify(washington, json_copy(report))
        assert verdict.ok, (label, verdict.differences)


def json_copy(report: PublicReport) -> PublicReport:
    from stateline.transparency.model import loads

    return loads(dumps(report))


def test_the_published_site_holds_the_imported_years_and_checks(washington: DataDir,
                                                                tmp_path: Path) -> None:
    site = export(washington, tmp_path / "site")
    years = {item.period for item in site.listed if item.state == "WA"}
    assert {"2024", "2025"} <= years
    page = (tmp_path / "site" / "WA" / "2024.html").read_text()
    assert said(FILE_2024).replace("'", "&#39;") in page
    vkey = json.loads((tmp_path / "site" / "WA" / "2025.json").read_text()
                      )["as_of"]["verifier_key"]
    done = runner.invoke(app, ["report", "check", str(tmp_path / "site" / "WA" / "2025.json"),
                               str(tmp_path / "site" / "WA" / "2024.json"), "--key", vkey])
    assert done.exit_code == 0, done.output


@pytest.fixture(scope="module")
def briefed(washington: DataDir) -> Briefing:
    return briefing(washington, "WA", NOW)


def test_the_briefing_charts_and_years_include_imported_requests(briefed: Briefing) -> None:
    v = briefed.volumes
    assert v.months[0] == "2025-02" and v.months[-1] == "2026-01"
    ice = dict(zip(v.months, v.monthly["ICE"], strict=True))
    assert ice["2025-03"] == 2 * 31 and ice["2025-11"] == 2 * 30  # imported, then live
    imported = dict(zip(v.months, v.imported, strict=True))
    assert imported["2025-03"] > 0 and imported["2025-11"] == 0
    years = {row.category: row for row in v.years}
    assert years["ICE"].last_year == 2 * 273 + 2 * len(live_days(LIVE_FROM, date(2025, 12, 31)))
    assert years["ICE"].last_year_to_date == 2 * 20  # 1 to 20 January 2025, imported
    assert years["ICE"].this_year_to_date == 2 * 19  # live
    page = render(briefed)
    assert "Built partly from imported records" in page
    assert said(FILE_2025).replace("'", "&#39;") in page
    found = to_json(briefed)
    assert found["imported"]["twelve_months"] == sum(v.imported)
    assert [f["sha256"] for f in found["imported"]["files"]] == [FILE_2025.sha256]


def test_the_briefing_replays_imported_requests_and_says_so(briefed: Briefing) -> None:
    assert 0 < briefed.replayed_imported < briefed.replayed
    assert "of them were imported from the" in render(briefed)


def by_rule(report: FlagReport) -> dict[str, Any]:
    return {r.rule.name: r for r in report.results}


def test_the_baseline_reaches_back_through_imported_history(washington: DataDir) -> None:
    report = find_flags(washington, "WA", until=NOW)
    baseline = by_rule(report)["baseline-departure"]
    assert baseline.note == ""  # the gateway's own log is 110 days old; history is older
    assert {f.ori for f in baseline.flags} == {SURGE_SENDER.ori}


def test_a_flag_that_rests_on_imported_requests_says_so(washington: DataDir) -> None:
    report = find_flags(washington, "WA", until=NOW)
    partner = by_rule(report)["287g-partner"].flags
    assert [(f.ori, f.count, f.imported) for f in partner] == [(PARTNER.ori, 12, 12)]
    assert partner[0].detail.endswith("; all of them from the state switch's records")
    assert flags_json(report)["rules"][0]["flags"][0]["imported"] == 12


def test_cbp_rising_after_ice_was_blocked_is_flagged_from_history(
        washington: DataDir) -> None:
    report = find_flags(washington, "WA", until=NOW)
    result = by_rule(report)["displaced-traffic"]
    assert [f.category for f in result.flags] == ["CBP"]
    cbp = result.flags[0]
    assert "ICE blocked from 2025-06-02 (imported records" in cbp.detail
    assert "CBP 21.0 requests a week in the 8 weeks after against 7.0 in the 8 weeks " \
           "before (3.0 times)" in cbp.detail
    assert cbp.count == 8 * 21 and cbp.imported == 8 * 7 + 8 * 21
    assert "224 of CBP's requests in the weeks compared were read from the state switch's " \
           "records" in cbp.detail
    [weekly] = result.weekly
    assert (weekly.block.category, weekly.block.day) == ("ICE", BLOCK)
    assert weekly.counts["HSI"] == (7,) * 16 and weekly.before == 8
    assert result.note == ""  # the first policy, installed with ICE already refused, is no
    # second block


def test_the_briefing_shows_the_weeks_around_the_block(briefed: Briefing) -> None:
    page = render(briefed)
    assert "Traffic moving to another agency after a block" in page
    assert "ICE blocked 2025-06-02 (imported records)" in page
    flags = [f for f in to_json(briefed)["flags"] if f["rule"] == "displaced-traffic"]
    assert [f["name"] for f in flags] == ["CBP after the ICE block"]
    assert to_json(briefed)["displaced"][0]["requests"]["CBP"][8:] == [21] * 8


def test_what_if_over_a_past_year_replays_imported_requests(washington: DataDir) -> None:
    result = whatif(washington, "WA", preset("block-ice").text(),
                    datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, tzinfo=UTC))
    ice = result.by_category()["ICE"]
    assert ice.shifts[Shift.NEWLY_DENIED] == 2 * (BLOCK - date(2025, 1, 1)).days
    assert result.imported == len(made_2025())
    assert result.replayed > result.imported  # the gateway's own from October too
    assert "were read from the state switch's records, imported on 2025-10-01" in \
        result.notes[0]
    assert "as the directory had them on the day of the import" in result.notes[0]
    assert any(e.imported for e in result.examples)


def test_policy_whatif_takes_a_period(washington: DataDir) -> None:
    done = runner.invoke(app, ["policy", "whatif", "--data", str(washington.root), "--state",
                               "WA", "--preset", "block-ice", "--period", "2024", "--json"])
    assert done.exit_code == 0, done.output
    found = json.loads(done.output)
    assert found["imported"] == found["replayed"] == 11 * 366
    assert found["imported_files"][0]["sha256"] == FILE_2024.sha256
    ice = next(c for c in found["categories"] if c["category"] == "ICE")
    assert ice["newly_denied"] == 2 * 366
    text = runner.invoke(app, ["policy", "whatif", "--data", str(washington.root), "--state",
                               "WA", "--preset", "block-ice", "--period", "2024"])
    assert "4,026 of them imported from the state switch's records" in text.output
