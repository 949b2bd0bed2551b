"""A state's motor-vehicle records, and the element-tagged hits its searches return.

Records are named tuples, not dataclasses: a nation build makes millions of them, a tuple is
eight times cheaper to make, and it is already the row a database driver takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import NamedTuple

from ..protocol import Field


class Credential(Enum):
    """What kind of card a person holds; a proxy for immigration status, so its own element."""

    REAL_ID = "REAL ID"
    STANDARD = "STANDARD"
    LIMITED_PURPOSE = "LIMITED PURPOSE"


ELEMENTS = (
    "identity", "description", "address", "license", "credential", "ssn", "photo",
    "vehicle", "registration", "history",
)
"""Every data element a response can carry, as DESIGN.md names them."""

DRIVER_ELEMENTS = (*ELEMENTS[:7], "history")
VEHICLE_ELEMENTS = ("vehicle", "registration")


class Person(NamedTuple):
    """A licence or ID-card holder."""

    oln: str
    last: str
    first: str
    middle: str
    suffix: str
    dob: date
    sex: str
    height: int
    """Inches."""
    weight: int
    """Pounds."""
    eyes: str
    hair: str
    street: str
    city: str
    state: str
    zip: str
    license_class: str
    status: str
    restrictions: str
    endorsements: str
    issued: date
    expires: date
    credential: Credential
    ssn: str
    """Synthetic: always in the never-issued 000 area."""


class Photo(NamedTuple):
    """A licence photo: a generated abstract portrait, drawn from its seed when asked for."""

    oln: str
    seed: int
    taken: date


class Vehicle(NamedTuple):
    vin: str
    make: str
    model: str
    year: int
    style: str
    colour: str


class Registration(NamedTuple):
    plate: str
    plate_type: str
    plate_year: int
    expires: date
    vin: str
    owner_oln: str
    owner_name: str
    """LAST,FIRST MIDDLE as a query would carry it."""


class HistoryEvent(NamedTuple):
    """A conviction or a licence withdrawal on a person's driving record."""

    oln: str
    kind: str
    """CONVICTION or WITHDRAWAL."""
    on: date
    code: str
    description: str
    until: date | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One record a search found, its data split by element so each can be released or not."""

    kind: str
    """driver or vehicle."""
    record_id: str
    """OLN for a driver, VIN for a vehicle: what the audit log records as disclosed."""
    elements: dict[str, tuple[Field, ...]]
    photo: bytes | None = None
    """PNG bytes, present when the photo was asked for and exists."""
    owner: str = ""
    """The registered owner's OLN for a vehicle, "" when none is on file: whose record it is."""
