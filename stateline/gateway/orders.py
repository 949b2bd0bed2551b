"""Court orders applied to one query: an order opens only what the policy would not open
without it, only its subject's own records, and only the elements it names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from ..dmv import DmvStore
from ..dmv.records import Hit
from ..policy.engine import Decision, Request, Verdict
from ..policy.registry import CourtOrder, Subject

UNKNOWN = "NONE"
"""How a record spells a value it does not have (dmv.elements)."""


def under_order(decide: Callable[[Request], Decision], request: Request,
                order: CourtOrder | None) -> tuple[Decision, CourtOrder | None]:
    """The decision for a request, and the order it rests on. An order counts only when the
    same request without it would not be allowed; then its elements bound what is released.
    Every step decides with the engine, so an error anywhere fails closed."""
    decision = decide(request)
    if order is None or decision.verdict is Verdict.DENY:
        return decision, None
    without = decide(replace(request, court_order=False))
    if without.verdict is Verdict.ALLOW:
        return without, None
    return narrowed(decision, order.elements), order


def narrowed(decision: Decision, elements: Sequence[str]) -> Decision:
    """The decision with every element the order does not name withheld."""
    released = tuple(e for e in decision.released if e in elements)
    withheld = decision.withheld + tuple(e for e in decision.released if e not in elements)
    return replace(decision, released=released, withheld=withheld)


def record_subject(hit: Hit) -> Subject:
    """Whose record a hit is, by its own identifiers: a driver's OLN, name and DOB; a
    vehicle's VIN, plate and registered owner's OLN."""
    values = {f.prefix: f.value for element in ("identity", "vehicle", "registration")
              for f in hit.elements.get(element, ())}

    def known(prefix: str) -> str:
        value = values.get(prefix, "")
        return "" if value == UNKNOWN else value

    if hit.kind == "driver":
        return Subject(known("OLN"), known("NAM"), _ymd(known("DOB")))
    return Subject(hit.owner, plate=known("LIC"), vin=known("VIN"))


def resolved(subject: Subject, store: DmvStore) -> Subject:
    """An order's subject with the identifiers the DMV holds for it, where exactly one record
    fits: the OLN of a person named by name and DOB (a vehicle record knows its owner only by
    OLN), and the VIN or plate of a vehicle named by the other. A query must agree with all
    of them to benefit from the order."""
    if not subject.oln and subject.name and subject.dob is not None:
        olns = {hit.record_id for hit in store.by_name_dob(subject.name, subject.dob)
                if subject.agrees(record_subject(hit))}
        subject = replace(subject, oln=olns.pop()) if len(olns) == 1 else subject
    if subject.plate and not subject.vin:
        found = [record_subject(hit) for hit in store.by_partial_plate(subject.plate)]
        vins = {record.vin for record in found if record.plate == subject.plate}
        subject = replace(subject, vin=vins.pop()) if len(vins) == 1 else subject
    elif subject.vin and not subject.plate:
        plates = {record_subject(hit).plate for hit in store.by_vin(subject.vin)}
        subject = replace(subject, plate=plates.pop()) if len(plates) == 1 else subject
    return subject


def of_subject(hits: Sequence[Hit], subject: Subject, asked: Subject) -> list[Hit]:
    """The hits that are the subject's own records and agree with every identifier the query
    gave; anyone else's record is not disclosed under an order."""
    found = []
    for hit in hits:
        record = record_subject(hit)
        if subject.agrees(record) and not asked.conflicts(record):
            found.append(hit)
    return found


def _ymd(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else None
    except ValueError:
        return None
