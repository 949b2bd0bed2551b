"""An agency as the directory knows it: one ORI and the attributes every decision reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..protocol import STATES


class DirectoryError(ValueError):
    """A value the directory cannot hold; the message says which and why."""


class Level(Enum):
    LOCAL = "local"
    COUNTY = "county"
    STATE = "state"
    FEDERAL = "federal"
    TRIBAL = "tribal"
    INTERNATIONAL = "international"


AGENCY_TYPES: dict[str, str] = {
    "PD": "city police",
    "SO": "county sheriff",
    "SA": "statewide agency",
    "LE": "other law enforcement",
    "FE": "federal law enforcement",
    "JA": "prosecutor",
    "JC": "corrections",
    "JG": "probation and parole",
    "JJ": "court",
    "JF": "federal criminal justice, not law enforcement",
    "NJ": "not criminal justice (e.g. a DMV)",
}
"""ORION agency-type codes."""

PERMISSIONS: dict[str, str] = {
    "A": "administrative messages",
    "C": "criminal history",
    "D": "DMV data",
    "Z": "other",
}
"""ORI permission letters: which classes of traffic an ORI may send."""

DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "DHS": ("ICE", "HSI", "CBP", "USCIS", "TSA", "USSS", "FPS", "USCG"),
    "DOJ": ("FBI", "DEA", "USMS", "ATF", "BOP"),
    "DOI": ("NPS", "BIA", "BLM", "FWS"),
    "USDA": ("USFS",),
    "DOS": ("DSS",),
    "TREAS": ("IRSCI",),
    "DOD": ("NCIS", "AFOSI", "CID"),
    "USPS": ("USPIS",),
}
"""Federal departments and their components; DHS's immigration components come first."""

DHS_IMMIGRATION = ("ICE", "HSI", "CBP", "USCIS")

_ORI = re.compile(r"[A-Z0-9]{9}")


def normalise_ori(value: str) -> str:
    """An ORI as the directory stores it: trimmed, upper case, exactly 9 letters or digits."""
    ori = value.strip().upper()
    if not _ORI.fullmatch(ori):
        raise DirectoryError(f"ORI {value!r} is not 9 letters or digits")
    return ori


@dataclass(frozen=True, slots=True)
class Agency:
    """One ORI in the directory. `state` is where the ORI sits, federal agencies included."""

    ori: str
    name: str
    state: str
    level: Level
    agency_type: str
    department: str = ""
    component: str = ""
    criminal_justice: bool = True
    permissions: frozenset[str] = frozenset({"A", "D"})
    programs: frozenset[str] = frozenset()
    active: bool = True
    contact: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ori", normalise_ori(self.ori))
        if not self.name.strip():
            raise DirectoryError(f"{self.ori}: name is empty")
        international = self.level is Level.INTERNATIONAL
        if self.state not in STATES and not (international and re.fullmatch(r"[A-Z]{2}",
                                                                            self.state)):
            raise DirectoryError(f"{self.ori}: state {self.state!r} is not a state code")
        if not self.ori.startswith(self.state):
            raise DirectoryError(f"{self.ori}: an ORI starts with its state ({self.state})")
        if self.agency_type not in AGENCY_TYPES:
            raise DirectoryError(f"{self.ori}: agency type {self.agency_type!r} is not one of "
                                 + " ".join(AGENCY_TYPES))
        unknown = set(self.permissions) - set(PERMISSIONS)
        if unknown:
            raise DirectoryError(f"{self.ori}: permission letters {''.join(sorted(unknown))} "
                                 "are not A, C, D or Z")
        if self.department and self.department not in DEPARTMENTS:
            raise DirectoryError(f"{self.ori}: department {self.department!r} is not one of "
                                 + " ".join(DEPARTMENTS))
        if self.component and self.component not in DEPARTMENTS.get(self.department, ()):
            raise DirectoryError(f"{self.ori}: component {self.component!r} is not part of "
                                 f"{self.department or 'a department'}")
        if self.department and self.level is not Level.FEDERAL:
            raise DirectoryError(f"{self.ori}: only federal agencies have a department")

    @property
    def is_federal(self) -> bool:
        return self.level is Level.FEDERAL

    def may_send(self, letter: str) -> bool:
        return self.active and letter in self.permissions
