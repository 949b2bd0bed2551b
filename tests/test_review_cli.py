"""`stateline review list|release|deny` as a coordinator uses them on a held HSI request."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from stateline.audit import open_state_log
from stateline.commands import review
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, Result
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import Outcome, read
from stateline.sim.nation import build_nation

HSI = "NYHSI0100"
ICE = "VTICE0900"

root = typer.Typer()
root.add_typer(review.app, name="review")
runner = CliRunner()


def in_state_police(data: DataDir) -> str:
    with Directory.open(data, create=False) as directory:
        return next(a.ori for a in directory.agencies(state="WA", active=True)
                    if a.agency_type == "PD")


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("review-cli"))
    build_nation(data, ("WA",), residents=200, seed=3)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    return data


@pytest.fixture(scope="module")
def samples(nation: DataDir) -> list[Sample]:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(4, seed=2)
    finally:
        store.close()


def send(data: DataDir, sender: str, oln: str) -> Result:
    with Gateway(data, "WA") as gateway:
        return gateway.handle(read(f"DQ.{sender}.WA.TXT\nOLN/{oln}"))


def run(data: DataDir, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["review", *args, "--data", str(data.root), "--state", "WA"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_the_held_hsi_request_only(nation: DataDir, samples: list[Sample]) -> None:
    held = send(nation, HSI, samples[0].oln)
    police = send(nation, in_state_police(nation), samples[1].oln)
    denied = send(nation, ICE, samples[1].oln)
    assert held.outcome is Outcome.HELD and held.reference
    assert police.outcome is Outcome.RELEASED and denied.outcome is Outcome.DENIED
    code, out, _ = run(nation, "list")
    assert code == 0
    assert held.reference in out and HSI in out and "DQ" in out
    assert ICE not in out
    code, out, _ = run(nation, "list", "--json")
    rows = json.loads(out)
    entry = next(r for r in rows if r["reference"] == held.reference)
    assert entry["ori"] == HSI and entry["key"] == "DQ" and entry["policy"]
    assert entry["status"] == "held"


def test_release_prints_the_late_answer_once(nation: DataDir, samples: list[Sample]) -> None:
    held = send(nation, HSI, samples[2].oln)
    assert held.reference is not None
    code, out, _ = run(nation, "release", held.reference.lower(), "--by", "coordinator",
                       "--note", "order 26-MJ-7 on file")
    assert code == 0, out
    assert f"{held.reference} released by coordinator" in out
    with open_state_log(nation, "WA") as log:
        review = log.entry(log.size - 1).body
    assert (review["reviewer"], review["note"]) == ("coordinator", "order 26-MJ-7 on file")
    assert f"OLN/{samples[2].oln}" in out and HSI in out
    assert f"REFERENCE: {held.reference}" in out
    code, out, err = run(nation, "list")
    assert held.reference not in out
    code, out, err = run(nation, "release", held.reference, "--by", "someone else")
    assert code == 1 and out == ""
    assert f"{held.reference} was already reviewed (released)" in err
    assert "Traceback" not in err


def test_deny_sends_a_denial_and_cannot_be_released(nation: DataDir,
                                                     samples: list[Sample]) -> None:
    held = send(nation, HSI, samples[3].oln)
    assert held.reference is not None
    code, out, _ = run(nation, "deny", held.reference, "--by", "coordinator", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["outcome"] == "denied" and shown["reviewer"] == "coordinator"
    assert "review-denied" in shown["response"] and shown["to"] == [HSI]
    code, out, _ = run(nation, "release", held.reference, "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "not-found"


def test_unknown_reference_and_state_are_clear_errors(nation: DataDir) -> None:
    code, _, err = run(nation, "release", "WA-NOSUCHREF0")
    assert code == 1 and "no held request 'WA-NOSUCHREF0'" in err
    result = runner.invoke(root, ["review", "list", "--data", str(nation.root),
                                  "--state", "OR"])
    assert result.exit_code == 1 and "no state OR" in result.stderr


def test_release_the_policy_in_force_refuses_exits_1_and_stays_held(
    nation: DataDir, samples: list[Sample]
) -> None:
    held = send(nation, HSI, samples[1].oln)
    assert held.reference is not None
    policy_store.apply(nation, "WA", preset("block-ice-hsi").text(), who="test")
    try:
        code, out, err = run(nation, "release", held.reference, "--by", "coordinator")
        assert code == 1 and out == ""
        assert f"{held.reference} cannot be released" in err and "block-hsi" in err
        code, out, _ = run(nation, "list", "--json")
        assert held.reference in [row["reference"] for row in json.loads(out)]
        with open_state_log(nation, "WA") as log:
            refusal = log.entry(log.size - 1).body
        assert refusal["outcome"] == "refused" and refusal["reviewer"] == "coordinator"
        code, out, _ = run(nation, "deny", held.reference, "--by", "coordinator")
        assert code == 0, out
    finally:
        policy_store.apply(nation, "WA", preset("block-ice-review-hsi").text(), who="test")
