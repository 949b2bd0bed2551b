"""A message delivered again (its first answer was lost with a gateway process that died after
logging it) is answered from its entry: the same outcome and fields, no second decision, no
second entry. One the gateway never logged is decided as usual."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import Message, Outcome, read
from stateline.sim.nation import build_nation

OUT_OF_STATE = "ORPPD0000"
ICE = "VTICE0900"
HSI = "NYHSI0100"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("again-nation"))
    build_nation(data, ("WA", "OR"), residents=200, seed=8)
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    return data


@pytest.fixture(scope="module")
def people(nation: DataDir) -> list[Sample]:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(4, seed=3)
    finally:
        store.close()


@pytest.fixture
def gateway(nation: DataDir) -> Iterator[Gateway]:
    with Gateway(nation, "WA") as gw:
        yield gw


def dq(sender: str, person: Sample) -> Message:
    return read(f"DQ.{sender}.WA.TXT\nOLN/{person.oln}")


@pytest.mark.parametrize(("sender", "outcome"), [(OUT_OF_STATE, Outcome.PARTIAL),
                                                 (ICE, Outcome.DENIED), (HSI, Outcome.HELD)])
def test_a_logged_message_delivered_again_gets_its_answer_and_no_second_entry(
        nation: DataDir, gateway: Gateway, people: list[Sample], sender: str,
        outcome: Outcome) -> None:
    query, message_id = dq(sender, people[0]), f"M-again-{sender}"
    (first,) = gateway.handle_many([query], [message_id])
    assert first.outcome is outcome
    gateway.close()
    with Gateway(nation, "WA") as restarted:  # as a new process: nothing kept in memory
        size = restarted.log.size
        (second,) = restarted.handle_many([query], [message_id], again=[True])
        assert restarted.log.size == size
    assert second.outcome is first.outcome and second.reference == first.reference
    assert second.answer == first.answer
    assert second.response.body == first.response.body
    assert (second.seq, second.request_id) == (first.seq, first.request_id)


def test_a_message_never_logged_is_decided_even_when_it_may_have_come_before(
        gateway: Gateway, people: list[Sample]) -> None:
    size = gateway.log.size
    (result,) = gateway.handle_many([dq(OUT_OF_STATE, people[1])], ["M-new"], again=[True])
    assert gateway.log.size == size + 1 and result.seq == size
    assert result.outcome in (Outcome.RELEASED, Outcome.PARTIAL)


def test_a_batch_mixes_answers_from_entries_with_new_decisions_in_order(
        gateway: Gateway, people: list[Sample]) -> None:
    logged = dq(OUT_OF_STATE, people[2])
    (before,) = gateway.handle_many([logged], ["M-mixed-1"])
    size = gateway.log.size
    fresh = dq(OUT_OF_STATE, people[3])
    results = gateway.handle_many([fresh, logged, fresh], ["M-mixed-2", "M-mixed-1",
                                                          "M-mixed-3"], again=[True] * 3)
    assert gateway.log.size == size + 2
    assert results[1].seq == before.seq and results[1].answer == before.answer
    assert [results[0].seq, results[2].seq] == [size, size + 1]


def test_without_the_mark_a_message_is_decided_again(gateway: Gateway,
                                                     people: list[Sample]) -> None:
    query = dq(OUT_OF_STATE, people[0])
    gateway.handle_many([query], ["M-twice"])
    size = gateway.log.size
    gateway.handle_many([query], ["M-twice"])
    assert gateway.log.size == size + 1


def test_a_message_id_on_another_query_gets_no_answer_from_the_first(
        gateway: Gateway, people: list[Sample]) -> None:
    """An id is the switch's and random; still, an entry answers only the query it logged:
    ICE reusing the id of Oregon's released query is decided on its own (and denied)."""
    (released,) = gateway.handle_many([dq(OUT_OF_STATE, people[1])], ["M-reused"])
    assert released.outcome is Outcome.PARTIAL
    size = gateway.log.size
    (own,) = gateway.handle_many([dq(ICE, people[1])], ["M-reused"], again=[True])
    assert own.outcome is Outcome.DENIED and gateway.log.size == size + 1
