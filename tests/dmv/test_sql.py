"""Every search, sample and count, on every store kind (PostgreSQL when its URL is set)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.dmv import NAME_LIMIT, PARTIAL_PLATE_LIMIT, DmvStore
from stateline.dmv.portrait import PNG_SIGNATURE
from stateline.dmv.records import Hit
from stateline.protocol import read

from .conftest import CAP_PLATES, CROWD, SHARED_DOB, STORES, assert_withheld_safe, values

pytestmark = pytest.mark.parametrize("loaded", STORES, indirect=True)


def ids(hits: list[Hit]) -> list[str]:
    for hit in hits:
        assert_withheld_safe(hit)
    return [hit.record_id for hit in hits]


def plates(hits: list[Hit]) -> list[str]:
    return [values(hit, "registration")["LIC"] for hit in hits]


def test_oln_finds_one_driver_with_history_and_photo_on_request(loaded: DmvStore) -> None:
    (hit,) = loaded.by_oln("WDL0001")
    assert ids([hit]) == ["WDL0001"] and hit.photo is None
    assert [f.prefix for f in hit.elements["history"]] == ["WDR", "CNV"], "oldest first"
    (pictured,) = loaded.by_oln("wdl0001 ", photo=True)
    assert pictured.photo is not None and pictured.photo.startswith(PNG_SIGNATURE)
    assert pictured.elements == hit.elements


@pytest.mark.parametrize("oln", ["WDL9999", "", "WDL*0001", "X" * 300])
def test_oln_not_on_file_is_an_empty_answer(loaded: DmvStore, oln: str) -> None:
    assert loaded.by_oln(oln, photo=True) == []


def test_a_photo_from_a_later_batch_lands_on_its_driver(loaded: DmvStore) -> None:
    (hit,) = loaded.by_oln("WDL0005", photo=True)
    assert values(hit, "photo") == {"IMG": "Y"} and hit.photo is not None
    (bare,) = loaded.by_oln("WDL0002", photo=True)
    assert values(bare, "photo") == {"IMG": "N"} and bare.photo is None


@pytest.mark.parametrize(("name", "expected"), [
    ("SMYTHE,JOHN", ["WDL0001", "WDL0002"]),
    ("SMITH,JON", ["WDL0002", "WDL0001"]),
    ("SMYTH,JOHN ALBERT", ["WDL0001", "WDL0002"]),
    ("SMITH,J", ["WDL0002", "WDL0001", "WDL0005"]),
    ("SCHMIDT,JONATHAN", ["WDL0005"]),
    ("JONES,JOHN", []),
])
def test_name_and_dob_tolerate_spelling_like_a_dmv(loaded: DmvStore, name: str,
                                                    expected: list[str]) -> None:
    assert ids(loaded.by_name_dob(name, SHARED_DOB)) == expected


def test_name_and_dob_narrowed_by_sex(loaded: DmvStore) -> None:
    assert ids(loaded.by_name_dob("SMITH,JON", SHARED_DOB, "M")) == ["WDL0001"]
    assert ids(loaded.by_name_dob("SMITH,JON", SHARED_DOB, "F")) == ["WDL0002"]
    assert ids(loaded.by_name_dob("SMITH,JON", SHARED_DOB, "U")) == ["WDL0002", "WDL0001"]
    assert loaded.by_name_dob("SMITH,JON", SHARED_DOB, "X") == []


@pytest.mark.parametrize("name", ["O'BRIEN,PATRICK", "OBRIEN,PATRICK", "OBRIEN,PATRICK JR",
                                  "O BRIEN JR,PATRICK", "obrien, patrick"])
def test_punctuation_and_suffixes_do_not_hide_a_driver(loaded: DmvStore, name: str) -> None:
    assert ids(loaded.by_name_dob(name, date(1975, 7, 4))) == ["WDL0003"]


@pytest.mark.parametrize("name", ["NUNEZ-GARCIA,ZOE", "NUNEZ GARCIA,ZOE", "Núñez-García,Zoë",
                                  "NUNEZGARCIA,ZOE"])
def test_accents_and_hyphens_do_not_hide_a_driver(loaded: DmvStore, name: str) -> None:
    hits = loaded.by_name_dob(name, date(1990, 12, 1))
    assert ids(hits) == ["WDL0004"]
    assert values(hits[0], "identity")["NAM"] == "NUNEZ GARCIA,ZOE"


def test_name_and_dob_on_another_day_finds_nobody(loaded: DmvStore) -> None:
    assert loaded.by_name_dob("SMYTHE,JOHN", date(1980, 3, 15)) == []


def test_name_only_is_capped_and_puts_exact_spellings_first(loaded: DmvStore) -> None:
    hits = loaded.by_name("SMITH,JOHN")
    assert len(hits) == NAME_LIMIT
    assert {values(h, "identity")["NAM"] for h in hits} == {"SMITH,JOHN"}
    assert len(loaded.by_name("SMITH,JOHN", limit=3)) == 3
    assert len(loaded.by_name("SMITH,JOHN", limit=500)) == NAME_LIMIT
    assert loaded.by_name("SMITH,JOHN", limit=0) == []
    assert ids(loaded.by_name("SMYTHE,JOHN ALBERT"))[0] == "WDL0001"


def test_name_only_with_sex_and_odd_names(loaded: DmvStore) -> None:
    assert ids(loaded.by_name("SMITH,JANE", "F")) == ["WDL0002"]
    assert loaded.by_name("SMITH,JANE", "X") == []
    assert loaded.by_name(",JOHN") == []
    assert loaded.by_name("'-.,") == []


@pytest.mark.parametrize("year", ["2026", "26"])
def test_plate_with_year_as_ccyy_or_yy(loaded: DmvStore, year: str) -> None:
    (hit,) = loaded.by_plate("ABC1234", year, "PC")
    assert ids([hit]) == ["1TESTVIN000000001"]
    assert values(hit, "registration")["OWN"] == "SMYTHE,JOHN ALBERT"
    assert values(hit, "vehicle")["VMA"] == "HOND"


def test_plate_year_nx_and_mismatches(loaded: DmvStore) -> None:
    (forever,) = loaded.by_plate("XYZ9", "NX", "MC")
    assert values(forever, "registration")["LIY"] == "NX"
    assert ids(loaded.by_plate("ABC1234", "NX", "PC")) == ["1TESTVIN000000001"]
    assert loaded.by_plate("ABC1234", "2025", "PC") == []
    assert loaded.by_plate("ABC1234", "2026", "MC") == []
    assert loaded.by_plate("XYZ9", "2026", "MC") == []
    assert loaded.by_plate("NOPE1", "2026", "PC") == []


def test_vin_finds_vehicle_with_registration_or_without(loaded: DmvStore) -> None:
    assert plates(loaded.by_vin("1TESTVIN000000001")) == ["ABC1234"]
    (unregistered,) = loaded.by_vin("1TESTVIN000000099")
    assert set(values(unregistered, "registration").values()) == {"NONE"}
    assert values(unregistered, "vehicle")["VYR"] == "1999"
    assert loaded.by_vin("NOTAVIN") == []


def test_a_registration_finds_its_vehicle_across_batches(loaded: DmvStore) -> None:
    (late,) = loaded.by_plate("LATE1", "2026", "PC")
    assert values(late, "vehicle")["VMO"] == "ACCORD"
    (ghost,) = loaded.by_plate("GHOST1", "25", "PC")
    assert ghost.record_id == "9NOTONFILE0000001"
    assert values(ghost, "vehicle")["VMA"] == "NONE"
    assert plates(loaded.by_vin("9NOTONFILE0000001")) == ["GHOST1"]


def test_owner_name_finds_registrations_by_sound(loaded: DmvStore) -> None:
    assert plates(loaded.by_owner("SMYTHE,JOHN ALBERT"))[0] == "ABC1234"
    assert set(plates(loaded.by_owner("SMYTH,JON", SHARED_DOB))) == {"ABC1234", "ABC1235",
                                                                     "XYZ9"}
    assert set(plates(loaded.by_owner("SCHMIDT,JONATHAN"))) == {"LATE1", "GHOST1"}
    assert plates(loaded.by_owner("SMITH,JANE", SHARED_DOB)) == ["ABC1235", "XYZ9", "ABC1234"]
    assert loaded.by_owner("SMITH,JANE", date(2001, 1, 1)) == []
    assert loaded.by_owner("NOBODY,HERE") == []


def test_owner_name_is_capped(loaded: DmvStore) -> None:
    assert len(loaded.by_owner("SMITH,JOHN")) == NAME_LIMIT
    assert len(loaded.by_owner("SMITH,JOHN", limit=5)) == 5
    crowd_member = loaded.by_owner("SMITH,JOHN", date(1961, 1, 2))
    assert sorted(plates(crowd_member)) == ["CAP001", "CAP031"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("ABC123?", ["ABC1234", "ABC1235"]),
    ("ABC12*", ["ABC1234", "ABC1235"]),
    ("*1234", ["ABC1234"]),
    ("?BC1234", ["ABC1234"]),
    ("A*34", ["ABC1234"]),
    ("PAT*", ["PAT777"]),
    ("CAP05?", [f"CAP05{n}" for n in range(10)]),
    ("*Q*Q*Q", []),
])
def test_partial_plate_wildcards(loaded: DmvStore, pattern: str, expected: list[str]) -> None:
    assert plates(loaded.by_partial_plate(pattern)) == expected


@pytest.mark.parametrize("pattern", ["AB*", "*", "??*?", "A*4", "AB%_", "[AB]C12*", "ABC_234",
                                     "ABC%", "ABC1234", "ABCDEFGHIJK*"])
def test_partial_plate_guards_refuse_what_the_protocol_would(loaded: DmvStore,
                                                              pattern: str) -> None:
    assert loaded.by_partial_plate(pattern) == []


def test_partial_plate_is_capped_and_filtered(loaded: DmvStore) -> None:
    assert len(loaded.by_partial_plate("CAP*")) == PARTIAL_PLATE_LIMIT < CAP_PLATES
    assert len(loaded.by_partial_plate("CAP*", limit=7)) == 7
    assert plates(loaded.by_partial_plate("XYZ*", plate_type="MC")) == ["XYZ9"]
    assert loaded.by_partial_plate("XYZ*", plate_type="PC") == []
    assert plates(loaded.by_partial_plate("ABC*", year="25")) == ["ABC1235"]
    assert plates(loaded.by_partial_plate("ABC*", year="NX")) == ["ABC1234", "ABC1235"]


def test_sample_gives_queries_that_pass_the_protocol_and_find_their_records(
        loaded: DmvStore) -> None:
    samples = loaded.sample(8, seed=3)
    assert len(samples) == 8 and len({s.oln for s in samples}) == 8
    assert samples == loaded.sample(8, seed=3)
    for s in samples:
        read(f"DQ.ORPPD0000.WA.TXT\nNAM/{s.name}.DOB/{s.dob}.SEX/{s.sex}")
        read(f"RQ.ORPPD0000.WA.TXT\nLIC/{s.plate}.LIY/{s.plate_year}.LIT/{s.plate_type}")
        born = date(int(s.dob[:4]), int(s.dob[4:6]), int(s.dob[6:]))
        assert s.oln in ids(loaded.by_name_dob(s.name, born, s.sex))
        assert ids(loaded.by_oln(s.oln)) == [s.oln]
        assert s.vin in ids(loaded.by_plate(s.plate, s.plate_year, s.plate_type))
        assert ids(loaded.by_vin(s.vin)) == [s.vin]


def test_sample_is_short_when_few_people_own_vehicles(loaded: DmvStore) -> None:
    owners = loaded.sample(500, seed=1)
    assert CROWD < len(owners) <= CROWD + 5
    assert loaded.sample(0) == []


def test_counts_every_table(loaded: DmvStore) -> None:
    assert loaded.counts() == {"people": 5 + CROWD, "photos": 4, "vehicles": 7 + CAP_PLATES,
                               "registrations": 7 + CAP_PLATES, "history": 2}


@settings(max_examples=40)
@given(st.text(max_size=40), st.text(max_size=12), st.dates(date(1900, 1, 1), date(2099, 1, 1)))
def test_odd_search_terms_answer_and_never_raise(loaded: DmvStore, text: str, short: str,
                                                 day: date) -> None:
    for hits in (loaded.by_oln(text, photo=True), loaded.by_name_dob(text, day, short),
                 loaded.by_name(text, short), loaded.by_plate(short, short, short),
                 loaded.by_vin(text), loaded.by_owner(text, day),
                 loaded.by_partial_plate(short, short, short)):
        ids(hits)
