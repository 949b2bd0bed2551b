"""One thread that owns a state's Gateway and answers queued queries in batches.

The gateway is a single writer whose SQLite connections belong to the thread that opened them,
so every query goes through this thread. Queries that arrive together are answered with one
`handle_many` call: their audit entries share one durable commit (group commit), and no answer
is handed back before that commit.

Every entry is under a signed head within seconds: the thread signs what a crash left unsigned
before it takes a query, signs on time when traffic stops (not only when the next batch comes),
and signs at stop. Each new head goes to the state's witnesses from a thread of their own.

Each batch's outcomes, latencies (queued to answered) and the queue's depth go to the metrics
once per batch, just before the answers are handed back, so a scrape after an answer counts it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field

from ..audit import open_state_log
from ..audit.witnessing import Witnessing, configured_witnesses
from ..datadir import DataDir
from ..errors import ServiceError
from ..operations import metrics
from ..protocol import Message
from ..witness.client import add_checkpoint
from .pipeline import SIGN_EVERY_ENTRIES, SIGN_EVERY_SECONDS, Gateway, Result

MOST_PER_BATCH = 100
LINGER_SECONDS = 0.0
"""How long a batch waits for company once its first query arrives. None by default: queries
that arrive while a commit runs queue up and make the next batch anyway; over HTTP a 1 ms wait
cut one client's throughput by a third or more and gained nothing clear at 8 or 32 clients."""
IDLE_SIGN_SECONDS = 1.0
"""How often an idle gateway looks whether its last entries are due a signed head."""

ROLE = "gateway"
"""The role label of a gateway's metrics."""
AUDIT_FAILED = "audit-failed"
"""The outcome counted for a query whose batch could not be committed, so was not answered."""

_log = logging.getLogger(__name__)


class GatewayClosed(ServiceError):
    """The gateway is not running (not started yet, or stopped): the query was not taken."""

    code = "gateway-closed"


@dataclass(frozen=True, slots=True)
class _Query:
    message: Message
    message_id: str
    answer: Future[Result]
    multi_state: bool = False
    again: bool = False
    queued: float = field(default_factory=time.monotonic)


_STOP = object()


