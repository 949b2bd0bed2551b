"""What-if replay as a coordinator uses it: recorded requests decided again under a candidate,
counted by category and message group, with examples, and the candidate never installed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.audit import open_state_log
from stateline.cli import app
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.policy import PolicyError
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.policy.store import history
from stateline.sim.nation import build_nation
from stateline.transparency.whatif import Shift, WhatIf, whatif

from .traffic import (
    CBP,
    HSI,
    ICE,
    OUT_OF_STATE,
    POLICE,
    STATE,
    SURGE,
    Clock,
    driver,
    fresh_log,
    gateway_at,
    partner,
    plate,
    samples,
)

runner = CliRunner()
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
"""Traffic is stamped from tomorrow on: after the attestation below takes effect."""
LATER = START + timedelta(days=5)
COUNTS = {"ICE": 4, "HSI": 2, "CBP": 2}
ELSEWHERE = "AK0010100"
"""A police department out of the state, alike in every attribute but its state to Portland's."""


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataDir]:
    """WA under cj-baseline with a week of requests from ICE, HSI, CBP, police in and out of
    the state, a 287(g) partner and an unknown ORI; an ICE court order for one person and an
    attestation by HSI on file."""
    data = DataDir(tmp_path_factory.mktemp("whatif"))
    build_nation(data, (STATE, "OR"), residents=200, seed=5)
    fresh_log(data)
    people = samples(data)
    clock = Clock(START)
    with Registry(data, STATE) as registry:
        registry.add_order("2026-CV-0001", Subject(oln=people[0].oln), date.today(),
                           date.today() + timedelta(days=30), ori=ICE, who="test")
        registry.add_attestation(HSI, date.today() + timedelta(days=30), who="test")
    with gateway_at(data, clock) as gateway:
        for person in people[:3]:
            driver(gateway, ICE, person, ".IMQ/Y")
        plate(gateway, ICE, people[3])
        driver(gateway, HSI, people[4])
        plate(gateway, CBP, people[5])
        driver(gateway, POLICE, people[6], ".IMQ/Y")
        driver(gateway, OUT_OF_STATE, people[7], ".IMQ/Y")
        driver(gateway, partner(data), people[8])
        driver(gateway, "WAXXX9999", people[9])
        driver(gateway, SURGE, people[12])
        driver(gateway, ELSEWHERE, people[13])
        clock.now = LATER
        driver(gateway, HSI, people[10])
        plate(gateway, CBP, people[11])
    yield data


def by_category(result: WhatIf) -> dict[str, dict[Shift, int]]:
    return {name: dict(cell.shifts) for name, cell in result.by_category().items()}


def test_block_ice_denies_exactly_the_ice_requests(nation: DataDir) -> None:
    result = whatif(nation, STATE, preset("block-ice").text())
    totals = result.by_category()
    assert totals["ICE"].requests == COUNTS["ICE"]
    assert totals["ICE"].shifts == {Shift.NEWLY_DENIED: COUNTS["ICE"]}
    assert {c: t.shifts[Shift.UNCHANGED] == t.requests for c, t in totals.items()} == {
        c: c != "ICE" for c in totals}
    assert result.total().changed == COUNTS["ICE"]
    assert result.replayed == 14 and not result.skipped
    assert {(e.ori, e.category, e.after, e.policy) for e in result.examples} == {
        (ICE, "ICE", "deny", "block-ice")}
    assert {e.key for e in result.examples} == {"DQ", "RQ"}
    assert all(len(e.request_id) == 32 for e in result.examples)


def test_cells_split_by_message_group(nation: DataDir) -> None:
    result = whatif(nation, STATE, preset("block-ice-hsi").text())
    cells = {(c.category, c.group): c.shifts[Shift.NEWLY_DENIED] for c in result.cells}
    assert cells[("ICE", "driver")] == 3 and cells[("ICE", "vehicle")] == 1
    assert cells[("HSI", "driver")] == COUNTS["HSI"]
    assert cells[("CBP", "vehicle")] == 0


