"""Each kind of audit entry as a typed, frozen record: built once when what it records is final,
written by one `body()`, read back by one `from_body()` (or `AuditEntry.record`), described by
one JSON Schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..entries import AuditEntry, EntryKind
from .base import Part, Record, RecordError, keys_of
from .kinds import (
    RECORDS,
    REFUSED,
    AttestationRecord,
    ChangeRecord,
    CourtOrderRecord,
    CredentialRecord,
    DecisionRecord,
    ImportedRecord,
    KeyRotationRecord,
    LoginRecord,
    NoticeRecord,
    PolicyChangeRecord,
    RequestRecord,
    ReviewRecord,
    Sender,
    Source,
)
from .schema import published, schema, schema_text, write_schemas


def parse(kind: EntryKind | str, body: Mapping[str, Any]) -> Record:
    """The record a stored body of this kind holds; RecordError when it does not fit."""
    try:
        known = EntryKind(kind)
    except ValueError:
        raise RecordError(str(kind), "kind", "is not a kind of audit entry") from None
    return RECORDS[known].from_body(body)


def request_of(entry: AuditEntry) -> RequestRecord:
    """A decision's or a review's record; RecordError for an entry of another kind."""
    found = entry.record
    if not isinstance(found, RequestRecord):
        raise RecordError(entry.kind.value, "kind", "is not a decision or a review")
    return found


__all__ = [
    "RECORDS",
    "REFUSED",
    "AttestationRecord",
    "ChangeRecord",
    "CourtOrderRecord",
    "CredentialRecord",
    "DecisionRecord",
    "ImportedRecord",
    "KeyRotationRecord",
    "LoginRecord",
    "NoticeRecord",
    "Part",
    "PolicyChangeRecord",
    "Record",
    "RecordError",
    "RequestRecord",
    "ReviewRecord",
    "Sender",
    "Source",
    "keys_of",
    "parse",
    "published",
    "request_of",
    "schema",
    "schema_text",
    "write_schemas",
]
