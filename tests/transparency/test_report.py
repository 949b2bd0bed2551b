"""Public reports on a log whose every count is known: periods, months, the signed head they
are computed at, policy changes, verification against the entries, and nothing personal."""

from __future__ import annotations

import csv as stdlib_csv
import dataclasses
import io
import json
import os
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import psycopg
import pytest

from stateline.audit import EntryKind, audit_db
from stateline.datadir import DataDir
from stateline.transparency import csv, html
from stateline.transparency.model import (
    PolicyChange,
    PolicyNote,
    PublicReport,
    ReportError,
    as_json,
    dumps,
    loads,
    schema_text,
)
from stateline.transparency.report import build
from stateline.transparency.snapshot import SnapshotError
from stateline.transparency.stats import PeriodError, parse_period
from stateline.transparency.verify import VerifyError, verify

from .synthetic_log import (
    LOCAL_ORI,
    REVIEWER,
    SUBJECT,
    Writer,
    decision,
    many,
    policy_change,
    review,
)


def write_two_years(writer: Writer) -> int:
    """2024: a month of steady traffic twelve times over, and three CBP requests in March;
    2025 to June: ICE blocked from March, HSI held and reviewed; a signed head on 30 June,
    then ICE traffic after it. Returns the head's size."""
    plan: list[tuple[date, int, list[tuple[EntryKind, dict[str, Any]]]]] = [
        (date(2024, 1, 2), 12, [(EntryKind.POLICY_CHANGE, policy_change("cj-baseline"))]),
        (date(2024, 3, 11), 12, many(decision("CBP", "released", photo=True), 3)),
        (date(2025, 2, 1), 12, many(decision("USCIS", "denied"), 2)),
        (date(2025, 3, 1), 9, [(EntryKind.POLICY_CHANGE, policy_change("block-ice"))]),
    ]
    for month in range(1, 13):
        plan.append((date(2024, month, 10), 12, [
            *many(decision("ICE", "released"), 10),
            *many(decision("HSI", "released"), 5),
            *many(decision("in-state", "released", key="RQ"), 30),
            *many(decision("out-of-state", "partial"), 12),
        ]))
    for month in range(1, 7):
        plan.append((date(2025, month, 5), 12, [
            *many(decision("ICE", "denied" if month >= 3 else "released"), 20),
            *many(decision("HSI", "held"), 12),
            *many(decision("in-state", "released", photo=True, records=2), 10),
            *many(decision("in-state", "released", key="KQ"), 40),
        ]))
        plan.append((date(2025, month, 20), 12, [
            *[(EntryKind.REVIEW, review("HSI", "released"))] * 8,
            *[(EntryKind.REVIEW, review("HSI", "denied"))] * 4,
        ]))
    for day, hour, entries in sorted(plan, key=lambda step: (step[0], step[1])):
        writer.at(day, entries, hour)
    size = writer.sign(date(2025, 6, 30))
    writer.at(date(2025, 7, 1), many(decision("ICE", "denied"), 40))
    return size


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, int]:
    data = DataDir(tmp_path_factory.mktemp("two-years"))
    return data, write_two_years(Writer(data))


def table(report: PublicReport, table_id: str) -> dict[str, dict[str, Any]]:
    """A table as {row: {column: shown}}, totals under "total"."""
    t = report.table(table_id)
    rows: dict[str, dict[str, Any]] = {
        row: {**dict(zip(t.columns, cells, strict=True)), "total": total}
        for row, cells, total in zip(t.rows, t.cells, t.row_totals, strict=True)}
    rows["total"] = {**dict(zip(t.columns, t.column_totals, strict=True)), "total": t.total}
    return rows


