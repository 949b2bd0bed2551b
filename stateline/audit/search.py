"""What an audit search asks for: the filters the CLI and the dashboard share, matched against
the typed record of a decision or a review."""

from __future__ import annotations

from dataclasses import dataclass

from .entries import AuditEntry, EntryKind
from .records import RecordError, request_of

SEARCHED = (EntryKind.DECISION, EntryKind.REVIEW)
"""The kinds a search looks at by default: decisions on queries, first-hand or after review."""


@dataclass(frozen=True, slots=True)
class Filters:
    agency: str | None = None
    category: str | None = None
    key: str | None = None
    outcome: str | None = None
    since_us: int | None = None
    until_us: int | None = None

    @property
    def by_request(self) -> bool:
        return any(v is not None for v in (self.agency, self.category, self.key, self.outcome))

    def match(self, entry: AuditEntry) -> bool:
        """Every filter given holds; an entry that records no request matches only when no
        request filter is given."""
        if not self.by_request:
            return True
        try:
            r = request_of(entry)
        except RecordError:
            return False
        return ((self.agency is None or r.ori.upper() == self.agency)
                and (self.category is None or r.category.upper() == self.category)
                and (self.key is None or r.key.upper() == self.key)
                and (self.outcome is None or r.outcome == self.outcome))
