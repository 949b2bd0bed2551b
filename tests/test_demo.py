"""`stateline demo` on a fresh folder, as a new user first sees it, and run again."""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.audit import read_state_log
from stateline.cli import app
from stateline.datadir import DataDir
from stateline.policy.registry import Registry
from stateline.sim import scenario
from stateline.sim.nation import NationError
from stateline.transparency.briefing import briefing
from stateline.transparency.flags import RULES, find_flags
from stateline.web.accounts import Accounts
from stateline.web.charts import counted

runner = CliRunner()
ARGS = ["--seconds", "3", "--rate", "400", "--no-serve", "--residents", "300"]
COLUMNS = ("requests", "answered", "denied", "held", "no record", "photos")


def rows(output: str, title: str) -> dict[str, list[str]]:
    """A printed table's rows by their first cell, read from the title to the blank line
    after its body."""
    table = output.split(title, 1)[1].split("──", 1)[1].split("\n", 1)[1]
    found: dict[str, list[str]] = {}
    for line in table.splitlines():
        if not line.strip():
            break
        cells = re.split(r" {1,}", line.strip())
        label = " ".join(c for c in cells if not re.match(r"^[\d,/·]+$", c))
        found[label] = [c for c in cells if re.match(r"^[\d,/·]+$", c)]
    return found


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "data"
    result = runner.invoke(app, ["demo", "--data", str(folder), *ARGS])
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_a_fresh_folder_gets_an_eight_state_nation_under_eight_policies(
        first: tuple[Path, str]) -> None:
    folder, output = first
    assert "Built a synthetic nation" in output
    assert DataDir(folder).states() == sorted(scenario.CODES)
    for state in scenario.STATES:
        assert state.preset in output
    with Registry(DataDir(folder), "OR") as registry:
        assert [o.reference for o in registry.orders()] == [scenario.ORDER_REFERENCE]
    assert "[notices]" in DataDir(folder).config("NY").read_text()


def test_the_summary_counts_each_states_answers_with_denials_where_a_policy_blocks(
        first: tuple[Path, str]) -> None:
    _, output = first
    table = rows(output, "What each state answered in this run")
    counts = {state: dict(zip(COLUMNS, (int(n.replace(",", "")) for n in cells), strict=True))
              for state, cells in table.items() if state in scenario.CODES}
    assert sorted(counts) == sorted(scenario.CODES)
    for state in ("WA", "OR", "NY", "IL", "AZ"):
        assert counts[state]["denied"] > 0, state
    assert counts["NY"]["held"] > 0
    assert all(c["held"] == 0 for s, c in counts.items() if s != "NY")
    assert sum(c["photos"] for c in counts.values()) > 0
    assert all(c["answered"] > 0 for c in counts.values())


def test_the_summary_shows_requests_and_disclosures_by_who_asked(
        first: tuple[Path, str]) -> None:
    _, output = first
    table = rows(output, "Requests/disclosures by who asked")
    assert {"ICE", "HSI", "CBP", "in-state", "out-of-state"} <= set(table)
    states = list(scenario.CODES)
    ice = dict(zip(states, table["ICE"], strict=True))
    assert ice["WA"] == "·" or ice["WA"].endswith("/0")
    assert ice["IL"] == "·" or ice["IL"].endswith("/0")
    assert not table["ICE"][states.index("OR")].endswith("/0")  # the court order


def test_a_state_goes_out_of_service_and_gets_its_traffic_afterwards(
        first: tuple[Path, str]) -> None:
    said = " ".join(first[1].split())
    assert f"{scenario.OUT_OF_SERVICE} is out of service" in said
    held = re.search(r"(\d+) were held while TX was out of service", said)
    assert held is not None and int(held.group(1)) > 0
    assert "malformed on purpose" in said


def test_dashboard_accounts_are_made_and_their_passwords_printed(
        first: tuple[Path, str]) -> None:
    folder, output = first
    accounts = {a.name: a for a in Accounts(DataDir(folder)).all()}
    for name in ("coordinator", "ny-reviewer", "auditor", "viewer"):
        assert name in accounts
        found = re.search(rf"^ *{name} +\w+ +\w+ +([\w-]{{20}}) *$", output, re.MULTILINE)
        assert found is not None
        assert Accounts(DataDir(folder)).check(name, found.group(1)) is not None
    assert accounts["ny-reviewer"].state == "NY"


@pytest.fixture(scope="module")
def again(first: tuple[Path, str]) -> str:
    """The demo run a second time on the first run's folder."""
    folder, _ = first
    result = runner.invoke(app, ["demo", "--data", str(folder), *ARGS])
    assert result.exit_code == 0, result.output
    return result.output


def test_running_again_reuses_the_nation_and_resets_the_passwords(
        first: tuple[Path, str], again: str) -> None:
    folder, output = first
    old = re.search(r"^ *coordinator +\w+ +\w+ +([\w-]{20}) *$", output, re.MULTILINE)
    assert old is not None
    assert "Using the nation" in again
    assert "Built" not in again and "Put the demo's policies" not in again
    assert "What each state answered in this run" in again
    assert Accounts(DataDir(folder)).check("coordinator", old.group(1)) is None
    with Registry(DataDir(folder), "OR") as registry:
        assert len(registry.orders()) == 1


def test_a_folder_with_another_nation_is_left_alone(small_nation: DataDir) -> None:
    result = runner.invoke(app, ["demo", "--data", str(small_nation.root), *ARGS])
    assert result.exit_code == 1
    assert "--rebuild" in result.output
    with pytest.raises(NationError):
        scenario.prepare(small_nation)


