"""Who a request was about, with the name and address on record: the people a notice goes to.

Disclosed records name them exactly (an OLN for a driver, a VIN whose registered owner is found).
A request that disclosed nothing names them only if its terms do, by license number, VIN or a
full plate; a name (with or without a date of birth) is matched by sound and could reach the
wrong person, so it identifies nobody and the request is recorded as a gap instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ..audit.records import RequestRecord
from ..dmv import DmvStore, parse_name
from ..dmv.records import Hit
from ..protocol.keys import KEYS

NONE = "NONE"
DISCLOSED = ("released", "partial")
GROUPS: dict[str, str] = {key: spec.group for key, spec in KEYS.items() if spec.group}
"""Which record a message key asks for: driver, history or vehicle."""


@dataclass(frozen=True, slots=True)
class Addressee:
    """A person as the DMV has them on the day the notice is queued (a snapshot)."""

    oln: str
    name: str
    """LAST,FIRST MIDDLE as on the license record."""
    street: str
    city: str
    state: str
    zip: str

    @property
    def mailing_name(self) -> str:
        """FIRST MIDDLE LAST SUFFIX, the way an envelope reads, spelled as on record."""
        last, _, given = self.name.partition(",")
        words = given.split()
        suffix = parse_name(self.name).suffix
        tail = [words.pop()] if suffix and words and words[-1] == suffix else []
        return " ".join([*words, last.strip(), *tail]) or self.name

    @property
    def lines(self) -> tuple[str, str]:
        """The two address lines under the name."""
        return self.street, f"{self.city} {self.state} {self.zip}".strip()


@dataclass(frozen=True, slots=True)
class Subjects:
    """The people a request concerned, or why none could be told."""

    people: tuple[Addressee, ...]
    gap: str | None = None


def _value(hit: Hit, element: str, prefix: str) -> str:
    for item in hit.elements.get(element, ()):
        if item.prefix == prefix and item.value != NONE:
            return item.value
    return ""


def _addressee(hit: Hit) -> Addressee:
    def get(element: str, prefix: str) -> str:
        return _value(hit, element, prefix)

    return Addressee(hit.record_id, get("identity", "NAM"), get("address", "ADR"),
                     get("address", "CTY"), get("address", "STA"), get("address", "ZIP"))


def driver(store: DmvStore, oln: str) -> Addressee | None:
    hits = store.by_oln(oln)
    return _addressee(hits[0]) if hits else None


def owner(store: DmvStore, vin: str) -> Addressee | None:
    """The license holder registered as a vehicle's owner, when exactly one fits.

    The store's interface gives a vehicle's owner by name only, so candidates are the drivers
    with that name, kept when an owner search with their date of birth finds this VIN.
    """
    vehicles = store.by_vin(vin)
    name = _value(vehicles[0], "registration", "OWN") if vehicles else ""
    if not name:
        return None
    wanted = parse_name(name)
    found: dict[str, Hit] = {}
    checked: dict[str, bool] = {}
    for hit in store.by_name(name):
        born = _value(hit, "identity", "DOB")
        if born not in checked:
            checked[born] = _owns(store, name, born, vin)
        if checked[born]:
            found[hit.record_id] = hit
    if len(found) > 1:  # two people with one name and birthday: keep an exact spelling
        exact = [h for h in found.values()
                 if parse_name(_value(h, "identity", "NAM"))[:2] == wanted[:2]]
        found = {h.record_id: h for h in exact}
    return _addressee(next(iter(found.values()))) if len(found) == 1 else None


def _owns(store: DmvStore, name: str, born: str, vin: str) -> bool:
    try:
        dob = date(int(born[:4]), int(born[4:6]), int(born[6:8]))
    except ValueError:
        return False
    return any(hit.record_id == vin for hit in store.by_owner(name, dob))


def _terms(terms: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for term in terms:
        prefix, _, value = term.partition("/")
        found.setdefault(prefix.strip().upper(), value.strip())
    return found


def subjects(request: RequestRecord, store: DmvStore) -> Subjects:
    """The people an audit entry's request concerned (see the module docstring for who)."""
    group = GROUPS.get(request.key, "")
    records = request.records
    if request.outcome in DISCLOSED and records:
        find = owner if group == "vehicle" else driver
        found = [find(store, r) for r in records]
        people = [p for p in found if p is not None]
        missed = len(found) - len(people)
        gap = f"{missed} disclosed record(s) named no license holder on file" if missed else None
        return _unique(people, gap)
    terms = _terms(request.terms)
    if terms.get("OLN"):
        return _one(driver(store, terms["OLN"]), f"OLN/{terms['OLN']} is not on file")
    if terms.get("VIN"):
        return _one(owner(store, terms["VIN"]),
                    f"VIN/{terms['VIN']} has no single registered owner on file")
    if terms.get("LIC") and terms.get("LIY") and terms.get("LIT"):
        hits = store.by_plate(terms["LIC"], terms["LIY"], terms["LIT"])
        return _one(owner(store, hits[0].record_id) if len(hits) == 1 else None,
                    f"plate LIC/{terms['LIC']} has no single registered owner on file")
    return Subjects((), "the request named no license number, VIN or full plate and "
                        "disclosed no record, so no person could be identified")


def _one(person: Addressee | None, gap: str) -> Subjects:
    return Subjects((person,)) if person else Subjects((), gap)


def _unique(people: Iterable[Addressee], gap: str | None) -> Subjects:
    """One notice per person per request, whatever number of their records it touched."""
    seen: dict[str, Addressee] = {}
    for person in people:
        seen.setdefault(person.oln, person)
    return Subjects(tuple(seen.values()), gap)
