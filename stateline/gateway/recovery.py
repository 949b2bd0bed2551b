"""What a start does after a crash, so the audit log and the review queue agree whatever
moment the last process died: a held entry without its queue row is put on file, and a
review entry whose request is still open closes it as recorded and files its late answer.

The log (audit.db or PostgreSQL) and the queue (state.db) are two databases, so the pairs
cannot share a commit; each is written log first, and this puts the second half right.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..audit import AuditLog
from ..dmv import DmvStore
from ..policy.engine import Decision, Reason, Verdict
from ..policy.schema import DELIVERED_AS
from ..policy.source import PolicySource
from ..protocol import Answer, Field, Message, Outcome, dumps, format_answer, loads, spec_for
from ..protocol.responses import response_with
from .lookup import release, search
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
    """What a late answer is written with: the state, its answering ORIs, its store, and the
    policy text whose reasons a rebuilt hold names."""

    state: str
    driver_ori: str
    vehicle_ori: str
    store: DmvStore
    source: PolicySource


def reconcile(log: AuditLog, queue: ReviewQueue, answering: Answering) -> tuple[int, int]:
    """Bring the queue into agreement with the log's entries since the last agreement;
    (requests put on file, reviews closed)."""
    filed = closed = 0
    with queue.settling():
        size = log.size
        held, failed, reviews = _tail(log, queue.reconciled(), size)
        statuses = queue.statuses(list(held) + list(reviews))
        missing = [body for ref, body in held.items()
                   if ref not in statuses and ref not in failed]
        for body in missing:
            queue.put_back([_hold(body, answering.source)],
                           datetime.fromisoformat(str(body["time"])))
            filed += 1
        for reference, (seq, body) in reviews.items():
            if statuses.get(reference) != "held":
                continue
            found = queue.get(reference)
            status = str(body.get("review") or _status(body))
            queue.close_out(reference, status, str(body.get("reviewer", "")))
            query = loads(found.message)
            queue.file_late(found, query.sender, late_answer(query, found, seq, body,
                                                             answering))
            closed += 1
        queue.mark_reconciled(size)
    return filed, closed


def _tail(log: AuditLog, start: int, size: int) -> tuple[
        dict[str, Mapping[str, Any]], set[str], dict[str, tuple[int, Mapping[str, Any]]]]:
    """Held entries, references whose hold failed, and reviews (first per reference, a
    refused release excepted) among entries start..size."""
    held: dict[str, Mapping[str, Any]] = {}
    failed: set[str] = set()
    reviews: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for seq, kind, body in _entries(log, start, size):
        reference = body.get("reference")
        if not isinstance(reference, str):
            continue
        outcome = body.get("outcome")
        if kind == "decision" and outcome == "held":
            held[reference] = body
        elif kind == "decision":
            failed.add(reference)
        elif outcome != "refused":
            reviews.setdefault(reference, (seq, body))
    return held, failed, reviews


def _entries(log: AuditLog, start: int,
             size: int) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    rows = log.select(
        "SELECT seq, kind, body FROM entries WHERE seq >= ? AND seq < ? AND "
        "(kind = 'review' OR (kind = 'decision' AND body LIKE ?)) ORDER BY seq",
        (start, size, '%"reference":"%'))
    for seq, kind, text in rows.fetchall():
        try:
            body = json.loads(text)
        except ValueError:
            continue  # a damaged row; `verify` names it
        if isinstance(body, dict):
            yield int(seq), str(kind), body


def _status(body: Mapping[str, Any]) -> str:
    """A review's status from an entry written before entries said which review it was."""
    return "denied" if body.get("outcome") == "denied" and not body.get("policies") \
        else "released"


def _hold(body: Mapping[str, Any], source: PolicySource) -> Hold:
    """The queue row a held entry stands for, rebuilt from what the entry recorded."""
    key, ori = str(body["key"]), str(body["ori"])
    message = body.get("message")
    if not isinstance(message, str):
        fields = tuple(Field(*str(term).split("/", 1)) for term in body.get("terms", ()))
        message = dumps(Message(key, ori, (str(body["destination"]),), None, fields))
    reasons = []
    for policy_id in body.get("policies", ()):
        policy = source.policy(str(policy_id))
        reasons.append(Reason(str(policy_id), policy.reason if policy else ""))
    decision = Decision(Verdict.REVIEW, DELIVERED_AS.get(key, key), reasons=tuple(reasons),
                        version=str(body.get("policy_version", "")))
    return Hold(str(body["reference"]), ori, key, str(body.get("message_id", "")), message,
                decision)


def denial(state: str, group: str, reference: str) -> Answer:
    """A coordinator's denial of a held request, as the requester reads it."""
    return Answer(state, group, Outcome.DENIED, policy=REVIEW_DENIED, reference=reference,
                  reason=f"A {state} coordinator reviewed this request and denied it.")


def late_answer(query: Message, held: Held, seq: int, body: Mapping[str, Any],
                answering: Answering) -> Result:
    """The late answer a review entry records, written again: a denial, or the records it
    names cut to the elements it names."""
    from .pipeline import Result

    spec = spec_for(query.key)
    group = spec.group if spec is not None and spec.group else "driver"
    outcome = Outcome(str(body["outcome"]))
    photos: tuple[bytes, ...] = ()
    state, reference = answering.state, held.reference
    if outcome is Outcome.DENIED:
        answer = denial(state, group, reference)
    elif outcome in (Outcome.RELEASED, Outcome.PARTIAL):
        decision = Decision(Verdict.ALLOW, held.decision.action,
                            tuple(body.get("released", ())), tuple(body.get("withheld", ())))
        wanted = [str(r) for r in body.get("records", ())]
        hits = [h for h in search(answering.store, query, decision) if h.record_id in wanted]
        found = release(hits, decision, group)
        photos = found.photos if body.get("photo_released") else ()
        answer = Answer(state, group, outcome, found.records, reference=reference)
    else:
        answer = Answer(state, group, outcome, reference=reference)
    ori = answering.vehicle_ori if group == "vehicle" else answering.driver_ori
    return Result(response_with(query, format_answer(answer), ori), outcome, seq,
                  str(body.get("request_id", "")), reference, photos)