def test_review_preset_holds_hsi(nation: DataDir) -> None:
    shifts = by_category(whatif(nation, STATE, preset("block-ice-review-hsi").text()))
    assert shifts["HSI"] == {Shift.NEWLY_HELD: COUNTS["HSI"]}
    assert shifts["CBP"] == {Shift.UNCHANGED: COUNTS["CBP"]}


def test_recorded_court_order_keeps_that_request_answered(nation: DataDir) -> None:
    """The request made under a court order is replayed with it: the exception holds."""
    shifts = by_category(whatif(nation, STATE,
                                preset("block-dhs-immigration-except-court-order").text()))
    assert shifts["ICE"] == {Shift.NEWLY_DENIED: COUNTS["ICE"] - 1, Shift.UNCHANGED: 1}
    assert shifts["CBP"] == {Shift.NEWLY_DENIED: COUNTS["CBP"]}


def test_attestation_in_force_is_replayed(nation: DataDir) -> None:
    candidate = """\
@id("attested-federal-only")
@reason("Federal agencies are answered only when they have attested.")
permit (principal, action in Action::"query", resource)
when { principal.criminal_justice && principal.permissions.contains("D") &&
       (!(principal in Category::"federal") || context.attested) };

@id("standard")
@reason("Standard elements.")
permit (principal, action == Action::"release", resource in ElementGroup::"standard");
"""
    shifts = by_category(whatif(nation, STATE, candidate))
    assert shifts["HSI"] == {Shift.UNCHANGED: COUNTS["HSI"]}
    assert shifts["ICE"] == {Shift.NEWLY_DENIED: COUNTS["ICE"]}


def test_elements_newly_released_and_withheld(nation: DataDir) -> None:
    photos = preset("cj-baseline").text() + """
@id("photos-to-everyone")
@reason("Photos go to every agency answered.")
permit (principal, action == Action::"release", resource == Element::"photo");
"""
    cells = whatif(nation, STATE, photos).by_category()
    assert cells["ICE"].released == {"photo": 3}
    assert cells["out-of-state"].released == {"photo": 1}
    assert cells["in-state"].released == {}
    assert all(c.shifts[Shift.UNCHANGED] == c.requests for c in cells.values())
    fewer = preset("cj-baseline").text().replace(
        'resource in ElementGroup::"standard");',
        'resource in ElementGroup::"standard")\nunless { resource == Element::"address" };')
    cells = whatif(nation, STATE, fewer).by_category()
    assert cells["ICE"].withheld == {"address": 3}
    assert cells["in-state"].withheld == {"address": 2}


def test_senders_are_replayed_as_recorded(nation: DataDir) -> None:
    """A police department that signs a 287(g) agreement after its requests is not blocked
    retroactively by a 287(g) block; the partner of record is."""
    with Directory.open(nation) as directory:
        police = directory.get(POLICE)
        assert police is not None
        directory.put(replace(police, programs=frozenset({"287g"})))
    try:
        shifts = by_category(whatif(nation, STATE, preset("block-ice-and-287g").text()))
    finally:
        with Directory.open(nation) as directory:
            directory.put(police)
    assert shifts["in-state"] == {Shift.UNCHANGED: 2}
    assert shifts["287(g) partner"] == {Shift.NEWLY_DENIED: 1}
    assert shifts["unknown"] == {Shift.UNCHANGED: 1}


def test_since_and_until_bound_the_replay(nation: DataDir) -> None:
    later = whatif(nation, STATE, preset("block-ice-hsi").text(), since=LATER)
    assert later.replayed == 2
    assert by_category(later)["HSI"] == {Shift.NEWLY_DENIED: 1}
    earlier = whatif(nation, STATE, preset("block-ice-hsi").text(),
                     until=LATER - timedelta(seconds=1))
    assert earlier.replayed == 12


