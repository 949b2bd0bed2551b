"""Where each query field sits in Nlets XML (NIEM): one table, read by the writer and by the
reader, with no I/O. How each value is spelled there is xmlspellings.py.

Paths follow the guide's element dictionaries (nlets-protocol.md §3.4, §4.2): the reason code
in ``n2:ReasonCode``, the person in ``n2:Person`` (``n2c:Driver`` for KQ) with
``nc:PersonBirthDate/nc:Date`` and the name in parts, the plate in
``nc:Vehicle/nc:ConveyanceRegistrationPlateIdentification``, the VIN in
``nc:Vehicle/nc:VehicleIdentification`` (as a public XSLT for Nlets XML reads it). The guide
pages read did not show the license number's, the sex's, the make's, the model year's and the
photo request's paths; those follow NIEM 2.0 (``j:PersonAugmentation/nc:DriverLicense``,
``nc:PersonSexCode``, ``nc:ItemMakeName``, ``nc:ItemModelYearDate``) and, for IMQ, the
guide's naming style (``n2:ImageRequestIndicator``).

XML has one order and one spelling per value; legacy text has several (a six-digit DOB, a
two-digit plate year, a space after the name's comma, fields in any order). What the elements
cannot say, the data element's ``st:text`` attribute says: the fields as legacy text, which a
reader takes only when it describes exactly the query the elements hold. A six-digit DOB's
century is the writer's choice on its day, so ``st:day`` records that day: a reader on another
day, or in another time zone, checks the elements against the same century.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .errors import Reject, RejectCode
from .keys import spec_for
from .model import Field, read_fields
from .xmlspellings import Parts, spelling
from .xmltree import Node, clark, short

CANONICAL = ("OLN", "NAM", "DOB", "SEX", "LIC", "LIY", "LIT", "VIN", "VMA", "VYR",
             "RSN", "PUR", "ATN", "IMQ")
"""The order the reader gives fields in: what identifies first, as agencies type it."""

Attributes = tuple[tuple[str, str], ...]
_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")

PERSON = "{person}"
"""Stands for the key's person element in a path."""
PEOPLE = {"KQ": "n2c:Driver"}
"""The person element by key; any other key's is n2:Person."""
LEGACY, DAY = "st:text", "st:day"


@dataclass(frozen=True, slots=True)
class Place:
    """Where one field (or one part of it) sits below the data element."""

    prefix: str
    path: tuple[str, ...]
    part: str = ""


_PLATE = ("nc:Vehicle", "nc:ConveyanceRegistrationPlateIdentification")
_LICENSE = ("j:PersonAugmentation", "nc:DriverLicense", "nc:DriverLicenseIdentification",
            "nc:IdentificationID")

PLACES = (
    Place("RSN", ("n2:ReasonCode",)),
    Place("PUR", ("n2:PurposeCode",)),
    Place("ATN", ("n2:ResponseAttentionDescriptionText",)),
    Place("DOB", (PERSON, "nc:PersonBirthDate", "nc:Date")),
    Place("NAM", (PERSON, "nc:PersonName", "nc:PersonGivenName"), "given"),
    Place("NAM", (PERSON, "nc:PersonName", "nc:PersonMiddleName"), "middle"),
    Place("NAM", (PERSON, "nc:PersonName", "nc:PersonSurName"), "sur"),
    Place("SEX", (PERSON, "nc:PersonSexCode")),
    Place("OLN", (PERSON, *_LICENSE)),
    Place("VMA", ("nc:Vehicle", "nc:ItemMakeName")),
    Place("VYR", ("nc:Vehicle", "nc:ItemModelYearDate")),
    Place("LIC", (*_PLATE, "nc:IdentificationID")),
    Place("LIT", (*_PLATE, "nc:IdentificationCategoryText")),
    Place("LIY", (*_PLATE, "nc:IdentificationExpirationDate", "nc:Year")),
    Place("VIN", ("nc:Vehicle", "nc:VehicleIdentification", "nc:IdentificationID")),
    Place("IMQ", ("n2:ImageRequestIndicator",)),
)
"""Every place, in the order NIEM's types put the elements."""


@lru_cache(maxsize=256)
def _resolved(place: Place, key: str) -> tuple[str, ...]:
    person = PEOPLE.get(key, "n2:Person")
    return tuple(person if step == PERSON else step for step in place.path)


@lru_cache(maxsize=64)
def _places(key: str) -> dict[tuple[str, ...], Place]:
    """Each place of the key, by its path in ElementTree names (remembered: a few keys recur
    in every message; callers only read it)."""
    return {tuple(map(clark, _resolved(place, key))): place for place in PLACES}


def _position(prefix: str) -> int:
    if prefix not in CANONICAL:
        raise Reject(RejectCode.FORMAT, f"{prefix} HAS NO PLACE IN NLETS XML")
    return CANONICAL.index(prefix)


