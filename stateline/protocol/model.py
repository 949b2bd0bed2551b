"""The message model: one immutable value for every Nlets-style message, whatever its form.

Constructors validate and normalise (upper case, trimmed), so a value that exists can always
be written as legacy text and read back equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import Reject, RejectCode
from .keys import TextKind, spec_for

KEY_PATTERN = re.compile(r"[A-Z][A-Z0-9]{1,2}")
ORI_PATTERN = re.compile(r"[A-Z0-9]{9}")
DESTINATION_PATTERN = re.compile(r"[A-Z0-9]{2}|[A-Z0-9]{9}")
CONTROL_PATTERN = re.compile(r"[A-Z0-9\-]{1,10}")
PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{1,3}")
VALUE_FORBIDDEN = re.compile(r"[.\x00-\x1f\x7f-\x9f]")
COUNTER_LIMIT = 100_000
YEARS = range(1900, 10_000)
TRAILING = ". \n\t"
"""Stripped from the end of any text: periods and blanks, in any order."""
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True, init=False)
class Field:
    """One prefixed data element of a query text, e.g. ``OLN/WDL123456``."""

    prefix: str
    value: str

    def __init__(self, prefix: str, value: str) -> None:
        if PREFIX_PATTERN.fullmatch(prefix) is None:
            prefix = prefix.strip().upper()
            if PREFIX_PATTERN.fullmatch(prefix) is None:
                raise Reject(RejectCode.FORMAT, f"FIELD PREFIX {prefix or '(EMPTY)'} IS NOT VALID")
        elif len(_GOOD_PREFIXES) < 4096:
            _GOOD_PREFIXES.add(prefix)
        if VALUE_FORBIDDEN.search(value):
            raise Reject(RejectCode.FORMAT, f"FIELD {prefix} HAS A PERIOD OR CONTROL CHARACTER")
        _set(self, "prefix", prefix)
        _set(self, "value", value.strip().upper())

    def __str__(self) -> str:
        return f"{self.prefix}/{self.value}"

    @classmethod
    def each(cls, pairs: list[tuple[str, str]]) -> tuple[Field, ...]:
        """Fields from (prefix, value) pairs, checked together: one search over all the
        values (joined by a blank, which can neither hide nor make a forbidden character),
        prefixes against a table of those seen before. The same fields, and the same Reject
        for the first bad one, as one `Field(...)` call each, at a fraction of the cost."""
        if any(prefix not in _GOOD_PREFIXES for prefix, _ in pairs) or \
                VALUE_FORBIDDEN.search(" ".join(value for _, value in pairs)):
            return tuple(cls(prefix, value) for prefix, value in pairs)
        made = []
        for prefix, value in pairs:
            field = object.__new__(cls)
            _set(field, "prefix", prefix)
            _set(field, "value", value.strip().upper())
            made.append(field)
        return tuple(made)


@dataclass(frozen=True, slots=True)
class Stamp:
    """One line of the output header: when the switch took or sent a message, and its counter."""

    at: datetime
    counter: int

    def __post_init__(self) -> None:
        if not 0 <= self.counter < COUNTER_LIMIT:
            raise Reject(RejectCode.HEADER, f"COUNTER {self.counter} OUT OF RANGE")
        if self.at.year not in YEARS:
            raise Reject(RejectCode.HEADER, f"YEAR {self.at.year} IS NOT A SWITCH TIME")
        object.__setattr__(self, "at", self.at.replace(second=0, microsecond=0, tzinfo=None))


@dataclass(frozen=True, slots=True)
class OutputHeader:
    """What the switch stamps on a delivered message: receive and send stamps, receiving ORI."""

    received: Stamp
    sent: Stamp
    receiving_ori: str

    def __post_init__(self) -> None:
        ori = self.receiving_ori.strip().upper()
        if not ORI_PATTERN.fullmatch(ori):
            raise Reject(RejectCode.HEADER, f"RECEIVING ORI {ori or '(EMPTY)'} IS NOT 9 CHARACTERS")
        object.__setattr__(self, "receiving_ori", ori)


@dataclass(frozen=True, slots=True, init=False)
class Message:
    """A message as agencies, the switch and state gateways exchange it.

    A query carries ordered ``fields`` (repeats allowed); free-text messages (AM, SM, ER and
    responses) carry a ``body`` instead. A message the switch has delivered has a ``header``
    and no destinations: its address is the header's receiving ORI.
    """

    key: str
    sender: str
    destinations: tuple[str, ...]
    control: str | None
    fields: tuple[Field, ...]
    body: str | None
    header: OutputHeader | None

    def __init__(
        self,
        key: str,
        sender: str,
        destinations: tuple[str, ...] = (),
        control: str | None = None,
        fields: tuple[Field, ...] = (),
        body: str | None = None,
        header: OutputHeader | None = None,
    ) -> None:
        key = _canonical(key, KEY_PATTERN, RejectCode.HEADER, "MESSAGE KEY {} IS NOT VALID")
        sender = _canonical(sender, ORI_PATTERN, RejectCode.HEADER,
                            "SENDING ORI {} IS NOT 9 CHARACTERS")
        if not isinstance(destinations, tuple):
            destinations = tuple(destinations)
        for destination in destinations:
            if DESTINATION_PATTERN.fullmatch(destination) is None:
                destinations = tuple(_destination(d) for d in destinations)
                break
        if header is None and not destinations:
            raise Reject(RejectCode.DESTINATION, "NO DESTINATION GIVEN")
        if header is not None and destinations:
            raise Reject(RejectCode.HEADER, "A DELIVERED MESSAGE IS ADDRESSED BY ITS HEADER")
        if control is not None:
            control = _canonical(control, CONTROL_PATTERN, RejectCode.HEADER,
                                 "CONTROL FIELD {} MUST BE 1-10 LETTERS OR DIGITS")
        fields, body = _settle_text(key, tuple(fields), body)
        _set(self, "key", key)
        _set(self, "sender", sender)
        _set(self, "destinations", destinations)
        _set(self, "control", control)
        _set(self, "fields", fields)
        _set(self, "body", body)
        _set(self, "header", header)

    def values(self, prefix: str) -> list[str]:
        """Every value sent under a prefix, in order."""
        return [f.value for f in self.fields if f.prefix == prefix]

    def value(self, prefix: str) -> str | None:
        """The first value sent under a prefix, if any."""
        for f in self.fields:
            if f.prefix == prefix:
                return f.value
        return None

    @property
    def prefixes(self) -> list[str]:
        return [f.prefix for f in self.fields]


_set = object.__setattr__
_GOOD_PREFIXES: set[str] = set()
"""Prefixes that have passed PREFIX_PATTERN as given (a few dozen: OLN, NAM, DOB ...)."""
"""How a frozen value sets its attributes, once, inside its own constructor."""


def _canonical(value: str, pattern: re.Pattern[str], code: RejectCode, problem: str) -> str:
    """A header value upper-cased and trimmed, or a reject naming it."""
    if pattern.fullmatch(value):
        return value
    value = value.strip().upper()
    if not pattern.fullmatch(value):
        raise Reject(code, problem.format(value or "(EMPTY)"))
    return value


def _settle_text(
    key: str, fields: tuple[Field, ...], body: str | None
) -> tuple[tuple[Field, ...], str | None]:
    """Fields or a body, as the key's text kind says; unknown keys prefer fields."""
    if body is not None and fields:
        raise Reject(RejectCode.STRUCTURE, "A MESSAGE CARRIES FIELDS OR A FREE TEXT, NOT BOTH")
    spec = spec_for(key)
    if spec is None:
        if body is None:
            return fields, None
        try:
            return read_fields(body), None
        except Reject:
            return (), normalise_body(body)
    if spec.text is TextKind.FREE:
        if fields:
            raise Reject(RejectCode.STRUCTURE, f"{key} CARRIES FREE TEXT, NOT FIELDS")
        return (), normalise_body(body or "")
    return (read_fields(body) if body else fields), None


