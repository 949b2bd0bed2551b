"""Court orders and attestations: an order opens records only for its agency or component, its
subject and its dates, until revoked; attestations count until they end; every edit is history."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.policy.registry import (
    Registry,
    RegistryError,
    Subject,
    UnknownOrder,
    context_for,
    parse_date,
    parse_elements,
)
from stateline.policy.schema import ELEMENTS
from stateline.policy.store import history
from tests.directory.samples import CBP, ICE, SPOKANE

JANE = Subject(oln="WDL1234567", name="DOE,JANE Q", dob=date(1990, 4, 1))
OTHER = Subject(oln="WDL7654321", name="ROE,RICHARD", dob=date(1980, 1, 2))
START, END = date(2026, 1, 1), date(2026, 12, 31)
DURING = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    data = DataDir(tmp_path)
    data.state_dir("WA").mkdir(parents=True)
    with Registry(data, "WA") as opened:
        yield opened


def test_an_order_for_an_ori_matches_that_agency_and_subject(registry: Registry) -> None:
    order = registry.add_order("2026-CV-1", JANE, START, END, ori=ICE.ori, who="judge's clerk")
    assert registry.matching_order(ICE, JANE, DURING) == order
    assert registry.matching_order(CBP, JANE, DURING) is None
    assert registry.matching_order(ICE, OTHER, DURING) is None


def test_an_order_for_a_component_matches_every_office_of_it(registry: Registry) -> None:
    registry.add_order("2026-CV-2", JANE, START, END, component="ice")
    other_office = replace(ICE, ori="AZICE0100", name="ICE Phoenix", state="AZ")
    assert registry.matching_order(other_office, JANE, DURING) is not None
    assert registry.matching_order(CBP, JANE, DURING) is None
    assert registry.matching_order(SPOKANE, JANE, DURING) is None


@pytest.mark.parametrize("asked", [
    Subject(oln="wdl 1234567"),
    Subject(name="DOE, JANE", dob=date(1990, 4, 1)),
    Subject(name="doe,jane quinn", dob=date(1990, 4, 1)),
])
def test_any_identifier_the_order_gives_names_the_subject(registry: Registry,
                                                          asked: Subject) -> None:
    registry.add_order("2026-CV-3", JANE, START, END, ori=ICE.ori)
    assert registry.matching_order(ICE, asked, DURING) is not None


@pytest.mark.parametrize("asked", [
    Subject(name="DOE,JANE"),
    Subject(name="DOE,JANE", dob=date(1991, 4, 1)),
    Subject(name="DOE,JOHN", dob=date(1990, 4, 1)),
    Subject(plate="ABC123"),
])
def test_a_name_without_its_birth_date_or_another_person_does_not(registry: Registry,
                                                                  asked: Subject) -> None:
    registry.add_order("2026-CV-4", JANE, START, END, ori=ICE.ori)
    assert registry.matching_order(ICE, asked, DURING) is None


def test_vehicle_orders_match_by_plate_or_vin(registry: Registry) -> None:
    registry.add_order("2026-CV-5", Subject(plate="ABC 123", vin="1HGCM82633A004352"),
                       START, END, ori=ICE.ori, elements=("vehicle", "registration"))
    assert registry.matching_order(ICE, Subject(plate="ABC123"), DURING) is not None
    assert registry.matching_order(ICE, Subject(vin="1hgcm82633a004352"), DURING) is not None
    assert registry.matching_order(ICE, Subject(plate="ABC12*"), DURING) is None


@pytest.mark.parametrize(("when", "found"), [
    (datetime(2025, 12, 31, 23, tzinfo=UTC), False),
    (datetime(2026, 1, 1, 0, tzinfo=UTC), True),
    (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), True),
    (datetime(2027, 1, 1, 0, tzinfo=UTC), False),
])
def test_an_order_counts_only_from_its_first_to_its_last_day(registry: Registry,
                                                             when: datetime,
                                                             found: bool) -> None:
    registry.add_order("2026-CV-6", JANE, START, END, ori=ICE.ori)
    assert (registry.matching_order(ICE, JANE, when) is not None) is found


def test_a_revoked_order_opens_nothing_from_then_on(registry: Registry) -> None:
    registry.add_order("2026-CV-7", JANE, START, END, ori=ICE.ori)
    revoked = registry.revoke_order("2026-CV-7", who="coordinator")
    assert revoked.revoked_at is not None and revoked.revoked_by == "coordinator"
    assert registry.matching_order(ICE, JANE, revoked.revoked_at + timedelta(seconds=1)) is None
    assert registry.matching_order(ICE, JANE, revoked.revoked_at - timedelta(seconds=1)) == revoked
    assert registry.order("2026-CV-7").status(revoked.revoked_at) == "revoked"
    with pytest.raises(RegistryError, match="was revoked"):
        registry.revoke_order("2026-CV-7")
    with pytest.raises(UnknownOrder):
        registry.revoke_order("NO-SUCH")


def order_for(reference: str = "2026-CV-8", subject: Subject = JANE, until: date = END,
              ori: str = "", component: str = "") -> Callable[[Registry], object]:
    return lambda registry: registry.add_order(reference, subject, START, until, ori=ori,
                                               component=component)


def with_elements(*elements: str) -> Callable[[Registry], object]:
    return lambda registry: registry.add_order("2026-CV-8", JANE, START, END, ori=ICE.ori,
                                               elements=elements)


@pytest.mark.parametrize(("add", "message"), [
    (order_for(ori=ICE.ori, component="ICE"), "exactly one"),
    (order_for(), "exactly one"),
    (order_for(component="NAVY"), "not a federal component"),
    (order_for(ori="short"), "not 9 letters"),
    (order_for(subject=Subject(), ori=ICE.ori), "must name its subject"),
    (order_for(subject=Subject(name="DOE,JANE"), ori=ICE.ori), "date of birth"),
    (order_for(subject=Subject(oln="WDL-12"), ori=ICE.ori), "letters or digits"),
    (order_for(until=date(2025, 1, 1), ori=ICE.ori), "before it starts"),
    (order_for(reference=" ", ori=ICE.ori), "reference"),
    (with_elements("identity", "dna"), "unknown element dna"),
])
def test_a_bad_order_is_refused_and_nothing_is_recorded(
        registry: Registry, add: Callable[[Registry], object], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        add(registry)
    assert registry.orders() == []


def test_a_reference_is_on_file_once(registry: Registry) -> None:
    registry.add_order("2026-CV-9", JANE, START, END, ori=ICE.ori)
    with pytest.raises(RegistryError, match="already on file"):
        registry.add_order("2026-CV-9", OTHER, START, END, ori=ICE.ori)
    assert len(registry.orders()) == 1


def test_an_attestation_counts_from_entry_until_its_last_day(registry: Registry) -> None:
    until = date.today() + timedelta(days=30)
    made = registry.add_attestation(CBP.ori, until, who="cbp liaison")
    assert registry.is_attested(CBP.ori, made.entered_at)
    assert not registry.is_attested(CBP.ori, made.entered_at - timedelta(seconds=1))
    assert not registry.is_attested(CBP.ori, datetime.combine(until + timedelta(days=1),
                                                              datetime.min.time(), UTC))
    assert not registry.is_attested(ICE.ori, made.entered_at)
    with pytest.raises(RegistryError, match="already ended"):
        registry.add_attestation(CBP.ori, date.today() - timedelta(days=1))


def test_context_for_gives_what_a_request_needs(registry: Registry) -> None:
    registry.add_order("2026-CV-10", JANE, date.today(), date.today() + timedelta(days=1),
                       ori=ICE.ori)
    registry.add_attestation(CBP.ori, date.today() + timedelta(days=1))
    moment = datetime.now(UTC)
    assert context_for(registry, ICE, JANE, moment) == (True, False, "2026-CV-10")
    assert context_for(registry, CBP, JANE, moment) == (False, True, None)


def test_every_registry_edit_is_a_history_row(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    data.state_dir("WA").mkdir(parents=True)
    with Registry(data, "WA") as registry:
        registry.add_order("2026-CV-11", JANE, START, END, ori=ICE.ori, who="clerk")
        registry.revoke_order("2026-CV-11", who="coordinator")
        registry.add_attestation(CBP.ori, date.today(), who="liaison")
    rows = history(data, "WA")
    assert [(r.kind, r.who) for r in rows] == [
        ("court-order", "clerk"), ("court-order", "coordinator"), ("attestation", "liaison")]
    assert json.loads(rows[1].old_text)["revoked_at"] is None
    assert json.loads(rows[1].new_text)["revoked_by"] == "coordinator"
    assert json.loads(rows[2].new_text)["ori"] == CBP.ori


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-01", date(2026, 3, 1)), ("20260301", date(2026, 3, 1))])
def test_dates_are_read_in_either_form(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "03/01/2026", "", "2026031"])
def test_a_bad_date_is_an_error(text: str) -> None:
    with pytest.raises(RegistryError, match="not a date"):
        parse_date(text, "--from")


def test_elements_are_all_or_a_known_subset_in_schema_order() -> None:
    assert parse_elements("all") == ELEMENTS
    assert parse_elements("license, Identity") == ("identity", "license")
    with pytest.raises(RegistryError, match="unknown element"):
        parse_elements("identity,fingerprints")


def test_an_order_filed_through_another_connection_counts_at_once(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    data.state_dir("WA").mkdir(parents=True)
    with Registry(data, "WA") as gateway_side, Registry(data, "WA") as coordinator:
        today = date.today()
        assert gateway_side.matching_order(ICE, JANE, datetime.now(UTC)) is None
        coordinator.add_order("2026-CV-20", JANE, today, today + timedelta(days=1), ori=ICE.ori)
        assert gateway_side.matching_order(ICE, JANE, datetime.now(UTC)) is not None
        revoked = coordinator.revoke_order("2026-CV-20").revoked_at
        assert revoked is not None
        assert gateway_side.matching_order(ICE, JANE, revoked + timedelta(seconds=1)) is None
        coordinator.add_attestation(CBP.ori, date.today() + timedelta(days=1))
        assert gateway_side.is_attested(CBP.ori, datetime.now(UTC))


def test_the_subject_is_made_only_when_an_order_covers_the_agency(registry: Registry) -> None:
    registry.add_order("2026-CV-21", JANE, START, END, component="ICE")
    made: list[Subject] = []

    def subject() -> Subject:
        made.append(JANE)
        return JANE

    on_file = registry.on_file()
    assert context_for(on_file, CBP, subject, DURING) == (False, False, None)
    assert made == []
    assert context_for(on_file, ICE, subject, DURING) == (True, False, "2026-CV-21")
    assert made == [JANE]


def test_of_several_orders_the_longest_running_decides(registry: Registry) -> None:
    registry.add_order("2026-CV-31", JANE, START, END, component="ICE")
    registry.add_order("2026-CV-30", JANE, START, END + timedelta(days=30), ori=ICE.ori)
    registry.add_order("2026-CV-29", JANE, START, END, ori=ICE.ori)
    assert [o.reference for o in registry.on_file().orders_for(ICE)] == [
        "2026-CV-30", "2026-CV-29", "2026-CV-31"]
    found = registry.matching_order(ICE, JANE, DURING)
    assert found is not None and found.reference == "2026-CV-30"


@pytest.mark.parametrize("asked", [
    Subject(oln=OTHER.oln, name=JANE.name, dob=JANE.dob),
    Subject(oln=JANE.oln, name=OTHER.name, dob=OTHER.dob),
    Subject(oln=JANE.oln, dob=OTHER.dob),
])
def test_a_decoy_identifier_beside_the_ordered_one_matches_no_order(registry: Registry,
                                                                    asked: Subject) -> None:
    registry.add_order("2026-CV-30", JANE, START, END, ori=ICE.ori)
    assert registry.matching_order(ICE, asked, DURING) is None
    assert registry.matching_order(ICE, Subject(oln=JANE.oln, name=JANE.name, dob=JANE.dob),
                                   DURING) is not None
