"""The coordinator's briefing read as a governor's office would: the real policy and its real
gaps, counts that match the traffic, every policy change, flagged patterns, preset effects; and
a page that prints, carries no script and changes when the policy changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.audit import AuditEntry, EntryKind
from stateline.cli import app
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.sim.nation import build_nation
from stateline.transparency.briefing import Briefing, briefing, render, to_json
from stateline.transparency.briefing_counts import policy_changes

from .traffic import CBP, HSI, ICE, STATE, SURGE, Story, fresh_log, six_months

runner = CliRunner()
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, Story]:
    """Six months of traffic under cj-baseline, ending yesterday."""
    data = DataDir(tmp_path_factory.mktemp("briefing"))
    build_nation(data, (STATE, "OR"), residents=200, seed=5)
    fresh_log(data)
    return data, six_months(data, NOW - timedelta(days=1))


@pytest.fixture(scope="module")
def baseline(story: tuple[DataDir, Story]) -> Briefing:
    return briefing(story[0], STATE, NOW)


@pytest.fixture
def blocked(story: tuple[DataDir, Story]) -> Iterator[Briefing]:
    """The briefing after block-ice is applied; cj-baseline is put back afterwards."""
    data, _ = story
    policy_store.apply(data, STATE, preset("block-ice").text(), who="governor's office",
                       note="Block ICE per executive order")
    try:
        yield briefing(data, STATE, NOW + timedelta(seconds=1))
    finally:
        policy_store.apply(data, STATE, preset("cj-baseline").text(), who="test")


def partners_answered(data: DataDir) -> int:
    """287(g) partners cj-baseline answers: criminal-justice agencies with DMV permission."""
    with Directory.open(data, create=False) as directory:
        return sum(1 for a in directory.snapshot().agencies.values()
                   if "287g" in a.programs and not a.is_federal and a.active
                   and a.criminal_justice and "D" in a.permissions)


def test_the_gaps_of_the_policy_in_force(story: tuple[DataDir, Story],
                                         baseline: Briefing) -> None:
    html = render(baseline)
    gaps = [gap.text for gap in baseline.gaps]
    for component in ("ICE", "HSI", "CBP"):
        assert any(g.startswith(f"{component} can still run every kind of query") for g in gaps)
    count = partners_answered(story[0])
    assert count > 0
    assert (f"{count} local agencies with 287(g) agreements (of {count} in the directory) "
            "can query as local police.") in gaps
    broad = next(g for g in gaps if g.startswith("Name-only and partial-plate"))
    assert "ICE, HSI, CBP" in broad
    for gap in gaps:
        assert gap.replace("'", "&#39;") in html


def test_gaps_follow_a_policy_change(blocked: Briefing) -> None:
    gaps = [gap.text for gap in blocked.gaps]
    assert not any(g.startswith("ICE can still run") for g in gaps)
    assert "ICE is refused, but HSI and CBP are answered: a query ICE cannot run, a sister " \
           "agency still can." in gaps
    assert any(g.startswith("CBP can still run every kind of query") for g in gaps)
    change = blocked.changes[-1]
    assert (change.who, change.note) == ("governor's office", "Block ICE per executive order")
    assert not change.compared  # the nation's first policy change was set aside
    effects = {p.name: p for p in blocked.presets}
    assert effects["block-ice"].in_force and not effects["cj-baseline"].in_force
    assert "block-ice" in [p.id for p in blocked.explanation.policies]


def test_requests_and_federal_requesters_match_the_traffic(baseline: Briefing) -> None:
    found = to_json(baseline)
    requests = {row["category"]: row["requests"] for row in found["categories"]}
    assert (requests["ICE"], requests["HSI"], requests["CBP"]) == (2, 1, 1)
    assert sum(requests.values()) == baseline.replayed
    offices = {row["ori"]: row for row in found["federal_offices"]}
    assert offices[ICE]["requests"] == 2 and offices[ICE]["component"] == "ICE"
    assert offices[HSI]["requests"] == 1 and offices[CBP]["requests"] == 1
    components = {row["component"]: row["requests"] for row in found["federal_components"]}
    assert components == {"ICE": 2, "HSI": 1, "CBP": 1}
    monthly = baseline.volumes.monthly
    assert len(baseline.volumes.months) == 12
    assert sum(sum(counts) for counts in monthly.values()) == baseline.replayed


def test_preset_table_counts_each_change_once_where_it_would_end(baseline: Briefing) -> None:
    effects = {p.name: p for p in baseline.presets}
    none = {"ICE": 0, "HSI": 0, "CBP": 0}
    assert effects["cj-baseline"].in_force
    assert effects["block-ice"].newly_denied == {"ICE": 2, "HSI": 0, "CBP": 0}
    assert effects["block-ice"].newly_held == none and effects["block-ice"].other_changed == 0
    assert effects["block-ice-hsi"].newly_denied == {"ICE": 2, "HSI": 1, "CBP": 0}
    review = effects["block-ice-review-hsi"]
    assert review.newly_denied == {"ICE": 2, "HSI": 0, "CBP": 0}
    assert review.newly_held == {"ICE": 0, "HSI": 1, "CBP": 0}
    assert effects["block-dhs-immigration-except-court-order"].newly_denied == {
        "ICE": 2, "HSI": 1, "CBP": 1}
    partners = effects["block-ice-and-287g"]
    assert partners.newly_denied["ICE"] == 2 and partners.other_changed == 3


def test_the_policy_in_force_is_the_baseline_not_a_row_of_zeros(blocked: Briefing) -> None:
    html = render(blocked)
    table = html.split("What each preset would have done")[1]
    in_force = table.split("<strong>block-ice</strong> (in force)")[1].split("</tr>")[0]
    assert "stopped" not in table
    assert "the baseline the other rows are compared with" in in_force
    assert "newly" not in in_force and ">0<" not in in_force


def test_flags_are_listed_with_their_rules(story: tuple[DataDir, Story],
                                           baseline: Briefing) -> None:
    html = render(baseline)
    for result in baseline.flags.results:
        assert result.rule.title in html
    assert story[1].partner in html and SURGE in html
    refused = next(r for r in baseline.flags.results if r.rule.name == "after-federal-refusal")
    assert refused.flags == ()


def test_a_printable_page_without_script(baseline: Briefing) -> None:
    html = render(baseline)
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert "@media print" in html and "break-before: page" in html
    assert html.count("<svg") == 3
    assert render(baseline) == html


def test_a_state_without_traffic(story: tuple[DataDir, Story]) -> None:
    quiet = briefing(story[0], "OR", NOW)
    html = render(quiet)
    assert quiet.replayed == 0 and "No requests in the last twelve months." in html
    assert "No federal requests in the last twelve months." in html


def test_cli_writes_the_page(story: tuple[DataDir, Story], tmp_path: Path) -> None:
    data, _ = story
    out = tmp_path / "briefing.html"
    result = runner.invoke(app, ["briefing", "--data", str(data.root), "--state", STATE,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "<h1>Washington (WA)" in out.read_text()
    assert f"Wrote {out}" in result.stdout and "ICE can still run" in result.stdout
    result = runner.invoke(app, ["briefing", "--data", str(data.root), "--state", STATE,
                                 "--out", str(out), "--json"])
    found = json.loads(result.stdout)
    assert found["out"] == str(out) and found["replayed"] > 0


def test_cli_refuses_a_policy_that_does_not_compile(story: tuple[DataDir, Story],
                                                    tmp_path: Path) -> None:
    data, _ = story
    path = data.policy(STATE)
    good = path.read_bytes()
    path.write_text('@id("x")\n@reason("y")\npermit (principal, action, resource)\n'
                    "when { principal.no_such_attribute };\n")
    out = tmp_path / "briefing.html"
    try:
        result = runner.invoke(app, ["briefing", "--data", str(data.root), "--state", STATE,
                                     "--out", str(out)])
    finally:
        path.write_bytes(good)
    assert result.exit_code == 1 and not out.exists()
    assert ":1: " in result.stderr and "no_such_attribute" in result.stderr


def test_policy_changes_name_the_policies_added_and_removed() -> None:
    def entry(seq: int, text: str, **more: str) -> AuditEntry:
        body = {"time": f"2026-0{seq}-01T00:00:00", "who": "ops", "note": "", "text": text,
                "old_version": "", "new_version": f"v{seq}", **more}
        return AuditEntry(seq, seq, EntryKind.POLICY_CHANGE, body, b"")

    base = preset("cj-baseline").text()
    changes = policy_changes([entry(1, base), entry(2, preset("block-ice").text()),
                              entry(3, base, failed="cannot install"),
                              entry(4, base)])
    assert changes[0].compared and changes[0].added[0] == "cj-agencies-may-query"
    assert changes[1].added == ("block-ice",) and changes[1].removed == ()
    assert changes[2].failed == "cannot install"
    assert changes[3].added == () and changes[3].removed == ("block-ice",)


def test_a_change_whose_earlier_text_the_log_lacks_is_not_compared() -> None:
    body = {"time": "2026-01-01T00:00:00", "who": "ops", "note": "", "old_version": "v0",
            "new_version": "v1", "text": preset("block-ice").text()}
    (change,) = policy_changes([AuditEntry(1, 1, EntryKind.POLICY_CHANGE, body, b"")])
    assert (change.compared, change.added, change.removed) == (False, (), ())

