"""The message language of the interstate network: model, codecs, rules, responses. No I/O."""

from .errors import Reject, RejectCode
from .fields import birth_date
from .jsonform import dumps, from_json, loads, to_json
from .keys import KEYS, KeySpec, TextKind, spec_for
from .model import Field, Message, OutputHeader, Stamp
from .places import MULTI_STATE, STATES, SWITCH_ORI, is_state
from .responses import (
    Answer,
    Outcome,
    Record,
    Section,
    format_answer,
    read_answer,
    reject_message,
    response_to,
)
from .text import format_text, parse
from .validate import validate


def read(raw: str) -> Message:
    """Parse legacy text and apply the key's rules: the switch's one entry point for input."""
    message = parse(raw)
    try:
        return validate(message)
    except Reject as reject:
        raise reject.with_context(original=raw) from None


def read_json(raw: str) -> Message:
    """Parse the JSON form and apply the key's rules."""
    message = loads(raw)
    try:
        return validate(message)
    except Reject as reject:
        raise reject.with_context(original=raw) from None


__all__ = [
    "KEYS",
    "MULTI_STATE",
    "STATES",
    "SWITCH_ORI",
    "Answer",
    "Field",
    "KeySpec",
    "Message",
    "Outcome",
    "OutputHeader",
    "Record",
    "Reject",
    "RejectCode",
    "Section",
    "Stamp",
    "TextKind",
    "birth_date",
    "dumps",
    "format_answer",
    "format_text",
    "from_json",
    "is_state",
    "loads",
    "parse",
    "read",
    "read_answer",
    "read_json",
    "reject_message",
    "response_to",
    "spec_for",
    "to_json",
    "validate",
]
