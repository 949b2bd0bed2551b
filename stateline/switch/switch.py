"""The interstate switch: authenticate the sender, check and route the message, stamp it,
deliver it to each state's gateway (or hold it, or say why not), wait for the answers, and
merge a multi-state query's answers under one summary (DESIGN.md "One query, end to end",
steps 2 and 5)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..datadir import DataDir
from ..operations import metrics
from ..protocol import (
    READERS,
    Form,
    Message,
    Reject,
    Stamp,
    format_answered_xml,
    parse,
    reject_message,
)
from ..protocol.errors import writable
from ..protocol.xmlform import claimed_sender
from ..transport.base import Transport
from .admission import Impersonation, admit, claimed_ori
from .config import SwitchConfig
from .credentials import Credential
from .delivery import LEG_STATUS, Courier
from .errors import AuthenticationError, SwitchError
from .holds import HoldStore
from .routing import Action, Network, Plan, Service, route
from .stamping import addressed
from .status import StatusChange
from .stores import Stores
from .submissions import Header, Sent
from .traffic import IN, entry, outgoing
from .views import ResponseView, Submission

log = logging.getLogger("stateline.switch")

PURGE_EVERY_SECONDS = 3600.0


def new_message_id() -> str:
    return f"M{_date(int(time.time() // 86_400))}-{secrets.token_hex(5).upper()}"


@functools.lru_cache(maxsize=2)
def _date(day: int) -> str:
    """Day `day` since 1970-01-01 (UTC) as YYYYMMDD: written once a day, not per message."""
    return f"{datetime.fromtimestamp(day * 86_400, UTC):%Y%m%d}"


class Switch:
    """One switch over a data folder and a transport to the state gateways. `start` before
    use; `close` finishes deliveries in flight (up to the wait), then closes its stores and
    the transport."""

    def __init__(self, data: DataDir, transport: Transport, *,
                 config: SwitchConfig | None = None, holds: HoldStore | None = None,
                 retry: bool = True) -> None:
        """`holds` replaces the SQLite hold store (e.g. with a JetStream stream); `retry`
        False leaves held traffic to explicit `deliver_held` calls."""
        self.data = data
        self.transport = transport
        self.config = config if config is not None else SwitchConfig.load(data)
        self._holds_given = holds
        self._owner = secrets.token_hex(6)
        self._tasks: set[asyncio.Task[None]] = set()
        self._returned: set[str] = set()
        self._draining: dict[str, asyncio.Lock] = {}
        self._retry = retry
        self._stopping = asyncio.Event()
        self._tending: asyncio.Task[None] | None = None
        self._stores: Stores | None = None
        self._courier: Courier | None = None

    async def start(self) -> None:
        if self._stores is not None:
            raise SwitchError("the switch is already started")
        self._stores = Stores(self.data, self._holds_given)
        members = self.config.members(self.data)
        self._takes = {state: self.config.takes(state) for state in members}
        self._members = frozenset(members)
        self._stores.traffic.purge(self.config.retention_days)
        self._courier = Courier(self._stores, self.transport, self.config.wait_seconds)
        self.transport.on_late(self._courier.late_reply)
        if self._retry:
            self._stopping.clear()
            self._tending = asyncio.create_task(self._tend(), name="switch-tend")

    async def close(self) -> None:
        if self._tending is not None:
            self._stopping.set()
            await self._tending
            self._tending = None
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=self.config.wait_seconds)
            for task in late:
                task.cancel()
        await self.transport.close()
        if self._stores is not None:
            await self._stores.close()
            self._stores = self._courier = None

    @property
    def stores(self) -> Stores:
        if self._stores is None:
            raise SwitchError("the switch is not started")
        return self._stores

    @property
    def courier(self) -> Courier:
        if self._courier is None:
            raise SwitchError("the switch is not started")
        return self._courier

    async def submit(self, raw: str, token: str, *, form: Form = "text",
                     wait: float | None = None) -> Submission:
        """Take one message from an agency, in legacy text, JSON or Nlets XML, and return
        what it gets back within `wait` seconds (default: the configured wait), each answer's
        text in XML for a message sent in XML. AuthenticationError for a token that is not
        in force; anything else wrong with the message is an ER reject from NL0000000."""
        started = time.perf_counter()
        stores = self.stores
        claimed = claimed_sender(raw) if form == "xml" else claimed_ori(raw)
        credential = stores.credentials.check(token)
        if credential is None:
            stores.credentials.refuse("unknown or revoked token", claimed_ori=claimed)
            log.warning("refused a message with an unknown or revoked token")
            raise AuthenticationError("the credential is unknown or revoked")
        message_id = new_message_id()
        received = stores.lines.received(credential.ori)
        wait = self.config.wait_seconds if wait is None else max(0.0, wait)
        try:
            message = READERS[form](raw)
            admit(message, credential.ori, stores.senders.get(credential.ori))
            plan = route(message, self._network())
        except Impersonation as refused:
            stores.credentials.refuse(refused.detail[0], credential, claimed)
            log.warning("credential %s (%s): %s", credential.id, credential.ori, refused.detail[0])
            rejected = self._reject(message_id, credential, raw, claimed, refused, received)
        except Reject as reject:
            rejected = self._reject(message_id, credential, raw, claimed, reject, received)
        else:
            accepted = await self._accept(message_id, credential, raw, message, plan,
                                          received, wait)
            where = message.destinations
            _counted(accepted, where[0] if len(where) == 1 else "several", started)
            return in_form(accepted, form)
        await stores.committed()
        _counted(rejected, "", started)
        return in_form(rejected, form)

    def submission(self, message_id: str, token: str | None = None, *,
                   form: Form = "text") -> Submission:
        """The message's answers so far, late ones included, their texts in `form` when that
        is XML. With a token, only the sender's own credential may read them
        (AuthenticationError otherwise)."""
        stores = self.stores
        if token is not None:
            credential = stores.credentials.check(token)
            head = stores.submissions.header(message_id)
            if credential is None or credential.ori != head.sender:
                raise AuthenticationError(f"the credential may not read message {message_id}")
        return in_form(stores.submissions.view(message_id), form)

    async def show(self, message_id: str, token: str | None = None, *,
                   form: Form = "text") -> Submission:
        """`submission`, as the web front asks a switch in a process of its own."""
        return self.submission(message_id, token, form=form)

    async def set_status(self, state: str, status: Service, who: str, note: str = "", *,
                         deliver: bool = True) -> StatusChange:
        """An operator's status change, logged; a state back in service gets its held
        traffic in the background (unless `deliver` is False: call `deliver_held`)."""
        change = self.stores.status.set(state, status, who, note)
        if status is Service.IN and deliver:
            self._spawn(self._quietly(self.deliver_held(change.state)))
        return change

    async def deliver_held(self, state: str | None = None) -> int:
        """Deliver held traffic, in order, to the state (or every state) in service; how many
        messages went. Stops at a state that goes down again."""
        stores = self.stores
        states = [state.upper()] if state else sorted(await stores.holds.counts())
        delivered = 0
        for code in states:
            async with self._draining.setdefault(code, asyncio.Lock()):
                delivered += await self._drain(code)
        return delivered

    def _network(self) -> Network:
        return Network(self._members, self._takes, self.config.regions,
                       self.stores.status.current())

    def _reject(self, message_id: str, credential: Credential, raw: str, claimed: str | None,
                reject: Reject, received: Stamp) -> Submission:
        stores = self.stores
        reject = reject if reject.original else reject.with_context(original=raw)
        answer = reject_message(reject, stores.lines.header(received, credential.ori))
        stores.submissions.open(Header(message_id, credential.ori, credential.id,
                                       reject.key or "", False, False, 0.0), [])
        text = stores.submissions.respond(message_id, Sent("NL", answer, "rejected"))
        stores.traffic.add([entry(IN, message_id, writable(raw), reject.key, claimed or "",
                                  "NL"),
                            outgoing(message_id, answer, credential.ori, text)])
        try:
            return stores.submissions.view(message_id)
        finally:
            stores.submissions.forget(message_id)

    async def _accept(self, message_id: str, credential: Credential, raw: str,
                      message: Message, plan: Plan, received: Stamp,
                      wait: float) -> Submission:
        try:
            return await self._forward(message_id, credential, raw, message, plan, received,
                                       wait)
        finally:
            self.stores.submissions.forget(message_id)

    async def _forward(self, message_id: str, credential: Credential, raw: str,
                       message: Message, plan: Plan, received: Stamp,
                       wait: float) -> Submission:
        stores, courier = self.stores, self.courier
        waiting = await stores.holds.counts()
        actions = [(leg.state, Action.HOLD if leg.action is Action.DELIVER and
                    waiting.get(leg.state) else leg.action) for leg in plan.legs]
        stores.submissions.open(
            Header(message_id, message.sender, credential.id, message.key, True, plan.fan_out,
                   wait), [(state, LEG_STATUS[action]) for state, action in actions])
        stores.traffic.add([entry(IN, message_id, raw, message.key, message.sender,
                                   " ".join(message.destinations))])
        deliveries = []
        for state, action in actions:
            routed = addressed(message, plan.key, state, multi_state=len(plan.legs) > 1)
            if action is Action.DELIVER:
                deliveries.append(self._spawn(courier.deliver(
                    message_id, routed, received, lambda: message_id in self._returned)))
                continue
            if action is Action.HOLD:
                await stores.holds.put(message_id, state, routed, received)
            courier.status_message(message_id, message.sender, state, action, received,
                                   plan.key)
        await _all_done(deliveries, wait)
        self._returning(message_id, deliveries)
        if plan.fan_out:
            courier.summarize(message_id, message, received)
        await stores.committed()
        return stores.submissions.view(message_id)

    def _returning(self, message_id: str, deliveries: list[asyncio.Task[None]]) -> None:
        """The sender's wait is over: answers still on their way are late, until the last
        of them is in."""
        still = [task for task in deliveries if not task.done()]
        if still:
            self._returned.add(message_id)
            asyncio.gather(*still, return_exceptions=True).add_done_callback(
                lambda _: self._returned.discard(message_id))

    async def _drain(self, state: str) -> int:
        stores = self.stores
        delivered = 0
        if not await stores.holds.claim(state, self._owner):
            return 0
        try:
            while stores.status.get(state) is Service.IN:
                batch = await stores.holds.waiting(state)
                if not batch:
                    break
                for held in batch:
                    if stores.status.get(state) is not Service.IN or \
                            not await stores.holds.claim(state, self._owner):
                        return delivered
                    if not await self.courier.deliver_held(held):
                        return delivered
                    delivered += 1
        finally:
            await stores.holds.release(state, self._owner)
        return delivered

    async def _tend(self) -> None:
        """Offer held traffic to states in service now and every retry period; purge the
        traffic log hourly."""
        purge_due = time.monotonic() + PURGE_EVERY_SECONDS
        while not self._stopping.is_set():
            try:
                stores = self.stores
                down = stores.status.current()
                for state in sorted(await stores.holds.counts()):
                    if state not in down:
                        await self.deliver_held(state)
                if time.monotonic() >= purge_due:
                    stores.traffic.purge(self.config.retention_days)
                    purge_due = time.monotonic() + PURGE_EVERY_SECONDS
            except Exception:
                log.exception("delivering held traffic failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.config.retry_seconds)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _quietly(self, work: Coroutine[Any, Any, int]) -> None:
        try:
            await work
        except Exception:
            log.exception("delivering held traffic failed")


async def _all_done(tasks: list[asyncio.Task[None]], wait: float) -> None:
    """Until every task is done or `wait` seconds have passed: asyncio.wait with a timeout,
    less its bookkeeping (one future and one timer, none when all are done already)."""
    left = [task for task in tasks if not task.done()]
    if not left or wait <= 0:
        return
    loop = asyncio.get_running_loop()
    over = loop.create_future()
    count = len(left)

    def one_done(_: object) -> None:
        nonlocal count
        count -= 1
        if count == 0 and not over.done():
            over.set_result(None)

    def timed_out() -> None:
        if not over.done():
            over.set_result(None)

    for task in left:
        task.add_done_callback(one_done)
    timer = loop.call_later(wait, timed_out)
    try:
        await over
    finally:
        timer.cancel()
        for task in left:
            task.remove_done_callback(one_done)


def _counted(submission: Submission, destination: str, started: float) -> None:
    """The submission in the switch's metrics: where it went (a state, a region, NL, several,
    or `none` when rejected) and how it ended (a multi-state query: its summary's outcome)."""
    first = submission.responses[0].outcome if submission.responses else \
        ("held" if submission.pending else "error")
    metrics.switched(destination or "none", first, time.perf_counter() - started)


def in_form(submission: Submission, form: Form) -> Submission:
    """A submission as its sender reads it: for a message sent in XML, each answer, status
    message and reject as Nlets XML; otherwise as the switch keeps them, in legacy text."""
    if form != "xml":
        return submission
    return replace(submission, responses=tuple(
        replace(view, text=_as_xml(view)) for view in submission.responses))


def _as_xml(view: ResponseView) -> str:
    """A delivered message as XML: its header read back from the text the switch stamped,
    its body carried as text, and a state's answer elements written from the record the
    state sent, never from the body. Kept as it is if it cannot be read (never lost)."""
    try:
        return format_answered_xml(parse(view.text), view.answer)
    except Reject:
        return view.text


__all__ = ["Switch", "in_form", "new_message_id"]
