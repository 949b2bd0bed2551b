"""Shipped presets: each compiles, says what it does in its first line, passes its own cases,
and its cases tell it apart from every other preset."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest

from stateline.directory.store import Snapshot
from stateline.policy import compile_policies
from stateline.policy.cases import load_cases, run_cases
from stateline.policy.presets import BASELINE, UnknownPreset, preset, presets
from stateline.sim.agencies import generate_agencies

NAMES = [p.name for p in presets()]
SHARED = ("cj-agencies-may-query", "release-standard-elements")
"""Baseline policies every preset carries word for word."""


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    agencies = {agency.ori: agency for agency in generate_agencies(seed=1)}
    return Snapshot(1, MappingProxyType(agencies))


def test_the_required_presets_ship_with_the_baseline_first() -> None:
    assert NAMES[0] == BASELINE
    assert set(NAMES) == {
        "cj-baseline", "block-ice", "block-ice-hsi", "block-dhs-immigration-except-court-order",
        "block-ice-review-hsi", "no-photos-out-of-state", "withhold-ssn-credential-out-of-state",
        "block-federal-name-and-partial-plate", "block-ice-and-287g",
    }


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_compiles_with_plain_reasons_and_a_summary(name: str) -> None:
    found = preset(name)
    source = compile_policies(found.text())
    assert 20 < len(found.summary) <= 120
    assert found.text().startswith(f"// {found.summary}\n")
    for policy in source.policies:
        assert policy.reason.endswith("."), policy.id
        # Reasons say what the state does, never what the law requires.
        assert not re.search(r"\b(law|statute|legal|illegal|unlawful)\b", policy.reason, re.I)


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_carries_the_baseline_query_and_release_policies_unchanged(name: str) -> None:
    baseline = compile_policies(preset(BASELINE).text())
    source = compile_policies(preset(name).text())
    for policy_id in SHARED:
        ours, theirs = source.policy(policy_id), baseline.policy(policy_id)
        assert ours is not None and theirs is not None
        assert ours.text == theirs.text


@pytest.mark.parametrize("name", NAMES)
def test_a_preset_passes_its_shipped_cases(name: str, snapshot: Snapshot) -> None:
    found = preset(name)
    report = run_cases(found.text(), load_cases(found.cases_path), snapshot)
    assert len(report.results) >= 10
    assert [r.explanation for r in report.failed] == []


@pytest.mark.parametrize("name", NAMES)
def test_a_presets_cases_fail_against_every_other_preset(name: str, snapshot: Snapshot) -> None:
    cases = load_cases(preset(name).cases_path)
    others = [p for p in presets() if p.name != name]
    passing = [p.name for p in others if run_cases(p.text(), cases, snapshot).ok]
    assert passing == []


@pytest.mark.parametrize("name", NAMES)
def test_a_presets_cases_try_the_adversarial_forms(name: str) -> None:
    cases = load_cases(preset(name).cases_path).cases
    oris = [c.request.ori for c in cases]
    assert any(ori != ori.strip().upper() for ori in oris), "a lowercase or padded ORI"
    assert any(c.sender.value == "unknown_ori" for c in cases), "an ORI nobody knows"
    assert any(c.sender.value == "agency" for c in cases), "a changed directory entry"
    keys = {c.request.key.strip().upper() for c in cases}
    assert keys & {"DQG", "RQG"}, "a regional form"
    assert any(c.request.multi_state for c in cases), "a multi-state query"


def test_an_unknown_preset_lists_the_names_that_would_do() -> None:
    with pytest.raises(UnknownPreset, match="block-ice-hsi"):
        preset("block-cia")


def test_preset_names_are_found_in_any_case() -> None:
    assert preset(" Block-ICE ").name == "block-ice"
