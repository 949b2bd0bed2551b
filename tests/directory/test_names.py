"""Agency names as people read them beside an ORI: short, with the component they know, read
again only when the directory changes, and the ORI itself for an agency nobody knows."""

from __future__ import annotations

from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.directory import (
    NO_NAMES,
    Agency,
    AgencyNames,
    Directory,
    Level,
    agency_name,
    agency_names,
    display_name,
    names_in,
)
from stateline.sim.agencies import generate_agencies

HSI_PORTLAND = Agency("ORHSI1800", "Homeland Security Investigations, Oregon Field Office",
                      "OR", Level.FEDERAL, "FE", "DHS", "HSI")
ICE_LESC = Agency("VTICE0900", "ICE Law Enforcement Support Center (Williston)", "VT",
                  Level.FEDERAL, "FE", "DHS", "ICE")
ICE_SEATTLE = Agency("WAICE0100", "U.S. Immigration and Customs Enforcement (ICE) - Seattle "
                     "Field Office", "WA", Level.FEDERAL, "FE", "DHS", "ICE")
CBP_PLAIN = Agency("TXCBP0100", "El Paso Sector", "TX", Level.FEDERAL, "FE", "DHS", "CBP")
POLICE = Agency("ORPPD0000", "Portland Police Bureau", "OR", Level.LOCAL, "PD")


@pytest.mark.parametrize("agency, name", [
    (HSI_PORTLAND, "HSI, Oregon Field Office"),
    (ICE_LESC, "ICE Law Enforcement Support Center (Williston)"),
    (ICE_SEATTLE, "U.S. Immigration and Customs Enforcement (ICE) - Seattle Field Office"),
    (CBP_PLAIN, "CBP, El Paso Sector"),
    (POLICE, "Portland Police Bureau"),
])
def test_display_name(agency: Agency, name: str) -> None:
    assert display_name(agency) == name


def test_every_federal_office_of_a_nation_is_named_by_its_component() -> None:
    federal = [a for a in generate_agencies(1) if a.component]
    assert federal
    for agency in federal:
        shown = display_name(agency)
        assert agency.component in shown.replace("(", " ").replace(")", " ").split() \
            or shown.startswith(f"{agency.component},"), shown
        assert len(shown) <= len(agency.name) + len(agency.component) + 2


def test_an_unknown_ori_names_itself_and_odd_input_never_raises() -> None:
    names = AgencyNames({POLICE.ori: POLICE})
    assert names("ORPPD0000") == "Portland Police Bureau"
    assert names(" orppd0000 ") == "Portland Police Bureau"
    assert names("ZZ0000000") == "ZZ0000000"
    assert names("not an ori at all \x00") == "not an ori at all \x00"
    assert names("") == ""
    assert names.labelled("ORPPD0000") == "Portland Police Bureau (ORPPD0000)"
    assert names.labelled("ZZ0000000") == "ZZ0000000"


def test_names_are_read_again_only_when_the_directory_changes(tmp_path: Path) -> None:
    with Directory.open(tmp_path) as directory:
        directory.put_many([POLICE, HSI_PORTLAND])
        first = agency_names(directory)
        assert agency_names(directory) is first
        assert agency_name(directory, "ORHSI1800") == "HSI, Oregon Field Office"
        directory.put(Agency("ORPPD0000", "Police Bureau of Portland", "OR", Level.LOCAL, "PD"))
        assert agency_names(directory) is not first
        assert agency_name(directory, "ORPPD0000") == "Police Bureau of Portland"
    with Directory.open(tmp_path, create=False) as again:
        assert agency_name(again, "ORPPD0000") == "Police Bureau of Portland"


def test_a_folder_without_a_directory_has_no_names(tmp_path: Path) -> None:
    assert names_in(DataDir(tmp_path)) is NO_NAMES
    assert NO_NAMES("ORPPD0000") == "ORPPD0000"
    assert not DataDir(tmp_path).nation_db.exists()
