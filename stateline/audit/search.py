"""What an audit search asks for: the filters the CLI and the dashboard share, matched against
the typed record of a request (live, imported or reviewed), and the walk that finds entries
in a time range, each by its own time: a live entry's is when it was appended, an imported
request's when it was made (its body's `time`), years before it was appended."""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .entries import AuditEntry, EntryKind
from .log import AuditLog
from .records import RecordError, request_of

SEARCHED = (EntryKind.DECISION, EntryKind.IMPORTED, EntryKind.REVIEW)
"""The kinds a search looks at by default: requests first-hand (live or imported from the
state switch's records) or after review."""
PAGE = 1_000
"""Imported entries read per statement, newest first."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def made_us(entry: AuditEntry) -> int:
    """An entry's own time: when an imported request was made, else when it was appended."""
    if entry.kind is EntryKind.IMPORTED:
        text = entry.body.get("time")
        try:
            moment = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            moment = None
        if moment is not None:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return (moment - _EPOCH) // timedelta(microseconds=1)
    return entry.time_us


def scan(log: AuditLog, kinds: Sequence[EntryKind], since_us: int | None = None,
         until_us: int | None = None) -> Iterator[AuditEntry]:
    """Entries of these kinds whose own time is in the range, newest first: live ones by the
    log's walk back over sequence numbers, imported ones through the index on when they
    were made, merged."""
    live = [k for k in kinds if k is not EntryKind.IMPORTED]
    walks = [log.scan(live, since_us, until_us)] if live else []
    if EntryKind.IMPORTED in kinds:
        walks.append(_imported(log, since_us, until_us))
    return heapq.merge(*walks, key=made_us, reverse=True)


def _iso(time_us: int) -> str:
    """A time as imported bodies spell theirs, so the strings compare as the times do."""
    return (_EPOCH + timedelta(microseconds=time_us)).isoformat(timespec="microseconds")


def _imported(log: AuditLog, since_us: int | None,
              until_us: int | None) -> Iterator[AuditEntry]:
    """Imported entries made in the range, newest first, a page of the index at a time."""
    made = log.dialect.made
    low = "" if since_us is None else _iso(since_us)
    high = "~" if until_us is None else _iso(until_us + 1)  # "~" sorts after every digit
    head = f"SELECT seq, time_us, kind, body, leaf, {made} FROM entries WHERE kind = 'imported'"
    tail = f"ORDER BY {made} DESC, seq DESC LIMIT {PAGE}"
    rows = log.select(f"{head} AND {made} >= ? AND {made} < ? {tail}", (low, high)).fetchall()
    while True:
        for seq, time_us, kind, text, leaf, _ in rows:
            try:
                body = json.loads(text)
            except ValueError:
                continue  # a damaged row; `verify` names it
            if isinstance(body, dict):
                yield AuditEntry(int(seq), int(time_us), EntryKind(kind), body, bytes(leaf))
        if len(rows) < PAGE:
            return
        last, before = rows[-1][5], int(rows[-1][0])
        rows = log.select(f"{head} AND {made} >= ? AND {made} <= ? AND ({made} < ? OR seq < ?) "
                          f"{tail}", (low, last, last, before)).fetchall()
