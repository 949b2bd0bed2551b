"""Records made into Field-clean rows, and batches split into tables."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.dmv import Batch
from stateline.dmv.records import Photo
from stateline.dmv.rows import PEOPLE, VEHICLES, batch_rows, clean_value, ymd
from stateline.protocol import Field

from .conftest import person, registration, vehicle


@pytest.mark.parametrize(("raw", "clean"), [
    ("12 N. Main St.", "12 N MAIN ST"),
    ("apt\t4\n", "APT 4"),
    ("Zoë", "ZOE"),
    ("  padded  ", "PADDED"),
    ("OK-1/2 #3", "OK-1/2 #3"),
    ("", ""),
])
def test_clean_value_makes_texts_fields_can_carry(raw: str, clean: str) -> None:
    assert clean_value(raw) == clean


@given(st.text(max_size=60))
def test_clean_value_always_gives_a_valid_field_and_is_idempotent(text: str) -> None:
    value = clean_value(text)
    assert Field("ADR", value).value == value
    assert clean_value(value) == value


def test_ymd_is_the_ccyymmdd_a_field_carries() -> None:
    assert ymd(date(1980, 3, 14)) == 19800314


def test_batch_rows_puts_photos_on_people_and_registrations_on_vehicles() -> None:
    someone = person("WDL1", "Doe", "Jane", date(1990, 1, 1), "F")
    rows = batch_rows(Batch(
        people=(someone,),
        photos=(Photo("WDL1", 5, date(2020, 1, 1)), Photo("WDL2", 6, date(2020, 1, 1))),
        vehicles=(vehicle("VIN1"),),
        registrations=(registration("ONE1", "VIN1", someone),
                       registration("TWO2", "VIN2", someone)),
    ))
    (person_row,) = rows.tables["people"]
    assert dict(zip(PEOPLE.columns, person_row, strict=True))["photo_seed"] == 5
    (vehicle_row,) = rows.tables["vehicles"]
    assert dict(zip(VEHICLES.columns, vehicle_row, strict=True))["plate"] == "ONE1"
    assert [p[2] for p in rows.photos] == ["WDL2"]
    assert [r.plate for r in rows.registrations] == ["TWO2"]
