"""The policy in force: a bad text is refused and changes nothing, a good one is installed and
recorded, and a running gateway's engine follows the file and the directory without restart."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.policy import PolicyError, Request, Verdict, compile_policies
from stateline.policy import store as store_module
from stateline.policy.live import LivePolicy
from stateline.policy.store import (
    BASELINE,
    NoState,
    StateError,
    apply,
    current_text,
    default_policy,
    digest,
    history,
)
from tests.directory.samples import ICE, SAMPLES, SPOKANE

OPEN = """\
@id("cj-query")
@reason("Criminal-justice agencies may query.")
permit (principal, action in Action::"query", resource) when { principal.criminal_justice };
"""

BLOCK_ICE = OPEN + """
@id("block-ice")
@reason("No state resources for civil immigration enforcement without a court order.")
forbid (principal in Category::"ICE", action in Action::"query", resource)
unless { context.court_order };
"""

BROKEN = """\
@id("cj-query")
permit (principal, action in Action::"query", resource) when { principal.departmnt == "" };
"""

DEADLINE = 1.0
"""A change must take effect within this many seconds of being applied."""


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path / "nation")
    with Directory.open(folder) as directory:
        directory.put_many(SAMPLES)
    folder.state_dir("WA").mkdir(parents=True)
    apply(folder, "WA", OPEN, who="setup")
    return folder


def within(deadline: float, condition: Callable[[], bool]) -> float:
    """Seconds until `condition` held, polling; fails the test past the deadline."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < deadline, "the change did not take effect in time"
        time.sleep(0.01)
    return time.monotonic() - start


def ice_verdict(live: LivePolicy) -> Verdict:
    return live.decide(Request(ICE.ori, "DQ")).verdict


def test_apply_refuses_a_malformed_file_and_leaves_everything_as_it_was(data: DataDir) -> None:
    before = (current_text(data, "WA"), history(data, "WA"), data.policy("WA").stat())
    with pytest.raises(PolicyError) as refused:
        apply(data, "WA", BROKEN, who="mallory")
    lines = {problem.line for problem in refused.value.problems}
    assert lines == {1}
    assert (current_text(data, "WA"), history(data, "WA"), data.policy("WA").stat()) == before


def test_apply_installs_the_text_and_records_who_when_and_both_versions(data: DataDir) -> None:
    done = apply(data, "WA", BLOCK_ICE, who="alice", note="block ICE")
    assert current_text(data, "WA") == BLOCK_ICE
    assert history(data, "WA")[-1] == done
    assert (done.kind, done.who, done.note) == ("policy", "alice", "block ICE")
    assert (done.old_version, done.new_version) == (digest(OPEN), digest(BLOCK_ICE))
    assert (done.old_text, done.new_text) == (OPEN, BLOCK_ICE)
    assert done.time.tzinfo is not None
    assert [p.name for p in data.state_dir("WA").iterdir() if p.suffix == ".cedar"] == \
        ["policy.cedar"]


def test_a_damaged_file_in_force_can_always_be_replaced(data: DataDir) -> None:
    data.policy("WA").write_bytes(b"\xff\xfe not text")
    done = apply(data, "WA", BLOCK_ICE)
    assert done.old_text.endswith(" not text")
    assert current_text(data, "WA") == BLOCK_ICE


def test_who_defaults_to_the_os_user(data: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "carol")
    assert apply(data, "WA", BLOCK_ICE).who == "carol"


def test_a_failed_rename_takes_the_history_row_back(data: DataDir,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_source: object, _target: object) -> None:
        raise OSError(28, "No space left on device")

    before = history(data, "WA")
    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(StateError, match="No space left"):
        apply(data, "WA", BLOCK_ICE, who="alice")
    assert history(data, "WA") == before
    assert current_text(data, "WA") == OPEN
    assert not list(data.state_dir("WA").glob(".policy-*"))