# --- Reading ------------------------------------------------------------------------------


def read_query(data: ET.Element, key: str, today: date | None = None) -> tuple[Field, ...]:
    """The fields a query's data element holds: from its elements, in canonical order, or as
    its ``st:text`` spells them when that names the same query. `today`, when given, is the
    day the writer settled a six-digit DOB's century on; otherwise ``st:day`` says it."""
    places = _places(key)
    parts: dict[str, Parts] = {}
    for path, text in _leaves(data, ()):
        place = places.get(path)
        if place is None:
            spec = spec_for(key)
            raise Reject(RejectCode.FORMAT, f"{'/'.join(map(short, path))} IS NOT A {key} FIELD",
                         *(spec.options_text() if spec else ()))
        parts.setdefault(place.prefix, {})[place.part] = text
    fields = tuple(sorted((Field(prefix, spelling(prefix).read(found))
                           for prefix, found in parts.items()),
                          key=lambda item: _position(item.prefix)))
    legacy = data.get(clark(LEGACY))
    return fields if legacy is None else _spelled(fields, legacy, today or _day(data))


def _leaves(element: ET.Element, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each leaf below an element, by path, with its text; an element repeated among its
    siblings, or text beside elements, is refused (XML holds one of each field)."""
    seen: set[str] = set()
    if (element.text or "").strip():
        raise Reject(RejectCode.STRUCTURE, f"{short(element.tag)} HOLDS TEXT BESIDE ELEMENTS")
    for child in element:
        if child.tag in seen:
            raise Reject(RejectCode.FORMAT, f"{short(child.tag)} IS REPEATED")
        seen.add(child.tag)
        if (child.tail or "").strip():
            raise Reject(RejectCode.STRUCTURE, f"TEXT AFTER {short(child.tag)}")
        if len(child):
            yield from _leaves(child, (*path, child.tag))
        else:
            yield (*path, child.tag), (child.text or "").strip()


def _day(data: ET.Element) -> date:
    """The day the writer settled a six-digit DOB's century on; from a writer that records
    none, the reader's own."""
    written = data.get(clark(DAY))
    if written is None:
        return date.today()
    try:
        if _ISO_DATE.fullmatch(written):
            return date.fromisoformat(written)
    except ValueError:
        pass
    raise Reject(RejectCode.FORMAT, f"{DAY} {written[:12]} IS NOT A YYYY-MM-DD DATE")


def _spelled(fields: tuple[Field, ...], legacy: str, today: date) -> tuple[Field, ...]:
    spelled = read_fields(legacy)
    ordered = sorted(spelled, key=lambda item: _position(item.prefix))
    if len(ordered) != len(fields) or any(
            mine.prefix != held.prefix
            or not spelling(mine.prefix).names(mine.value, held.value, today)
            for mine, held in zip(ordered, fields, strict=False)):
        raise Reject(RejectCode.FORMAT, "st:text DOES NOT SPELL THE QUERY ITS ELEMENTS HOLD")
    return spelled


# --- Writing ------------------------------------------------------------------------------


def query_nodes(key: str, fields: tuple[Field, ...], today: date) -> tuple[tuple[Node, ...],
                                                                          Attributes]:
    """A query's fields as the data element's children, and its attributes: their legacy
    spelling when the elements alone would read back otherwise (order, or a value NIEM spells
    one way only), with the day when that day chose how a value is written."""
    written: dict[str, Parts] = {}
    for item in fields:
        _position(item.prefix)
        if item.prefix in written:
            raise Reject(RejectCode.FORMAT, f"{item.prefix} IS REPEATED; XML HOLDS ONE")
        written[item.prefix] = spelling(item.prefix).write(item.value, today)
    leaves = [(_resolved(place, key), written[place.prefix][place.part]) for place in PLACES
              if place.part in written.get(place.prefix, {})]
    read_back = tuple(sorted((Field(prefix, spelling(prefix).read_back(parts))
                             for prefix, parts in written.items()),
                            key=lambda item: _position(item.prefix)))
    if read_back == fields:
        return _tree(leaves), ()
    dated = any(spelling(item.prefix).dated(item.value) for item in fields)
    return _tree(leaves), ((LEGACY, ".".join(map(str, fields))),
                           *(((DAY, today.isoformat()),) if dated else ()))


def _tree(leaves: list[tuple[tuple[str, ...], str]]) -> tuple[Node, ...]:
    """Nodes for leaves given by path, sharing each container, in the order first named."""
    groups: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for path, text in leaves:
        groups.setdefault(path[0], []).append((path[1:], text))
    return tuple(Node(name, text=items[0][1]) if not items[0][0] else
                 Node(name, children=_tree(items)) for name, items in groups.items())
