"""A state's gateway: decide a query, look up records, release what policy allows, and audit
the decision durably before any response leaves (DESIGN.md "One query, end to end", step 3)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, NamedTuple

from ..audit import AuditLog, EntryKind, open_state_log
from ..audit.records import (
    REFUSED,
    DecisionRecord,
    RecordError,
    RequestRecord,
    ReviewRecord,
    Sender,
    request_of,
)
from ..datadir import DataDir, state_config, upstream_settings
from ..directory.agency import Agency
from ..directory.store import Snapshot
from ..dmv import DmvStore, open_store
from ..errors import ServiceError
from ..notices import NoticeBook
from ..policy.engine import ENGINE_ERROR, Decision, Request, Verdict
from ..policy.live import LivePolicy
from ..policy.registry import CourtOrder, OnFile, Registry, Subject
from ..policy.store import checked_state
from ..protocol import Answer, Message, Outcome, birth_date, dumps, format_answer, loads, spec_for
from ..protocol.responses import response_with
from .answers import UNMAPPED
from .lookup import SEARCHES, Ask, Found, Records, Release, StoreRecords, TermsError, release
from .orders import of_subject, resolved, under_order
from .proxy import Proxy
from .recovery import Answering, answer_again, at, denial, reconcile
from .review import Hold, ReviewError, ReviewQueue, new_reference


class GatewayError(ServiceError):
    """The gateway cannot start: its configuration or one of its stores is unusable."""

    code = "gateway-error"


class ReviewRefused(ReviewError):
    """A release the policy and directory in force now would deny; the refusal is audited
    and the request stays held, so it can still be denied."""

    code, status = "refused", 409

    def __init__(self, reference: str, decision: Decision, seq: int) -> None:
        self.reference, self.decision, self.seq = reference, decision, seq
        why = decision.explanation.rstrip(".")
        super().__init__(f"{reference} cannot be released: the policy in force now denies it "
                         f"({why}); the refusal is audit entry {seq} and the request is still "
                         "held")


@dataclass(frozen=True, slots=True)
class Result:
    """What one query came to: the response to send, how it ended, and its audit entry."""

    response: Message
    outcome: Outcome
    seq: int
    request_id: str
    reference: str | None = None
    photos: tuple[bytes, ...] = ()
    """PNG bytes of released photos; kept off the response text."""
    answer: Answer | None = None
    """The answer the response text was written from, so it can travel as a record; None
    where the text is no answer (a reject naming the requester's error, a key not taken)."""


# The parts an entry is gathered from are named tuples: several are made per query, and a
# tuple costs a fraction of a frozen dataclass to make. The record they end in is one.


class _Asked(NamedTuple):
    """What arrived, from whom, as every entry about the request records it: a snapshot, so
    later changes cannot alter what the entry says happened."""

    time: str
    request_id: str
    message_id: str
    ori: str
    sender: Sender | None
    category: str
    key: str
    reason: str
    destination: str
    terms: tuple[str, ...]
    multi_state: bool


class _Ruling(NamedTuple):
    """The decision as the entry records it, with the court order it was decided with."""

    policies: tuple[str, ...] = ()
    policy_version: str = ""
    court_order: str | None = None
    court_order_subject: tuple[str, ...] | None = None


class _Disclosed(NamedTuple):
    """What left the state with the answer."""

    released: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    photo_released: bool = False


class _Review(NamedTuple):
    """A reviewer's release or denial of a held request."""

    reviewer: str
    reference: str
    note: str
    review: str
    policy_version: str


NO_RULING, NOTHING = _Ruling(), _Disclosed()


class _Facts(NamedTuple):
    """What a request's entry will say, gathered as the query is decided and looked up; the
    record itself is built once, when the outcome is final."""

    asked: _Asked
    ruling: _Ruling = NO_RULING
    undisclosed: int | None = None
    """Records found that the court order did not cover."""
    review: _Review | None = None

    def record(self, outcome: Outcome | str, disclosed: _Disclosed = NOTHING, *,
               hold: Hold | None = None, reject: str | None = None,
               error: str | None = None) -> DecisionRecord | ReviewRecord:
        asked, ruling, review = self.asked, self.ruling, self.review
        fields: dict[str, Any] = {
            "time": asked.time, "request_id": asked.request_id,
            "message_id": asked.message_id, "ori": asked.ori, "sender": asked.sender,
            "category": asked.category, "key": asked.key, "reason": asked.reason,
            "destination": asked.destination, "terms": asked.terms,
            "outcome": outcome.value if isinstance(outcome, Outcome) else outcome,
            "policies": ruling.policies, "released": disclosed.released,
            "withheld": disclosed.withheld, "records": disclosed.records,
            "photo_released": disclosed.photo_released,
            "policy_version": ruling.policy_version, "court_order": ruling.court_order,
            "multi_state": asked.multi_state,
            "court_order_subject": ruling.court_order_subject,
            "undisclosed": self.undisclosed, "reject": reject, "error": error}
        if review is None:
            if hold is not None:  # so a start after a crash can put it on file
                fields.update(reference=hold.reference, message=hold.message)
            return DecisionRecord(**fields)
        fields.update(policy_version=review.policy_version, reference=review.reference)
        return ReviewRecord(**fields, reviewer=review.reviewer, note=review.note,
                            review=review.review)

    @property
    def reference(self) -> str | None:
        return self.review.reference if self.review else None


class _Lookup(NamedTuple):
    """A query decided as allowed, waiting for its records (fetched a batch at a time)."""

    query: Message
    decision: Decision
    facts: _Facts
    group: str
    reference: str | None = None
    order: CourtOrder | None = None


@dataclass(frozen=True, slots=True)
class _Pending:
    """A query decided and looked up, waiting for its audit entry to commit."""

    query: Message
    group: str | None
    """The message group answered; None for a query the gateway does not answer."""
    text: str
    """The response body, written as soon as the answer is known (it leaves only after the
    commit), so the records behind it need not be kept until then."""
    record: DecisionRecord | ReviewRecord
    outcome: Outcome
    photos: tuple[bytes, ...] = ()
    reference: str | None = None
    hold: Hold | None = None
    """A request to put on file for review once its audit entry has committed."""
    answer: Answer | None = None
    """What `text` was written from; None where the text is no answer."""


_Known = tuple[Agency | None, Sender | None, str]
"""A sender as the directory has it, as audit entries record it, and its statistics
category."""

SENDERS_KEPT = 10_000
"""Senders remembered per directory version; ORIs arrive from outside, so the memory is capped."""

_log = logging.getLogger(__name__)

NOTICE_PROGRESS_SECONDS = 1.0
"""How often the notice progress mark moves: a crash re-examines at most this much traffic."""

NOTICES_OWED_KEPT = 10_000
"""Requests owed notices kept in memory to try again; past that, the progress mark stops
moving, and the next start puts the rest through."""


class _Owed(NamedTuple):
    """A request whose notices are still to be queued, and when it was asked if not its
    entry's own time (a held request's time, for its review)."""

    record: RequestRecord
    requested: datetime | None = None

SIGN_EVERY_ENTRIES = 1000
SIGN_EVERY_SECONDS = 5.0
"""A signed tree head at least every 1,000 entries or 5 seconds of traffic."""
RECENT_ENTRIES = 10_000
"""How far back a message delivered again is looked for in the log (`answered_before`)."""


class Gateway:
    """One state's gateway over its records (its DMV store, or in proxy mode the state's own
    DMV responder), live policy, registry, review queue and log."""

    def __init__(self, data: DataDir, state: str) -> None:
        self.state = checked_state(data, state)
        self.driver_ori, self.vehicle_ori = gateway_oris(data, self.state)
        with ExitStack() as stack:
            self.records = _records(data, self.state, (self.driver_ori, self.vehicle_ori))
            stack.callback(self.records.close)
            self.store: DmvStore = self.records.store
            self.policy = stack.enter_context(LivePolicy(data, self.state))
            self.registry = stack.enter_context(Registry(data, self.state))
            self.log: AuditLog = stack.enter_context(open_state_log(data, self.state))
            self.queue = stack.enter_context(ReviewQueue(data, self.state))
            self.notices = stack.enter_context(NoticeBook(data, self.state))
            self._reconcile()
            self._noticed_at = 0.0
            self._owed: dict[int, _Owed] = {}
            self._dropped = False
            self._catch_up_notices()
            self._stack = stack.pop_all()
        self._senders: dict[str, _Known] = {}
        self._senders_of: Snapshot | None = None
        self._recent: dict[str, int] | None = None
        """Message ids of the last decisions logged, once a message came again."""

    def close(self) -> None:
        """Sign a head over whatever is unsigned, so a stopped gateway leaves all of it covered."""
        try:
            if self._owed:
                self._notify([])
            self.log.maybe_sign(every_entries=1)
        finally:
            self._stack.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def handle(self, message: Message, *, message_id: str = "") -> Result:
        return self.handle_many([message], [message_id])[0]

    def handle_many(self, messages: Sequence[Message], message_ids: Sequence[str] = (),
                    multi_states: Sequence[bool] = (),
                    again: Sequence[bool] = ()) -> list[Result]:
        """Decide and look up each query, commit all their audit entries in one transaction
        (group commit), and only then build the responses, in order. `multi_states` marks the
        queries the switch sent to several states (their stamped form no longer says so);
        `again` those it may have delivered before (see `answered_before`)."""
        ids = list(message_ids) + [""] * (len(messages) - len(message_ids))
        if any(again):
            before: dict[int, Result] = {}
            for n, (i, repeat) in enumerate(zip(ids, again, strict=False)):
                kept = self.answered_before(messages[n], i) if repeat and i else None
                if kept is not None:
                    before[n] = kept
            if before:
                rest = [n for n in range(len(messages)) if n not in before]
                fresh = iter(self.handle_many(
                    [messages[n] for n in rest], [ids[n] for n in rest],
                    [multi_states[n] for n in rest if n < len(multi_states)]))
                return [before[n] if n in before else next(fresh)
                        for n in range(len(messages))]
        multi = list(multi_states) + [False] * (len(messages) - len(multi_states))
        on_file = self._on_file()
        prepared = [self._prepare(m, i, on_file, fan)
                    for m, i, fan in zip(messages, ids, multi, strict=True)]
        asks = [p for p in prepared if isinstance(p, _Lookup)]
        found = iter(self.records.fetch([Ask(a.query, a.decision) for a in asks]))
        return self._commit([self._looked_up(p, next(found)) if isinstance(p, _Lookup) else p
                             for p in prepared])

    def release(self, reference: str, reviewer: str, note: str = "") -> Result:
        """A held request answered after review: looked up now, audited with the reviewer.
        The request leaves the queue, and its late answer goes on file for the switch, only
        once the review's audit entry has committed; its notices are queued after that."""
        self.policy.check()
        with self.queue.reviewing(reference, "released", reviewer) as held:
            query = loads(held.message)
            now = datetime.now(UTC)
            asked, agency = self._asked(query, held.message_id, now)
            order, ruling, failed = None, NO_RULING, None
            try:
                decision, order, ruling = self._decided(query, asked, agency, self._on_file(),
                                                        now)
            except Exception as error:  # fail closed: a release needs a decision now
                decision = Decision(Verdict.DENY, query.key, reasons=(ENGINE_ERROR,))
                failed = f"{type(error).__name__}: {error}"
            if decision.verdict is Verdict.DENY:
                self._refuse(held.reference, reviewer, decision, _Facts(asked, ruling), note,
                             failed)
            review = _Review(reviewer, held.reference, note, "released", decision.version)
            lookup = _Lookup(query, decision, _Facts(asked, ruling, review=review),
                             _group(query), held.reference, order)
            (found,) = self.records.fetch([Ask(query, decision)])  # forwarded only now
            pending = self._looked_up(lookup, found)
            result = self._commit([pending], notify=False)[0]
            at("review-logged")
            self.queue.file_late(held, query.sender, result)
        self._queue_notices([pending], [result.seq], held.time)
        return result

    def _refuse(self, reference: str, reviewer: str, decision: Decision, facts: _Facts,
                note: str, error: str | None) -> None:
        """Audit a release the policy in force refuses, then raise, so the queue's
        transaction rolls back and the request stays held."""
        version = decision.version or self.policy.version
        ruling = facts.ruling._replace(policies=decision.policies, policy_version=version)
        review = _Review(reviewer, reference, note, "released", version)
        record = facts._replace(ruling=ruling, review=review).record(REFUSED, error=error)
        (seq,) = self.log.append_many([record.for_log()])
        raise ReviewRefused(reference, decision, seq)

    def deny(self, reference: str, reviewer: str, note: str = "") -> Result:
        """A held request refused after review; the refusal is audited and sent, and only
        then does the request leave the queue."""
        with self.queue.reviewing(reference, "denied", reviewer) as held:
            query = loads(held.message)
            answer = denial(self.state, _group(query), held.reference)
            asked, _ = self._asked(query, held.message_id, datetime.now(UTC))
            review = _Review(reviewer, held.reference, note, "denied", held.decision.version)
            pending = _answered(query, answer, _Facts(asked, review=review))
            result = self._commit([pending], notify=False)[0]
            at("review-logged")
            self.queue.file_late(held, query.sender, result)
        self._queue_notices([pending], [result.seq], held.time)
        return result

    def answered_before(self, query: Message, message_id: str) -> Result | None:
        """The answer to a message this gateway already decided and logged, rebuilt from its
        entry; None when it has not seen the message. Only the last RECENT_ENTRIES entries
        are looked at: a message is delivered again within moments (its first answer was
        lost with a process that died), never after thousands of others."""
        if self._recent is None:
            start = max(0, self.log.size - RECENT_ENTRIES)
            rows = self.log.select("SELECT seq, body FROM entries WHERE seq >= ? AND "
                                   "kind = 'decision'", (start,)).fetchall()
            self._recent = {}
            for seq, body in rows:
                with suppress(ValueError, TypeError, AttributeError):
                    self._recent[str(json.loads(body).get("message_id") or "")] = int(seq)
        seq = self._recent.get(message_id)
        if seq is None:
            return None
        entry = self.log.entry(seq).record
        if not isinstance(entry, DecisionRecord) or (entry.ori, entry.key, entry.terms) != \
                (query.sender, query.key, tuple(str(f) for f in query.fields)):
            return None  # the same id on another query is no answer to this one
        answering = Answering(self.state, self.driver_ori, self.vehicle_ori, self.records,
                              self.policy.engine.source)
        try:
            return answer_again(query, seq, entry, answering)
        except Exception as error:  # the records' source failed: "try again", logged once
            _log.error("%s: %s answered before, cannot be written again now: %s",
                       self.state, message_id, error)
            answer = Answer(self.state, _group(query), Outcome.ERROR)
            return Result(response_with(query, format_answer(answer), self.driver_ori),
                          Outcome.ERROR, seq, entry.request_id, None, (), answer)

    def _reconcile(self) -> None:
        """Agree the review queue with the log after whatever stopped the last process."""
        answering = Answering(self.state, self.driver_ori, self.vehicle_ori, self.records,
                              self.policy.engine.source)
        filed, closed = reconcile(self.log, self.queue, answering)
        if filed or closed:
            _log.warning("%s: after a stop, %d held requests put on file for review and %d "
                         "reviews closed as the audit log records them", self.state, filed,
                         closed)

    def _on_file(self) -> OnFile | Exception:
        """Court orders and attestations for a batch; an error fails each query of it closed."""
        try:
            return self.registry.on_file()
        except Exception as error:
            return error

    def _sender(self, query: Message) -> _Known:
        """The requester as the directory has it now, as audit entries snapshot it."""
        engine = self.policy.engine
        if engine.snapshot is not self._senders_of or len(self._senders) >= SENDERS_KEPT:
            self._senders, self._senders_of = {}, engine.snapshot
        found = self._senders.get(query.sender)
        if found is None:
            agency = engine.snapshot.get(query.sender)
            found = (agency, None if agency is None else Sender.of(agency),
                     engine.rules.category(agency, self.state) if agency else "unknown")
            self._senders[query.sender] = found
        return found

    def _asked(self, query: Message, message_id: str, now: datetime, multi_state: bool = False,
               *, known: bool = True) -> tuple[_Asked, Agency | None]:
        """The query's facts for its audit entry, and the sender as the directory has it
        (not looked up for a key the state does not answer)."""
        agency, sender, category = self._sender(query) if known else (None, None, "unknown")
        asked = _Asked(
            now.isoformat(timespec="microseconds"), request_id(), message_id, query.sender,
            sender, category, query.key, query.value("RSN") or "", self.state,
            tuple(str(f) for f in query.fields),
            multi_state or len(query.destinations) > 1 or "NL" in query.destinations)
        return asked, agency

    def _prepare(self, query: Message, message_id: str, on_file: OnFile | Exception,
                 multi_state: bool = False) -> _Pending | _Lookup:
        now = datetime.now(UTC)
        spec = spec_for(query.key)
        if spec is None or spec.group is None or \
                (spec.delivered_as or query.key) not in SEARCHES:
            asked, _ = self._asked(query, message_id, now, multi_state, known=False)
            note = f"{self.state} DOES NOT ANSWER {query.key}; SEND DQ DNQ KQ RQ RNQ OR RPQ"
            return _Pending(query, None, note, _Facts(asked).record(Outcome.ERROR),
                            Outcome.ERROR)
        asked, agency = self._asked(query, message_id, now, multi_state)
        try:
            decision, order, ruling = self._decided(query, asked, agency, on_file, now)
        except Exception as error:  # fail closed: no decision means no disclosure
            return self._failed(query, _Facts(asked), error)
        facts = _Facts(asked, ruling)
        verdict = decision.verdict
        if verdict is Verdict.ALLOW:
            return _Lookup(query, decision, facts, spec.group, order=order)
        first = decision.reasons[0] if decision.reasons else None
        policy, reason = (first.policy, first.text) if first else (None, None)
        if verdict is Verdict.REVIEW:
            reference = new_reference(self.state)
            answer = Answer(self.state, spec.group, Outcome.HELD, policy=policy, reason=reason,
                            reference=reference)
            hold = Hold(reference, query.sender, query.key, message_id, dumps(query), decision)
            return _answered(query, answer, facts, hold=hold)
        answer = Answer(self.state, spec.group, Outcome.DENIED, policy=policy, reason=reason)
        return _answered(query, answer, facts)

    def _decided(self, query: Message, asked: _Asked, agency: Agency | None,
                 on_file: OnFile | Exception,
                 now: datetime) -> tuple[Decision, CourtOrder | None, _Ruling]:
        """The decision under the policy, directory and orders in force, the order it rests
        on, and the ruling its entry records: with the order the request was decided with
        (what-if replays it as context.court_order) whether or not the policy needed it."""
        order, attested = None, False
        if agency is not None:
            if isinstance(on_file, Exception):
                raise on_file
            order = on_file.matching_order(agency, lambda: _subject(query, now.date()), now)
            if order is not None:  # the subject as the DMV knows it, which the query must fit
                subject = resolved(order.subject, self.store)
                decoy = subject.conflicts(_subject(query, now.date()))
                order = None if decoy else replace(order, subject=subject)
            attested = on_file.is_attested(agency.ori, now)
        request = Request(query.sender, query.key, asked.reason, asked.multi_state,
                          query.value("IMQ") == "Y", order is not None, attested)
        decision, applied = under_order(self.policy.decide, request, order)
        ruling = _Ruling(tuple(decision.policies), decision.version,
                         order.reference if order else None,
                         tuple(order.subject.identifiers) if order else None)
        return decision, applied, ruling

    def _looked_up(self, lookup: _Lookup, hits: Found) -> _Pending:
        query, decision, facts, group, reference, order = lookup
        try:
            if isinstance(hits, Exception):
                raise hits
            if order is not None:
                mine = of_subject(hits, order.subject, _subject(query, datetime.now(UTC).date()))
                facts = facts._replace(undisclosed=len(hits) - len(mine))
                hits = mine
            found: Release = release(hits, decision, group)
        except TermsError as error:  # the requester's terms: a reject naming the field
            return self._rejected(query, facts, error)
        except Exception as error:  # the records' source failed: "try again", still audited
            return self._failed(query, facts, error, reference)
        note = (f"COURT ORDER {order.reference}: RECORDS OF ITS SUBJECT ONLY, ELEMENTS IT NAMES"
                if order is not None else None)
        if not found.records:
            answer = Answer(self.state, group, Outcome.NO_RECORD, reference=reference,
                            note=note)
            return _answered(query, answer, facts)
        outcome = Outcome.PARTIAL if found.withheld else Outcome.RELEASED
        answer = Answer(self.state, group, outcome, found.records, reference=reference,
                        note=note)
        unmapped = (UNMAPPED,) if found.unmapped else ()
        disclosed = _Disclosed(tuple(decision.released), (*decision.withheld, *unmapped),
                               found.record_ids, bool(found.photos))
        return _answered(query, answer, facts, disclosed, photos=found.photos)

    def _rejected(self, query: Message, facts: _Facts, error: TermsError) -> _Pending:
        """The requester's error, answered as the reject that names it, never "try again"."""
        reject = error.with_context(key=query.key,
                                     original=" ".join(str(f) for f in query.fields))
        record = facts.record(Outcome.ERROR, reject=reject.code.value,
                              error="requester: " + " ".join(reject.detail))
        return _Pending(query, _group(query), reject.text, record, Outcome.ERROR,
                        reference=facts.reference)

    def _failed(self, query: Message, facts: _Facts, error: Exception,
                reference: str | None = None) -> _Pending:
        answer = Answer(self.state, _group(query), Outcome.ERROR, reference=reference)
        return _answered(query, answer, facts, error=f"{type(error).__name__}: {error}")

    def _commit(self, pending: list[_Pending], *, notify: bool = True) -> list[Result]:
        """Audit before response: nothing is built until every entry is durable. Held
        requests go on file for review only after their entries commit, so no request can
        be reviewed (and released) that the log does not show held. A review's notices wait
        (`notify`) until its queue transaction has committed: the notice book shares state.db,
        and would wait on that transaction's lock and fail."""
        seqs = self.log.append_many([p.record.for_log() for p in pending])
        if self._recent is not None:
            self._recent.update((p.record.message_id, seq)
                                for p, seq in zip(pending, seqs, strict=True)
                                if p.record.message_id and isinstance(p.record, DecisionRecord))
            if len(self._recent) > 2 * RECENT_ENTRIES:  # the newest, in the order logged
                self._recent = dict(list(self._recent.items())[-RECENT_ENTRIES:])
        holds = [(i, p.hold) for i, p in enumerate(pending) if p.hold is not None]
        if holds:
            at("held-logged")
            self._file(holds, pending, seqs)
        if notify:
            self._queue_notices(pending, seqs)
        self.log.maybe_sign(SIGN_EVERY_ENTRIES, SIGN_EVERY_SECONDS)
        return [self._result(p, seq) for p, seq in zip(pending, seqs, strict=True)]

    def _queue_notices(self, pending: list[_Pending], seqs: list[int],
                       requested: datetime | None = None) -> None:
        if self.notices.duty is not None:
            self._notify([(seq, _Owed(p.record, requested))
                          for p, seq in zip(pending, seqs, strict=True)])

    def _notify(self, entries: list[tuple[int, _Owed]]) -> bool:
        """Queue the notices the state's duty asks for, those owed from before first. A notice
        that cannot be queued now (another writer held state.db past the book's bounded wait)
        does not hold back an answer already audited: it is owed, and tried again with the
        next batch and as the gateway stops; the progress mark stays before it, so a start
        after a crash puts it through. True when nothing is owed."""
        owed = sorted({**self._owed, **dict(entries)}.items())
        self._owed = {}
        now = datetime.now(UTC)
        for place, (seq, (record, requested)) in enumerate(owed):
            try:
                self.notices.queue_for(seq, record, self.store, now, requested)
            except Exception as error:  # one wait per batch: the rest stay owed untried
                _log.error("%s: notice for audit entry %d not queued yet (tried again with "
                           "the next batch): %s", self.state, seq, error)
                self._owed = dict(owed[place:][:NOTICES_OWED_KEPT])
                self._dropped = self._dropped or len(owed) - place > NOTICES_OWED_KEPT
                break
        newest = max((seq for seq, _ in owed), default=None)
        due = time.monotonic() - self._noticed_at >= NOTICE_PROGRESS_SECONDS
        if newest is not None and due and not self._dropped:
            with suppress(Exception):  # progress is only a place to resume from
                self.notices.mark_examined(min(self._owed) - 1 if self._owed else newest)
                self._noticed_at = time.monotonic()
        return not self._owed

    def _catch_up_notices(self) -> None:
        """Entries audited since the progress mark (a crash lost their notices) are put
        through again; a duty configured for the first time starts from now."""
        if self.notices.duty is None:
            return
        examined = self.notices.examined()
        if examined is None:
            self.notices.mark_examined(self.log.size - 1)
            return
        tail = self.log.since(examined, (EntryKind.DECISION, EntryKind.REVIEW))
        requests = []
        for entry in tail:
            try:
                requests.append((entry.seq, _Owed(request_of(entry))))
            except RecordError as error:  # a damaged entry names no one; `verify` names it
                _log.error("%s: audit entry %d owes no notice: %s", self.state, entry.seq, error)
        if self._notify(requests):
            self.notices.mark_examined(self.log.size - 1)

    def _file(self, holds: list[tuple[int, Hold]], pending: list[_Pending],
              seqs: list[int]) -> None:
        """Put held requests on file. If that fails, each is answered as an error instead,
        with an audit entry of its own (naming its reference, so the held entry before it is
        accounted for) committed first."""
        try:
            self.queue.hold_many([hold for _, hold in holds])
            return
        except Exception as error:
            failed = {i: self._unfiled(pending[i], error) for i, _ in holds}
        added = self.log.append_many([p.record.for_log() for p in failed.values()])
        for (i, instead), seq in zip(failed.items(), added, strict=True):
            pending[i], seqs[i] = instead, seq

    def _unfiled(self, held: _Pending, error: Exception) -> _Pending:
        """A held request that could not go on file, answered as an error; its entry is the
        held one's with that outcome, so it names the reference."""
        record = replace(held.record, outcome=Outcome.ERROR.value,
                         error=f"{type(error).__name__}: {error}")
        answer = Answer(self.state, _group(held.query), Outcome.ERROR)
        return _Pending(held.query, answer.group, format_answer(answer), record, Outcome.ERROR,
                        answer=answer)

    def _result(self, pending: _Pending, seq: int) -> Result:
        query = pending.query
        if pending.group is None:
            response = Message("AM", self.driver_ori, (query.sender,), query.control,
                               body=pending.text)
        else:
            ori = self.vehicle_ori if pending.group == "vehicle" else self.driver_ori
            response = response_with(query, pending.text, ori)
        return Result(response, pending.outcome, seq, pending.record.request_id,
                      pending.reference, pending.photos, pending.answer)


def _answered(query: Message, answer: Answer, facts: _Facts,
              disclosed: _Disclosed = NOTHING, *, photos: tuple[bytes, ...] = (),
              hold: Hold | None = None, error: str | None = None) -> _Pending:
    """A query with its answer written out and its entry's record built, outcome and all."""
    record = facts.record(answer.outcome, disclosed, hold=hold, error=error)
    reference = hold.reference if hold is not None else facts.reference
    return _Pending(query, answer.group, format_answer(answer), record, answer.outcome,
                    photos=photos, reference=reference, hold=hold, answer=answer)


_UUID_FIXED = 0xF000 << 64 | 0xC000 << 48
_UUID_4 = 0x4000 << 64 | 0x8000 << 48


def request_id() -> str:
    """A random (version 4) UUID as 32 hex digits, as uuid.uuid4().hex spells it, without
    building a UUID object."""
    bits = int.from_bytes(os.urandom(16)) & ~_UUID_FIXED | _UUID_4
    return f"{bits:032x}"


def _group(query: Message) -> str:
    spec = spec_for(query.key)
    return spec.group if spec is not None and spec.group else "driver"


def _subject(query: Message, today: date) -> Subject:
    """Who the query asks about, by every identifier it carries, for matching court orders;
    a query with an unreadable DOB matches none. RPQ's plate is a pattern, not a plate."""
    dob = query.value("DOB")
    try:
        born = birth_date(dob, today) if dob else None
    except ValueError:
        return Subject()
    plate = query.value("LIC") or ""
    partial = query.key == "RPQ"
    return Subject(query.value("OLN") or "", query.value("NAM") or "", born,
                   "" if partial else plate, query.value("VIN") or "",
                   pattern=plate if partial else "")


def _records(data: DataDir, state: str, oris: tuple[str, str]) -> Records:
    """The state's own DMV store, or with config.toml `[dmv] upstream` its DMV responder (no
    local store is opened, or needed, then)."""
    upstream = upstream_settings(data, state)
    if upstream is None:
        url = data.dmv_url(state)
        return StoreRecords(open_store(url), f"the DMV store {url}")
    return Proxy(upstream, state, oris)


def gateway_oris(data: DataDir, state: str) -> tuple[str, str]:
    """The driver and vehicle ORIs answers come from: config.toml `[gateway]`, else defaults."""
    gateway = state_config(data, state, "gateway")
    return (str(gateway.get("driver_ori", f"{state}OLN0000")),
            str(gateway.get("vehicle_ori", f"{state}LIC0000")))


__all__ = ["Gateway", "GatewayError", "Result", "ReviewError"]
