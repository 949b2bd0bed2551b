"""A gateway killed between the two writes of a pair (audit entry, review queue row) leaves
them agreeing after the next start: no held request a reviewer cannot see, no request
reviewed twice. The kill is a real process exit at the named step, on SQLite and on
PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stateline.audit import EntryKind, open_state_log
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway import Gateway, ReviewError, ReviewQueue
from stateline.gateway.outbox import Outbox
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import Outcome, read
from stateline.sim.nation import build_nation

HSI = "NYHSI0100"
CRASHED = 77

CHILD = """
import os, sys
from pathlib import Path
from stateline.datadir import DataDir
from stateline.gateway import Gateway, recovery
from stateline.protocol import read

root, step, action, argument = sys.argv[1:5]

def crash(name: str) -> None:
    if name == step:
        os._exit(77)

recovery.fault = crash
with Gateway(DataDir(Path(root)), "WA") as gateway:
    if action == "hold":
        gateway.handle(read(argument), message_id="M-CRASH")
    elif action == "release":
        gateway.release(argument, "first reviewer")
    else:
        gateway.deny(argument, "first reviewer")
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def nation(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DataDir]:
    data = DataDir(tmp_path / "nation")
    build_nation(data, ("WA",), residents=60, seed=12)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    if request.param == "sqlite":
        yield data
        return
    import psycopg

    base = os.environ["STATELINE_TEST_POSTGRES_URL"]
    name = f"recovery_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    url = base.rsplit("/", 1)[0] + "/" + name
    config = data.config("WA")
    before = config.read_text() if config.exists() else ""
    config.write_text(before + f'\n[audit]\nurl = "{url}"\n')
    try:
        yield data
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def oln(nation: DataDir) -> str:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(1, seed=5)[0].oln
    finally:
        store.close()


def crash_at(data: DataDir, step: str, action: str, argument: str) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, str(data.root), step, action, argument],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == CRASHED, done.stderr


def log_and_queue_agree(data: DataDir) -> None:
    """Every held entry has its queue row; every review the log records has closed its row;
    no request has two reviews."""
    with open_state_log(data, "WA") as log:
        entries = [log.entry(seq) for seq in range(log.size)]
    held = {e.body["reference"] for e in entries
            if e.kind is EntryKind.DECISION and e.body.get("outcome") == "held"}
    reviews = [e.body["reference"] for e in entries
               if e.kind is EntryKind.REVIEW and e.body.get("outcome") != "refused"]
    with ReviewQueue(data, "WA") as queue:
        waiting = {h.reference for h in queue.pending()}
        statuses = {ref: queue.get(ref).status for ref in held}
    assert len(reviews) == len(set(reviews)), "a request was reviewed twice"
    assert set(reviews) <= held
    for reference in held:
        assert (statuses[reference] == "held") == (reference not in reviews)
    assert waiting == held - set(reviews)


def hold(data: DataDir, oln: str) -> str:
    with Gateway(data, "WA") as gateway:
        result = gateway.handle(read(f"DQ.{HSI}.WA.TXT\nOLN/{oln}"), message_id="M-HELD")
    assert result.outcome is Outcome.HELD and result.reference is not None
    return result.reference


def test_a_kill_after_the_held_entry_commits_is_put_on_file_at_the_next_start(
    nation: DataDir, oln: str
) -> None:
    crash_at(nation, "held-logged", "hold", f"DQ.{HSI}.WA.TXT\nOLN/{oln}")
    with open_state_log(nation, "WA") as log:
        last = log.entry(log.size - 1).body
    assert last["outcome"] == "held" and last["message_id"] == "M-CRASH"
    with ReviewQueue(nation, "WA") as queue:
        assert queue.pending() == []  # the crash left the log and the queue apart
    with Gateway(nation, "WA") as gateway:
        assert [h.reference for h in gateway.queue.pending()] == [last["reference"]]
        held = gateway.queue.get(last["reference"])
        assert held.ori == HSI and held.message_id == "M-CRASH"
        assert held.decision.policies[0] == "hold-hsi-for-review"
        released = gateway.release(last["reference"], "coordinator")
    assert released.outcome is Outcome.PARTIAL and f"OLN/{oln}" in str(released.response.body)
    log_and_queue_agree(nation)


@pytest.mark.parametrize("action", ["release", "deny"])
def test_a_kill_after_the_review_entry_commits_closes_the_request_as_recorded(
    nation: DataDir, oln: str, action: str
) -> None:
    reference = hold(nation, oln)
    crash_at(nation, "review-logged", action, reference)
    with ReviewQueue(nation, "WA") as queue:
        assert queue.get(reference).status == "held"  # the crash left the log and the queue apart
    with Gateway(nation, "WA") as gateway:
        status = gateway.queue.get(reference).status
        with pytest.raises(ReviewError):
            (gateway.deny if action == "release" else gateway.release)(reference, "second")
    assert status == {"release": "released", "deny": "denied"}[action]
    with Outbox(nation, "WA") as outbox:
        late = [item for item in outbox.pending() if item.result.reference == reference]
    assert len(late) == 1 and late[0].message_id == "M-HELD"
    body = str(late[0].result.response.body)
    if action == "release":
        assert late[0].result.outcome is Outcome.PARTIAL and f"OLN/{oln}" in body
    else:
        assert late[0].result.outcome is Outcome.DENIED and "review-denied" in body
    log_and_queue_agree(nation)


def test_a_start_with_nothing_to_put_right_changes_nothing(nation: DataDir, oln: str) -> None:
    reference = hold(nation, oln)
    with Gateway(nation, "WA") as gateway:
        gateway.deny(reference, "coordinator")
    with Gateway(nation, "WA"), Outbox(nation, "WA") as outbox:
        assert len([i for i in outbox.pending() if i.result.reference == reference]) == 1
    log_and_queue_agree(nation)
