"""The message language of the interstate network: model, codecs, rules, responses. No I/O."""

from .errors import Reject, RejectCode
from .fields import birth_date
from .forms import FORMS, READERS, WRITERS, Form, form_of, read, read_any, read_json, read_xml
from .jsonform import answer_from_json, answer_to_json, dumps, from_json, loads, to_json
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
from .xmlform import (
    format_answered_xml,
    format_xml,
    format_xml_error,
    parse_xml,
    read_xml_answer,
)

__all__ = [
    "FORMS",
    "KEYS",
    "MULTI_STATE",
    "READERS",
    "STATES",
    "SWITCH_ORI",
    "WRITERS",
    "Answer",
    "Field",
    "Form",
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
    "answer_from_json",
    "answer_to_json",
    "birth_date",
    "dumps",
    "form_of",
    "format_answer",
    "format_answered_xml",
    "format_text",
    "format_xml",
    "format_xml_error",
    "from_json",
    "is_state",
    "loads",
    "parse",
    "parse_xml",
    "read",
    "read_answer",
    "read_any",
    "read_json",
    "read_xml",
    "read_xml_answer",
    "reject_message",
    "response_to",
    "spec_for",
    "to_json",
    "validate",
]