@pytest.mark.parametrize(("state", "message"), [("TX", "no state TX"), ("ZZ", "not a state")])
def test_a_state_without_a_folder_is_refused(data: DataDir, state: str, message: str) -> None:
    with pytest.raises(NoState, match=message):
        apply(data, state, OPEN)


def test_a_running_gateway_picks_up_an_applied_policy_without_restart(data: DataDir) -> None:
    with LivePolicy(data, "WA") as live:
        assert ice_verdict(live) is Verdict.ALLOW
        apply(data, "WA", BLOCK_ICE, who="alice")
        within(DEADLINE, lambda: ice_verdict(live) is Verdict.DENY)
        assert live.decide(Request(ICE.ori, "DQ")).policies == ("block-ice",)
        assert live.version.startswith(digest(BLOCK_ICE)[:16])


def test_without_a_watcher_a_decision_checks_when_a_check_is_due(data: DataDir) -> None:
    live = LivePolicy(data, "WA")
    try:
        assert ice_verdict(live) is Verdict.ALLOW
        apply(data, "WA", BLOCK_ICE)
        within(DEADLINE, lambda: ice_verdict(live) is Verdict.DENY)
    finally:
        live.close()


def test_a_directory_edit_takes_effect_without_restart(data: DataDir) -> None:
    with LivePolicy(data, "WA") as live:
        spokane = Request(SPOKANE.ori, "DQ")
        assert live.decide(spokane).verdict is Verdict.ALLOW
        with Directory.open(data, create=False) as directory:
            version = directory.put(replace(SPOKANE, active=False)).version
        within(DEADLINE, lambda: live.decide(spokane).verdict is Verdict.DENY)
        assert live.decide(spokane).policies == ("inactive-agency",)
        assert live.version.endswith(f".d{version}")


def test_a_file_broken_on_disk_leaves_the_old_engine_in_force(data: DataDir) -> None:
    live = LivePolicy(data, "WA")
    try:
        version = live.version
        data.policy("WA").write_text(BROKEN)
        assert live.check() is False
        assert live.version == version
        assert live.problem is not None and "does not compile" in live.problem
        assert ice_verdict(live) is Verdict.ALLOW
        data.policy("WA").write_text(BLOCK_ICE)
        assert live.check() is True
        assert live.problem is None
        assert ice_verdict(live) is Verdict.DENY
    finally:
        live.close()


def test_no_policy_file_means_every_query_is_denied(data: DataDir) -> None:
    os.remove(data.policy("WA"))
    live = LivePolicy(data, "WA")
    try:
        decision = live.decide(Request(SPOKANE.ori, "DQ"))
        assert decision.verdict is Verdict.DENY
        assert decision.policies == ("no-policy",)
    finally:
        live.close()


def test_a_policy_file_removed_while_running_denies_everything(data: DataDir) -> None:
    live = LivePolicy(data, "WA")
    try:
        os.remove(data.policy("WA"))
        assert live.check() is True
        assert live.decide(Request(SPOKANE.ori, "DQ")).verdict is Verdict.DENY
    finally:
        live.close()


def test_a_broken_file_at_start_denies_everything_and_says_why(data: DataDir) -> None:
    data.policy("WA").write_text(BROKEN)
    live = LivePolicy(data, "WA")
    try:
        assert live.decide(Request(SPOKANE.ori, "DQ")).policies == ("no-policy",)
        assert live.problem is not None and "line 1" in live.problem
    finally:
        live.close()


def test_a_new_nation_has_the_default_policy_in_every_state(small_nation: DataDir) -> None:
    for state in ("WA", "OR", "NY"):
        assert current_text(small_nation, state) == default_policy()
        [first] = history(small_nation, state)
        assert (first.who, first.old_version) == ("nation init", "")


def test_the_built_in_baseline_stands_in_when_no_preset_exists(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PRESET", "no-such-preset.cedar")
    assert default_policy() == BASELINE
    assert {p.id for p in compile_policies(BASELINE).policies} == {
        "cj-query", "cj-release-standard", "photo-in-state"}
