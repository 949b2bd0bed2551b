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
VALUE_FORBIDDEN = re.compile(r"[.\x00-\x1f\x7f]")
COUNTER_LIMIT = 100_000
_UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class Field:
    """One prefixed data element of a query text, e.g. ``OLN/WDL123456``."""

    prefix: str
    value: str

    def __post_init__(self) -> None:
        prefix, value = self.prefix, self.value
        if PREFIX_PATTERN.fullmatch(prefix) is None:
            prefix = prefix.strip().upper()
            if PREFIX_PATTERN.fullmatch(prefix) is None:
                raise Reject(RejectCode.FORMAT, f"FIELD PREFIX {prefix or '(EMPTY)'} IS NOT VALID")
            object.__setattr__(self, "prefix", prefix)
        if VALUE_FORBIDDEN.search(value):
            raise Reject(RejectCode.FORMAT, f"FIELD {prefix} HAS A PERIOD OR CONTROL CHARACTER")
        canonical = value.strip().upper()
        if canonical != value:
            object.__setattr__(self, "value", canonical)

    def __str__(self) -> str:
        return f"{self.prefix}/{self.value}"


@dataclass(frozen=True, slots=True)
class Stamp:
    """One line of the output header: when the switch took or sent a message, and its counter."""

    at: datetime
    counter: int

    def __post_init__(self) -> None:
        if not 0 <= self.counter < COUNTER_LIMIT:
            raise Reject(RejectCode.HEADER, f"COUNTER {self.counter} OUT OF RANGE")
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


@dataclass(frozen=True, slots=True)
class Message:
    """A message as agencies, the switch and state gateways exchange it.

    A query carries ordered ``fields`` (repeats allowed); free-text messages (AM, SM, ER and
    responses) carry a ``body`` instead. A message the switch has delivered has a ``header``
    and no destinations: its address is the header's receiving ORI.
    """

    key: str
    sender: str
    destinations: tuple[str, ...] = ()
    control: str | None = None
    fields: tuple[Field, ...] = ()
    body: str | None = None
    header: OutputHeader | None = None

    def __post_init__(self) -> None:
        _settle(self, "key", KEY_PATTERN, RejectCode.HEADER, "MESSAGE KEY {} IS NOT VALID")
        _settle(self, "sender", ORI_PATTERN, RejectCode.HEADER,
                "SENDING ORI {} IS NOT 9 CHARACTERS")
        destinations = self.destinations
        if not isinstance(destinations, tuple) or not all(
            DESTINATION_PATTERN.fullmatch(d) for d in destinations
        ):
            destinations = tuple(_destination(d) for d in destinations)
            object.__setattr__(self, "destinations", destinations)
        if self.header is None and not destinations:
            raise Reject(RejectCode.DESTINATION, "NO DESTINATION GIVEN")
        if self.header is not None and destinations:
            raise Reject(RejectCode.HEADER, "A DELIVERED MESSAGE IS ADDRESSED BY ITS HEADER")
        if self.control is not None:
            _settle(self, "control", CONTROL_PATTERN, RejectCode.HEADER,
                    "CONTROL FIELD {} MUST BE 1-10 LETTERS OR DIGITS")
        self._settle_text()

    def _settle_text(self) -> None:
        """Keep fields or a body, as the key's text kind says; unknown keys prefer fields."""
        if self.body is not None and self.fields:
            raise Reject(RejectCode.STRUCTURE, "A MESSAGE CARRIES FIELDS OR A FREE TEXT, NOT BOTH")
        spec = spec_for(self.key)
        body = self.body
        fields = self.fields if isinstance(self.fields, tuple) else tuple(self.fields)
        if spec is not None and spec.text is TextKind.FIELDS and not body:
            if body is not None or fields is not self.fields:
                object.__setattr__(self, "fields", fields)
                object.__setattr__(self, "body", None)
            return
        if spec is not None and spec.text is TextKind.FREE:
            if fields:
                raise Reject(RejectCode.STRUCTURE, f"{self.key} CARRIES FREE TEXT, NOT FIELDS")
            body = normalise_body(body or "")
        elif spec is not None:
            fields, body = (read_fields(body) if body else fields), None
        elif body is not None:
            text = body
            try:
                fields, body = read_fields(text), None
            except Reject:
                body = normalise_body(text)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "body", body)

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


def _settle(message: Message, name: str, pattern: re.Pattern[str], code: RejectCode,
            problem: str) -> None:
    """Upper-case and trim one header value in place, or reject it."""
    value = getattr(message, name)
    if pattern.fullmatch(value):
        return
    value = value.strip().upper()
    if not pattern.fullmatch(value):
        raise Reject(code, problem.format(value or "(EMPTY)"))
    object.__setattr__(message, name, value)


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
    object.__setattr__(item, "prefix", prefix)
    object.__setattr__(item, "value", value)
    return item


def normalise_body(body: str) -> str:
    """Free text as the network keeps it: LF line ends, no surrounding blanks, no final period."""
    text = _UNPRINTABLE.sub("", body.replace("\r\n", "\n").replace("\r", "\n"))
    if " \n" in text or "\t" in text:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip().rstrip(".").rstrip()
