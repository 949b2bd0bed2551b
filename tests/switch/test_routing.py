"""Routing as a table: state codes, NL to every state taking the key, regions, DQG/RQG
rewritten, .01. for a key a state does not take, .02./.04. by service status, one-state keys."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.protocol import Field, Message, Reject, RejectCode, read
from stateline.switch.config import DEFAULT_REGIONS, DMV_KEYS
from stateline.switch.routing import Action, Leg, Network, Service, route, status_text

MEMBERS = frozenset({"WA", "OR", "NY", "TX", "AZ"})
NO_DNQ = frozenset(DMV_KEYS - {"DNQ"})


def network(service: dict[str, Service] | None = None,
            takes: dict[str, frozenset[str]] | None = None) -> Network:
    table = {state: DMV_KEYS for state in MEMBERS} | (takes or {})
    return Network(MEMBERS, MappingProxyType(table), DEFAULT_REGIONS,
                   MappingProxyType(service or {}))


def legs(text: str, net: Network | None = None) -> tuple[tuple[str, Action], ...]:
    plan = route(read(text), net or network())
    return tuple((leg.state, leg.action) for leg in plan.legs)


D = Action.DELIVER


@pytest.mark.parametrize(("text", "expected", "fan_out"), [
    ("DQ.ORPPD0000.WA.TXT\nOLN/WDL1", (("WA", D),), False),
    ("DQ.ORPPD0000.WA.OR.TXT\nOLN/WDL1", (("WA", D), ("OR", D)), False),
    ("DQ.ORPPD0000.NL.TXT\nOLN/WDL1",
     (("AZ", D), ("NY", D), ("OR", D), ("TX", D), ("WA", D)), True),
    ("DQ.ORPPD0000.R8.TXT\nOLN/WDL1", (("OR", D), ("WA", D)), True),
    ("DQ.ORPPD0000.WA.R8.TXT\nOLN/WDL1", (("WA", D), ("OR", D)), True),
    ("RQG.ORPPD0000.R7.TXT\nVIN/1FT2K8NV9KB000430", (("AZ", D), ("TX", D)), True),
    ("DQ.ORPPD0000.CA.TXT\nOLN/WDL1", (("CA", Action.NOT_TAKEN),), False),
    ("AM.ORPPD0000.WA.TXT\nHELLO", (("WA", Action.NOT_TAKEN),), False),
    ("RPQ.ORPPD0000.TX.TXT\nLIC/AB*123", (("TX", D),), False),
    ("KQ.ORPPD0000.NY.TXT\nOLN/123", (("NY", D),), False),
])
def test_destinations_expand_to_legs(text: str, expected: tuple[tuple[str, Action], ...],
                                     fan_out: bool) -> None:
    plan = route(read(text), network())
    assert tuple((leg.state, leg.action) for leg in plan.legs) == expected
    assert plan.fan_out is fan_out


@pytest.mark.parametrize(("key", "delivered"), [("DQG", "DQ"), ("RQG", "RQ")])
def test_regional_keys_are_delivered_as_their_state_keys(key: str, delivered: str) -> None:
    fields = "NAM/DOE,JANE.DOB/19800101" if key == "DQG" else "VIN/1FT2K8NV9KB000430"
    plan = route(read(f"{key}.ORPPD0000.NL.TXT\n{fields}"), network())
    assert plan.key == delivered and plan.fan_out
    assert len(plan.legs) == len(MEMBERS)


def test_nl_goes_only_to_states_taking_the_key_and_a_named_one_gets_01() -> None:
    net = network(takes={"NY": NO_DNQ})
    assert "NY" not in [s for s, _ in legs("DNQ.ORPPD0000.NL.TXT\nNAM/DOE,JANE", net)]
    assert legs("DNQ.ORPPD0000.NY.TXT\nNAM/DOE,JANE", net) == (("NY", Action.NOT_TAKEN),)
    assert legs("DQ.ORPPD0000.NY.TXT\nOLN/1", net) == (("NY", D),)


@pytest.mark.parametrize(("service", "action"), [
    (Service.IN, Action.DELIVER), (Service.OUT, Action.HOLD), (Service.REMOVED, Action.REMOVED)])
def test_service_status_decides_delivery(service: Service, action: Action) -> None:
    net = network({"WA": service})
    assert legs("DQ.ORPPD0000.WA.OR.TXT\nOLN/1", net) == (("WA", action), ("OR", D))
    assert ("WA", action) in legs("DQ.ORPPD0000.NL.TXT\nOLN/1", net)


@pytest.mark.parametrize(("text", "words"), [
    ("DQ.ORPPD0000.ZZ.TXT\nOLN/1", "ZZ IS NOT A STATE CODE, A REGION OR NL"),
    ("AM.ORPPD0000.WASPD0100.TXT\nHELLO", "THE SWITCH ROUTES TO STATES, NOT TO AGENCIES"),
])
def test_unroutable_destinations_are_rejected_with_19(text: str, words: str) -> None:
    with pytest.raises(Reject) as caught:
        route(read(text), network())
    assert caught.value.code is RejectCode.DESTINATION and words in caught.value.text


def test_a_one_state_key_never_fans_out() -> None:
    message = Message("RPQ", "ORPPD0000", ("NL",), None, (Field("LIC", "AB*123"),))
    with pytest.raises(Reject) as caught:
        route(message, network())
    assert "RPQ GOES TO EXACTLY ONE STATE CODE" in caught.value.text


def test_nl_with_no_state_taking_the_key_is_refused() -> None:
    net = network(takes={s: NO_DNQ for s in MEMBERS})
    with pytest.raises(Reject) as caught:
        route(read("DNQ.ORPPD0000.NL.TXT\nNAM/DOE,JANE"), net)
    assert caught.value.code is RejectCode.NOT_ALLOWED


def test_status_texts_name_the_code_the_state_and_the_key() -> None:
    assert status_text(Action.HOLD, "WA", "DQ") == (
        ".02. USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL FORWARD\nDESTINATION WA MESSAGE DQ")


CODES = sorted(MEMBERS | {"CA", "ID", "NL", *DEFAULT_REGIONS})


@given(st.lists(st.sampled_from(CODES), min_size=1, max_size=5, unique=True),
       st.dictionaries(st.sampled_from(sorted(MEMBERS)), st.sampled_from(list(Service))),
       st.sampled_from(["DQ", "RQ"]))
def test_every_plan_is_one_leg_per_state_with_the_action_its_status_gives(
        destinations: list[str], service: dict[str, Service], key: str) -> None:
    fields = (Field("OLN", "W1"),) if key == "DQ" else (Field("VIN", "1FT2K8NV9KB000430"),)
    message = Message(key, "ORPPD0000", tuple(destinations), None, fields)
    reachable = {s for d in destinations for s in DEFAULT_REGIONS.get(d, (d,))} & MEMBERS
    if "NL" not in destinations and not reachable and all(d in DEFAULT_REGIONS
                                                          for d in destinations):
        with pytest.raises(Reject):  # regions with no state on the network
            route(message, network(service))
        return
    plan = route(message, network(service))
    states = [leg.state for leg in plan.legs]
    assert len(states) == len(set(states))
    assert plan.fan_out == any(d == "NL" or d in DEFAULT_REGIONS for d in destinations)
    named = [d for d in destinations if d not in DEFAULT_REGIONS and d != "NL"]
    assert states[:len(named)] == named
    spread = set(states) - set(named)
    assert spread <= MEMBERS
    if "NL" in destinations:
        assert set(states) >= MEMBERS
    for leg in plan.legs:
        expected = Action.NOT_TAKEN if leg.state not in MEMBERS else {
            Service.IN: Action.DELIVER, Service.OUT: Action.HOLD,
            Service.REMOVED: Action.REMOVED}[service.get(leg.state, Service.IN)]
        assert leg == Leg(leg.state, expected)
