"""Searches by message key and per-element release: what a hit becomes in a response.

One table maps each query key to its search, so a reader finds every key's lookup in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import NamedTuple, Protocol

from ..dmv import DmvStore, Sample
from ..dmv.records import Hit
from ..dmv.store import Batch
from ..policy.engine import Decision
from ..policy.schema import GROUP_ELEMENTS
from ..protocol import Message, Record, Reject, RejectCode, Section, birth_date
from .answers import UNMAPPED, ProxiedHit


class TermsError(Reject):
    """The query's terms cannot be searched (e.g. a DOB that names no date): the requester's
    error, answered as a reject naming the field."""


Search = Callable[[DmvStore, Message, bool], list[Hit]]


def _dob(message: Message, prefix: str = "DOB") -> date | None:
    value = message.value(prefix)
    if value is None:
        return None
    try:
        return birth_date(value, datetime.now(UTC).date())
    except ValueError:
        raise TermsError(RejectCode.DOB, f"{prefix}/{value} IS NOT A DATE",
                         key=message.key) from None


def _required(message: Message, prefix: str) -> str:
    value = message.value(prefix)
    if value is None:
        raise TermsError(RejectCode.MISSING, f"{message.key} NEEDS {prefix}", key=message.key)
    return value


def _person(store: DmvStore, message: Message, photo: bool) -> list[Hit]:
    oln = message.value("OLN")
    if oln:
        return store.by_oln(oln, photo=photo)
    dob = _dob(message)
    if dob is None:
        raise TermsError(RejectCode.MISSING, f"{message.key} NEEDS OLN OR NAM AND DOB",
                         key=message.key)
    return store.by_name_dob(_required(message, "NAM"), dob, message.value("SEX"), photo=photo)


def _name(store: DmvStore, message: Message, photo: bool) -> list[Hit]:
    return store.by_name(_required(message, "NAM"), message.value("SEX"))


def _vehicle(store: DmvStore, message: Message, photo: bool) -> list[Hit]:
    plate, year, kind = (message.value(p) for p in ("LIC", "LIY", "LIT"))
    if plate and year and kind:
        return store.by_plate(plate, year, kind)
    return store.by_vin(_required(message, "VIN"))


def _owner(store: DmvStore, message: Message, photo: bool) -> list[Hit]:
    return store.by_owner(_required(message, "NAM"), _dob(message))


def _partial_plate(store: DmvStore, message: Message, photo: bool) -> list[Hit]:
    return store.by_partial_plate(_required(message, "LIC"), message.value("LIY"),
                                  message.value("LIT"))


SEARCHES: dict[str, Search] = {
    "DQ": _person, "KQ": _person, "DNQ": _name,
    "RQ": _vehicle, "RNQ": _owner, "RPQ": _partial_plate,
}
"""The one search each decided action runs (regional keys arrive decided as DQ or RQ); its keys
are the protocol's query keys, as `policy.schema.QUERY_ACTIONS` derives them (a test holds the
two together)."""


class Ask(NamedTuple):
    """A query decided as allowed, whose records are to be found."""

    query: Message
    decision: Decision


Found = list[Hit] | Exception
"""A query's hits, or why there are none to give: TermsError (the requester's), or any other
error (the records' source failed: answered as "could not answer")."""


class Records(Protocol):
    """Where a gateway's records come from: its own store, or the state's DMV responder. The
    one seam between the two; everything before and after it is the same."""

    source: str
    """What the records come from, as a person reads it."""
    @property
    def store(self) -> DmvStore:
        """The same records as a store, for what the gateway looks up itself: a notice's
        addressee, a court order's subject."""

    def fetch(self, asks: Sequence[Ask]) -> list[Found]:
        """Each query's records, in order; photos found only where the decision releases them
        (the local store) or the query asked for them (a responder)."""

    def close(self) -> None: ...


class StoreRecords:
    """Records from the gateway's own DMV store, searched as the decision's action says."""

    def __init__(self, store: DmvStore, source: str) -> None:
        self.store, self.source = store, source

    def fetch(self, asks: Sequence[Ask]) -> list[Found]:
        found: list[Found] = []
        for ask in asks:
            try:
                found.append(search(self.store, ask.query, ask.decision))
            except Exception as error:
                found.append(error)
        return found

    def close(self) -> None:
        self.store.close()


@dataclass(frozen=True, slots=True)
class Release:
    """What leaves the state for one query: records with withheld elements marked."""

    records: tuple[Record, ...]
    record_ids: tuple[str, ...]
    photos: tuple[bytes, ...]
    unmapped: bool = False
    """Fields its source's field map did not know were withheld."""

    @property
    def withheld(self) -> bool:
        return any(record.withheld for record in self.records)


def search(store: DmvStore, message: Message, decision: Decision) -> list[Hit]:
    """The hits for a query as the decision's action searches them; photos only if released."""
    return SEARCHES[decision.action](store, message, "photo" in decision.released)


def check_terms(message: Message, action: str) -> None:
    """Raise the TermsError the local search would raise for this query's terms, without a
    store: a query forwarded elsewhere is refused for the same reasons."""
    SEARCHES[action](_NO_RECORDS, message, False)


_UNMAPPED = Section(UNMAPPED, withheld=True)


def release(hits: Sequence[Hit], decision: Decision, group: str) -> Release:
    """Each hit cut to the decided elements: released ones with fields, withheld ones marked;
    elements the decision does not mention (a photo nobody asked for) are left out. Fields the
    source's map did not know are withheld whatever the decision, marked as unmapped."""
    plan = _plan(decision.released, decision.withheld, group)
    photo = "photo" in decision.released
    records, photos, unmapped = [], [], False
    for hit in hits:
        sections = []
        for element, mark in plan:
            if mark is not None:
                sections.append(mark)
            elif fields := hit.elements.get(element):
                sections.append(Section(element, fields))
        if isinstance(hit, ProxiedHit) and hit.unmapped:
            sections.append(_UNMAPPED)
            unmapped = True
        records.append(Record(tuple(sections)))
        if photo and hit.photo is not None:
            photos.append(hit.photo)
    return Release(tuple(records), tuple(hit.record_id for hit in hits), tuple(photos),
                   unmapped)


@lru_cache(maxsize=256)
def _plan(released: tuple[str, ...], withheld: tuple[str, ...],
          group: str) -> tuple[tuple[str, Section | None], ...]:
    """The group's elements a decision mentions, in order, each with its withheld mark (one
    shared Section) or None when released; decisions recur, so this is worked out once."""
    return tuple((element, Section(element, withheld=True) if element in withheld else None)
                 for element in GROUP_ELEMENTS[group]
                 if element in released or element in withheld)


class _NoRecords:
    """A store with nothing in it: what `check_terms` runs a search on."""

    def load(self, batches: Iterable[Batch]) -> None:
        raise NotImplementedError

    def by_oln(self, oln: str, *, photo: bool = False) -> list[Hit]:
        return []

    def by_name_dob(self, name: str, dob: date, sex: str | None = None, *,
                    photo: bool = False) -> list[Hit]:
        return []

    def by_name(self, name: str, sex: str | None = None, limit: int = 0) -> list[Hit]:
        return []

    def by_plate(self, plate: str, year: str, plate_type: str) -> list[Hit]:
        return []

    def by_vin(self, vin: str) -> list[Hit]:
        return []

    def by_owner(self, name: str, dob: date | None = None, limit: int = 0) -> list[Hit]:
        return []

    def by_partial_plate(self, pattern: str, year: str | None = None,
                         plate_type: str | None = None, limit: int = 0) -> list[Hit]:
        return []

    def sample(self, n: int, seed: int = 0) -> list[Sample]:
        return []

    def counts(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        """Nothing to close."""


_NO_RECORDS: DmvStore = _NoRecords()
