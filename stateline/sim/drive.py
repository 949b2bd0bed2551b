"""Send generated traffic through a switch in real time, as the agencies would, and count what
they get back. A state can be taken out of service for part of the run: its traffic is held
by the switch and delivered, in order, when it returns."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..switch import Service
from ..switch.status import StatusChange
from ..switch.views import Submission
from .traffic import Query

IN_FLIGHT = 64
"""Messages awaiting an answer at once; past this the sender waits, and the rate drops."""
TICK_SECONDS = 0.25

SEEN: dict[str, str] = {
    "released": "answered", "partial": "answered", "denied": "denied",
    "held": "held", "no-record": "no record", "error": "error",
    "rejected": "rejected",
}
"""What a sender saw from one state, in the words the progress line uses ("held": for the
state's review)."""
DOWN = "queued"
"""A `.02.` status message: the state is out of service and the switch keeps the message."""


class Switching(Protocol):
    """A switch to drive: in this process (`Switch`) or in its own (`RemoteSwitch`)."""

    async def submit(self, raw: str, token: str, *, wait: float | None = None) -> Submission: ...
    async def set_status(self, state: str, status: Service, who: str, note: str = "", *,
                         deliver: bool = True) -> StatusChange: ...
    async def deliver_held(self, state: str | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class Outage:
    """`state` is out of service from `start` to `end` seconds into the run."""

    state: str
    start: float
    end: float


@dataclass(slots=True)
class Tally:
    sent: int = 0
    answered: int = 0
    """Messages whose sender has had its first reply."""
    seen: Counter[str] = field(default_factory=Counter)
    """Per state answer (a multi-state query counts once per state)."""
    streams: Counter[str] = field(default_factory=Counter)
    delivered_late: int = 0
    """Messages held while a state was down, delivered when it returned."""


def seen(submission: Submission) -> list[str]:
    """What the sender saw, one word per state answer (the multi-state summary aside)."""
    if not submission.accepted:
        return ["rejected"]
    words = []
    for view in submission.responses:
        if view.summary is not None:
            continue
        if view.key == "SM" and view.outcome == "held":
            words.append(DOWN)
        else:
            words.append(SEEN.get(view.outcome, view.outcome))
    return words


async def drive(switch: Switching, tokens: dict[str, str], queries: Iterable[Query],
                seconds: float, *, outage: Outage | None = None,
                tick: Callable[[Tally, float], None] | None = None,
                told: Callable[[str], None] | None = None) -> Tally:
    """Send each query at its time until `seconds` have passed, then wait for the answers
    and for held traffic to be delivered."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    tally = Tally()
    slots = asyncio.Semaphore(IN_FLIGHT)
    pending: set[asyncio.Task[None]] = set()
    say = told or (lambda _: None)

    async def send(query: Query) -> None:
        try:
            submission = await switch.submit(query.text, tokens[query.sender], wait=10.0)
            tally.seen.update(seen(submission))
        finally:
            tally.answered += 1
            slots.release()

    async def ticking() -> None:
        while True:
            if tick is not None:
                tick(tally, loop.time() - start)
            await asyncio.sleep(TICK_SECONDS)

    ticker = asyncio.create_task(ticking())
    blip = asyncio.create_task(_blip(switch, outage, start, say)) if outage else None
    try:
        for query in queries:
            if query.at >= seconds:
                break
            delay = start + query.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            tally.sent += 1
            tally.streams[query.stream] += 1
            task = asyncio.create_task(send(query))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
        tally.delivered_late = (await blip if blip is not None else 0) + \
            await switch.deliver_held()
    finally:
        running: list[asyncio.Task[Any]] = [t for t in (ticker, blip) if t is not None]
        for task in running:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if tick is not None:
            tick(tally, loop.time() - start)
    return tally


async def _blip(switch: Switching, outage: Outage, start: float,
                say: Callable[[str], None]) -> int:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start + outage.start - loop.time()))
    await switch.set_status(outage.state, Service.OUT, "demo", "demo: a short outage",
                            deliver=False)
    try:  # an interrupted run must not leave the state out of service in switch.db
        say(f"{outage.state} is out of service: its traffic is held by the switch (.02.)")
        await asyncio.sleep(max(0.0, start + outage.end - loop.time()))
    finally:
        await switch.set_status(outage.state, Service.IN, "demo", "demo: back from the outage",
                                deliver=False)
    delivered = await switch.deliver_held(outage.state)
    say(f"{outage.state} is back in service: {delivered:,} held messages delivered in order")
    return delivered