def test_candidate_is_never_installed(nation: DataDir) -> None:
    policy = nation.policy(STATE).read_bytes()
    changes = len(history(nation, STATE))
    with open_state_log(nation, STATE) as log:
        size = log.size
    whatif(nation, STATE, preset("block-ice").text())
    code, out, _ = invoke("policy", "whatif", "--preset", "block-ice-hsi", "--json")
    assert code == 0 and json.loads(out)["installed"] is False
    assert nation.policy(STATE).read_bytes() == policy
    assert len(history(nation, STATE)) == changes
    with open_state_log(nation, STATE) as log:
        assert log.size == size


def test_bad_candidate_is_refused_with_its_line(nation: DataDir, tmp_path: Path) -> None:
    bad = "// candidate\n\n" + '@id("x")\n@reason("y")\npermit (principal, action, resource)\n' \
          "when { principal.no_such_attribute };\n"
    with pytest.raises(PolicyError) as caught:
        whatif(nation, STATE, bad)
    assert caught.value.problems[0].line == 3
    path = tmp_path / "candidate.cedar"
    path.write_text(bad)
    code, out, err = invoke("policy", "whatif", "--policy", str(path))
    assert code == 1 and out == ""
    assert f"{path}:3:" in err and "no_such_attribute" in err
    code, out, _ = invoke("policy", "whatif", "--policy", str(path), "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "invalid-policy"


def test_cli_table_and_examples(nation: DataDir) -> None:
    code, out, _ = invoke("policy", "whatif", "--preset", "block-ice")
    assert code == 0
    assert "Not installed: the policy in force is unchanged." in out
    assert "14 recorded requests" in out
    ice = next(line for line in out.splitlines() if line.startswith("ICE "))
    assert ice.split()[:3] == ["ICE", "driver", "3"]
    assert f"{ICE} ICE DQ: partial -> deny (block-ice)" in out
    firsts = [line.split()[0] for line in out.splitlines() if line[:1].isalpha()]
    shown = [word for word in firsts if word in {"ICE", "HSI", "CBP", "out-of-state", "in-state"}]
    assert shown == ["ICE", "HSI", "CBP", "out-of-state", "in-state"]
    assert " 14 " in next(line for line in out.splitlines() if line.startswith("all "))


def test_cli_json_counts(nation: DataDir) -> None:
    code, out, _ = invoke("policy", "whatif", "--preset", "block-ice", "--since",
                          LATER.date().isoformat(), "--json")
    found = json.loads(out)
    assert code == 0 and found["replayed"] == 2 and found["changed"] == 0
    assert found["candidate_name"] == "preset block-ice"


def test_cli_needs_exactly_one_candidate(nation: DataDir) -> None:
    code, _, err = invoke("policy", "whatif")
    assert code == 1 and "--policy FILE or --preset NAME" in err
    code, _, err = invoke("policy", "whatif", "--preset", "no-such-preset")
    assert code == 1 and "no preset" in err


@pytest.fixture(autouse=True)
def _data(nation: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATELINE_DATA", str(nation.root))


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--state", STATE])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("condition", "refused"), [
    ('principal == Agency::"WASPD0100"', {"in-state": 1}),
    ('principal.state == "OR"', {"out-of-state": 1}),
    ('principal.component == "CBP"', {"CBP": 2}),
    ('principal.agency_type == "PD" && principal in Category::"in-state"', {"in-state": 2}),
])
def test_alike_agencies_are_told_apart_when_the_policy_can(
        nation: DataDir, condition: str, refused: dict[str, int]) -> None:
    """Replay decides one agency per kind only where the policy cannot tell them apart."""
    candidate = preset("cj-baseline").text() + f"""
@id("one-kind-refused")
@reason("Refused for this test.")
forbid (principal, action in Action::"query", resource) when {{ {condition} }};
"""
    changed = {name: cell.shifts[Shift.NEWLY_DENIED]
               for name, cell in whatif(nation, STATE, candidate).by_category().items()
               if cell.shifts[Shift.NEWLY_DENIED]}
    assert changed == refused
