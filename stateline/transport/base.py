"""What travels between the switch and a state's gateway, and the interface that carries it.

The switch hands a transport an `Envelope` (one message, already routed, rewritten and stamped
for one state) and gets back a `Reply` once the gateway has audited its answer. Answers that
come later (a held request released or denied by a reviewer) arrive as late replies through
the handler the switch registers. Both travel as JSON, so every carrier speaks the same bytes.
A reply carries a state's answer twice: as the response text the sender reads, and as the
record that text was written from, so the switch stores and forwards it without parsing it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ServiceError
from ..protocol import (
    Answer,
    Message,
    Outcome,
    OutputHeader,
    Reject,
    Stamp,
    answer_from_json,
    answer_to_json,
    format_text,
    reject_message,
    validate,
)
from ..protocol.jsonform import from_json, to_json

if TYPE_CHECKING:
    from ..gateway.pipeline import Result


class StateUnavailable(ServiceError):
    """No gateway of the state took the message (none running, or none answered in time);
    the switch treats the state as out of service and holds the message."""

    code = "state-unavailable"


class TransportError(ServiceError):
    """Bytes from the bus that are not an envelope or a reply."""

    code = "transport-error"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message on its way to one state's gateway."""

    message_id: str
    """The switch's id for the sender's message; the gateway records it in the audit entry."""
    state: str
    message: Message
    """As delivered: addressed to this state, DQG/RQG rewritten, output header stamped."""
    multi_state: bool = False
    """One leg of a query sent to several states (NL or a region); the stamped message no
    longer names its destinations, so the gateway learns it here."""
    again: bool = False
    """Delivered before, maybe: held traffic, some of it in flight to a gateway process that
    died, perhaps after its entry was logged. The gateway answers such a message from its
    entry when it has one, so a crash never has a query decided and logged twice."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A gateway's answer to one envelope, sent only after its audit entry is durable."""

    message_id: str
    state: str
    response: Message
    outcome: Outcome
    reference: str | None = None
    """The review reference of a held request (and of its late answer)."""
    photos: tuple[bytes, ...] = ()
    late: bool = False
    """True for an answer given after review, long after the first reply."""
    answer: Answer | None = None
    """The answer the response text was written from; None where the text is no answer
    (a reject, a key the state does not take)."""


def reply_of(message_id: str, state: str, result: Result, *, late: bool = False) -> Reply:
    """The reply that carries a gateway's result, its answer record with it: the one way
    every carrier makes one, so none can leave the record behind."""
    return Reply(message_id, state, result.response, result.outcome, result.reference,
                 result.photos, late, result.answer)


def refused(envelope: Envelope) -> Reply | None:
    """The ER reply to a message that breaks the protocol, naming the field at fault, or None
    for a valid one. Every transport asks before its gateway decides anything, so what reaches
    a gateway has passed the switch's validator again, whoever sent it."""
    try:
        validate(envelope.message)
    except Reject as reject:
        message = envelope.message
        stamp = Stamp(datetime.now(UTC), 0)
        answer = reject_message(reject.with_context(original=format_text(message)),
                                OutputHeader(stamp, stamp, message.sender))
        return Reply(envelope.message_id, envelope.state, answer, Outcome.ERROR)
    return None


LateHandler = Callable[[Reply], Awaitable[None]]


class Transport(Protocol):
    """How the switch reaches state gateways."""

    async def deliver(self, envelope: Envelope, timeout: float) -> Reply:
        """The state's reply; StateUnavailable when no gateway takes it within `timeout`."""
        ...

    def on_late(self, handler: LateHandler) -> None:
        """Register where late replies (reviewed answers) go."""
        ...

    async def close(self) -> None: ...


def envelope_to_json(envelope: Envelope) -> bytes:
    return json.dumps({"message_id": envelope.message_id, "state": envelope.state,
                       "message": to_json(envelope.message),
                       "multi_state": envelope.multi_state, "again": envelope.again}).encode()


def envelope_from_json(data: bytes) -> Envelope:
    return envelope_from_object(_object(data))


def envelope_from_object(obj: object) -> Envelope:
    """An envelope from its JSON form already decoded (as a frame of many is)."""
    if not isinstance(obj, dict):
        raise TransportError("not an envelope: not a JSON object")
    try:
        return Envelope(str(obj["message_id"]), str(obj["state"]), from_json(obj["message"]),
                        obj.get("multi_state") is True, obj.get("again") is True)
    except (KeyError, TypeError) as error:
        raise TransportError(f"not an envelope: {error}") from None
    except Reject as reject:
        raise TransportError(f"not an envelope: {reject.text}") from None


def reply_to_json(reply: Reply) -> bytes:
    return json.dumps({
        "message_id": reply.message_id, "state": reply.state,
        "response": to_json(reply.response), "outcome": reply.outcome.value,
        "reference": reply.reference, "late": reply.late,
        "photos": [base64.b64encode(p).decode("ascii") for p in reply.photos],
        "answer": None if reply.answer is None else answer_to_json(reply.answer),
    }).encode()


def reply_from_json(data: bytes) -> Reply:
    return reply_from_object(_object(data))


def reply_from_object(obj: object) -> Reply:
    """A reply from its JSON form already decoded; one from a gateway that sent no answer
    record reads with none."""
    if not isinstance(obj, dict):
        raise TransportError("not a reply: not a JSON object")
    try:
        answer = obj.get("answer")
        return Reply(str(obj["message_id"]), str(obj["state"]), from_json(obj["response"]),
                     Outcome(obj["outcome"]), obj.get("reference"),
                     tuple(base64.b64decode(p) for p in obj.get("photos", [])),
                     bool(obj.get("late", False)),
                     None if answer is None else answer_from_json(answer))
    except (KeyError, TypeError, ValueError, Reject) as error:
        raise TransportError(f"not a reply: {error}") from None


def _object(data: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise TransportError(f"not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise TransportError("not a JSON object")
    return obj
