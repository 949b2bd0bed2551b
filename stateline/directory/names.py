"""Agency names for people: what a table, a page or a briefing shows beside an ORI.

Nobody reads ``ORHSI1800``; they read "HSI, Oregon Field Office". The ORI stays beside the
name wherever one is shown, so it can still be searched and copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..datadir import DataDir
from .agency import Agency
from .store import Directory, NoNation


def display_name(agency: Agency) -> str:
    """The agency's name, short enough for a table cell, with its component when it has one.

    A federal office named "Homeland Security Investigations, Oregon Field Office" becomes
    "HSI, Oregon Field Office": the component is the word people know, the office says where.
    A name that already carries its component ("ICE Law Enforcement Support Center") is kept.
    """
    name, component = agency.name, agency.component
    if not component:
        return name
    office = name.rpartition(", ")[2] if ", " in name else ""
    if office:
        return f"{component}, {office}"
    if _mentions(name, component):
        return name
    return f"{component}, {name}"


class AgencyNames:
    """Display names by ORI from one directory version; an unknown ORI names itself."""

    __slots__ = ("_names",)

    def __init__(self, agencies: Mapping[str, Agency]) -> None:
        self._names: Mapping[str, str] = MappingProxyType(
            {ori: display_name(agency) for ori, agency in agencies.items()})

    def __call__(self, ori: str) -> str:
        """The name for `ori` (any case, any spacing), or `ori` itself when it is not known."""
        return self._names.get(ori) or self._names.get(ori.strip().upper(), ori)

    def labelled(self, ori: str) -> str:
        """Name and ORI together, e.g. "HSI, Oregon Field Office (ORHSI1800)"."""
        name = self(ori)
        return ori if name == ori else f"{name} ({ori})"

    def __len__(self) -> int:
        return len(self._names)


NO_NAMES = AgencyNames({})
"""For a data folder with no directory: every ORI stands for itself."""


_CACHE: dict[str, tuple[int, AgencyNames]] = {}
"""The latest names per directory file, with the version they were read at."""


def agency_names(directory: Directory) -> AgencyNames:
    """The names of every agency in `directory`, read again only when its version moves on."""
    path = str(directory.path.resolve())
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == directory.version:
        return cached[1]
    snapshot = directory.snapshot()
    names = AgencyNames(snapshot.agencies)
    _CACHE[path] = (snapshot.version, names)
    return names


def agency_name(directory: Directory, ori: str) -> str:
    """One agency's display name; the ORI alone when the directory does not know it."""
    return agency_names(directory)(ori)


def names_in(folder: DataDir) -> AgencyNames:
    """The names in a data folder's directory, or none when it has no directory yet."""
    try:
        with Directory.open(folder, create=False) as directory:
            return agency_names(directory)
    except NoNation:
        return NO_NAMES


def _mentions(name: str, component: str) -> bool:
    words = name.replace("(", " ").replace(")", " ").replace("-", " ").upper().split()
    return component in words
