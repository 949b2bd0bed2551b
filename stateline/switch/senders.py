"""The sending agencies' directory entries, as the switch checks every message against them:
remembered until the directory's version moves (it moves with every edit), and that version
read at most once per turn of the event loop, so an edit made in another process counts
from the next turn, as a revoked credential does."""

from __future__ import annotations

from ..directory.agency import Agency
from ..directory.store import Directory
from .db import running_loop

MOST_KEPT = 10_000
"""Entries remembered at most; past it, the oldest are read again."""


class Senders:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._known: dict[str, Agency | None] = {}
        self._known_at = -1
        self._seen: int | None = None
        """The directory's version, as read this turn of the loop."""

    def get(self, ori: str) -> Agency | None:
        """The agency with this ORI as the directory stands, or None."""
        version = self._version()
        if version != self._known_at:
            self._known.clear()
            self._known_at = version
        if ori in self._known:
            return self._known[ori]
        if len(self._known) >= MOST_KEPT:
            del self._known[next(iter(self._known))]
        found = self._known[ori] = self._directory.get(ori)
        return found

    def _version(self) -> int:
        if self._seen is not None:
            return self._seen
        version = self._directory.version
        loop = running_loop()
        if loop is not None:
            self._seen = version
            loop.call_soon(self._forget)
        return version

    def _forget(self) -> None:
        self._seen = None