def test_a_year_of_traffic_counted_by_requester_outcome_group_and_month(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2024"))
    outcomes = table(report, "requests-by-category-and-outcome")
    assert outcomes["ICE"]["total"] == 120 and outcomes["HSI"]["released"] == 60
    assert outcomes["in-state"]["released"] == 360 and outcomes["total"]["partial"] == 144
    assert outcomes["CBP"]["released"] == "<10" and outcomes["USCIS"]["total"] == 0
    months = table(report, "requests-by-month")
    assert [months[f"2024-{m:02d}"]["ICE"] for m in range(1, 13)] == [10] * 12
    assert {months[f"2024-{m:02d}"]["HSI"] for m in range(1, 13)} == {"<10"}
    assert months["total"]["HSI"] == 60  # twelve small months, and their total is safe
    groups = table(report, "requests-by-group-and-outcome")
    assert groups["vehicle"]["released"] == 360
    assert table(report, "photos-by-category-and-group")["CBP"]["driver"] == "<10"
    assert report.policy_changes[0].time.startswith("2024-01-02")


def test_the_report_counts_only_what_the_signed_head_commits_to(
        two_years: tuple[DataDir, int]) -> None:
    data, size = two_years
    report = build(data, "WA", parse_period("2025"))
    assert report.as_of.size == size and report.as_of.time.startswith("2025-06-30T23:00")
    requests = table(report, "requests-by-category-and-outcome")
    assert requests["ICE"]["total"] == 120  # not the 40 after the head
    assert requests["ICE"]["released"] == 40 and requests["ICE"]["denied"] == 80
    assert [row for row in table(report, "requests-by-month") if row != "total"] == [
        f"2025-{m:02d}" for m in range(1, 7)]
    with sqlite3.connect(audit_db(data, "WA")) as db:
        (after,) = db.execute("SELECT count(*) FROM entries WHERE seq >= ?", (size,)).fetchone()
    assert after == 40


def test_held_requests_reviews_and_disclosures_are_kept_apart(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2025-Q2"))
    assert table(report, "requests-by-category-and-outcome")["HSI"]["held"] == 36
    reviews = table(report, "reviews-by-category-and-outcome")
    assert reviews["HSI"]["released"] == 24 and reviews["HSI"]["denied"] == 12
    disclosed = table(report, "disclosures-by-category-and-group")
    assert disclosed["HSI"]["total"] == 24 and disclosed["in-state"]["total"] == 150
    assert table(report, "photos-by-category-and-group")["in-state"]["total"] == 30
    assert table(report, "records-by-category-and-group")["in-state"]["driver"] == 60


def test_months_quarters_and_ranges_cut_the_same_log(two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    march = build(data, "WA", parse_period("2025-03"))
    assert table(march, "requests-by-category-and-outcome")["ICE"]["denied"] == 20
    span = build(data, "WA", parse_period("2024-12-01..2025-01-31"))
    assert table(span, "requests-by-category-and-outcome")["ICE"]["total"] == 30
    assert list(table(span, "requests-by-month"))[:2] == ["2024-12", "2025-01"]
    with pytest.raises(PeriodError, match="after WA's latest signed head"):
        build(data, "WA", parse_period("2025-08"))


def test_policy_changes_in_the_period_name_what_changed_and_when_but_not_who(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    (change,) = build(data, "WA", parse_period("2025")).policy_changes
    assert change.time.startswith("2025-03-01T09:00")
    assert [n.id for n in change.added] == ["block-ice"] and not change.removed
    assert change.added[0].effect == "forbid" and change.added[0].reason
    assert not build(data, "WA", parse_period("2025-Q2")).policy_changes


def no_marked_cell_stands_alone(document: dict[str, Any]) -> None:
    """From the JSON alone: a row or column whose total is shown holds no single mark."""
    for t in document["tables"]:
        lines = [(row, total) for row, total in zip(t["cells"], t["row_totals"], strict=True)]
        lines += [([row[c] for row in t["cells"]], total)
                  for c, total in enumerate(t["column_totals"])]
        lines += [(t["row_totals"], t["total"]), (t["column_totals"], t["total"])]
        for values, total in lines:
            if isinstance(total, int):
                assert sum(isinstance(v, str) for v in values) != 1, (t["id"], values, total)


def test_the_json_follows_its_schema_reads_back_and_leaks_no_marked_cell(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    for period in ("2024", "2025", "2025-02"):
        report = build(data, "WA", parse_period(period))
        document = json.loads(dumps(report))
        jsonschema_rs.validator_for(json.loads(schema_text())).validate(document)
        assert loads(dumps(report)) == report
        no_marked_cell_stands_alone(document)


def test_nothing_personal_reaches_any_format(two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2025"))
    for text in (dumps(report), csv.render(report), html.render(report)):
        for private in (LOCAL_ORI, SUBJECT, REVIEWER, "Seattle", "555-0100", "WA-DL-"):
            assert private not in text


def test_html_is_static_printable_and_the_same_every_time(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2024"))
    page = html.render(report, {"JSON": "2024.json"})
    assert page == html.render(report, {"JSON": "2024.json"})
    assert "<script" not in page.lower() and page.count("<svg") == 2
    assert "@media print" in page and 'href="2024.json"' in page
    assert "Requests for Washington driver and vehicle records, 2024" in page


def test_csv_has_a_row_per_published_count(two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2024"))
    lines = csv.render(report).splitlines()
    assert lines[0] == "table,measure,row_dimension,row,column_dimension,column,value"
    assert "requests-by-category-and-outcome,requests,category,ICE,outcome,total,120" in lines
    assert "requests-by-category-and-outcome,requests,category,CBP,outcome,released,<10" in lines
    headline = [line for line in lines if line.startswith("headline,")]
    assert "headline,requests,category,ICE,,,120" in headline and len(headline) == 16
    places = sum((len(t.rows) + 1) * (len(t.columns) + 1) for t in report.tables)
    assert sum(1 for line in lines
               if not line.startswith(("about,", "policy-", "headline,"))) == places + 1


def test_verify_recomputes_the_report_from_the_entries(two_years: tuple[DataDir, int]) -> None:
    data, size = two_years
    report = build(data, "WA", parse_period("2025"))
    verdict = verify(data, report)
    assert verdict.ok and verdict.log.entries == size + 40


def test_verify_names_every_count_that_differs(two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    document = as_json(build(data, "WA", parse_period("2024")))
    ice = document["tables"][0]["rows"]["labels"].index("ICE")
    document["tables"][0]["cells"][ice][0] = 119
    document["policy_changes"] = []
    verdict = verify(data, loads(json.dumps(document)))
    assert not verdict.ok
    assert ("tables[requests-by-category-and-outcome][ICE][released]: the report has 119, "
            "the log gives 120") in verdict.differences
    assert any(d.startswith("policy_changes") for d in verdict.differences)


def test_verify_refuses_a_head_the_log_never_signed(two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    document = as_json(build(data, "WA", parse_period("2024")))
    document["as_of"]["size"] += 1
    with pytest.raises(VerifyError, match="differ from its checkpoint"):
        verify(data, loads(json.dumps(document)))
    document = as_json(build(data, "WA", parse_period("2024")))
    document["as_of"]["checkpoint"] = document["as_of"]["checkpoint"].replace("\n\n", "\n")
    with pytest.raises(VerifyError, match="checkpoint"):
        verify(data, loads(json.dumps(document)))


def test_verify_fails_on_a_log_edited_after_the_report(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    write_two_years(Writer(data))
    report = build(data, "WA", parse_period("2024"))
    with sqlite3.connect(audit_db(data, "WA")) as db:
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET body = replace(body, '\"ICE\"', '\"HSI\"') WHERE seq = 5")
    with pytest.raises(VerifyError, match="does not verify: entry 5: edited"):
        verify(data, report)


def test_a_log_without_a_signed_head_has_no_report(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    Writer(data).at(date(2025, 1, 1), many(decision("ICE"), 3))
    with pytest.raises(SnapshotError, match="no signed head"):
        build(data, "WA", parse_period("2025"))
    data.state_dir("OR").mkdir(parents=True)
    with pytest.raises(SnapshotError, match="no audit log"):
        build(data, "OR", parse_period("2025"))


def test_a_document_that_is_not_a_report_is_refused() -> None:
    with pytest.raises(ReportError, match="not JSON"):
        loads("{")
    with pytest.raises(ReportError, match="not a Stateline public report"):
        loads('{"tables": []}')
    with pytest.raises(ReportError, match=r"as_of is missing"):
        loads('{"schema": "stateline/public-report/1", "period": {}}')


@pytest.mark.postgres
def test_a_log_in_postgresql_reports_and_verifies_the_same(tmp_path: Path) -> None:
    url = os.environ["STATELINE_TEST_POSTGRES_URL"]
    data = DataDir(tmp_path)
    data.state_dir("WY").mkdir(parents=True)
    data.config("WY").write_text(f'[audit]\nurl = "{url}"\n')
    try:
        writer = Writer(data, "WY", target=url)
        writer.at(date(2025, 1, 5), many(decision("ICE", "denied"), 25))
        writer.at(date(2025, 2, 5), many(decision("HSI", "released"), 4))
        writer.sign(date(2025, 2, 28))
        writer.at(date(2025, 3, 1), many(decision("ICE", "denied"), 7))
        report = build(data, "WY", parse_period("2025"))
        requests = table(report, "requests-by-category-and-outcome")
        assert requests["ICE"]["denied"] == "withheld" or requests["ICE"]["total"] == 25
        assert requests["HSI"]["released"] == "<10"
        assert verify(data, report).ok
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("DROP SCHEMA IF EXISTS audit_wy CASCADE")


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(
        two_years: tuple[DataDir, int]) -> None:
    data, _ = two_years
    report = build(data, "WA", parse_period("2024"))
    hostile = PolicyChange("2024-05-01T00:00:00Z", "v9", (PolicyNote(
        "@evil", "forbid", "=HYPERLINK(\"http://x.example\",\"click\")"),), (), ())
    rows = list(stdlib_csv.reader(io.StringIO(csv.render(
        dataclasses.replace(report, policy_changes=(hostile,))))))
    assert ["policy-changes", "", "time", "2024-05-01T00:00:00Z", "added", "'@evil",
            "'=HYPERLINK(\"http://x.example\",\"click\")"] in rows
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for row in rows for cell in row)