def _destination(value: str) -> str:
    value = value.strip().upper()
    if not DESTINATION_PATTERN.fullmatch(value):
        raise Reject(
            RejectCode.DESTINATION,
            f"DESTINATION {value or '(EMPTY)'} IS NOT A 2-CHARACTER CODE OR AN ORI",
        )
    return value


def read_fields(text: str) -> tuple[Field, ...]:
    """Prefixed fields separated by periods or line breaks, in the order sent."""
    found = []
    for segment in _UNPRINTABLE.sub("", text).replace("\r", ".").replace("\n", ".").split("."):
        prefix, slash, value = segment.partition("/")
        if slash and PREFIX_PATTERN.fullmatch(prefix) and value == value.strip().upper():
            found.append(_known_good_field(prefix, value))
        elif slash:
            found.append(Field(prefix, value))
        elif segment.strip():
            raise Reject(RejectCode.FORMAT, f"{segment[:30]} IS NOT PREFIX/VALUE")
    return tuple(found)


def _known_good_field(prefix: str, value: str) -> Field:
    """A field whose text already passed every check Field makes: skip making them again."""
    item = object.__new__(Field)
    _set(item, "prefix", prefix)
    _set(item, "value", value)
    return item


def normalise_body(body: str) -> str:
    """Free text as the network keeps it: LF line ends, no surrounding blanks, no final period."""
    text = _UNPRINTABLE.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    if " \n" in text or "\t" in text:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip().rstrip(TRAILING)