def test_a_taken_port_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["demo", "--data", str(tmp_path / "data"), "--port",
                                     str(port), "--seconds", "1"])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is taken" in result.output
    assert f"make demo PORT={port + 1}" in result.output
    assert not (tmp_path / "data").exists()  # nothing was built


def test_the_summary_explains_why_the_states_count_more_requests_than_messages(
        first: tuple[Path, str]) -> None:
    _, output = first
    assert "The states logged" in output
    assert "reaches each state as a request of its own" in " ".join(output.split())


def test_a_policy_changed_since_the_demo_is_described_as_it_is_now() -> None:
    from stateline.commands.demo_tables import described
    from stateline.policy.presets import preset

    wa = next(s for s in scenario.STATES if s.code == "WA")
    assert described(wa, wa.preset) == (wa.preset, wa.echo)
    shown, stands_for = described(wa, "cj-baseline")
    assert shown == f"cj-baseline (demo: {wa.preset})"
    assert stands_for.startswith(preset("cj-baseline").summary) and wa.echo not in stands_for
    assert stands_for.endswith(f"(changed since the demo set {wa.preset})")


def imported(folder: Path) -> dict[str, tuple[int, str, str]]:
    """Each state's imported requests in its log: how many, the first day and the last."""
    found = {}
    for code in scenario.CODES:
        log = read_state_log(DataDir(folder), code)
        assert log is not None
        try:
            days = [r for r in log.rollups() if r.kind == "imported"]
        finally:
            log.close()
        found[code] = (sum(r.entries for r in days), min(r.day for r in days),
                       max(r.day for r in days))
    return found


def test_the_demo_imports_the_years_before_this_one_as_each_states_switch_records(
        first: tuple[Path, str]) -> None:
    folder, output = first
    today = datetime.now(UTC).date()
    said = re.search(r"History: imported ([\d,]+) requests of (\d{4})-(\d{4}) \((\S+) to "
                     r"(\S+)\) from 8 states' switch records in [\d.]+ s", " ".join(output.split()))
    assert said is not None, output
    count, start, end = int(said.group(1).replace(",", "")), said.group(4), said.group(5)
    assert (int(said.group(2)), int(said.group(3))) == (today.year - 2, today.year)
    assert (start, end) == (f"{today.year - 2}-01-01", (today - timedelta(days=1)).isoformat())
    logs = imported(folder)
    assert sum(n for n, _, _ in logs.values()) == count
    assert all((first_day, last_day) == (start, end) for _, first_day, last_day in logs.values())
    files = sorted(p.name for p in (folder / "history").iterdir())
    assert files == sorted(f"{code}-{start}-to-{end}.txt" for code in scenario.CODES)


def test_a_second_run_imports_no_history_twice(first: tuple[Path, str], again: str) -> None:
    folder, output = first
    said = re.search(r"History: imported ([\d,]+) requests", " ".join(output.split()))
    assert said is not None
    assert "already holds its past traffic up to yesterday" in " ".join(again.split())
    assert sum(n for n, _, _ in imported(folder).values()) == int(said.group(1).replace(",", ""))


@pytest.mark.parametrize("back", [2, 1])
def test_the_reports_of_the_years_before_have_data(first: tuple[Path, str], back: int,
                                                   tmp_path: Path) -> None:
    folder, _ = first
    year = datetime.now(UTC).year - back
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["report", "--data", str(folder), "--state", "WA", "--period",
                                 str(year), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "requests from the state switch's records, imported on" in result.output
    headline = json.loads(out.read_text())["headline"]
    requests = dict(zip(headline["categories"], headline["requests"], strict=True))
    assert requests["ICE"] > 0 and requests["HSI"] > 0 and requests["out-of-state"] > 0


def test_the_briefing_charts_show_a_year_of_months_and_this_year_against_last(
        first: tuple[Path, str]) -> None:
    folder, _ = first
    volumes = briefing(DataDir(folder), "WA").volumes
    months = [sum(counts[n] for counts in volumes.monthly.values())
              for n in range(len(volumes.months))]
    assert len(months) == 12 and all(months)
    assert max(months[:-1]) > 1.1 * min(months[:-1])  # the seasons show
    years = {row.category: row for row in volumes.years}
    for name in ("ICE", "HSI", "CBP", "in-state"):
        assert years[name].last_year_to_date > 0 and years[name].this_year_to_date > 0
    assert years["CBP"].this_year_to_date > 1.5 * years["CBP"].last_year_to_date


def test_the_ninety_day_chart_has_a_bar_for_every_week(first: tuple[Path, str]) -> None:
    folder, _ = first
    today = datetime.now(UTC).date()
    log = read_state_log(DataDir(folder), "WA")
    assert log is not None
    try:
        recent = counted(log.rollups((today - timedelta(days=90)).isoformat()))
    finally:
        log.close()
    weeks: Counter[date] = Counter()
    for r in recent:
        weeks[date.fromisoformat(r.day) - timedelta(days=date.fromisoformat(r.day).weekday())] \
            += r.entries
    assert len(weeks) >= 13 and all(weeks.values())


def test_the_displacement_flag_fires_on_washington_alone(first: tuple[Path, str]) -> None:
    folder, _ = first
    rule = tuple(r for r in RULES if r.name == "displaced-traffic")
    flagged = {code: [f.name for f in find_flags(DataDir(folder), code, rules=rule).flags]
               for code in scenario.CODES}
    assert flagged.pop("WA") == ["CBP after the ICE block"]
    assert all(names == [] for names in flagged.values()), flagged
