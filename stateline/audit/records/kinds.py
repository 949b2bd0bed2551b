"""The record of each kind of audit entry: what the body of each kind holds, field by field.

DESIGN.md "Audit entry": one entry per decision, a snapshot rather than a reference, and policy
changes, reviews, court orders, notices, credentials and sign-ins audited too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from ...directory.agency import Agency, Level
from ...protocol import Outcome
from ..entries import EntryKind
from .base import Part, Record, info, optional

OUTCOMES = tuple(o.value for o in Outcome)
REFUSED = "refused"
"""A review's outcome when a release was refused: nothing was sent, the request stays held."""
TIME = "When it happened: UTC, ISO 8601 with microseconds (`2026-11-02T14:03:07.123456+00:00`)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Sender(Part):
    """The sending agency as the directory had it at the moment of the request."""

    label: ClassVar[str] = "sender"

    ori: str = info("The agency's ORI.")
    name: str = info("The agency's name.")
    state: str = info("Where the ORI sits (two letters).")
    level: str = info("Level of government.", choices=tuple(v.value for v in Level))
    agency_type: str = info("ORION-style agency type (PD SO SA LE FE ...).")
    department: str = info('Parent department ("DHS"), "" if none.')
    component: str = info('Component ("ICE", "HSI", "CBP" ...), "" if none.')
    criminal_justice: bool = info("A criminal-justice agency.")
    permissions: tuple[str, ...] = info("Permission letters (A C D Z), sorted.")
    programs: tuple[str, ...] = info('Programs it takes part in (e.g. "287g"), sorted.')
    active: bool = info("Active in the directory.")

    @classmethod
    def of(cls, agency: Agency) -> Sender:
        """The agency as an entry records its sender, live or imported."""
        return cls(ori=agency.ori, name=agency.name, state=agency.state,
                   level=agency.level.value, agency_type=agency.agency_type,
                   department=agency.department, component=agency.component,
                   criminal_justice=agency.criminal_justice,
                   permissions=tuple(sorted(agency.permissions)),
                   programs=tuple(sorted(agency.programs)), active=agency.active)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord(Record):
    """A query for records and what came of it: the fields decisions and reviews share."""

    time: str = info(TIME, format="date-time")
    request_id: str = info("A random id for this request (32 hex digits).")
    message_id: str = info("The switch's message id; empty when the query came without one.")
    ori: str = info("The sender's ORI as the message gave it.")
    sender: Sender | None = info(  # noqa: RUF009 (a field, as every other here)
        "The sender as the directory had it; null for an ORI it did not know or a key the "
        "state does not answer.")
    category: str = info('The sender\'s statistics category ("ICE", "in-state" ...); '
                         '"unknown" when the directory did not know it.')
    key: str = info("The message key (DQ DNQ KQ RQ RNQ RPQ ...).")
    reason: str = info("The reason code the query gave (RSN), empty if none.")
    destination: str = info("The state that answered.")
    terms: tuple[str, ...] = info("The query's fields, each PREFIX/value.")
    outcome: str = info("What came of the request.", choices=OUTCOMES)
    policies: tuple[str, ...] = info("@id of each policy that decided it.")
    released: tuple[str, ...] = info("Data elements released (with records only).")
    withheld: tuple[str, ...] = info("Data elements withheld (with records only).")
    records: tuple[str, ...] = info("Ids of the records disclosed (OLN or VIN).")
    photo_released: bool = info("A photo left the state.")
    policy_version: str = info("The version of the policy and directory it was decided under.")
    court_order: str | None = info("Reference of the court order on file it was decided "
                                   "with, whether or not the policy needed it; null if none.")
    multi_state: bool = info("Sent to several states at once (NL or more than one "
                             "destination).", added=True)
    court_order_subject: tuple[str, ...] | None = optional(
        "The order's subject as the DMV holds it, each PREFIX/value.")
    undisclosed: int | None = optional("Records found that the court order did not cover.")
    reference: str | None = optional("The held request's review reference.")
    message: str | None = optional("The held query as JSON, to put it on file again after "
                                   "a crash.")
    reject: str | None = optional("The ER code of the requester's error (e.g. .14.).")
    error: str | None = optional('What failed: "requester: ..." for a requester\'s error, '
                                 "else the system error.")

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.time)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord(RequestRecord):
    """One query decided by a state's gateway: who asked, for what, under which policy, and
    what left the state."""

    kind: ClassVar[EntryKind] = EntryKind.DECISION


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRecord(RequestRecord):
    """A held query released or denied by a state's reviewer: the request again as decided
    now, and who reviewed it. A release the policy in force refuses is audited too."""

    kind: ClassVar[EntryKind] = EntryKind.REVIEW

    outcome: str = info(f'What came of the review; "{REFUSED}" when the policy in force '
                        "refused a release and the request stayed held.",
                        choices=(*OUTCOMES, REFUSED))
    reference: str = info("The held request's review reference.")
    reviewer: str = info("Who reviewed it.")
    note: str = info("The reviewer's note.", added=True)
    review: str = info("What the reviewer chose.", choices=("released", "denied"), added=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRecord(Record):
    """A change to the state's policy or registry, written before it takes effect."""

    time: str = info(TIME, format="date-time")
    change: int = info("The change's number in the state's history.")
    change_kind: str = info("What changed.", choices=("policy", "court-order", "attestation"))
    who: str = info("Who made the change.")
    note: str = info("Why, as given.")
    old_version: str = info("SHA-256 of the policy text replaced; empty for the registry.")
    new_version: str = info("SHA-256 of the policy text now in force; empty for the registry.")
    text: str = info("The text now in force: the policy, or the order or attestation as JSON.")
    failed: str | None = optional("Why the change could not be installed after all.")


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChangeRecord(ChangeRecord):
    """A new policy text put in force (or its failure to install)."""

    kind: ClassVar[EntryKind] = EntryKind.POLICY_CHANGE


@dataclass(frozen=True, slots=True, kw_only=True)
class CourtOrderRecord(ChangeRecord):
    """A court order added to or revoked from the state's registry."""

    kind: ClassVar[EntryKind] = EntryKind.COURT_ORDER


@dataclass(frozen=True, slots=True, kw_only=True)
class AttestationRecord(ChangeRecord):
    """An agency's attestation added to the state's registry."""

    kind: ClassVar[EntryKind] = EntryKind.ATTESTATION


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticeRecord(Record):
    """A coordinator's action on a notice owed to a person: never the person's address, and
    not a request to be counted."""

    kind: ClassVar[EntryKind] = EntryKind.NOTICE

    action: str = info("What was done.", choices=("notice-sent", "notice-excepted"))
    notice: str = info("The notice's id (e.g. NY-N000042).")
    request_id: str = info("The request the notice is about.")
    reference: str | None = info("The request's review reference, null if it was not held.")
    entry: int = info("The audit entry that queued the notice.")
    by: str = info("Who acted.")
    time: str = info(TIME, format="date-time")
    deadline: str = info("The day the notice was due by (YYYY-MM-DD).", format="date")
    overdue: bool = info("The deadline had passed when the action was taken.")
    reason: str | None = optional("The configured exception invoked (excepted only).")
    note: str | None = optional("Why the exception applies (excepted only).")

    @property
    def due(self) -> date:
        return date.fromisoformat(self.deadline)


TOKEN_ACTIONS = ("gateway-token-issued", "gateway-token-revoked")
ACCOUNT_ACTIONS = ("account-added", "password-set", "account-removed")


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRecord(Record):
    """A credential issued, changed or revoked before it takes effect: a gateway token (token,
    who, note) or a dashboard account (user, role, state, by)."""

    kind: ClassVar[EntryKind] = EntryKind.CREDENTIAL

    time: str = info(TIME, format="date-time")
    action: str = info("What was done.", choices=TOKEN_ACTIONS + ACCOUNT_ACTIONS)
    token: str | None = optional("The gateway token's id (never the token).")
    who: str | None = optional("Who issued or revoked the token.")
    note: str | None = optional("The token's note.")
    user: str | None = optional("The account's name.")
    role: str | None = optional("The account's role.")
    state: str | None = optional('The state the account answers for, or "ALL".')
    by: str | None = optional("Who changed the account.")


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginRecord(Record):
    """A dashboard sign-in attempt or sign-out, in the log of each state the account answers
    for (a failed attempt in every state's, whatever the name)."""

    kind: ClassVar[EntryKind] = EntryKind.LOGIN

    time: str = info(TIME, format="date-time")
    user: str = info("The name given (at most 64 characters, lower case).")
    role: str = info("The account's role; empty when no account matched.")
    outcome: str = info("What came of it.", choices=("ok", "failed", "signed-out"))
    ip: str = info("The client's address as the server saw it.")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRotationRecord(Record):
    """The log's next signing key, announced in an entry signed under the key it replaces."""

    kind: ClassVar[EntryKind] = EntryKind.KEY_ROTATION

    vkey: str = info("The new key as a signed-note verifier key (name+keyid+base64).")


@dataclass(frozen=True, slots=True, kw_only=True)
class Source(Part):
    """Where an imported request was read: the file's digest and the place in it."""

    label: ClassVar[str] = "source"

    sha256: str = info("SHA-256 of the whole file imported (64 hex digits).")
    file: str = info("The file's name as given to the import (no folder).")
    line: int = info("The line (text, JSONL) or row (CSV, the header is row 1) it began on.")
    format: str = info("How the file was read.", choices=("nlets-text", "csv", "jsonl"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedRecord(RequestRecord):
    """A request from before Stateline, read from the state switch's own records: its time,
    key and outcome as recorded there, the sender's directory attributes as of the import,
    and where it was read. Counted as a request like a live decision; never decided here."""

    kind: ClassVar[EntryKind] = EntryKind.IMPORTED

    time: str = info("When the request was made, as the switch recorded it: UTC, ISO 8601.",
                     format="date-time")
    sender_as_of: str = info("The day of the import (YYYY-MM-DD): the sender's attributes and "
                             "category are the directory's that day, not at the time of the "
                             "request.", format="date")
    source: Source = info("Where the request was read.")  # noqa: RUF009 (a field)


RECORDS: dict[EntryKind, type[Record]] = {r.kind: r for r in (
    DecisionRecord, ReviewRecord, PolicyChangeRecord, CourtOrderRecord, AttestationRecord,
    NoticeRecord, CredentialRecord, LoginRecord, KeyRotationRecord, ImportedRecord)}
"""The record of each kind; a test holds it to EntryKind."""