class GatewayThread:
    """A state's gateway behind a queue: `start`, then `answer` from any thread or event
    loop, then `stop`, which answers what is queued and closes the gateway (signing a head)."""

    def __init__(self, data: DataDir, state: str, *, most: int = MOST_PER_BATCH,
                 linger: float = LINGER_SECONDS) -> None:
        self.data, self.state = data, state
        self._most, self._linger = most, linger
        self._witnessing: Witnessing | None = None
        self._queue: queue.SimpleQueue[_Query | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._gateway: Gateway | None = None
        self._open = False
        self.batches = 0
        self.answered = 0

    @property
    def gateway(self) -> Gateway:
        """The running gateway, for reading plain attributes (state, log size, policy)."""
        if self._gateway is None:
            raise GatewayClosed(f"the {self.state} gateway is not running")
        return self._gateway

    @property
    def running(self) -> bool:
        return self._open

    def start(self) -> None:
        """Open the gateway on its own thread, with its witnesses (from the state's config)
        on another; raises whatever opening either raised."""
        witnesses = configured_witnesses(self.data, self.state)
        ready: Future[Gateway] = Future()
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("a gateway thread starts once")
            self._thread = threading.Thread(target=self._run, args=(ready,),
                                            name=f"gateway-{self.state}")
            self._thread.start()
        self._gateway = ready.result()
        if witnesses:
            self._witnessing = Witnessing(lambda: open_state_log(self.data, self.state),
                                          witnesses, add_checkpoint)
            self._witnessing.start(f"witnessing-{self.state}")

    def stop(self) -> None:
        """Answer every query already queued, then close the gateway (signing a head over
        everything) and show that head to the witnesses; safe to call twice."""
        with self._lock:
            thread, self._open = self._thread, False
            if thread is not None and thread.is_alive():
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()
        if self._witnessing is not None:
            self._witnessing.stop()

    def submit(self, message: Message, message_id: str = "", multi_state: bool = False,
               again: bool = False) -> Future[Result]:
        """`again`: the switch may have delivered the message before (`Envelope.again`)."""
        answer: Future[Result] = Future()
        with self._lock:
            if not self._open:
                raise GatewayClosed(f"the {self.state} gateway is not running")
            self._queue.put(_Query(message, message_id, answer, multi_state, again))
        return answer

    async def answer(self, message: Message, message_id: str = "", multi_state: bool = False,
                     again: bool = False) -> Result:
        """The query's result, once its audit entry is durable; the event loop stays free."""
        return await asyncio.wrap_future(self.submit(message, message_id, multi_state, again))

    def _run(self, ready: Future[Gateway]) -> None:
        try:
            gateway = Gateway(self.data, self.state)
        except BaseException as error:
            ready.set_exception(error)
            return
        try:  # a crash may have left entries unsigned; a key the log refuses stops the start
            gateway.log.sign_tail()
        except BaseException as error:
            with suppress(Exception):
                gateway.close()
            ready.set_exception(error)
            return
        with self._lock:
            self._open = True
        ready.set_result(gateway)
        try:
            with gateway:
                stopping = False
                while not stopping:
                    try:
                        first = self._queue.get(timeout=IDLE_SIGN_SECONDS)
                    except queue.Empty:
                        self._sign_on_time(gateway)
                        continue
                    if first is _STOP:
                        break
                    assert isinstance(first, _Query)
                    batch = [first]
                    stopping = self._gather(batch)
                    signed = gateway.log.signed_size
                    metrics.queue_depth(ROLE, self.state, len(batch) + self._queue.qsize())
                    self._answer(gateway, batch)
                    metrics.queue_depth(ROLE, self.state, self._queue.qsize())
                    if gateway.log.signed_size != signed and self._witnessing is not None:
                        self._witnessing.poke()
        finally:
            self._refuse_the_rest()

    def _sign_on_time(self, gateway: Gateway) -> None:
        """Traffic stopped: the last entries get their head when it is due, not whenever the
        next query comes."""
        try:
            signed = gateway.log.maybe_sign(SIGN_EVERY_ENTRIES, SIGN_EVERY_SECONDS)
        except Exception as error:
            _log.error("%s: cannot sign the audit log's head: %s", self.state, error)
            return
        if signed is not None and self._witnessing is not None:
            self._witnessing.poke()

    def _refuse_the_rest(self) -> None:
        """However the thread ends, no caller is left waiting for an answer that cannot come."""
        with self._lock:
            self._open = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                metrics.queue_depth(ROLE, self.state, 0)
                return
            if isinstance(item, _Query) and item.answer.set_running_or_notify_cancel():
                item.answer.set_exception(GatewayClosed(f"the {self.state} gateway stopped"))

    def _gather(self, batch: list[_Query]) -> bool:
        """Add what arrives within the linger time, then whatever is already waiting; True
        when the stop mark was met (after the queries queued before it)."""
        deadline = time.monotonic() + self._linger
        while len(batch) < self._most:
            wait = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            assert isinstance(item, _Query)
            batch.append(item)
        return False

    def _answer(self, gateway: Gateway, batch: list[_Query]) -> None:
        taken = [q for q in batch if q.answer.set_running_or_notify_cancel()]
        if not taken:
            return
        try:
            results = gateway.handle_many([q.message for q in taken],
                                          [q.message_id for q in taken],
                                          [q.multi_state for q in taken],
                                          [q.again for q in taken])
        except Exception as error:  # nothing was committed, so nothing may be answered
            now = time.monotonic()
            metrics.answered_all(ROLE, self.state, [(AUDIT_FAILED, now - q.queued)
                                                    for q in taken])
            for q in taken:
                q.answer.set_exception(error)
            return
        now = time.monotonic()
        self.batches += 1
        self.answered += len(results)
        metrics.answered_all(ROLE, self.state, [(r.outcome.value, now - q.queued)
                                                for q, r in zip(taken, results, strict=True)])
        for q, result in zip(taken, results, strict=True):
            q.answer.set_result(result)
