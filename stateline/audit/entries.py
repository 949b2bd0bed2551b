"""What one audit entry is, and the exact bytes its Merkle leaf commits to."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .records import Record


class EntryKind(Enum):
    """Every kind of event the log records; DESIGN.md "Audit entry" lists them."""

    DECISION = "decision"
    POLICY_CHANGE = "policy-change"
    REVIEW = "review"
    COURT_ORDER = "court-order"
    ATTESTATION = "attestation"
    NOTICE = "notice"
    CREDENTIAL = "credential"
    LOGIN = "login"
    KEY_ROTATION = "key-rotation"
    """The log's next signing key, announced under the key it replaces."""
    IMPORTED = "imported"
    """A request from the years before Stateline, read from a state switch's records."""


FIRST_HAND = (EntryKind.DECISION, EntryKind.IMPORTED)
"""Entries that each record one request as it was first answered: a live decision, or one
imported from the state switch's records. Reports, briefings and replays count both."""
FIRST_HAND_KINDS = tuple(k.value for k in FIRST_HAND)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    time_us: int
    kind: EntryKind
    body: Mapping[str, Any]
    leaf: bytes

    @property
    def record(self) -> Record:
        """The body as its kind's typed record; records.RecordError if it does not fit."""
        from .records import parse  # records are built on this module's kinds

        return parse(self.kind, self.body)


def canonical_json(body: Mapping[str, Any]) -> str:
    """One spelling per body, so the stored text is exactly what was hashed."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def leaf_data(time_us: int, kind: str, body: str) -> bytes:
    """The leaf's preimage. The position is not in it: the tree itself fixes each leaf's index.

    `sql.Dialect.leaf_data` builds the same bytes, so verify can stream them from the store.
    """
    return f"{time_us}\n{kind}\n{body}".encode()
