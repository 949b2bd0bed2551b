"""Court orders as ICE and a state's auditor notice them: an order opens its subject's own
records and nobody else's, only the elements it names, and only while it is in force."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from itertools import count

import pytest

from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, Result
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.protocol import Outcome, read, read_answer
from stateline.sim.nation import build_nation

ICE = "VTICE0900"
PORTLAND = "ORPPD0000"
TODAY = date.today()
_references = count(1)


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("orders-nation"))
    build_nation(data, ("WA",), residents=300, seed=8)
    policy_store.apply(data, "WA", preset("block-dhs-immigration-except-court-order").text(),
                       who="test")
    return data


@pytest.fixture(scope="module")
def people(nation: DataDir) -> list[Sample]:
    store = open_store(nation.dmv_url("WA"))
    try:
        found = store.sample(6, seed=4)
    finally:
        store.close()
    assert len({p.name for p in found}) == len(found) == 6
    return found


@pytest.fixture
def gateway(nation: DataDir) -> Iterator[Gateway]:
    with Gateway(nation, "WA") as gw:
        yield gw


@contextlib.contextmanager
def order_on_file(data: DataDir, subject: Subject, elements: tuple[str, ...] = ("identity",
                  "license"), *, ori: str = ICE, starts: date = TODAY,
                  revoke: bool = True) -> Iterator[str]:
    reference = f"2026-CV-{next(_references):04d}"
    with Registry(data, "WA") as registry:
        registry.add_order(reference, subject, starts, starts + timedelta(days=30), ori=ori,
                           elements=elements)
    try:
        yield reference
    finally:
        if revoke:
            with Registry(data, "WA") as registry, contextlib.suppress(Exception):
                registry.revoke_order(reference)


def by_name(person: Sample) -> Subject:
    return Subject(name=person.name, dob=date(int(person.dob[:4]), int(person.dob[4:6]),
                                              int(person.dob[6:])))


def ask(gateway: Gateway, text: str, multi_state: bool = False) -> Result:
    return gateway.handle_many([read(text)], [""], [multi_state])[0]


def body(result: Result) -> str:
    assert result.response.body is not None
    return result.response.body


def disclosed(gateway: Gateway, result: Result) -> list[str]:
    records: list[str] = gateway.log.entry(result.seq).body["records"]
    return records


def test_dq_with_another_persons_oln_beside_the_ordered_name_discloses_nothing(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[0], people[1]
    with order_on_file(nation, by_name(a)):
        result = ask(gateway, f"DQ.{ICE}.WA.TXT\nOLN/{b.oln}.NAM/{a.name}.DOB/{a.dob}")
    assert result.outcome is Outcome.DENIED  # the order does not cover it: the block holds
    assert b.oln not in body(result) and b.name not in body(result)
    assert disclosed(gateway, result) == []
    assert gateway.log.entry(result.seq).body["court_order"] is None


def test_dq_for_the_subject_releases_only_the_ordered_elements_and_names_the_order(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a = people[0]
    with order_on_file(nation, by_name(a)) as reference:
        result = ask(gateway, f"DQ.{ICE}.WA.TXT\nNAM/{a.name}.DOB/{a.dob}")
    assert result.outcome is Outcome.PARTIAL
    record = read_answer(body(result)).records[0]
    assert [s.element for s in record.sections if not s.withheld] == ["identity", "license"]
    assert set(record.withheld) == {"description", "address", "credential", "ssn"}
    entry = gateway.log.entry(result.seq).body
    assert entry["court_order"] == reference and entry["records"] == [a.oln]
    assert entry["court_order_subject"] == list(replace(by_name(a), oln=a.oln).identifiers)
    assert entry["released"] == ["identity", "license"]


def test_kq_under_an_identity_only_order_withholds_history(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[0], people[2]
    with order_on_file(nation, Subject(oln=a.oln), ("identity",)):
        own = ask(gateway, f"KQ.{ICE}.WA.TXT\nOLN/{a.oln}")
        decoy = ask(gateway, f"KQ.{ICE}.WA.TXT\nOLN/{a.oln}.NAM/{b.name}.DOB/{b.dob}")
    record = read_answer(body(own)).records[0]
    assert set(record.withheld) == {"license", "history"}
    assert "CNV/" not in body(own) and "HIS/" not in body(own)
    assert decoy.outcome not in (Outcome.RELEASED, Outcome.PARTIAL)
    assert disclosed(gateway, decoy) == []


def test_rq_with_one_vehicles_plate_and_the_ordered_vin_is_denied(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[0], people[3]
    with order_on_file(nation, Subject(vin=a.vin), ("vehicle", "registration")):
        result = ask(gateway, f"RQ.{ICE}.WA.TXT\nLIC/{b.plate}.LIY/{b.plate_year}"
                              f".LIT/{b.plate_type}.VIN/{a.vin}")
        own = ask(gateway, f"RQ.{ICE}.WA.TXT\nVIN/{a.vin}")
    assert result.outcome is Outcome.DENIED  # the order does not cover it: the block holds
    assert b.vin not in body(result) and b.plate not in body(result)
    assert disclosed(gateway, result) == []
    assert own.outcome is Outcome.RELEASED and disclosed(gateway, own) == [a.vin]


def test_rq_under_a_vehicle_only_order_withholds_the_registration(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a = people[1]
    with order_on_file(nation, Subject(plate=a.plate), ("vehicle",)):
        result = ask(gateway, f"RQ.{ICE}.WA.TXT\nLIC/{a.plate}.LIY/{a.plate_year}"
                              f".LIT/{a.plate_type}")
    assert result.outcome is Outcome.PARTIAL
    assert read_answer(body(result)).records[0].withheld == ("registration",)
    assert f"VIN/{a.vin}" in body(result) and "OWN/" not in body(result)


def test_rnq_under_an_identity_only_order_releases_no_vehicle_data(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[2], people[4]
    with order_on_file(nation, by_name(a), ("identity",)):
        own = ask(gateway, f"RNQ.{ICE}.WA.TXT\nNAM/{a.name}.DOB/{a.dob}")
        other = ask(gateway, f"RNQ.{ICE}.WA.TXT\nNAM/{b.name}.DOB/{b.dob}")
    assert a.vin not in body(own) and a.plate not in body(own)
    for record in read_answer(body(own)).records:
        assert record.withheld == ("vehicle", "registration")
    assert other.outcome is Outcome.DENIED and b.vin not in body(other)


def test_rnq_for_the_subject_releases_the_subjects_vehicles_only(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a = people[2]
    with order_on_file(nation, by_name(a), ("vehicle", "registration")):
        result = ask(gateway, f"RNQ.{ICE}.WA.TXT\nNAM/{a.name}.DOB/{a.dob}")
    assert result.outcome is Outcome.RELEASED
    assert a.vin in disclosed(gateway, result)
    assert f"OWN/{a.name}" in body(result)


def test_rpq_under_a_plate_order_releases_the_ordered_vehicle_only(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a = people[0]
    pattern = a.plate[:3] + "*"
    with order_on_file(nation, Subject(plate=a.plate), ("vehicle", "registration")):
        result = ask(gateway, f"RPQ.{ICE}.WA.TXT\nLIC/{pattern}")
        miss = ask(gateway, f"RPQ.{ICE}.WA.TXT\nLIC/{'Z' if a.plate[0] != 'Z' else 'Y'}"
                            f"{a.plate[1:3]}*")
    assert disclosed(gateway, result) == [a.vin]
    assert len(read_answer(body(result)).records) == 1
    assert miss.outcome is Outcome.DENIED and disclosed(gateway, miss) == []


def test_dnq_is_not_opened_by_an_order(nation: DataDir, gateway: Gateway,
                                       people: list[Sample]) -> None:
    a = people[0]
    with order_on_file(nation, by_name(a)):
        result = ask(gateway, f"DNQ.{ICE}.WA.TXT\nNAM/{a.name}")
    assert result.outcome is Outcome.DENIED and disclosed(gateway, result) == []


def test_a_multi_state_leg_with_a_decoy_discloses_nothing(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[0], people[5]
    with order_on_file(nation, by_name(a)):
        result = ask(gateway, f"DQ.{ICE}.WA.TXT\nOLN/{b.oln}.NAM/{a.name}.DOB/{a.dob}",
                     multi_state=True)
    assert gateway.log.entry(result.seq).body["multi_state"] is True
    assert b.oln not in body(result) and disclosed(gateway, result) == []


def test_an_order_not_yet_in_force_or_revoked_opens_nothing(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a = people[3]
    query = f"DQ.{ICE}.WA.TXT\nOLN/{a.oln}"
    with order_on_file(nation, Subject(oln=a.oln), starts=TODAY + timedelta(days=2)):
        early = ask(gateway, query)
    with order_on_file(nation, Subject(oln=a.oln), revoke=False) as reference:
        opened = ask(gateway, query)
        with Registry(nation, "WA") as registry:
            registry.revoke_order(reference)
        revoked = ask(gateway, query)
    assert opened.outcome is Outcome.PARTIAL
    assert early.outcome is Outcome.DENIED and revoked.outcome is Outcome.DENIED


def test_an_order_changes_nothing_for_a_query_the_policy_allows_anyway(
    nation: DataDir, gateway: Gateway, people: list[Sample]
) -> None:
    a, b = people[0], people[1]
    with order_on_file(nation, by_name(a), ("identity",), ori=PORTLAND):
        result = ask(gateway, f"DQ.{PORTLAND}.WA.TXT\nOLN/{b.oln}.NAM/{a.name}.DOB/{a.dob}")
    assert disclosed(gateway, result) == [b.oln]
    assert "DESCRIPTION: HGT/" in body(result)
    assert gateway.log.entry(result.seq).body["court_order"] is None
