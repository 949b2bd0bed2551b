"""`stateline history import` as a coordinator runs it: each format end to end into a demo-like
nation, the year's report then counting what was imported; refusals on stderr by file, line
and column with exit status 1 and the log still verifying; and the documentation's examples
importing as documented."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir
from stateline.history import import_history
from stateline.protocol import Field, Outcome

from . import samples
from .samples import STATE, Request

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

ICE_2025 = tuple(Request(samples.ICE, datetime(2025, 4, 1, 9) + timedelta(days=n, minutes=n),
                         "DQ", (Field("OLN", f"WDL{n:06d}"),), Outcome.DENIED)
                 for n in range(12))
OUT_OF_STATE_2025 = tuple(
    Request(samples.OUT_OF_STATE, datetime(2025, 5, 1, 10) + timedelta(days=n), "DQ",
            (Field("OLN", "WDL123456"),), Outcome.RELEASED,
            samples.released(samples.IDENTITY, samples.LICENSE), counter=n)
    for n in range(15))
YEAR = ICE_2025 + OUT_OF_STATE_2025
"""Enough requests in 2025 that the report shows them rather than a small-count mark."""

FORMATS = {
    "nlets-text": ("wa.txt", lambda: samples.nlets_text(YEAR), []),
    "csv": ("wa.csv", lambda: samples.csv_text(YEAR), ["--format", "csv", "--map", "csv.toml"]),
    "jsonl": ("wa.jsonl", lambda: samples.jsonl_text(YEAR),
              ["--format", "jsonl", "--map", "jsonl.toml"]),
}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def prepared(tmp_path: Path, fmt: str) -> tuple[Path, list[str]]:
    name, make, options = FORMATS[fmt]
    (tmp_path / "csv.toml").write_text(samples.CSV_MAP)
    (tmp_path / "jsonl.toml").write_text(samples.JSONL_MAP)
    path = tmp_path / name
    path.write_bytes(make().encode())
    return path, [str(tmp_path / o) if o.endswith(".toml") else o for o in options]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_an_export_imports_and_the_years_report_counts_it(nation: DataDir, tmp_path: Path,
                                                          fmt: str) -> None:
    path, options = prepared(tmp_path, fmt)
    data = ["--data", str(nation.root), "--state", STATE]
    code, out, err = invoke("history", "import", *data, str(path), *options)
    assert code == 0, err
    assert f"{path}: 27 requests read, made 2025-04-01 to 2025-05-15" in " ".join(out.split())
    assert re.search(r"2025\s+ICE\s+denied\s+12", out)
    assert re.search(r"2025\s+out-of-state\s+released\s+15", out)
    code, out, err = invoke("report", *data, "--period", "2025", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    headline = dict(zip(report["headline"]["categories"], report["headline"]["requests"],
                        strict=True))
    assert (headline["ICE"], headline["out-of-state"]) == (12, 15)
    disclosed = dict(zip(report["headline"]["categories"], report["headline"]["disclosures"],
                         strict=True))
    assert (disclosed["ICE"], disclosed["out-of-state"]) == (0, 15)
    assert invoke("audit", "verify", *data)[0] == 0
    code, out, err = invoke("audit", "search", *data, "--category", "ICE", "--since",
                            "2025-04-01", "--until", "2025-04-05", "--json")
    assert code == 0, err
    found = json.loads(out)  # by when each request was made, not when it was imported
    assert [e["time"][:10] for e in found] == [f"2025-04-0{d}" for d in (5, 4, 3, 2, 1)]
    assert {e["kind"] for e in found} == {"imported"}


def test_a_dry_run_prints_the_table_and_writes_nothing(nation: DataDir, tmp_path: Path) -> None:
    path, _ = prepared(tmp_path, "nlets-text")
    data = ["--data", str(nation.root), "--state", STATE]
    before = invoke("audit", "counts", *data, "--json")[1]
    code, out, _ = invoke("history", "import", *data, str(path), "--dry-run")
    assert code == 0
    assert "Would import 27 requests into WA's audit log" in " ".join(out.split())
    assert "Nothing was written (--dry-run)." in out
    assert invoke("audit", "counts", *data, "--json")[1] == before


def test_a_refused_file_is_listed_on_stderr_and_the_log_still_verifies(
        nation: DataDir, tmp_path: Path) -> None:
    path, _ = prepared(tmp_path, "nlets-text")
    path.write_text(samples.nlets_text(YEAR[:3]) + "\n" + samples.query_text(YEAR[3]) + "\n"
                    + "\n" + samples.transaction(YEAR[4]).replace("04/05/2025", "13/05/2025", 1))
    data = ["--data", str(nation.root), "--state", STATE]
    code, out, err = invoke("history", "import", *data, str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "2 problems, nothing imported",
        f"{path} line 37: a query with no response: the transaction is cut off (each query "
        "is followed by the state's response, then a blank line)",
        f"{path} line 43: .01. INVALID HEADER INFORMATION OUTPUT HEADER TIME 09:04 13/05/2025 "
        "IS NOT REAL"]
    assert invoke("audit", "verify", *data)[0] == 0
    code, out, _ = invoke("history", "import", *data, str(path), "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "invalid-history"


def test_a_file_imported_before_is_refused_with_the_day(nation: DataDir, tmp_path: Path) -> None:
    path, _ = prepared(tmp_path, "nlets-text")
    data = ["--data", str(nation.root), "--state", STATE]
    assert invoke("history", "import", *data, str(path))[0] == 0
    code, out, _ = invoke("history", "import", *data, str(path), "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "already-imported"
    assert re.search(r"already imported on \d{4}-\d\d-\d\d \(SHA-256 [0-9a-f]{64}, audit entry "
                     r"\d+\)", error["text"])


# The documentation's examples, tested against the code.

EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```\n", re.DOTALL)
COMMAND = re.compile(r"^stateline history import (--state WA docs/history/.+)$", re.MULTILINE)


def test_every_example_in_the_docs_is_the_file_shipped_beside_them() -> None:
    doc = (DOCS / "history.md").read_text(encoding="utf-8")
    found = {name: text for name, text in EXAMPLE.findall(doc)}
    assert sorted(found) == sorted(f"history/{p.name}" for p in (DOCS / "history").iterdir())
    for name, text in found.items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, name


def test_the_docs_examples_import_as_documented(nation: DataDir) -> None:
    doc = (DOCS / "history.md").read_text(encoding="utf-8")
    table = doc.split("<!-- counts: history -->\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    documented = {tuple(cell.strip() for cell in row.strip("|").split("|")[:3]):
                  int(row.strip("|").split("|")[3]) for row in table}
    commands = COMMAND.findall(doc)
    assert len(commands) == 3
    for command in commands:
        words = command.split()
        assert words[:2] == ["--state", STATE] and words[-1] == "--dry-run"
        options = dict(zip(words[3:-1:2], words[4:-1:2], strict=True))
        summary = import_history(
            nation, STATE, [ROOT / words[2]], fmt=options.get("--format", "nlets-text"),
            column_map=ROOT / options["--map"] if "--map" in options else None, dry_run=True)
        assert summary.counts() == documented, command
        assert [f.first for f in summary.files] == ["2025-03-12T14:03:00.000000+00:00"]
