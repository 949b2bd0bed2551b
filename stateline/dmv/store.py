"""The one interface every DMV store speaks, whatever database is behind it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from ..errors import ServiceError, Side
from .records import HistoryEvent, Hit, Person, Photo, Registration, Vehicle

NAME_LIMIT = 20
"""Most hits a name-only or owner-name search returns."""
PARTIAL_PLATE_LIMIT = 50
"""Most hits a partial-plate search returns."""


@dataclass(frozen=True, slots=True)
class Batch:
    """Records to load together: people with their photos, vehicles, registrations, history."""

    people: tuple[Person, ...] = ()
    photos: tuple[Photo, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    registrations: tuple[Registration, ...] = ()
    history: tuple[HistoryEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class Sample:
    """What a person or a script needs to form real queries against a store."""

    oln: str
    name: str
    dob: str
    sex: str
    plate: str
    plate_year: str
    plate_type: str
    vin: str


class DmvStore(Protocol):
    """A state's DMV records and the searches its gateway runs on them.

    Every search returns hits tagged by data element (see records.Hit); ``photo=True`` adds the
    PNG when the record has one. Searches never raise for "nothing found": they return [].
    """

    def load(self, batches: Iterable[Batch]) -> None:
        """Add records in bulk (a nation build); fast, and indexed when it returns."""

    def by_oln(self, oln: str, *, photo: bool = False) -> list[Hit]: ...

    def by_name_dob(
        self, name: str, dob: date, sex: str | None = None, *, photo: bool = False
    ) -> list[Hit]:
        """NAM as a query carries it (LAST,FIRST MIDDLE), matched after normalisation and by
        sound, so spelling variants the way DMV systems tolerate them still hit."""

    def by_name(self, name: str, sex: str | None = None, limit: int = NAME_LIMIT) -> list[Hit]:
        """Name only: a capped list of drivers."""

    def by_plate(self, plate: str, year: str, plate_type: str) -> list[Hit]: ...

    def by_vin(self, vin: str) -> list[Hit]: ...

    def by_owner(self, name: str, dob: date | None = None,
                 limit: int = NAME_LIMIT) -> list[Hit]: ...

    def by_partial_plate(
        self, pattern: str, year: str | None = None, plate_type: str | None = None,
        limit: int = PARTIAL_PLATE_LIMIT,
    ) -> list[Hit]:
        """A plate with * (any run) and ? (one character) wildcards, capped."""

    def sample(self, n: int, seed: int = 0) -> list[Sample]: ...

    def counts(self) -> dict[str, int]:
        """Records on file by kind: people, photos, vehicles, registrations, history."""

    def close(self) -> None: ...


class StoreError(ServiceError):
    """A DMV store cannot be opened or loaded; the message says which and why."""

    code = "store-error"


class StoreURLError(StoreError, ValueError):
    """A store URL names no database Stateline can open."""

    code, status, side = "invalid-url", 400, Side.REQUESTER


class LoadError(StoreError):
    """Records could not be loaded, e.g. two people with one OLN or two vehicles with one VIN."""

    code, status, side = "invalid-records", 422, Side.REQUESTER
