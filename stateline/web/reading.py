"""An audit entry as a person reads it: labelled fields (who asked, what, the outcome, the
deciding policy and its reason in plain words, court order, time), not JSON. The reason comes
from the policy's @reason annotation in the text that decided it, so it is never blank on a
denial."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..audit import AuditEntry
from ..audit.records import ImportedRecord, RecordError, RequestRecord, ReviewRecord
from ..directory.agency import Agency
from ..directory.names import display_name
from ..policy.engine import (
    DEFAULT_DENY,
    ENGINE_ERROR,
    INACTIVE_AGENCY,
    UNKNOWN_AGENCY,
    UNSUPPORTED_KEY,
)
from ..policy.explain import ROWS
from ..policy.source import PolicyError, compile_policies
from ..policy.store import Change, digest

BUILT_IN = {r.policy: r.text for r in (DEFAULT_DENY, ENGINE_ERROR, INACTIVE_AGENCY,
                                        UNKNOWN_AGENCY, UNSUPPORTED_KEY)}
"""Reasons the engine gives without any policy text."""
NO_REASON = "no @reason found for this policy in the state's policy history"


@dataclass(frozen=True, slots=True)
class Labelled:
    section: str
    label: str
    value: str
    ori: str = ""
    """Set when the value names an agency, so the page can show its ORI beside it."""


def reasons_by_version(changes: Sequence[Change]) -> dict[str, dict[str, str]]:
    """Each policy text the state has had, by its version prefix: @id to @reason."""
    found: dict[str, dict[str, str]] = {}
    for change in changes:
        for text in (change.old_text, change.new_text):
            if not text or digest(text)[:16] in found:
                continue
            try:
                policies = compile_policies(text).policies
            except PolicyError:
                continue
            found[digest(text)[:16]] = {p.id: p.reason for p in policies}
    return found


def reason_for(policy: str, version: str, known: Mapping[str, Mapping[str, str]]) -> str:
    """The policy's reason in the text it was decided under, else in any text it had."""
    if policy in BUILT_IN:
        return BUILT_IN[policy]
    exact = known.get(version.split(".")[0], {})
    if policy in exact:
        return exact[policy]
    return next((texts[policy] for texts in reversed(list(known.values())) if policy in texts),
                NO_REASON)


def labelled(entry: AuditEntry, agencies: Mapping[str, Agency],
             known: Mapping[str, Mapping[str, str]]) -> list[Labelled]:
    """A decision or review entry in sections; any other kind as its fields, labelled."""
    try:
        record = entry.record
    except RecordError:
        record = None
    if not isinstance(record, RequestRecord):
        return [Labelled("Entry", _label(name), _shown(value))
                for name, value in entry.body.items()]
    r = record
    agency = agencies.get(r.ori)
    name = r.sender.name if r.sender else (display_name(agency) if agency else "")
    found = [
        Labelled("Who asked", "agency", name or "not in the directory", r.ori),
        Labelled("Who asked", "category", r.category),
        Labelled("What", "query", f"{r.key} ({ROWS[r.key]})" if r.key in ROWS else r.key),
        Labelled("What", "terms", " ".join(r.terms) or "none"),
        Labelled("What", "asked of", r.destination + (" (one of several states)"
                                                       if r.multi_state else "")),
        Labelled("What", "reason code", r.reason or "none given"),
        Labelled("Outcome", "outcome", r.outcome),
        Labelled("Outcome", "released", ", ".join(r.released) or "nothing"),
        Labelled("Outcome", "withheld", ", ".join(r.withheld) or "nothing"),
        Labelled("Outcome", "records disclosed", ", ".join(r.records) or "none"),
        Labelled("Outcome", "photo released", "yes" if r.photo_released else "no"),
    ]
    if r.error:
        found.append(Labelled("Outcome", "error", r.error))
    if isinstance(r, ImportedRecord):
        return found + imported(r)
    for policy in r.policies or (("default-deny",) if r.outcome == "denied" else ()):
        found.append(Labelled("Deciding policy", policy,
                              reason_for(policy, r.policy_version, known)))
    found.append(Labelled("Deciding policy", "policy version", r.policy_version))
    found.append(Labelled("Court order", "court order",
                          r.court_order or "none on file for this agency and subject"))
    if isinstance(r, ReviewRecord):
        found += [Labelled("Review", "reviewer", r.reviewer),
                  Labelled("Review", "chose", r.review), Labelled("Review", "note", r.note)]
    if r.reference:
        found.append(Labelled("Review", "reference", r.reference))
    found += [Labelled("Time", "time (UTC)", r.time.replace("T", " ")[:19]),
              Labelled("Time", "message id", r.message_id or "none"),
              Labelled("Time", "request id", r.request_id)]
    return found


def imported(r: ImportedRecord) -> list[Labelled]:
    """Where a request from before Stateline was read, and what its sender fields mean: the
    state switch answered it, so no policy of this log decided it."""
    s = r.source
    return [
        Labelled("Source", "imported from",
                 f"{s.file} line {s.line} ({s.sha256[:12]})" if s.file
                 else f"line {s.line} ({s.sha256[:12]})"),
        Labelled("Source", "file digest (SHA-256)", s.sha256),
        Labelled("Source", "format", s.format),
        Labelled("Source", "sender as of",
                 f"{r.sender_as_of}: the agency and its category as the directory had them on "
                 "the day of the import, not when the request was made"),
        Labelled("Source", "decided by", "the state switch, before Stateline; no policy in "
                                         "this log decided it"),
        Labelled("Time", "time (UTC)", r.time.replace("T", " ")[:19]),
        Labelled("Time", "request id", r.request_id),
    ]


def raw_json(entry: AuditEntry) -> str:
    return json.dumps(entry.body, ensure_ascii=False, indent=2, sort_keys=True)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
