"""The nation's agencies: every state and DC, federal offices, DHS components, 287(g)."""

from __future__ import annotations

from collections import Counter

from stateline.directory.agency import Level
from stateline.directory.categories import category
from stateline.sim.agencies import AGENCY_STATES, generate_agencies

AGENCIES = generate_agencies(seed=1)


def test_the_same_seed_gives_the_same_agencies_and_another_seed_others() -> None:
    assert generate_agencies(seed=1) == AGENCIES
    assert generate_agencies(seed=2) != AGENCIES


def test_every_state_and_dc_has_state_county_and_city_agencies() -> None:
    levels = {(a.state, a.level) for a in AGENCIES}
    for state in AGENCY_STATES:
        for level in (Level.STATE, Level.COUNTY, Level.LOCAL):
            assert (state, level) in levels, (state, level)
    assert "DC" in AGENCY_STATES


def test_dhs_components_and_the_ice_support_centre_are_there() -> None:
    components = Counter(a.component for a in AGENCIES if a.department == "DHS")
    assert {"ICE", "HSI", "CBP", "USCIS"} <= set(components)
    lesc = next(a for a in AGENCIES if a.ori == "VTICE0900")
    assert lesc.component == "ICE"
    assert category(lesc, "WA") == "ICE"


def test_some_local_agencies_have_287g_agreements_and_count_as_partners() -> None:
    partners = [a for a in AGENCIES if "287g" in a.programs]
    assert len(partners) > 10
    assert all(not a.is_federal for a in partners)
    assert {category(a, a.state) for a in partners} == {"287(g) partner"}


def test_oris_are_unique_and_start_with_their_state() -> None:
    assert len({a.ori for a in AGENCIES}) == len(AGENCIES)
    assert all(a.ori.startswith(a.state) for a in AGENCIES)


def test_dmv_bureaus_are_not_criminal_justice_and_cannot_query() -> None:
    bureau = next(a for a in AGENCIES if a.ori == "WAOLN0000")
    assert not bureau.criminal_justice
    assert not bureau.may_send("D")
