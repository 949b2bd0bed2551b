"""Bulk loading on every store kind: all or nothing, indexed when it returns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from stateline.dmv import Batch, DmvStore, LoadError
from stateline.dmv.records import Photo

from .conftest import STORES, person, registration, state_records, values, vehicle

pytestmark = pytest.mark.parametrize("empty", STORES, indirect=True)

NOTHING = {"people": 0, "photos": 0, "vehicles": 0, "registrations": 0, "history": 0}


def test_a_second_load_adds_to_a_live_store(empty: DmvStore) -> None:
    first, second = state_records()
    empty.load([first])
    before = empty.counts()
    empty.load([second])
    after = empty.counts()
    assert after["people"] == before["people"] + len(second.people)
    assert after["photos"] == before["photos"] + 1
    assert empty.by_oln("WDL1000") and empty.by_oln("WDL0001")
    (late,) = empty.by_plate("LATE1", "2026", "PC")
    assert values(late, "vehicle")["VMA"] == "HOND"


def test_an_empty_load_leaves_an_empty_store_that_answers(empty: DmvStore) -> None:
    empty.load([])
    assert empty.counts() == NOTHING
    assert empty.by_oln("WDL0001") == []
    assert empty.by_name_dob("SMITH,JOHN", date(1980, 1, 1)) == []
    assert empty.by_partial_plate("ABC*") == []
    assert empty.sample(5) == []


def test_a_clash_in_a_first_load_leaves_the_store_empty(empty: DmvStore) -> None:
    twin = person("WDL0001", "Twin", "Tom", date(2000, 1, 1))
    first, second = state_records()
    with pytest.raises(LoadError):
        empty.load([first, Batch(people=(twin,))])
    assert empty.counts() == NOTHING
    empty.load([first, second])
    assert empty.counts()["people"] == len(first.people) + len(second.people)


def test_a_clash_in_a_later_load_keeps_what_was_there(empty: DmvStore) -> None:
    first, second = state_records()
    empty.load([first])
    before = empty.counts()
    twin = person("WDL0001", "Twin", "Tom", date(2000, 1, 1))
    with pytest.raises(LoadError):
        empty.load([second, Batch(people=(twin,))])
    assert empty.counts() == before
    assert [h.record_id for h in empty.by_oln("WDL0001")] == ["WDL0001"]


def test_a_failing_source_loads_nothing_and_raises_its_own_error(empty: DmvStore) -> None:
    def batches() -> Iterator[Batch]:
        yield from state_records()
        raise RuntimeError("the generator broke")

    with pytest.raises(RuntimeError, match="generator broke"):
        empty.load(batches())
    assert empty.counts() == NOTHING


def test_photos_and_registrations_without_a_record_of_their_own(empty: DmvStore) -> None:
    someone = person("WDL7", "Doe", "Jane", date(1990, 1, 1), "F")
    empty.load([
        Batch(people=(someone,), vehicles=(vehicle("1TESTVIN000000777"),)),
        Batch(photos=(Photo("WDL7", 1, date(2020, 1, 1)), Photo("NOBODY", 2, date(2020, 1, 1))),
              registrations=(registration("SEVEN7", "1TESTVIN000000777", someone),
                             registration("EIGHT8", "1TESTVIN000000888", someone))),
    ])
    assert empty.counts() == {"people": 1, "photos": 1, "vehicles": 1, "registrations": 2,
                              "history": 0}
    (hit,) = empty.by_oln("WDL7", photo=True)
    assert hit.photo is not None
    assert [h.record_id for h in empty.by_owner("DOE,JANE")] == ["1TESTVIN000000777",
                                                                 "1TESTVIN000000888"]
