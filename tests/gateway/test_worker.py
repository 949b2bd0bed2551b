"""The gateway thread: queries that arrive together share one durable commit, each answered
only after it; stopping answers what was queued and leaves the log under a signed head."""

from __future__ import annotations

import pytest

from stateline.audit import load_or_create_key, open_state_log, signing_key
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway.worker import GatewayClosed, GatewayThread
from stateline.policy.store import NoState
from stateline.protocol import Field, Message, Outcome
from stateline.sim.nation import build_nation

IN_STATE = "WASPD0100"


@pytest.fixture
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("gateway-worker"))
    build_nation(data, ("WA",), residents=100, seed=4)
    return data


def queries(data: DataDir, n: int) -> list[Message]:
    store = open_store(data.dmv_url("WA"))
    try:
        olns = [s.oln for s in store.sample(5, seed=1)]
    finally:
        store.close()
    return [Message("DQ", IN_STATE, ("WA",), None, (Field("OLN", olns[i % 5]),))
            for i in range(n)]


def test_queries_that_arrive_together_share_one_commit(nation: DataDir) -> None:
    worker = GatewayThread(nation, "WA", linger=0.2)
    worker.start()
    before = worker.gateway.log.size
    try:
        pending = [worker.submit(q, f"M{i}") for i, q in enumerate(queries(nation, 30))]
        results = [p.result(timeout=10) for p in pending]
    finally:
        worker.stop()
    assert worker.batches < 30
    assert sorted(r.seq for r in results) == list(range(before, before + 30))
    assert all(r.outcome is Outcome.RELEASED for r in results)
    with open_state_log(nation, "WA") as log:
        assert [log.entry(r.seq).body["message_id"] for r in results] == \
            [f"M{i}" for i in range(30)]


def test_stop_answers_what_was_queued_then_refuses(nation: DataDir) -> None:
    worker = GatewayThread(nation, "WA", most=3)
    worker.start()
    before = worker.gateway.log.size
    pending = [worker.submit(q) for q in queries(nation, 10)]
    worker.stop()
    assert all(p.done() and p.result().outcome is Outcome.RELEASED for p in pending)
    with pytest.raises(GatewayClosed):
        worker.submit(queries(nation, 1)[0])
    worker.stop()
    with open_state_log(nation, "WA") as log:
        report = log.verify(load_or_create_key(signing_key(nation, "WA")).public_key())
    assert report.ok and report.entries == before + 10 and report.unsigned == 0


def test_a_gateway_that_cannot_open_says_why_at_start(nation: DataDir) -> None:
    worker = GatewayThread(nation, "TX")
    with pytest.raises(NoState, match="no state TX"):
        worker.start()
    with pytest.raises(GatewayClosed):
        worker.submit(queries(nation, 1)[0])
    worker.stop()
