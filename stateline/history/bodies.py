"""Rows as the bodies of `imported` audit entries, exactly as `ImportedRecord.body()` writes them.

An import writes millions of bodies, so each is one dict display rather than a record built
and walked field by field; a test holds the two to the same canonical bytes for any row. The
sender is the directory's as of the import, looked up once per ORI.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring as _quoted
from typing import Any

from ..audit.entries import canonical_json
from ..audit.records import Sender
from ..directory.agency import Agency
from ..directory.categories import DEFAULT_RULES, RuleTable
from .rows import Row

UNKNOWN = "unknown"
"""The category of an ORI the directory does not know: counted, never dropped."""


class Senders:
    """Each ORI's sender body and statistics category, as the directory has them now."""

    def __init__(self, lookup: Callable[[str], Agency | None], state: str,
                 rules: RuleTable = DEFAULT_RULES) -> None:
        self._lookup = lookup
        self._state = state
        self._rules = rules
        self._known: dict[str, tuple[dict[str, Any] | None, str]] = {}

    def of(self, ori: str) -> tuple[dict[str, Any] | None, str]:
        found = self._known.get(ori)
        if found is None:
            agency = self._lookup(ori)
            found = (None, UNKNOWN) if agency is None else \
                (Sender.of(agency).body(), self._rules.category(agency, self._state))
            self._known[ori] = found
        return found


def request_id(sha256: str, line: int) -> str:
    """The same 32 hex digits for the same place in the same file, whenever it is read."""
    return hashlib.sha256(f"{sha256}:{line}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What every entry read from one file shares."""

    sha256: str
    file: str
    format: str
    state: str
    day: str
    """The day of the import, YYYY-MM-DD: `sender_as_of`."""


class Bodies:
    """Bodies for one file's rows, written straight as the canonical JSON the log stores
    (keys in sorted order, as `canonical_json` writes them): the parts every row shares
    (sender, source, element lists) are written once, and only the row's own values are
    escaped per row."""

    def __init__(self, facts: FileFacts, senders: Senders) -> None:
        self.facts = facts
        self.senders = senders
        self._lists: dict[tuple[str, ...], str] = {}
        self._senders: dict[str, tuple[str, str]] = {}
        self._source = (f',"sender_as_of":{_quoted(facts.day)},"source":{{"file":'
                        f'{_quoted(facts.file)},"format":{_quoted(facts.format)},"line":')
        self._after_line = f',"sha256":{_quoted(facts.sha256)}}},"terms":'
        self._destination = _quoted(facts.state)

    def _list(self, values: tuple[str, ...]) -> str:
        found = self._lists.get(values)
        if found is None:
            found = self._lists[values] = _array(values)
        return found

    def _sender(self, ori: str) -> tuple[str, str]:
        """The sender's canonical JSON (or null) and its category, once per ORI."""
        found = self._senders.get(ori)
        if found is None:
            sender, category = self.senders.of(ori)
            found = self._senders[ori] = ("null" if sender is None else canonical_json(sender),
                                          category)
        return found

    def text(self, row: Row) -> str:
        """The row's body as the log stores and hashes it."""
        sender, category = self._sender(row.ori)
        reject = "" if row.reject is None else f',"reject":{_quoted(row.reject)}'
        return (
            f'{{"category":{_quoted(category)},"court_order":null,"destination":'
            f'{self._destination},"key":{_quoted(row.key)},"message_id":"","multi_state":false,'
            f'"ori":{_quoted(row.ori)},"outcome":{_quoted(row.outcome)},"photo_released":'
            f'{"true" if row.photo else "false"},"policies":[],"policy_version":"","reason":'
            f'{_quoted(row.reason)},"records":{_array(row.records)}{reject},"released":'
            f'{self._list(row.released)},"request_id":'
            f'"{request_id(self.facts.sha256, row.line)}","sender":{sender}{self._source}'
            f'{row.line}{self._after_line}{_array(row.terms)},"time":{_quoted(row.time)},'
            f'"withheld":{self._list(row.withheld)}}}')

    def fields(self, row: Row) -> dict[str, Any]:
        """What the log's rollups read of the body: its day, category, group, outcome,
        photo and records."""
        return {"time": row.time, "category": self._sender(row.ori)[1], "key": row.key,
                "outcome": row.outcome, "photo_released": row.photo,
                "records": list(row.records)}

    def body(self, row: Row) -> dict[str, Any]:
        """The body as a mapping (the record's fields), read back from its text."""
        found: dict[str, Any] = json.loads(self.text(row))
        return found


def _array(values: tuple[str, ...]) -> str:
    return "[" + ",".join(map(_quoted, values)) + "]"
