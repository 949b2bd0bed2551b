"""Held traffic: kept across a reopen, handed back in order per state, and delivered by one
switch at a time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from stateline.datadir import DataDir
from stateline.protocol import Field, Message, Stamp
from stateline.switch.holds import SqliteHolds


def query(n: int, state: str) -> Message:
    return Message("DQ", "ORPPD0000", (state,), None, (Field("OLN", f"W{n}"),))


def test_held_messages_come_back_in_order_after_a_reopen(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    stamp = Stamp(datetime(2026, 1, 2, 3, 4), 42)

    async def scenario() -> None:
        holds = SqliteHolds(data)
        for n in range(3):
            for state in ("WA", "OR"):
                await holds.put(f"M{n}{state}", state, query(n, state), stamp)
        await holds.close()
        holds = SqliteHolds(data)
        try:
            assert await holds.counts() == {"WA": 3, "OR": 3}
            waiting = await holds.waiting("WA")
            assert [h.message_id for h in waiting] == ["M0WA", "M1WA", "M2WA"]
            assert waiting[1].message == query(1, "WA") and waiting[1].received == stamp
            await holds.delivered(waiting[0])
            assert [h.message_id for h in await holds.waiting("WA")] == ["M1WA", "M2WA"]
            assert await holds.counts() == {"WA": 2, "OR": 3}
        finally:
            await holds.close()

    asyncio.run(scenario())


def test_one_switch_at_a_time_delivers_a_state(tmp_path: Path) -> None:
    data = DataDir(tmp_path)

    async def scenario() -> None:
        first, second = SqliteHolds(data), SqliteHolds(data)
        try:
            assert await first.claim("WA", "one")
            assert await first.claim("WA", "one")  # renewing
            assert not await second.claim("WA", "two")
            assert await second.claim("OR", "two")
            await first.release("WA", "one")
            assert await second.claim("WA", "two")
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())
