"""One bad submission never costs another its rows: the switch writes a turn's submissions
together, and a row that fails at INSERT is dropped alone, so every good sender's answer is
still there after a restart, and no sender is shown an answer that was not kept."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from stateline.datadir import DataDir
from stateline.sim.nation import build_nation
from stateline.switch.submissions import SubmissionStore
from stateline.switch.traffic import Search

from .conftest import running, samples, token

GOOD, POISONED = ("ORPPD0000", "WASPD0100"), "NYHSI0100"


@pytest.fixture
def poisoned_nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A nation whose switch.db refuses, at INSERT, every submission and response row of one
    sender, as a store refuses a row it cannot write."""
    data = DataDir(tmp_path_factory.mktemp("poisoned"))
    build_nation(data, ("WA", "OR", "NY"), residents=60, seed=3)
    SubmissionStore(data).close()
    db = sqlite3.connect(data.switch_db)
    db.executescript(f"""
        CREATE TRIGGER poison_submission BEFORE INSERT ON submission
        WHEN NEW.sender = '{POISONED}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
        CREATE TRIGGER poison_response BEFORE INSERT ON response
        WHEN NEW.text LIKE '%{POISONED}%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;
    """)
    db.close()
    return data


def test_good_submissions_survive_poisoned_ones_in_the_same_batch(
        poisoned_nation: DataDir) -> None:
    data = poisoned_nation
    people = samples(data, "WA", 4)
    tokens = {ori: token(data, ori) for ori in (*GOOD, POISONED)}
    texts = [(ori, f"DQ.{ori}.WA.TXT\nOLN/{person.oln}")
             for person in people for ori in (*GOOD, POISONED)]

    async def sending() -> list[tuple[str, str]]:
        async with running(data) as switch:
            sent = []
            for _ in range(2):  # the second time with every line's counters reserved
                sent += await asyncio.gather(*(switch.submit(text, tokens[ori])
                                               for ori, text in texts))
            for (ori, _), sub in zip(texts * 2, sent, strict=True):
                # a sender is never shown an answer the switch could not keep
                assert bool(sub.responses) is (ori != POISONED)
            return [(ori, sub.message_id)
                    for (ori, _), sub in zip(texts * 2, sent, strict=True) if sub.accepted]

    accepted = asyncio.run(sending())
    good = [message_id for ori, message_id in accepted if ori != POISONED]
    assert len(good) == 2 * len(people) * len(GOOD)

    async def reading() -> None:
        async with running(data) as switch:
            for message_id in good:
                sub = switch.submission(message_id)
                assert sub.accepted
                assert [r.state for r in sub.responses] == ["WA"]
                assert sub.responses[0].outcome in ("released", "partial")
            logged = switch.stores.traffic.search(Search(limit=1000))
            assert {e.message_id for e in logged} >= set(good)

    asyncio.run(reading())
