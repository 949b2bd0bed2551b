"""A nation's agencies: state, county, city and tribal agencies in every state and DC, federal
offices (DHS components included) and local agencies with 287(g) agreements."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from ..directory.agency import Agency, Level
from ..protocol import STATES
from .names import COUNTY_WORDS, TOWN_ENDS, TOWN_STARTS

TERRITORIES = ("PR", "VI", "GU")
AGENCY_STATES = tuple(code for code in STATES if code not in TERRITORIES)
"""Every state and DC."""

LARGE_STATES = frozenset("CA TX FL NY PA IL OH GA NC MI".split())
SMALL_STATES = frozenset("DC DE RI VT NH WY AK ND SD MT HI".split())
PARTNER_STATES = frozenset("TX FL GA AZ NC SC TN AL OK LA MS AR ID MT WY".split())
"""States where many sheriffs have 287(g) agreements in the synthetic nation."""


@dataclass(frozen=True, slots=True)
class FederalOffice:
    """One kind of federal office and the states where the nation puts one."""

    code: str
    department: str
    component: str
    name: str
    agency_type: str
    states: tuple[str, ...]
    criminal_justice: bool = True


_BORDER = ("TX", "AZ", "CA", "NM", "WA", "MI", "NY", "VT", "ME", "ND", "MT", "MN", "FL")
_CITIES = ("NY", "CA", "TX", "FL", "IL", "GA", "WA", "MA", "CO", "AZ", "PA", "MN", "LA",
           "MI", "NJ", "VA", "MD", "OR", "UT", "NV", "TN", "MO", "OH", "NC")

FEDERAL_OFFICES = (
    FederalOffice("ICE", "DHS", "ICE", "ICE Enforcement and Removal Operations", "FE", _CITIES),
    FederalOffice("HSI", "DHS", "HSI", "Homeland Security Investigations", "FE",
                  (*_CITIES, "OK", "KY", "WI", "SC")),
    FederalOffice("CBP", "DHS", "CBP", "U.S. Customs and Border Protection", "FE", _BORDER),
    FederalOffice("CIS", "DHS", "USCIS", "U.S. Citizenship and Immigration Services", "JF",
                  _CITIES[:10], criminal_justice=False),
    FederalOffice("TSA", "DHS", "TSA", "Transportation Security Administration", "FE",
                  _CITIES[:8]),
    FederalOffice("USS", "DHS", "USSS", "U.S. Secret Service", "FE", _CITIES[:12]),
    FederalOffice("FPS", "DHS", "FPS", "Federal Protective Service", "FE", _CITIES[:6]),
    FederalOffice("FBI", "DOJ", "FBI", "Federal Bureau of Investigation", "FE", _CITIES),
    FederalOffice("DEA", "DOJ", "DEA", "Drug Enforcement Administration", "FE", _CITIES[:16]),
    FederalOffice("USM", "DOJ", "USMS", "U.S. Marshals Service", "FE", _CITIES),
    FederalOffice("ATF", "DOJ", "ATF", "Bureau of Alcohol, Tobacco, Firearms and Explosives",
                  "FE", _CITIES[:12]),
    FederalOffice("NPS", "DOI", "NPS", "National Park Service Rangers", "FE",
                  ("WY", "MT", "UT", "AZ", "CA", "CO", "WA", "ME")),
    FederalOffice("BIA", "DOI", "BIA", "Bureau of Indian Affairs Police", "FE",
                  ("AZ", "NM", "OK", "SD", "MT")),
    FederalOffice("PIS", "USPS", "USPIS", "U.S. Postal Inspection Service", "FE", _CITIES[:6]),
)

ANCHORS = (
    Agency("VTICE0900", "ICE Law Enforcement Support Center (Williston)", "VT", Level.FEDERAL,
           "FE", "DHS", "ICE", permissions=frozenset("ACD")),
    Agency("ORPPD0000", "Portland Police Bureau", "OR", Level.LOCAL, "PD",
           permissions=frozenset("ACD")),
    Agency("WASPD0100", "Spokane Police Department", "WA", Level.LOCAL, "PD",
           permissions=frozenset("ACD")),
    Agency("AZDPS0000", "Arizona Department of Public Safety", "AZ", Level.STATE, "SA",
           permissions=frozenset("ACDZ")),
    Agency("AZNLETS20", "Arizona Nlets Control Terminal", "AZ", Level.STATE, "SA",
           permissions=frozenset("ACDZ")),
)
"""Agencies named in the documentation, present in every nation."""

_STATE_AGENCIES = (
    ("SP00000", "State Patrol", "SA", "ACDZ", True),
    ("OLN0000", "Driver Licensing", "NJ", "A", False),
    ("LIC0000", "Vehicle Registration", "NJ", "A", False),
    ("AG00000", "Attorney General", "JA", "ACD", True),
    ("DOC0000", "Department of Corrections", "JC", "ACD", True),
    ("NLETS00", "Nlets Control Terminal", "SA", "ACDZ", True),
)

_LOCAL_ROLES = (
    (9, "District Attorney", "JA", "ACD", Level.COUNTY),
    (10, "Probation Department", "JG", "AC", Level.COUNTY),
    (11, "Superior Court", "JJ", "AC", Level.COUNTY),
)


def generate_agencies(seed: int) -> list[Agency]:
    """Every agency of a nation, deterministic for the seed."""
    rng = random.Random(f"agencies:{seed}")
    found: dict[str, Agency] = {a.ori: a for a in ANCHORS}
    for agency in _all(rng):
        found.setdefault(agency.ori, agency)
    return sorted(found.values(), key=lambda a: a.ori)


def _all(rng: random.Random) -> Iterator[Agency]:
    for state in AGENCY_STATES:
        yield from _state_level(state)
        yield from _counties(state, rng)
    yield from _federal(rng)


def _state_level(state: str) -> Iterator[Agency]:
    name = STATES[state]
    for suffix, what, kind, letters, cj in _STATE_AGENCIES:
        yield Agency(f"{state}{suffix}", f"{name} {what}", state, Level.STATE, kind,
                     criminal_justice=cj, permissions=frozenset(letters),
                     contact=f"{state.lower()}{suffix.lower()}@agencies.example")


def _counties(state: str, rng: random.Random) -> Iterator[Agency]:
    size = 14 if state in LARGE_STATES else 4 if state in SMALL_STATES else 8
    partner_rate = 0.3 if state in PARTNER_STATES else 0.02
    for number, word in enumerate(rng.sample(COUNTY_WORDS, size), 1):
        county = f"{state}{number:03d}"
        programs = frozenset({"287g"}) if rng.random() < partner_rate else frozenset()
        yield Agency(f"{county}0000", f"{word.title()} County Sheriff's Office", state,
                     Level.COUNTY, "SO", programs=programs, permissions=frozenset("ACD"),
                     contact=f"sheriff.{county.lower()}@agencies.example")
        for index in range(1, rng.randint(2, 5)):
            town = f"{rng.choice(TOWN_STARTS)}{rng.choice(TOWN_ENDS)}".title()
            partner = rng.random() < partner_rate / 4
            yield Agency(f"{county}{index:02d}00", f"{town} Police Department", state,
                         Level.LOCAL, "PD", permissions=frozenset("ACD"),
                         programs=frozenset({"287g"}) if partner else frozenset(),
                         contact=f"records.{county.lower()}{index:02d}@agencies.example")
        for index, what, kind, letters, level in _LOCAL_ROLES:
            yield Agency(f"{county}{index:02d}00", f"{word.title()} County {what}", state,
                         level, kind, permissions=frozenset(letters))
    if state in ("AZ", "NM", "OK", "WA", "SD", "MT"):
        for number in range(1, 3):
            yield Agency(f"{state}{900 + number:03d}T000", f"{STATES[state]} Tribal Police "
                         f"District {number}", state, Level.TRIBAL, "PD",
                         permissions=frozenset("ACD"))


def _federal(rng: random.Random) -> Iterator[Agency]:
    for office in FEDERAL_OFFICES:
        for number, state in enumerate(office.states, 1):
            ori = f"{state}{office.code}{number:02d}00"
            yield Agency(ori, f"{office.name}, {STATES[state]} Field Office", state,
                         Level.FEDERAL, office.agency_type, office.department,
                         office.component, criminal_justice=office.criminal_justice,
                         permissions=frozenset("ACD" if office.criminal_justice else "AD"),
                         contact=f"{ori.lower()}@agencies.example")
