"""Rows a search found, tagged by data element so the gateway can release or withhold each.

``DRIVER_ELEMENTS`` and ``VEHICLE_ELEMENTS`` are the one table of which prefix carries which
column in which element. A value that is missing or empty reads ``NONE``, so every element is
always present and never empty; a driver without history carries ``HIS/NONE``. Values were made
Field-clean at load (rows.clean_value), so fields are built without re-validating: validation
would double the cost of a search (tests rebuild every field through ``Field`` to hold this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..protocol import Field
from .portrait import portrait
from .records import HistoryEvent, Hit, Person, Photo, Registration, Vehicle
from .rows import HISTORY, PEOPLE, VEHICLES, Row, history_row, person_row, vehicle_row

Getter = Callable[[Row], str]
Layout = tuple[tuple[str, str], ...]
"""A search's select list as (table alias, column): what a row's positions mean."""

DRIVER_LAYOUT: Layout = (*(("p", c) for c in PEOPLE.columns),
                         *(("h", c) for c in HISTORY.columns if c != "oln"))
"""A driver and one history event per row (none: NULLs), so one read fetches a driver."""
VEHICLE_LAYOUT: Layout = tuple(("v", c) for c in VEHICLES.columns)
HISTORY_PREFIXES = {"CONVICTION": "CNV", "WITHDRAWAL": "WDR"}
"""History kinds and their prefixes; any other kind is carried under HIS."""
NONE = "NONE"

_new = object.__new__
_set_prefix = vars(Field)["prefix"].__set__
_set_value = vars(Field)["value"].__set__


def _field(prefix: str, value: str) -> Field:
    """A field from a Field-clean value (see the module docstring for why unchecked)."""
    item = _new(Field)
    _set_prefix(item, prefix)
    _set_value(item, value)
    return item


def _at(layout: Layout, column: str) -> int:
    return [c for _, c in layout].index(column)


def _text(layout: Layout, column: str) -> Getter:
    i = _at(layout, column)
    return lambda row: str(row[i]) if row[i] not in (None, "") else NONE


def _height(row: Row) -> str:
    """Feet and inches as licences print them: 70 inches is 510."""
    inches = row[_HEIGHT]
    return f"{inches // 12}{inches % 12:02d}" if isinstance(inches, int) and inches > 0 else NONE


def _photo(row: Row) -> str:
    return "N" if row[_SEED] is None else "Y"


def _plate_year(row: Row) -> str:
    """The plate's year, NX for a plate that never expires (kept as year 0)."""
    year = row[_PLATE_YEAR]
    return NONE if year is None else "NX" if year == 0 else str(year)


_HEIGHT = _at(DRIVER_LAYOUT, "height")
_SEED = _at(DRIVER_LAYOUT, "photo_seed")
_OLN = _at(DRIVER_LAYOUT, "oln")
_EVENT = tuple(_at(DRIVER_LAYOUT, c) for c in ("kind", "happened", "code", "description", "ends"))
_PLATE_YEAR = _at(VEHICLE_LAYOUT, "plate_year")
_VIN = _at(VEHICLE_LAYOUT, "vin")
_OWNER = _at(VEHICLE_LAYOUT, "owner_oln")


def _driver(column: str) -> Getter:
    return _text(DRIVER_LAYOUT, column)


def _vehicle(column: str) -> Getter:
    return _text(VEHICLE_LAYOUT, column)


DRIVER_ELEMENTS: dict[str, tuple[tuple[str, Getter], ...]] = {
    "identity": (("OLN", _driver("oln")), ("NAM", _driver("nam")), ("DOB", _driver("dob")),
                 ("SEX", _driver("sex"))),
    "description": (("HGT", _height), ("WGT", _driver("weight")), ("EYE", _driver("eyes")),
                    ("HAI", _driver("hair"))),
    "address": (("ADR", _driver("street")), ("CTY", _driver("city")), ("STA", _driver("state")),
                ("ZIP", _driver("zip"))),
    "license": (("CLS", _driver("license_class")), ("STS", _driver("status")),
                ("RST", _driver("restrictions")), ("END", _driver("endorsements")),
                ("ISS", _driver("issued")), ("EXP", _driver("expires"))),
    "credential": (("CRD", _driver("credential")),),
    "ssn": (("SOC", _driver("ssn")),),
    "photo": (("IMG", _photo),),
}
"""Driver elements, prefix and value per field: NAM is LAST,FIRST MIDDLE SUFFIX within 30
characters, dates are ccyymmdd, CRD is REAL ID, STANDARD or LIMITED PURPOSE, IMG is Y or N.
The ``history`` element follows: CNV (conviction) and WDR (withdrawal) fields such as
``CNV/20240312 SPEEDING 21-25 OVER`` or ``WDR/20230105 SUSPENDED UNTIL 20230601``."""

VEHICLE_ELEMENTS: dict[str, tuple[tuple[str, Getter], ...]] = {
    "vehicle": (("VIN", _vehicle("vin")), ("VMA", _vehicle("make")), ("VMO", _vehicle("model")),
                ("VYR", _vehicle("model_year")), ("VST", _vehicle("style")),
                ("VCO", _vehicle("colour"))),
    "registration": (("LIC", _vehicle("plate")), ("LIT", _vehicle("plate_type")),
                     ("LIY", _plate_year), ("REX", _vehicle("plate_expires")),
                     ("OWN", _vehicle("owner_name"))),
}
"""Vehicle elements; registration is all NONE for a vehicle with no registration on file."""


def _history(rows: Sequence[Row]) -> tuple[Field, ...]:
    fields = []
    for row in rows:
        kind, happened, code, description, ends = (row[i] for i in _EVENT)
        if kind is not None:
            words = (happened, description or code, ends and "UNTIL", ends)
            text = " ".join(str(word) for word in words if word)
            fields.append(_field(HISTORY_PREFIXES.get(str(kind), "HIS"), text))
    return tuple(fields) or (_field("HIS", NONE),)


def driver_hit(rows: Sequence[Row], *, photo: bool = False) -> Hit:
    """A driver from its DRIVER_LAYOUT rows (one per history event, at least one)."""
    row = rows[0]
    elements = {element: tuple([_field(prefix, get(row)) for prefix, get in spec])
                for element, spec in DRIVER_ELEMENTS.items()}
    elements["history"] = _history(rows)
    seed = row[_SEED]
    png = portrait(seed) if photo and isinstance(seed, int) else None
    return Hit("driver", str(row[_OLN]), elements, png)


def vehicle_hit(row: Row) -> Hit:
    """A vehicle and its registration (with owner) from a VEHICLE_LAYOUT row."""
    elements = {element: tuple([_field(prefix, get(row)) for prefix, get in spec])
                for element, spec in VEHICLE_ELEMENTS.items()}
    return Hit("vehicle", str(row[_VIN]), elements, owner=str(row[_OWNER] or ""))


def tag_driver(person: Person, history: Sequence[HistoryEvent] = (),
               photo: Photo | None = None, *, with_photo: bool = False) -> Hit:
    """The hit a store would return for these records."""
    p = person_row(person, photo)
    events = ([(*p, *history_row(h)[1:]) for h in history]
              or [(*p, *(None,) * (len(HISTORY.columns) - 1))])
    return driver_hit(events, photo=with_photo)


def tag_vehicle(vehicle: Vehicle | None, registration: Registration | None) -> Hit:
    """The hit a store would return for a vehicle, its registration, or both."""
    if vehicle is None and registration is None:
        raise ValueError("a vehicle hit needs a vehicle or a registration")
    return vehicle_hit(vehicle_row(vehicle, registration))
