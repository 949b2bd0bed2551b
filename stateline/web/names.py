"""Agencies by name beside their ORI on every page (the short form the CLI shows too,
`directory.names.display_name`): the directory read once per version and
kept, so a page of fifty rows costs one version check, not fifty lookups."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType

from ..datadir import DataDir
from ..directory.agency import Agency, DirectoryError
from ..directory.names import display_name
from ..directory.store import Directory

NOBODY: Mapping[str, Agency] = MappingProxyType({})


class AgencyNames:
    """The directory's agencies of one data folder, read again when its version moves."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self._version = -1
        self._agencies: Mapping[str, Agency] = NOBODY
        self._lock = threading.Lock()

    def agencies(self) -> Mapping[str, Agency]:
        """Every agency by ORI; empty when the folder has no directory (yet)."""
        try:
            with Directory.open(self.data, create=False) as directory, self._lock:
                if directory.version != self._version:
                    snapshot = directory.snapshot()
                    self._version, self._agencies = snapshot.version, snapshot.agencies
                return self._agencies
        except DirectoryError:
            return NOBODY

    def matching(self, text: str) -> frozenset[str]:
        """ORIs whose agency's name contains `text` (any case): how a name is searched."""
        wanted = text.strip().casefold()
        if not wanted:
            return frozenset()
        return frozenset(ori for ori, agency in self.agencies().items()
                         if wanted in display_name(agency).casefold())
