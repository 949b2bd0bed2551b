"""What a start does after a crash, so the audit log and the review queue agree whatever
moment the last process died: a held entry without its queue row is put on file, and a
review entry whose request is still open closes it as recorded and files its late answer.

The log (audit.db or PostgreSQL) and the queue (state.db) are two databases, so the pairs
cannot share a commit; each is written log first, and this puts the second half right.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..audit import AuditLog
from ..audit.records import REFUSED, DecisionRecord, RecordError, RequestRecord, ReviewRecord, parse
from ..policy.engine import Decision, Reason, Verdict
from ..policy.schema import DELIVERED_AS
from ..policy.source import PolicySource
from ..protocol import Answer, Field, Message, Outcome, dumps, format_answer, loads, spec_for
from ..protocol.responses import response_with
from .lookup import Ask, Records, release
from .review import Held, Hold, ReviewQueue

if TYPE_CHECKING:
    from .pipeline import Result

REVIEW_DENIED = "review-denied"


def _no_fault(step: str) -> None:
    """No fault: the default."""


fault: Callable[[str], None] = _no_fault
"""Called with a step's name where a crash would leave one write of a pair done; tests set it
to end the process there ("held-logged", "review-logged")."""


def at(step: str) -> None:
    fault(step)


@dataclass(frozen=True, slots=True)
class Answering:
    """What a late answer is written with: the state, its answering ORIs, its records (its
    store, or its DMV responder), and the policy text whose reasons a rebuilt hold names."""

    state: str
    driver_ori: str
    vehicle_ori: str
    records: Records
    source: PolicySource


def reconcile(log: AuditLog, queue: ReviewQueue, answering: Answering) -> tuple[int, int]:
    """Bring the queue into agreement with the log's entries since the last agreement;
    (requests put on file, reviews closed)."""
    filed = closed = 0
    with queue.settling():
        size = log.size
        held, failed, reviews = _tail(log, queue.reconciled(), size)
        statuses = queue.statuses(list(held) + list(reviews))
        missing = [entry for ref, entry in held.items()
                   if ref not in statuses and ref not in failed]
        for entry in missing:
            queue.put_back([_hold(entry, answering.source)], entry.when)
            filed += 1
        for reference, (seq, review) in reviews.items():
            if statuses.get(reference) != "held":
                continue
            found = queue.get(reference)
            queue.close_out(reference, review.review or _status(review), review.reviewer)
            query = loads(found.message)
            queue.file_late(found, query.sender, late_answer(query, found, seq, review,
                                                             answering))
            closed += 1
        queue.mark_reconciled(size)
    return filed, closed


def _tail(log: AuditLog, start: int, size: int) -> tuple[
        dict[str, DecisionRecord], set[str], dict[str, tuple[int, ReviewRecord]]]:
    """Held entries, references whose hold failed, and reviews (first per reference, a
    refused release excepted) among entries start..size."""
    held: dict[str, DecisionRecord] = {}
    failed: set[str] = set()
    reviews: dict[str, tuple[int, ReviewRecord]] = {}
    for seq, entry in _entries(log, start, size):
        reference = entry.reference
        if reference is None:
            continue
        if isinstance(entry, ReviewRecord):
            if entry.outcome != REFUSED:
                reviews.setdefault(reference, (seq, entry))
        elif isinstance(entry, DecisionRecord) and entry.outcome == "held":
            held[reference] = entry
        else:
            failed.add(reference)
    return held, failed, reviews


def _entries(log: AuditLog, start: int, size: int) -> Iterator[tuple[int, RequestRecord]]:
    rows = log.select(
        "SELECT seq, kind, body FROM entries WHERE seq >= ? AND seq < ? AND "
        "(kind = 'review' OR (kind = 'decision' AND body LIKE ?)) ORDER BY seq",
        (start, size, '%"reference":"%'))
    for seq, kind, text in rows.fetchall():
        try:
            entry = parse(str(kind), json.loads(text))
        except (ValueError, RecordError):
            continue  # a damaged row; `verify` names it
        if isinstance(entry, RequestRecord):
            yield int(seq), entry


def _status(review: RequestRecord) -> str:
    """A review's status from an entry written before entries said which review it was."""
    return "denied" if review.outcome == "denied" and not review.policies else "released"


