"""`stateline report`, `report verify` and `report site` on a nation after real traffic through
a state's gateway: every format, the counts against the log, and verification."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stateline.audit import audit_db
from stateline.commands import report
from stateline.datadir import DataDir
from stateline.directory.categories import DEFAULT_RULES
from stateline.directory.store import Directory
from stateline.dmv import open_store
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import read
from stateline.sim.nation import build_nation

root = typer.Typer()
root.add_typer(report.app, name="report")
runner = CliRunner()
YEAR = str(datetime.now(UTC).year)
MIX = {"in-state": 40, "out-of-state": 30, "ICE": 12, "HSI": 10, "CBP": 6, "USCIS": 2,
       "federal-other": 5, "287(g) partner": 3, "DHS-other": 1}
"""Requests per 109 from each category, roughly as a border state might see them."""


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """WA blocks ICE and holds HSI for review; 600 queries (driver, vehicle, history, some not
    on file) from every category; two of three held requests released, the rest denied."""
    data = DataDir(tmp_path_factory.mktemp("report-nation"))
    build_nation(data, ("WA", "OR"), residents=300, seed=4)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    with Directory.open(data, create=False) as directory:
        senders: dict[str, list[str]] = {}
        for agency in directory.agencies(active=True):
            if "D" in agency.permissions:
                senders.setdefault(DEFAULT_RULES.category(agency, "WA"), []).append(agency.ori)
    store = open_store(data.dmv_url("WA"))
    try:
        people = store.sample(40, seed=2)
    finally:
        store.close()
    rng = random.Random(9)
    with Gateway(data, "WA") as gateway:
        for _ in range(600):
            ori = rng.choice(senders[rng.choices(list(MIX), list(MIX.values()))[0]])
            person, kind = rng.choice(people), rng.random()
            text = (f"DQ.{ori}.WA.TXT\nOLN/{person.oln}" + (".IMQ/Y" if kind < 0.2 else "")
                    if kind < 0.6 else f"RQ.{ori}.WA.TXT\nVIN/{person.vin}" if kind < 0.85
                    else f"KQ.{ori}.WA.TXT\nOLN/{person.oln}" if kind < 0.95
                    else f"DQ.{ori}.WA.TXT\nOLN/WDLZZZZZZ999")
            gateway.handle(read(text))
        for n, held in enumerate(gateway.queue.pending()):
            (gateway.deny if n % 3 == 0 else gateway.release)(held.reference, "r.lopez")
    return data


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["report", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def logged(data: DataDir) -> Counter[tuple[str, str, str]]:
    """Decision and review entries by kind, category and outcome, straight from the log."""
    with sqlite3.connect(audit_db(data, "WA")) as db:
        rows = db.execute("SELECT kind, json_extract(body, '$.category'), "
                          "json_extract(body, '$.outcome') FROM entries").fetchall()
    return Counter((kind, category, outcome) for kind, category, outcome in rows
                   if kind in ("decision", "review"))


def test_the_report_in_each_format_counts_what_the_log_holds(nation: DataDir,
                                                            tmp_path: Path) -> None:
    base = ["--data", str(nation.root), "--state", "WA", "--period", YEAR]
    code, out, _ = run(*base, "--format", "json", "--out", str(tmp_path / "wa.json"))
    assert code == 0 and f"WA {YEAR}: json report written to" in out
    document = json.loads((tmp_path / "wa.json").read_text())
    table = document["tables"][0]
    rows = dict(zip(table["rows"]["labels"], table["row_totals"], strict=True))
    counts = logged(nation)
    for category in ("ICE", "HSI", "in-state", "out-of-state"):
        expected = sum(n for (kind, c, _), n in counts.items() if kind == "decision"
                       and c == category)
        assert expected >= 10 and rows[category] == expected, category
    ice = table["rows"]["labels"].index("ICE")
    denied = table["columns"]["labels"].index("denied")
    assert table["cells"][ice][denied] == rows["ICE"]  # WA blocks ICE: every one denied
    assert table["total"] == sum(n for (kind, _, _), n in counts.items() if kind == "decision")
    code, out, _ = run(*base, "--format", "csv")
    assert code == 0 and out.startswith("table,measure,row_dimension,row,")
    assert f"requests-by-category-and-outcome,requests,category,ICE,outcome,total,{rows['ICE']}" \
        in out.splitlines()
    code, _, _ = run(*base, "--out", str(tmp_path / "new" / "wa.html"))
    page = (tmp_path / "new" / "wa.html").read_text()
    assert code == 0 and page.startswith("<!doctype html>") and "<svg" in page
    with sqlite3.connect(audit_db(nation, "WA")) as db:
        private = {value for (text,) in db.execute("SELECT body FROM entries WHERE kind IN "
                                                   "('decision', 'review')")
                   for name, value in json.loads(text).items()
                   if name in ("ori", "reviewer", "reference") and value}
        private |= {term.split("/", 1)[1] for (text,) in db.execute(
            "SELECT json_extract(body, '$.terms') FROM entries WHERE kind = 'decision'")
            for term in json.loads(text) if len(term) > 8}
    assert len(private) > 50
    published = page + out + (tmp_path / "wa.json").read_text()
    assert not [value for value in private if value in published]


def test_verify_passes_on_the_report_and_fails_on_a_changed_one(nation: DataDir,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "wa.json"
    run("--data", str(nation.root), "--state", "WA", "--period", YEAR, "--format", "json",
        "--out", str(path))
    code, out, _ = run("verify", str(path), "--data", str(nation.root))
    assert code == 0 and out.startswith(f"WA {YEAR}: OK, the report matches the audit log")
    code, out, _ = run("verify", str(path), "--data", str(nation.root), "--json")
    assert code == 0 and json.loads(out)["ok"] and json.loads(out)["differences"] == []
    document = json.loads(path.read_text())
    document["tables"][0]["total"] += 1
    path.write_text(json.dumps(document))
    code, _, err = run("verify", str(path), "--data", str(nation.root))
    assert code == 1 and "DIFFERENT from the audit log at signed head" in err
    assert "in 1 place:" in err
    assert "tables[requests-by-category-and-outcome][total][total]: the report has" in err


def test_what_the_command_refuses_it_says_why(nation: DataDir, tmp_path: Path) -> None:
    data = ["--data", str(nation.root)]
    code, _, err = run(*data, "--state", "WA", "--period", "2025-13")
    assert code == 1 and "is not a year (2025), quarter" in err
    code, _, err = run(*data, "--state", "ZZ", "--period", YEAR)
    assert code == 1 and "'ZZ' is not a state code" in err
    code, _, err = run(*data, "--period", YEAR)
    assert code == 1 and "give --state and --period" in err
    code, _, err = run(*data, "--state", "WA", "--period", YEAR, "--format", "pdf")
    assert code == 1 and "expected html, json or csv" in err
    code, _, err = run(*data, "--state", "WA", "--period", str(int(YEAR) + 1))
    assert code == 1 and "begins after WA's latest signed head" in err
    (tmp_path / "not.json").write_text('{"state": "WA"}')
    code, _, err = run("verify", str(tmp_path / "not.json"), *data)
    assert code == 1 and "not a Stateline public report" in err
    code, out, _ = run("verify", str(tmp_path / "missing.json"), *data, "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "store-error"
    (tmp_path / "file").write_text("")
    code, _, err = run(*data, "--state", "WA", "--period", YEAR, "--out",
                       str(tmp_path / "file" / "wa.html"))
    assert code == 1 and f"cannot write {tmp_path / 'file' / 'wa.html'}" in err


def test_the_site_lists_each_state_and_year_with_downloads(nation: DataDir,
                                                           tmp_path: Path) -> None:
    site = tmp_path / "site"
    code, out, _ = run("site", "--data", str(nation.root), "--out", str(site))
    assert code == 0 and f"WA {YEAR}: WA/{YEAR}.html, WA/{YEAR}.json, WA/{YEAR}.csv" in out
    assert "OR: no report" in out
    index = (site / "index.html").read_text()
    assert f'href="WA/{YEAR}.json"' in index and "Washington (WA)" in index
    page = (site / "WA" / f"{YEAR}.html").read_text()
    assert f'href="{YEAR}.csv"' in page and 'href="../index.html"' in page
    assert json.loads((site / "report.schema.json").read_text())["title"]
    code, _, _ = run("verify", str(site / "WA" / f"{YEAR}.json"), "--data", str(nation.root))
    assert code == 0
