"""What a sender sees of a message it sent: each answer, status message or reject as a
`ResponseView`, and the whole `Submission` (accepted or not, answers so far, states still
owing one). Frozen values, with the JSON shape the CLI and the HTTP API print."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from ..protocol import Answer
from .merge import Summary

OUTCOMES = ("released", "partial", "denied", "held", "no-record", "error", "rejected")
"""A state's outcomes (as its audit log counts them), and `rejected` for what the switch
refused: an ER reject, or a `.01.`/`.04.` status message (not forwarded, nothing kept). A
`.02.` status message is `held`: the switch keeps the message and the answer follows."""


@dataclass(frozen=True, slots=True)
class FieldView:
    """One data field of an answer: which record and element it belongs to, or a mark that
    the state withheld the element."""

    record: int
    element: str
    prefix: str = ""
    value: str = ""
    withheld: bool = False

    def to_json(self) -> dict[str, object]:
        if self.withheld:
            return {"record": self.record, "element": self.element, "withheld": True}
        return {"record": self.record, "element": self.element, "prefix": self.prefix,
                "value": self.value}


@dataclass(frozen=True, slots=True)
class ResponseView:
    """One answer as the sender sees it. `state` is the answering state, or `NL` for the
    switch's own messages (the multi-state summary, an ER reject)."""

    key: str
    state: str
    outcome: str
    fields: tuple[FieldView, ...]
    text: str
    """The message as delivered, output header included."""
    reference: str | None = None
    """A state's review reference for a held request and for its late answer."""
    late: bool = False
    """Arrived after the sender's wait ended: a reviewed answer, or held traffic delivered."""
    photos: tuple[bytes, ...] = ()
    summary: Summary | None = None
    answer: Answer | None = None
    """The state's answer as the record it sent, which `fields` show and an XML sender's text
    carries as elements; None for the switch's own messages and answers kept before
    records were."""

    def to_json(self) -> dict[str, object]:
        shape: dict[str, object] = {
            "key": self.key, "state": self.state, "outcome": self.outcome,
            "fields": [f.to_json() for f in self.fields], "text": self.text,
            "reference": self.reference, "late": self.late,
            "photos": [base64.b64encode(p).decode("ascii") for p in self.photos],
        }
        if self.summary is not None:
            shape["summary"] = self.summary.to_json()
        return shape


@dataclass(frozen=True, slots=True)
class Submission:
    message_id: str
    accepted: bool
    responses: tuple[ResponseView, ...]
    pending: tuple[str, ...]
    """States that still owe an answer: not answered yet, holding the request for review, or
    out of service with the message held for them."""

    def to_json(self) -> dict[str, object]:
        return {"message_id": self.message_id, "accepted": self.accepted,
                "pending": list(self.pending),
                "responses": [view.to_json() for view in self.responses]}


def fields_from(answer: Answer | None) -> tuple[FieldView, ...]:
    """The data fields of a state's answer record, withheld elements marked. None (the
    switch's own messages, and answers kept before answers travelled as records) shows no
    fields: the switch never reads them out of a response text."""
    if answer is None:
        return ()
    found: list[FieldView] = []
    for number, record in enumerate(answer.records, 1):
        for section in record.sections:
            if section.withheld:
                found.append(FieldView(number, section.element, withheld=True))
            found += [FieldView(number, section.element, f.prefix, f.value)
                      for f in section.fields]
    return tuple(found)
