"""An agency as the directory knows it: one ORI and the attributes every decision reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from ..errors import RequesterError
from ..protocol import STATES


class DirectoryError(RequesterError, ValueError):
    """A value the directory cannot hold; the message says which and why.

    `field` names the attribute at fault when there is one, so a CSV import can point at the
    column instead of the whole row.
    """

    code, status = "invalid-agency", 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Level(Enum):
    LOCAL = "local"
    COUNTY = "county"
    STATE = "state"
    FEDERAL = "federal"
    TRIBAL = "tribal"
    INTERNATIONAL = "international"

    @classmethod
    def parse(cls, text: str) -> Level:
        """A level from its name, any case; the error lists the names that would do."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(level.value for level in cls)
            raise DirectoryError(f"{text!r} is not one of {names}", field="level") from None


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
_CODE = re.compile(r"[A-Z]{2}")
_PROGRAM = re.compile(r"[a-z0-9][a-z0-9._-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
"""Characters that would break a legacy text line, a table cell or UTF-8 storage."""
_LETTERS = frozenset(PERMISSIONS)


def _plain_text(ori: str, field: str, text: str) -> str:
    text = text.strip()
    if _CONTROL.search(text):
        raise DirectoryError(f"{ori}: {field} contains control characters", field=field)
    return text


def normalise_ori(value: str) -> str:
    """An ORI as the directory stores it: trimmed, upper case, exactly 9 letters or digits."""
    ori = value.strip().upper()
    if not _ORI.fullmatch(ori):
        raise DirectoryError(f"ORI {value!r} is not 9 letters or digits", field="ori")
    return ori


def join_letters(letters: frozenset[str]) -> str:
    """Permission letters as one sorted word, e.g. ``ACD``: the stored and exported form."""
    return "".join(sorted(letters))


def split_letters(text: str) -> frozenset[str]:
    """Permission letters from their word form; blanks are ignored, checking is Agency's."""
    return frozenset("".join(text.split()))


def join_programs(programs: frozenset[str]) -> str:
    """Programs as one sorted ``;``-joined string: the stored and exported form."""
    return ";".join(sorted(programs))


def split_programs(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(";") if part.strip())


@dataclass(frozen=True, slots=True)
class Agency:
    """One ORI in the directory. `state` is where the ORI sits, federal agencies included.

    Codes are normalised here (upper-case codes, lower-case programs, trimmed text), so every
    source of agencies (generator, CSV, database) agrees on one spelling.
    """

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
        put = object.__setattr__
        put(self, "ori", normalise_ori(self.ori))
        put(self, "name", _plain_text(self.ori, "name", self.name))
        put(self, "contact", _plain_text(self.ori, "contact", self.contact))
        put(self, "state", self.state.strip().upper())
        put(self, "agency_type", self.agency_type.strip().upper())
        put(self, "department", self.department.strip().upper())
        put(self, "component", self.component.strip().upper())
        if not self.permissions <= _LETTERS:
            put(self, "permissions", frozenset(letter.upper() for letter in self.permissions))
        if self.programs:
            put(self, "programs", frozenset(p.strip().lower() for p in self.programs))
        self._check()

    def _check(self) -> None:
        refuse = self._refuse
        if not self.name:
            raise refuse("name", "name is empty")
        international = self.level is Level.INTERNATIONAL
        if self.state not in STATES and not (international and _CODE.fullmatch(self.state)):
            raise refuse("state", f"state {self.state!r} is not a state code")
        if not self.ori.startswith(self.state):
            raise refuse("state", f"an ORI starts with its state ({self.state})")
        if self.agency_type not in AGENCY_TYPES:
            raise refuse("agency_type", f"agency type {self.agency_type!r} is not one of "
                         + " ".join(AGENCY_TYPES))
        unknown = self.permissions - _LETTERS
        if unknown:
            raise refuse("permissions", f"permission letters {''.join(sorted(unknown))!r} "
                         "are not A, C, D or Z")
        odd = sorted(p for p in self.programs if not _PROGRAM.fullmatch(p))
        if odd:
            raise refuse("programs", f"program {odd[0]!r} is not a word of letters, digits, "
                         "'.', '_' or '-'")
        if self.department and self.department not in DEPARTMENTS:
            raise refuse("department", f"department {self.department!r} is not one of "
                         + " ".join(DEPARTMENTS))
        if self.component and self.component not in DEPARTMENTS.get(self.department, ()):
            raise refuse("component", f"component {self.component!r} is not part of "
                         f"{self.department or 'a department'}")
        if self.department and self.level is not Level.FEDERAL:
            raise refuse("department", "only federal agencies have a department")

    def _refuse(self, field: str, why: str) -> DirectoryError:
        return DirectoryError(f"{self.ori}: {why}", field=field)

    @property
    def is_federal(self) -> bool:
        return self.level is Level.FEDERAL

    def may_send(self, letter: str) -> bool:
        return self.active and letter in self.permissions


def to_json(agency: Agency) -> dict[str, object]:
    """An agency in the JSON form the CLI and the API print: letters and programs as lists."""
    return {
        "ori": agency.ori,
        "name": agency.name,
        "state": agency.state,
        "level": agency.level.value,
        "agency_type": agency.agency_type,
        "department": agency.department,
        "component": agency.component,
        "criminal_justice": agency.criminal_justice,
        "permissions": sorted(agency.permissions),
        "programs": sorted(agency.programs),
        "active": agency.active,
        "contact": agency.contact,
    }
