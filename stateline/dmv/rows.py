"""How records lie in a store: one table of tables, and records turned into rows.

Every text a row carries is made Field-clean here, once, at load (upper-case ASCII, no period,
no control character, no outer blanks), so a search can tag values as protocol fields without
checking them again. Dates are integers ``ccyymmdd``: compact, ordered, and already the text a
field carries. A licence photo lies on its person's row and a registration on its vehicle's:
one read per hit, and fewer rows and indexes for a bulk load to build.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

from .names import Name, clean, format_name, parse_name, sound
from .portrait import SEED_MASK
from .records import HistoryEvent, Person, Photo, Registration, Vehicle
from .store import Batch

Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A table's columns (name: "text" or "int") besides its integer ``id``, and its indexes,
    which a bulk load builds only after the rows are in."""

    name: str
    columns: dict[str, str]
    indexes: tuple[Index, ...]


def _columns(text: str, ints: str = "") -> dict[str, str]:
    kinds = {name: "int" for name in ints.split()}
    return {name: kinds.get(name, "text") for name in text.split()}


_PERSON_TEXTS = ("oln sex eyes hair street city state zip license_class status restrictions"
                 " endorsements ssn")
_VEHICLE_TEXTS = "vin make model style colour"
_REGISTRATION_TEXTS = "plate plate_type owner_oln"
REGISTRATION_COLUMNS = tuple(f"{_REGISTRATION_TEXTS} owner_name owner_last owner_first"
                             " owner_last_key owner_first_key plate_year plate_expires".split())
_HISTORY_TEXTS = "oln kind code description"

PEOPLE = Table("people", _columns(
    f"{_PERSON_TEXTS} nam last_name first_name middle_name name_suffix last_key first_key"
    " dob height weight issued expires credential photo_seed photo_taken",
    "dob height weight issued expires photo_seed photo_taken"), (
    Index("people_oln", ("oln",), unique=True),
    Index("people_name", ("last_key", "first_key", "dob")),
))
"""A licence or ID holder and their photo. One name index serves both name searches: with a
full first name, name and DOB is one exact seek; with an initial, DOB is checked in the index."""
VEHICLES = Table("vehicles", _columns(
    f"{_VEHICLE_TEXTS} model_year {' '.join(REGISTRATION_COLUMNS)}",
    "model_year plate_year plate_expires"), (
    Index("vehicles_vin", ("vin",), unique=True),
    Index("vehicles_plate", ("plate", "plate_type")),
    Index("vehicles_owner", ("owner_last_key", "owner_first_key")),
))
"""A vehicle and its current registration: what a vehicle hit carries, in one read. Columns
of either part are NULL when the file has the other part only."""
HISTORY = Table("history", _columns(f"{_HISTORY_TEXTS} happened ends", "happened ends"), (
    Index("history_oln", ("oln", "happened")),
))
TABLES: dict[str, Table] = {t.name: t for t in (PEOPLE, VEHICLES, HISTORY)}

_UNCLEAN = re.compile(r"[^ -\-/-`{-~\x1f]")
"""Anything but printable ASCII without a period or a lower-case letter (or the unit
separator that joins a record's texts for one check)."""
_UNPRINTABLE = re.compile(r"[^ -\-/-~]+")


def _is_clean(text: str) -> bool:
    """Field-clean: nothing _UNCLEAN, no blank at either end of any joined text."""
    return (_UNCLEAN.search(text) is None and text[:1] != " " and text[-1:] != " "
            and " \x1f" not in text and "\x1f " not in text)


def clean_value(text: str) -> str:
    """A text as a protocol field can carry it, unchanged when it already can."""
    if _is_clean(text) and "\x1f" not in text:
        return text
    ascii_only = unicodedata.normalize("NFKD", text.upper()).encode("ascii", "ignore").decode()
    return " ".join(_UNPRINTABLE.sub(" ", ascii_only).upper().split())


def _texts(getter: attrgetter[tuple[str, ...]], record: object) -> tuple[str, ...]:
    """A record's text attributes, Field-clean; one pass over them when they already are."""
    texts = getter(record)
    if _is_clean("\x1f".join(texts)):
        return texts
    return tuple(map(clean_value, texts))


def ymd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _name_columns(name: Name) -> tuple[str, ...]:
    """NAM as responses show it, the parts, and the phonetic keys searches use."""
    return (format_name(name), name.last, name.first, name.middle, name.suffix,
            sound(name.last), sound(name.first))


_PERSON = attrgetter(*_PERSON_TEXTS.split())
_VEHICLE = attrgetter(*_VEHICLE_TEXTS.split())
_REGISTRATION = attrgetter(*_REGISTRATION_TEXTS.split())
_HISTORY = attrgetter(*_HISTORY_TEXTS.split())


def person_row(p: Person, photo: Photo | None = None) -> Row:
    name = Name(clean(p.last), clean(p.first), clean(p.middle), clean(p.suffix))
    return (*_texts(_PERSON, p), *_name_columns(name), ymd(p.dob), p.height, p.weight,
            ymd(p.issued), ymd(p.expires), p.credential.value,
            photo.seed & SEED_MASK if photo else None, ymd(photo.taken) if photo else None)


def vehicle_row(v: Vehicle | None, r: Registration | None = None) -> Row:
    """A vehicle and its registration; either may be missing (the VIN then comes from the
    registration)."""
    if v:
        vehicle: Row = (*_texts(_VEHICLE, v), v.year)
    else:
        vehicle = (clean_value(r.vin) if r else None, None, None, None, None, None)
    return (*vehicle, *(registration_columns(r) if r else (None,) * len(REGISTRATION_COLUMNS)))


def registration_columns(r: Registration) -> Row:
    owner = parse_name(r.owner_name)
    return (*_texts(_REGISTRATION, r), owner.text, owner.last, owner.first, sound(owner.last),
            sound(owner.first), r.plate_year, ymd(r.expires))


def history_row(h: HistoryEvent) -> Row:
    return (*_texts(_HISTORY, h), ymd(h.on), ymd(h.until) if h.until else None)


@dataclass(slots=True)
class Rows:
    """A batch as rows by table, and what belongs on rows another batch brings."""

    tables: dict[str, list[Row]]
    photos: list[Row] = field(default_factory=list)
    """(seed, taken, OLN): a photo whose person was not in its batch."""
    registrations: list[Registration] = field(default_factory=list)
    """Registrations whose vehicle was not in their batch."""


def batch_rows(batch: Batch) -> Rows:
    """Rows for a batch: photos join their person and registrations their vehicle; a second
    registration for one VIN replaces the first (a vehicle has one current registration)."""
    photos = {photo.oln: photo for photo in batch.photos}
    registrations = {r.vin: r for r in batch.registrations}
    return Rows(
        {"people": [person_row(p, photos.pop(p.oln, None)) for p in batch.people],
         "vehicles": [vehicle_row(v, registrations.pop(v.vin, None)) for v in batch.vehicles],
         "history": [history_row(h) for h in batch.history]},
        [(p.seed & SEED_MASK, ymd(p.taken), clean_value(p.oln)) for p in photos.values()],
        list(registrations.values()),
    )
