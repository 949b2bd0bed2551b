"""A release decides again under the policy and directory in force: what today's policy
would refuse is not sent, the refusal is audited, and the request can still be denied."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, ReviewRefused
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import Outcome, read
from stateline.sim.nation import build_nation

HSI = "NYHSI0100"


@pytest.fixture
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("review-now"))
    build_nation(data, ("WA",), residents=100, seed=6)
    return data


@pytest.fixture
def person(nation: DataDir) -> Sample:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(1, seed=3)[0]
    finally:
        store.close()


def use_policy(data: DataDir, name: str) -> None:
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, "WA", preset(name).text(), who="test")


def make_inactive(data: DataDir, ori: str) -> None:
    with Directory.open(data, create=False) as directory:
        agency = directory.get(ori)
        assert agency is not None
        directory.put(replace(agency, active=False))


def held_request(data: DataDir, oln: str) -> str:
    use_policy(data, "block-ice-review-hsi")
    with Gateway(data, "WA") as gateway:
        held = gateway.handle(read(f"DQ.{HSI}.WA.TXT\nOLN/{oln}"))
    assert held.outcome is Outcome.HELD and held.reference is not None
    return held.reference


@pytest.mark.parametrize("change", ["policy", "directory"])
def test_a_release_today_s_policy_or_directory_refuses_is_audited_and_stays_held(
    nation: DataDir, person: Sample, change: str
) -> None:
    reference = held_request(nation, person.oln)
    if change == "policy":
        use_policy(nation, "block-ice-hsi")
    else:
        make_inactive(nation, HSI)
    with Gateway(nation, "WA") as gateway:
        size = gateway.log.size
        with pytest.raises(ReviewRefused) as refused:
            gateway.release(reference, "coordinator", "looked fine yesterday")
        assert gateway.log.size == size + 1
        entry = gateway.log.entry(size)
        assert [h.reference for h in gateway.queue.pending()] == [reference]
        denied = gateway.deny(reference, "coordinator")
    expected = "block-hsi" if change == "policy" else "inactive-agency"
    assert expected in str(refused.value)
    assert refused.value.seq == size
    assert entry.kind.value == "review" and entry.body["outcome"] == "refused"
    assert entry.body["reference"] == reference and entry.body["records"] == []
    assert entry.body["policies"][0] == expected
    assert denied.outcome is Outcome.DENIED


def test_a_release_is_answered_with_the_elements_today_s_policy_allows(
    nation: DataDir, person: Sample
) -> None:
    reference = held_request(nation, person.oln)
    with Gateway(nation, "WA") as gateway:
        size = gateway.log.size
        released = gateway.release(reference, "coordinator")
        entry = gateway.log.entry(released.seq).body
    assert released.seq == size and released.outcome is Outcome.PARTIAL
    assert entry["review"] == "released" and entry["policy_version"]
    assert entry["records"] == [person.oln]
