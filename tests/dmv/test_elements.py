"""Records tagged by data element: every element present, every field a valid protocol field."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from stateline.dmv import DRIVER_ELEMENTS, VEHICLE_ELEMENTS, tag_driver, tag_vehicle
from stateline.dmv.portrait import PNG_SIGNATURE
from stateline.dmv.records import DRIVER_ELEMENTS as DRIVER_NAMES
from stateline.dmv.records import VEHICLE_ELEMENTS as VEHICLE_NAMES
from stateline.dmv.records import Credential, HistoryEvent, Photo, Registration, Vehicle
from stateline.protocol import Answer, Outcome, Record, Section, format_answer, read_answer

from .conftest import assert_withheld_safe, person, values


def test_driver_hit_carries_every_element_with_its_prefixes() -> None:
    someone = person("WDL*AB12-3", "Smythe", "John", date(1980, 3, 14), middle="Albert",
                     suffix="Jr")
    history = [HistoryEvent(someone.oln, "CONVICTION", date(2024, 3, 12), "S92",
                            "Speeding 21-25 over"),
               HistoryEvent(someone.oln, "WITHDRAWAL", date(2023, 1, 5), "FTA",
                            "Suspended", until=date(2023, 6, 1))]
    hit = tag_driver(someone, history, Photo(someone.oln, 9, date(2021, 5, 1)))
    assert_withheld_safe(hit)
    assert (hit.kind, hit.record_id, hit.photo) == ("driver", "WDL*AB12-3", None)
    assert values(hit, "identity") == {"OLN": "WDL*AB12-3", "NAM": "SMYTHE,JOHN ALBERT JR",
                                       "DOB": "19800314", "SEX": "M"}
    assert values(hit, "description") == {"HGT": "510", "WGT": "180", "EYE": "BRO",
                                          "HAI": "BLK"}
    assert values(hit, "address") == {"ADR": "12 N HARBOR WAY", "CTY": "PORT ALDER",
                                      "STA": "WA", "ZIP": "98000"}
    assert values(hit, "license") == {"CLS": "C", "STS": "VALID", "RST": "NONE", "END": "NONE",
                                      "ISS": "20210501", "EXP": "20290501"}
    assert values(hit, "credential") == {"CRD": "REAL ID"}
    assert values(hit, "ssn") == {"SOC": "000-00-0001"}
    assert values(hit, "photo") == {"IMG": "Y"}
    assert [str(f) for f in hit.elements["history"]] == [
        "CNV/20240312 SPEEDING 21-25 OVER", "WDR/20230105 SUSPENDED UNTIL 20230601"]


def test_photo_bytes_only_when_asked_and_only_when_one_exists() -> None:
    someone = person("WDL1", "Doe", "Jane", date(1990, 1, 1), "F")
    with_photo = tag_driver(someone, photo=Photo("WDL1", 5, date(2020, 1, 1)), with_photo=True)
    assert with_photo.photo is not None and with_photo.photo.startswith(PNG_SIGNATURE)
    without = tag_driver(someone, with_photo=True)
    assert without.photo is None and values(without, "photo") == {"IMG": "N"}
    assert [str(f) for f in without.elements["history"]] == ["HIS/NONE"]


def test_credential_kinds_are_tagged_as_their_own_element() -> None:
    for kind in Credential:
        hit = tag_driver(person("WDL1", "Doe", "Jane", date(1990, 1, 1), credential=kind))
        assert values(hit, "credential") == {"CRD": kind.value}


def test_vehicle_hit_carries_vehicle_and_registration_with_owner() -> None:
    owner = person("WDL1", "Doe", "Jane", date(1990, 1, 1), "F")
    car = Vehicle("1HGCM82633A004352", "Hond", "Accord", 2003, "4D", "Blu")
    plate = Registration("ABC1234", "PC", 2026, date(2026, 6, 30), car.vin, owner.oln,
                         "DOE,JANE")
    hit = tag_vehicle(car, plate)
    assert_withheld_safe(hit)
    assert (hit.kind, hit.record_id) == ("vehicle", car.vin)
    assert values(hit, "vehicle") == {"VIN": car.vin, "VMA": "HOND", "VMO": "ACCORD",
                                      "VYR": "2003", "VST": "4D", "VCO": "BLU"}
    assert values(hit, "registration") == {"LIC": "ABC1234", "LIT": "PC", "LIY": "2026",
                                           "REX": "20260630", "OWN": "DOE,JANE"}
    never_expires = tag_vehicle(car, plate._replace(plate_year=0))
    assert values(never_expires, "registration")["LIY"] == "NX"


def test_a_missing_part_reads_none_rather_than_disappearing() -> None:
    car = Vehicle("1HGCM82633A004352", "HOND", "ACCORD", 2003, "4D", "BLU")
    unregistered = tag_vehicle(car, None)
    assert_withheld_safe(unregistered)
    assert set(values(unregistered, "registration").values()) == {"NONE"}
    plate = Registration("ABC1234", "PC", 2026, date(2026, 6, 30), "9NOTONFILE0000001",
                         "WDL1", "DOE,JANE")
    orphan = tag_vehicle(None, plate)
    assert_withheld_safe(orphan)
    assert orphan.record_id == "9NOTONFILE0000001"
    assert values(orphan, "vehicle")["VMA"] == "NONE"


def test_tagged_elements_survive_a_response_round_trip() -> None:
    someone = person("WDL1", "O'Brien", "Patrick", date(1975, 7, 4), suffix="Jr")
    hit = tag_driver(someone, [HistoryEvent("WDL1", "CONVICTION", date(2024, 1, 2), "S92",
                                            "Speeding 21-25 over")])
    record = Record(tuple(Section(element, fields) for element, fields in hit.elements.items()))
    answer = Answer("WA", "driver", Outcome.RELEASED, (record,))
    assert read_answer(format_answer(answer)) == answer


def test_the_element_tables_name_every_element_once() -> None:
    assert (*DRIVER_ELEMENTS, "history") == DRIVER_NAMES
    assert tuple(VEHICLE_ELEMENTS) == VEHICLE_NAMES
    prefixes = [p for spec in (*DRIVER_ELEMENTS.values(), *VEHICLE_ELEMENTS.values())
                for p, _ in spec]
    assert len(prefixes) == len(set(prefixes))


text = st.text(max_size=40)


@given(text, text, text, text, text, text, st.integers(0, 120), st.sampled_from(Credential))
def test_odd_record_texts_still_make_valid_fields(last: str, first: str, street: str,
                                                  city: str, restrictions: str, ssn: str,
                                                  height: int, credential: Credential) -> None:
    someone = person("wdl.1\n", last, first, date(1950, 1, 1))._replace(street=street,
                      city=city, restrictions=restrictions, ssn=ssn, height=height,
                      credential=credential)
    events = [HistoryEvent(someone.oln, "odd kind", date(2020, 2, 2), "X.1", "desc.\twith tab"),
              HistoryEvent(someone.oln, "CONVICTION", date(2020, 2, 3), first, last)]
    hit = tag_driver(someone, events)
    assert_withheld_safe(hit)
    car = Vehicle("vin.1", street, city, 1999, first, last)
    assert_withheld_safe(tag_vehicle(car, Registration("ab.c", "p c", 0, date(2020, 1, 1),
                                                       "vin.1", "wdl.1", f"{last},{first}")))
