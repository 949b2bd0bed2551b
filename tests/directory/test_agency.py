"""The Agency value: one place that normalises spellings and refuses what the directory can't
hold, naming the attribute at fault."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stateline.directory import Agency, DirectoryError, Level, normalise_ori, to_json
from stateline.directory.agency import join_letters, join_programs, split_letters, split_programs

from .samples import ICE, PARTNER, SPOKANE


@pytest.mark.parametrize("typed", ["waspd0100", "  WASPD0100\t", "WaSpD0100\n"])
def test_an_ori_is_found_however_it_is_typed(typed: str) -> None:
    assert normalise_ori(typed) == "WASPD0100"


@pytest.mark.parametrize("bad", ["", "WASPD010", "WASPD01000", "WA-PD0100", "WASPD 100"])
def test_an_ori_that_is_not_nine_letters_or_digits_is_refused(bad: str) -> None:
    with pytest.raises(DirectoryError, match="not 9 letters or digits") as caught:
        normalise_ori(bad)
    assert caught.value.field == "ori"


def test_codes_and_text_are_normalised_once_in_the_agency() -> None:
    agency = Agency(" txcbp0100 ", "  Border Post  ", "tx", Level.FEDERAL, "fe", "dhs", "cbp",
                    permissions=frozenset("ad"), programs=frozenset({" Task-Force "}),
                    contact=" desk@agencies.example ")
    assert (agency.ori, agency.name, agency.state, agency.agency_type) == (
        "TXCBP0100", "Border Post", "TX", "FE")
    assert (agency.department, agency.component) == ("DHS", "CBP")
    assert agency.permissions == frozenset("AD")
    assert agency.programs == frozenset({"task-force"})
    assert agency.contact == "desk@agencies.example"


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"name": "   "}, "name", "name is empty"),
    ({"name": "Line\nbreak"}, "name", "control characters"),
    ({"contact": "bell\x07"}, "contact", "control characters"),
    ({"state": "XX"}, "state", "not a state code"),
    ({"state": "OR"}, "state", "an ORI starts with its state"),
    ({"agency_type": "ZZ"}, "agency_type", "is not one of PD SO"),
    ({"permissions": frozenset("AQ")}, "permissions", "'Q' are not A, C, D or Z"),
    ({"programs": frozenset({"287 g"})}, "programs", "'287 g' is not a word"),
    ({"level": Level.FEDERAL, "department": "NASA"}, "department", "is not one of DHS"),
    ({"level": Level.FEDERAL, "department": "DOJ", "component": "ICE"}, "component",
     "'ICE' is not part of DOJ"),
    ({"department": "DHS"}, "department", "only federal agencies have a department"),
])
def test_each_refusal_names_the_attribute_at_fault(change: dict[str, object], field: str,
                                                   words: str) -> None:
    with pytest.raises(DirectoryError, match=words) as caught:
        replace(SPOKANE, **change)
    assert caught.value.field == field
    assert str(caught.value).startswith("WASPD0100: ")


def test_an_international_agency_may_sit_outside_the_states() -> None:
    rcmp = Agency("CNRCMP000", "Royal Canadian Mounted Police", "CN", Level.INTERNATIONAL, "LE")
    assert rcmp.state == "CN"
    with pytest.raises(DirectoryError, match="not a state code"):
        replace(rcmp, level=Level.LOCAL)


@pytest.mark.parametrize("typed", ["federal", "FEDERAL", " Federal "])
def test_a_level_is_read_in_any_case(typed: str) -> None:
    assert Level.parse(typed) is Level.FEDERAL


def test_an_unknown_level_lists_the_levels_that_would_do() -> None:
    with pytest.raises(DirectoryError) as caught:
        Level.parse("federall")
    assert str(caught.value) == ("'federall' is not one of local, county, state, federal, "
                                 "tribal, international")
    assert caught.value.field == "level"


def test_an_inactive_agency_may_send_nothing() -> None:
    assert ICE.may_send("D")
    assert not ICE.may_send("Z")
    assert not replace(ICE, active=False).may_send("D")


def test_letters_and_programs_have_one_written_form() -> None:
    assert join_letters(frozenset("DCA")) == "ACD"
    assert split_letters(" A C D ") == frozenset("ACD")
    assert join_programs(frozenset({"task", "287g"})) == "287g;task"
    assert split_programs(" 287g ;; task ;") == frozenset({"287g", "task"})
    assert split_letters("") == frozenset() and split_programs("") == frozenset()


def test_the_json_form_has_lists_and_booleans() -> None:
    assert to_json(PARTNER) == {
        "ori": "TX0020000", "name": "Benton County Sheriff's Office", "state": "TX",
        "level": "county", "agency_type": "SO", "department": "", "component": "",
        "criminal_justice": True, "permissions": ["A", "D"], "programs": ["287g"],
        "active": True, "contact": "sheriff.tx002@agencies.example",
    }
