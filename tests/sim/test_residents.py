"""Residents: deterministic, unique identifiers, and queryable exactly as the protocol allows."""

from __future__ import annotations

from itertools import islice

from stateline.protocol import Field, Message, validate
from stateline.sim.residents import generate_residents, vin_check_digit


def everyone(state: str, count: int, seed: int = 3) -> list:  # type: ignore[type-arg]
    return [b for b in generate_residents(state, count, seed)]


def test_the_same_seed_and_state_give_the_same_residents() -> None:
    assert everyone("WA", 300) == everyone("WA", 300)
    assert everyone("WA", 300) != everyone("WA", 300, seed=4)
    assert everyone("WA", 300)[0].people != everyone("OR", 300)[0].people


def test_licence_numbers_plates_and_vins_are_unique() -> None:
    batches = everyone("TX", 12_000)
    olns = [p.oln for b in batches for p in b.people]
    plates = [r.plate for b in batches for r in b.registrations]
    vins = [v.vin for b in batches for v in b.vehicles]
    assert len(set(olns)) == len(olns) == 12_000
    assert len(set(plates)) == len(plates)
    assert len(set(vins)) == len(vins)


def test_every_vin_carries_a_correct_check_digit() -> None:
    for vehicle in everyone("AZ", 500)[0].vehicles:
        assert vehicle.vin[8] == vin_check_digit(vehicle.vin[:8] + vehicle.vin[9:])
        assert not set(vehicle.vin) & set("IOQ")


def test_a_known_vin_check_digit() -> None:
    assert vin_check_digit("1M8GDM9A" + "KP042788") == "X"


def test_every_person_can_be_asked_for_by_name_dob_and_licence_number() -> None:
    for person in islice(everyone("WA", 2_000)[0].people, 2_000):
        name = f"{person.last},{person.first}" + (f" {person.middle}" if person.middle else "")
        name += f" {person.suffix}" if person.suffix else ""
        query = Message("DQ", "ORPPD0000", ("WA",), fields=(
            Field("NAM", name), Field("DOB", person.dob.strftime("%Y%m%d")),
            Field("SEX", person.sex)))
        validate(query)
        validate(Message("DQ", "ORPPD0000", ("WA",), fields=(Field("OLN", person.oln),)))


def test_every_plate_can_be_asked_for() -> None:
    batch = everyone("OR", 1_000)[0]
    for registration in batch.registrations:
        validate(Message("RQ", "ORPPD0000", ("OR",), fields=(
            Field("LIC", registration.plate), Field("LIY", str(registration.plate_year)),
            Field("LIT", registration.plate_type))))


def test_ssns_are_all_in_the_never_issued_area() -> None:
    assert {p.ssn[:3] for p in everyone("NY", 1_000)[0].people} == {"000"}


def test_residents_have_vehicles_histories_and_a_photo_each() -> None:
    batch = everyone("WA", 3_000)[0]
    assert len(batch.photos) == len(batch.people)
    assert 0.9 < len(batch.vehicles) / len(batch.people) < 1.6
    kinds = {event.kind for event in batch.history}
    assert kinds == {"CONVICTION", "WITHDRAWAL"}
