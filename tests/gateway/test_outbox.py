"""The outbox: a late answer is on disk before it is offered, offered until marked delivered,
and read back exactly as it was put."""

from __future__ import annotations

from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.gateway.outbox import Outbox
from stateline.gateway.pipeline import Result
from stateline.policy.store import NoState
from stateline.protocol import Message, Outcome


def result(n: int) -> Result:
    response = Message("DR", "WAOLN0000", ("NYHSI0100",), "C1", body=f"WA DRIVER RESPONSE {n}")
    return Result(response, Outcome.RELEASED, n, f"req{n}", f"WA-{n:010d}", (b"\x89PNG",))


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path)
    folder.state_dir("WA").mkdir(parents=True)
    return folder


def test_answers_wait_in_order_until_marked_delivered(data: DataDir) -> None:
    with Outbox(data, "WA") as outbox:
        ids = [outbox.put(f"M{n}", "NYHSI0100", result(n)) for n in range(3)]
    with Outbox(data, "wa") as outbox:
        pending = outbox.pending()
        assert [(p.id, p.message_id, p.requester, p.state) for p in pending] == \
            [(ids[n], f"M{n}", "NYHSI0100", "WA") for n in range(3)]
        assert pending[1].result == result(1)
        outbox.mark_delivered(ids[0])
        outbox.mark_delivered(ids[0])
        assert [p.message_id for p in outbox.pending()] == ["M1", "M2"]
        assert [p.message_id for p in outbox.pending(limit=1)] == ["M1"]


def test_a_state_without_a_folder_has_no_outbox(data: DataDir) -> None:
    with pytest.raises(NoState):
        Outbox(data, "OR")
