"""The JSON shapes the HTTP API documents in its OpenAPI schema. Answers are written by the
switch's own `to_json`; these models describe them (a test holds the two together), and the
message's JSON form is described as `stateline.protocol.jsonform` reads it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .refusals import ErrorDetail


class Shape(BaseModel):
    """Exactly these members: the schema says `additionalProperties: false`."""

    model_config = ConfigDict(extra="forbid")


Outcome = Literal["released", "partial", "denied", "held", "no-record", "error", "rejected"]


class FieldShape(Shape):
    """One data field of an answer, or a mark that the state withheld an element."""

    record: int
    element: str
    prefix: str | None = None
    value: str | None = None
    withheld: bool | None = None


class SummaryShape(Shape):
    """A multi-state query's summary: where it went and how each state answered."""

    sent_to: list[str]
    hit: list[str]
    no_record: list[str]
    denied: list[str]
    held_for_review: list[str]
    held_for_delivery: list[str]
    not_forwarded: list[str]
    error: list[str]
    not_answered: list[str]


class ResponseShape(Shape):
    """One message back: a state's answer, a status message, the summary or an ER reject."""

    key: str = Field(examples=["DR"])
    state: str = Field(description="The answering state, or NL for the switch's own messages")
    outcome: Outcome
    fields: list[FieldShape]
    text: str = Field(description="The message as delivered, output header included")
    reference: str | None = Field(description="A state's review reference, for held requests")
    late: bool = Field(description="Arrived after the sender's wait ended")
    photos: list[str] = Field(description="Released photos as base64 PNG")
    summary: SummaryShape | None = None


class SubmissionShape(Shape):
    """What a sender has back for one message so far."""

    message_id: str = Field(examples=["M20261125-FCDE9E58D9"])
    accepted: bool
    pending: list[str] = Field(description="States that still owe an answer")
    responses: list[ResponseShape]


class RejectedShape(SubmissionShape):
    """A message the switch refused: its ER reject as the only response, and as the error."""

    error: ErrorDetail


class HealthShape(Shape):
    status: Literal["ok"]
    states: dict[str, str] = Field(description="Each network state's service status")
    gateways: list[str] = Field(description="States whose gateway runs in this process")


TEXT, JSON, XML = "text/plain", "application/json", "application/xml"

MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "sender"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "example": "DQ"},
        "sender": {"type": "string", "example": "ORPPD0000"},
        "destinations": {"type": "array", "items": {"type": "string"}, "example": ["WA"]},
        "control": {"type": ["string", "null"]},
        "fields": {"type": "array", "items": {
            "type": "object", "required": ["prefix", "value"], "additionalProperties": False,
            "properties": {"prefix": {"type": "string"}, "value": {"type": "string"}}},
            "example": [{"prefix": "OLN", "value": "WDLFHVZD6KH3"}]},
        "body": {"type": ["string", "null"]},
        "header": {"type": "null",
                   "description": "Left out or null: the switch stamps the output header"},
        "supported": {"description": "Written for readers of an answer; ignored when read"},
    },
}
"""The message's JSON form as an agency sends it (the output header is the switch's to add)."""

MESSAGE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    TEXT: {"schema": {"type": "string"},
           "example": "DQ.ORPPD0000.WA.TXT\nOLN/WDLFHVZD6KH3"},
    JSON: {"schema": MESSAGE_SCHEMA},
    XML: {"schema": {"type": "string", "description": "One n2:NLETS document (Nlets XML on "
                     "NIEM); each answer's text comes back in XML"}},
}}}