def _hold(entry: RequestRecord, source: PolicySource) -> Hold:
    """The queue row a held entry stands for, rebuilt from what the entry recorded."""
    key, ori = entry.key, entry.ori
    message = entry.message
    if message is None:
        fields = tuple(Field(*term.split("/", 1)) for term in entry.terms)
        message = dumps(Message(key, ori, (entry.destination,), None, fields))
    reasons = []
    for policy_id in entry.policies:
        policy = source.policy(policy_id)
        reasons.append(Reason(policy_id, policy.reason if policy else ""))
    decision = Decision(Verdict.REVIEW, DELIVERED_AS.get(key, key), reasons=tuple(reasons),
                        version=entry.policy_version)
    return Hold(entry.reference or "", ori, key, entry.message_id, message, decision)


def denial(state: str, group: str, reference: str) -> Answer:
    """A coordinator's denial of a held request, as the requester reads it."""
    return Answer(state, group, Outcome.DENIED, policy=REVIEW_DENIED, reference=reference,
                  reason=f"A {state} coordinator reviewed this request and denied it.")


def late_answer(query: Message, held: Held, seq: int, review: ReviewRecord,
                answering: Answering) -> Result:
    """The late answer a review entry records, written again: a denial, or the records it
    names cut to the elements it names."""
    group = _group_of(query)
    if Outcome(review.outcome) is Outcome.DENIED:
        return _result(query, denial(answering.state, group, held.reference), review, seq,
                       answering)
    return _recorded(query, review, seq, answering, held.decision.action, held.reference)


def answer_again(query: Message, seq: int, entry: RequestRecord,
                 answering: Answering) -> Result:
    """A query's answer as its decision entry records it, for the same message delivered
    again (its first answer was lost with the process that gave it): the same outcome,
    policy and reason, the records the entry names cut to the elements it released. Nothing
    is decided again and nothing is logged again."""
    group = _group_of(query)
    outcome, state = Outcome(entry.outcome), answering.state
    if outcome in (Outcome.DENIED, Outcome.HELD):
        policy = entry.policies[0] if entry.policies else None
        found = answering.source.policy(policy) if policy else None
        answer = Answer(state, group, outcome, policy=policy,
                        reason=found.reason if found else None, reference=entry.reference)
        return _result(query, answer, entry, seq, answering)
    note = (f"COURT ORDER {entry.court_order}: RECORDS OF ITS SUBJECT ONLY, ELEMENTS IT NAMES"
            if entry.court_order and entry.court_order_subject else None)
    return _recorded(query, entry, seq, answering, DELIVERED_AS.get(query.key, query.key),
                     entry.reference, note)


def _recorded(query: Message, entry: RequestRecord, seq: int, answering: Answering,
              action: str, reference: str | None, note: str | None = None) -> Result:
    """The records an entry names, cut to the elements it released, under its outcome."""
    group, state = _group_of(query), answering.state
    outcome = Outcome(entry.outcome)
    if outcome not in (Outcome.RELEASED, Outcome.PARTIAL):
        return _result(query, Answer(state, group, outcome, reference=reference, note=note),
                       entry, seq, answering)
    decision = Decision(Verdict.ALLOW, action, entry.released, entry.withheld)
    (found_hits,) = answering.records.fetch([Ask(query, decision)])
    if isinstance(found_hits, Exception):  # the caller answers "try again"; nothing is lost
        raise found_hits
    hits = [h for h in found_hits if h.record_id in entry.records]
    found = release(hits, decision, group)
    answer = Answer(state, group, outcome, found.records, reference=reference, note=note)
    return _result(query, answer, entry, seq, answering,
                   found.photos if entry.photo_released else ())


def _group_of(query: Message) -> str:
    spec = spec_for(query.key)
    return spec.group if spec is not None and spec.group else "driver"


def _result(query: Message, answer: Answer, entry: RequestRecord, seq: int,
            answering: Answering, photos: tuple[bytes, ...] = ()) -> Result:
    from .pipeline import Result

    ori = answering.vehicle_ori if answer.group == "vehicle" else answering.driver_ori
    return Result(response_with(query, format_answer(answer), ori), answer.outcome, seq,
                  entry.request_id, answer.reference, photos, answer)
