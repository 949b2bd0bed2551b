"""A small synthetic state, loaded into each store the tests run against.

Names are invented and chosen to exercise matching: spelling variants of one surname on one
date of birth, an apostrophe, accents, a suffix, a crowd that overflows the name cap, and a
run of plates that overflows the partial-plate cap.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg
import pytest
from psycopg import sql

from stateline.dmv import Batch, DmvStore, open_store
from stateline.dmv.records import (
    DRIVER_ELEMENTS,
    VEHICLE_ELEMENTS,
    Credential,
    HistoryEvent,
    Hit,
    Person,
    Photo,
    Registration,
    Vehicle,
)
from stateline.protocol import Field

POSTGRES_URL = "STATELINE_TEST_POSTGRES_URL"
SHARED_DOB = date(1980, 3, 14)
CROWD = 30
"""SMITH,JOHN look-alikes: more than a name search may return."""
CAP_PLATES = 60
"""Plates CAP001...: more than a partial-plate search may return."""


def assert_withheld_safe(hit: Hit) -> None:
    """Every element present and never empty; every field survives Field's own checks."""
    expected = DRIVER_ELEMENTS if hit.kind == "driver" else VEHICLE_ELEMENTS
    assert tuple(hit.elements) == expected
    for fields in hit.elements.values():
        assert fields
        for field in fields:
            assert Field(field.prefix, field.value) == field


def values(hit: Hit, element: str) -> dict[str, str]:
    return {f.prefix: f.value for f in hit.elements[element]}


def person(oln: str, last: str, first: str, dob: date, sex: str = "M", *, middle: str = "",
           suffix: str = "", credential: Credential = Credential.REAL_ID) -> Person:
    return Person(
        oln=oln, last=last, first=first, middle=middle, suffix=suffix, dob=dob, sex=sex,
        height=70, weight=180, eyes="BRO", hair="BLK", street="12 N. Harbor Way",
        city="Port Alder", state="WA", zip="98000", license_class="C", status="VALID",
        restrictions="", endorsements="", issued=date(2021, 5, 1), expires=date(2029, 5, 1),
        credential=credential, ssn="000-00-0001",
    )


def vehicle(vin: str, year: int = 2020) -> Vehicle:
    return Vehicle(vin=vin, make="HOND", model="ACCORD", year=year, style="4D", colour="BLU")


def registration(plate: str, vin: str, owner: Person, *, year: int = 2026,
                 kind: str = "PC") -> Registration:
    return Registration(
        plate=plate, plate_type=kind, plate_year=year, expires=date(year or 2030, 6, 30), vin=vin,
        owner_oln=owner.oln, owner_name=f"{owner.last},{owner.first} {owner.middle}".strip(),
    )


def state_records() -> list[Batch]:
    """The synthetic state in two batches; the second brings a photo and a registration for
records of the first, and a registration for a vehicle that is on no batch at all."""
    smythe = person("WDL0001", "Smythe", "John", SHARED_DOB, middle="Albert")
    smith = person("WDL0002", "Smith", "Jane", SHARED_DOB, "F", credential=Credential.STANDARD)
    obrien = person("WDL0003", "O'Brien", "Patrick", date(1975, 7, 4), suffix="Jr")
    nunez = person("WDL0004", "Núñez-García", "Zoë", date(1990, 12, 1), "F",
                   credential=Credential.LIMITED_PURPOSE)
    schmidt = person("WDL0005", "Schmidt", "Jonathan", SHARED_DOB)
    crowd = [person(f"WDL1{n:03d}", "Smith", "John", date(1960 + n, 1, 2)) for n in range(CROWD)]
    first = Batch(
        people=(smythe, smith, obrien, nunez, schmidt),
        photos=(Photo("WDL0001", 11, date(2021, 5, 1)), Photo("WDL0003", 33, date(2021, 5, 1)),
                Photo("WDL0004", 44, date(2021, 5, 1))),
        vehicles=(vehicle("1TESTVIN000000001"), vehicle("1TESTVIN000000002"),
                  vehicle("1TESTVIN000000003"), vehicle("1TESTVIN000000004"),
                  vehicle("1TESTVIN000000005"), vehicle("1TESTVIN000000006"),
                  vehicle("1TESTVIN000000099", 1999)),
        registrations=(
            registration("ABC1234", "1TESTVIN000000001", smythe),
            registration("ABC1235", "1TESTVIN000000002", smith, year=2025),
            registration("XYZ9", "1TESTVIN000000003", smith, year=0, kind="MC"),
            registration("PAT777", "1TESTVIN000000004", obrien, year=2027),
            registration("ZOE2024", "1TESTVIN000000005", nunez, year=2024),
        ),
        history=(
            HistoryEvent("WDL0001", "CONVICTION", date(2024, 3, 12), "S92",
                         "Speeding 21-25 over"),
            HistoryEvent("WDL0001", "WITHDRAWAL", date(2023, 1, 5), "FTA",
                         "Suspended: failure to appear", until=date(2023, 6, 1)),
        ),
    )
    second = Batch(
        people=tuple(crowd),
        photos=(Photo("WDL0005", 55, date(2022, 2, 2)),),
        vehicles=tuple(vehicle(f"2CAPVIN{n:010d}") for n in range(CAP_PLATES)),
        registrations=(
            *(registration(f"CAP{n:03d}", f"2CAPVIN{n:010d}", crowd[n % CROWD])
              for n in range(CAP_PLATES)),
            registration("LATE1", "1TESTVIN000000006", schmidt),
            registration("GHOST1", "9NOTONFILE0000001", schmidt, year=2025),
        ),
    )
    return [first, second]


STORES = [pytest.param("sqlite", id="sqlite"),
          pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
"""Every store kind: parametrise ``loaded`` or ``empty`` indirectly with it."""


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get(POSTGRES_URL)
    if not url:
        pytest.skip(f"{POSTGRES_URL} is not set")
    return url


@contextmanager
def _store(kind: str, request: pytest.FixtureRequest,
           folders: pytest.TempPathFactory) -> Iterator[DmvStore]:
    """A new store of a kind: SQLite in a fresh folder, PostgreSQL in a fresh schema that is
    dropped afterwards, so parallel runs never meet."""
    if kind == "sqlite":
        store = open_store(f"sqlite:///{folders.mktemp('dmv') / 'dmv.db'}")
        try:
            yield store
        finally:
            store.close()
        return
    url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = open_store(url, schema=schema)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def loaded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmvStore]:
    """The synthetic state, loaded once per module and store kind; searches never change it."""
    with _store(request.param, request, tmp_path_factory) as store:
        store.load(state_records())
        yield store


@pytest.fixture
def empty(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmvStore]:
    """A new, empty store for a test that loads its own records."""
    with _store(request.param, request, tmp_path_factory) as store:
        yield store
