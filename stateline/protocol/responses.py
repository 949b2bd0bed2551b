"""Response texts (DR, DNR, KR, RR, RPR) and ER rejects, built and read back without I/O.

A response body is plain lines an operator reads and a program parses::

    WA DRIVER RESPONSE: PARTIAL
    SOME ELEMENTS WITHHELD BY WA POLICY
    POLICY: no-photos-out-of-state
    RECORD 1 OF 1
    IDENTITY: OLN/WDL123456.NAM/DOE,JANE Q.DOB/19850314.SEX/F
    PHOTO: WITHHELD BY WA POLICY

Withheld elements are always shown as withheld, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from .errors import Reject, RejectCode
from .keys import spec_for
from .model import TRAILING, Field, Message, OutputHeader, read_fields
from .places import SWITCH_ORI

WITHHELD = "WITHHELD BY {state} POLICY"


class Outcome(Enum):
    """What a state gateway did with a query; the audit log and statistics count these."""

    RELEASED = "released"
    PARTIAL = "partial"
    DENIED = "denied"
    HELD = "held"
    NO_RECORD = "no-record"
    ERROR = "error"


_HEADLINES = {
    Outcome.RELEASED: "",
    Outcome.PARTIAL: "SOME ELEMENTS WITHHELD BY {state} POLICY",
    Outcome.DENIED: "REQUEST DENIED BY {state} POLICY",
    Outcome.HELD: "HELD FOR {state} STATE REVIEW; THE ANSWER FOLLOWS IF RELEASED",
    Outcome.NO_RECORD: "NOT ON FILE",
    Outcome.ERROR: "{state} COULD NOT ANSWER; TRY AGAIN LATER",
}

GROUP_WORDS = {"driver": "DRIVER", "vehicle": "VEHICLE", "history": "HISTORY"}


@dataclass(frozen=True, slots=True)
class Section:
    """One data element of a record: its fields, or a mark that the state withheld it."""

    element: str
    fields: tuple[Field, ...] = ()
    withheld: bool = False

    def __post_init__(self) -> None:
        element = _element(self.element)
        if element is not self.element:
            object.__setattr__(self, "element", element)
        if self.withheld == bool(self.fields):
            raise Reject(RejectCode.FORMAT, f"{self.element} MUST CARRY FIELDS OR BE WITHHELD")


_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=64)
def _element(text: str) -> str:
    """An element's name as sections carry it; remembered, since a few names recur in every
    response."""
    element = text.strip().lower()
    if not _WORD.fullmatch(element):
        raise Reject(RejectCode.FORMAT, f"ELEMENT {element!r} IS NOT A WORD")
    return element


@dataclass(frozen=True, slots=True)
class Record:
    sections: tuple[Section, ...]

    @property
    def withheld(self) -> tuple[str, ...]:
        return tuple(s.element for s in self.sections if s.withheld)


@dataclass(frozen=True, slots=True)
class Answer:
    """A state's answer to one query, before it is written as a response body."""

    state: str
    group: str
    outcome: Outcome
    records: tuple[Record, ...] = ()
    policy: str | None = None
    reason: str | None = None
    reference: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.group not in GROUP_WORDS:
            raise Reject(RejectCode.FORMAT, f"GROUP {self.group} IS NOT DRIVER, VEHICLE OR HISTORY")
        for name in ("policy", "reason", "reference", "note"):
            value = getattr(self, name)
            if value is not None:
                words = "".join(ch for ch in value if ch.isprintable() or ch.isspace()).split()
                object.__setattr__(self, name, " ".join(words).rstrip(TRAILING) or None)


_LABELS = ("policy", "reason", "reference", "note")
_TITLE = re.compile(r"([A-Z0-9]{2}) (DRIVER|VEHICLE|HISTORY) RESPONSE: ([A-Z\-]+)")
_RECORD = re.compile(r"RECORD (\d+) OF (\d+)")


def format_answer(answer: Answer) -> str:
    state = answer.state
    lines = [f"{state} {GROUP_WORDS[answer.group]} RESPONSE: {answer.outcome.value.upper()}"]
    headline = _HEADLINES[answer.outcome].format(state=state)
    if headline:
        lines.append(headline)
    lines += [f"{name.upper()}: {getattr(answer, name)}" for name in _LABELS
              if getattr(answer, name)]
    withheld = WITHHELD.format(state=state)
    for number, record in enumerate(answer.records, 1):
        lines.append(f"RECORD {number} OF {len(answer.records)}")
        for section in record.sections:
            text = withheld if section.withheld else \
                ".".join([f"{f.prefix}/{f.value}" for f in section.fields])  # as str(Field)
            lines.append(f"{section.element.upper()}: {text}")
    return "\n".join(lines)


def read_answer(body: str) -> Answer:
    """The Answer a response body was written from; Reject if it is not one."""
    lines = body.split("\n")
    title = _TITLE.fullmatch(lines[0].strip()) if lines else None
    if title is None:
        raise Reject(RejectCode.FORMAT, "NOT A STATELINE RESPONSE BODY")
    state, group, outcome_word = title.groups()
    try:
        outcome = Outcome(outcome_word.lower())
    except ValueError:
        raise Reject(RejectCode.FORMAT, f"UNKNOWN OUTCOME {outcome_word}") from None
    labels: dict[str, str] = {}
    records: list[list[Section]] = []
    withheld = WITHHELD.format(state=state)
    for line in lines[1:]:
        if _RECORD.fullmatch(line):
            records.append([])
            continue
        label, colon, value = line.partition(": ")
        if not colon:
            continue
        if label.lower() in _LABELS and not records:
            labels[label.lower()] = value
        elif records:
            section = (Section(label, withheld=True) if value == withheld
                       else Section(label, read_fields(value)))
            records[-1].append(section)
    return Answer(
        state, group.lower(), outcome, tuple(Record(tuple(r)) for r in records), **labels
    )


def response_to(query: Message, answer: Answer, state_ori: str) -> Message:
    """The response message a state sends back to the agency that asked."""
    return response_with(query, format_answer(answer), state_ori)


def response_with(query: Message, text: str, state_ori: str) -> Message:
    """The response to a query, carrying an answer already written by `format_answer`."""
    spec = spec_for(query.key)
    if spec is None or spec.response is None:
        raise Reject(RejectCode.FORMAT, f"{query.key} IS NOT A QUERY STATELINE ANSWERS")
    return Message(spec.response, state_ori, (query.sender,), query.control, body=text)


def reject_message(reject: Reject, header: OutputHeader) -> Message:
    """The ER message the switch sends back for a reject, stamped with its output header."""
    return Message("ER", SWITCH_ORI, control=None, body=reject.text, header=header)
