"""The three forms a message travels in (legacy text, JSON, Nlets XML), each with the reader
the switch and the gateways take input through and the writer they answer with. No I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from .errors import Reject
from .jsonform import dumps, loads
from .model import Message
from .text import format_text, parse
from .validate import validate
from .xmlform import format_xml, parse_xml

Form = Literal["text", "json", "xml"]
FORMS: tuple[Form, ...] = get_args(Form)


def read(raw: str) -> Message:
    """Parse legacy text and apply the key's rules: the switch's one entry point for input."""
    return _checked(parse, raw)


def read_json(raw: str) -> Message:
    """Parse the JSON form and apply the key's rules."""
    return _checked(loads, raw)


def read_xml(raw: str) -> Message:
    """Parse Nlets XML (NIEM) and apply the key's rules, exactly as for legacy text."""
    return _checked(parse_xml, raw)


def _checked(parser: Callable[[str], Message], raw: str) -> Message:
    message = parser(raw)
    try:
        return validate(message)
    except Reject as reject:
        raise reject.with_context(original=raw) from None


READERS: dict[Form, Callable[[str], Message]] = {"text": read, "json": read_json,
                                                 "xml": read_xml}
WRITERS: dict[Form, Callable[[Message], str]] = {"text": format_text, "json": dumps,
                                                 "xml": format_xml}


def form_of(raw: str) -> Form:
    """The form a message is in, by its first character: `{` JSON, `<` XML, else text."""
    first = raw.lstrip("\ufeff \t\r\n")[:1]
    return "json" if first == "{" else "xml" if first == "<" else "text"


def read_any(raw: str) -> Message:
    """A message in whichever form it came, its key's rules applied."""
    return READERS[form_of(raw)](raw)
