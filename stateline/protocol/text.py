"""Legacy text codec: Nlets-style text ⇄ Message, with no I/O.

Input form (what an agency types)::

    DQ.ORPPD0000.WA.*CTRL01.TXT
    OLN/WDL123456.IMQ/Y

Delivered form (what the switch hands over, with its output header)::

    DQ.ORPPD0000
    08:00 01/01/2026 01239
    08:00 01/01/2026 01233 WAOLN0000
    TXT
    OLN/WDL123456.IMQ/Y

The control field is written ``*VALUE`` between the destinations and ``TXT``. Control characters
are ignored, CR/LF line ends, a trailing period and surrounding blanks are tolerated on input and
never written.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from .errors import Reject, RejectCode, require_utf8
from .model import TRAILING, Message, OutputHeader, Stamp

TXT = "TXT"
CONTROL_MARK = "*"
_IGNORED = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_STAMP = re.compile(r"(\d\d):(\d\d) (\d\d)/(\d\d)/(\d{4}) (\d{5})")
_STAMP_TIME = "%H:%M %m/%d/%Y"
_PLAIN_HEAD = re.compile(
    r"([A-Z][A-Z0-9]{1,2})\.([A-Z0-9]{9})\.((?:[A-Z0-9]{2}\.|[A-Z0-9]{9}\.)+)"
    r"(?:\*([A-Z0-9\-]{1,10})\.)?TXT(?:\n|$)"
)
"""An input header exactly as format_text writes it: read without the tolerant path."""


def parse(raw: str) -> Message:
    """Read one message in legacy text; raise Reject (with the input quoted) if unreadable."""
    try:
        return _parse(raw)
    except Reject as reject:
        raise reject.with_context(original=raw) from None


def format_text(message: Message) -> str:
    """Write a message as legacy text: the exact inverse of parse for every valid message."""
    text = message.body if message.body is not None else ".".join(map(str, message.fields))
    control = [CONTROL_MARK + message.control] if message.control else []
    if message.header is None:
        head = ".".join([message.key, message.sender, *message.destinations, *control, TXT])
        return f"{head}\n{text}" if text else head
    header = message.header
    lines = [
        ".".join([message.key, message.sender, *control]),
        format_stamp(header.received),
        f"{format_stamp(header.sent)} {header.receiving_ori}",
        TXT,
    ]
    if text:
        lines.append(text)
    return "\n".join(lines)


def format_stamp(stamp: Stamp) -> str:
    return f"{_stamp_time(stamp.at)} {stamp.counter:05d}"


@lru_cache(maxsize=64)
def _stamp_time(at: datetime) -> str:
    """A stamp's time as written: stamps keep the minute, so a busy switch writes the same
    few times over and over (four stamps a query)."""
    return at.strftime(_STAMP_TIME)


def _clean(raw: str) -> str:
    text = _IGNORED.sub("", raw).replace("\r\n", "\n").replace("\r", "\n")
    return text.strip().rstrip(TRAILING)


def _parse(raw: str) -> Message:
    require_utf8(raw, "THE MESSAGE")
    text = _clean(raw)
    if not text:
        raise Reject(RejectCode.STRUCTURE, "THE MESSAGE IS EMPTY")
    plain = _PLAIN_HEAD.match(text)
    if plain is not None:
        key, sender, destinations, control = plain.groups()
        return _message(key, sender, tuple(destinations[:-1].split(".")), control,
                        text[plain.end():], None)
    first, _, rest = text.partition("\n")
    tokens = [token.strip().upper() for token in first.split(".")]
    if len(tokens) < 2 or not tokens[0]:
        raise Reject(RejectCode.STRUCTURE, "A MESSAGE STARTS KEY.ORI.DESTINATION.TXT")
    key = tokens[0]
    marker = _txt_position(tokens)
    if marker is None:
        if _STAMP.match(rest):
            return _parse_delivered(key, tokens, rest)
        raise Reject(RejectCode.NO_TXT, "NO TXT MARKER AFTER THE DESTINATIONS", key=key)
    body_head = first.split(".", marker)[-1].strip()[len(TXT):]
    body = "\n".join(part for part in (body_head, rest) if part)
    destinations, control = _split_address(tokens[2:marker], key)
    return _message(key, tokens[1], destinations, control, body, None)


def _txt_position(tokens: list[str]) -> int | None:
    for index in range(2, len(tokens)):
        token = tokens[index]
        if token == TXT:
            return index
        if token.startswith(TXT) and not re.fullmatch(r"[A-Z0-9]{9}", token):
            return index
    return None


def _split_address(tokens: list[str], key: str) -> tuple[tuple[str, ...], str | None]:
    controls = [t[1:] for t in tokens if t.startswith(CONTROL_MARK)]
    if len(controls) > 1:
        raise Reject(RejectCode.HEADER, "ONLY ONE CONTROL FIELD IS ALLOWED", key=key)
    destinations = tuple(t for t in tokens if not t.startswith(CONTROL_MARK))
    return destinations, controls[0] if controls else None


def _parse_delivered(key: str, tokens: list[str], rest: str) -> Message:
    lines = rest.split("\n")
    if len(lines) < 3 or not lines[2].strip().upper().startswith(TXT):
        raise Reject(RejectCode.NO_TXT, "NO TXT LINE AFTER THE OUTPUT HEADER", key=key)
    received = _stamp(lines[0])
    sent_line = lines[1].strip()
    sent = _stamp(sent_line)
    receiving = sent_line[len(format_stamp(sent)):].strip()
    _, control = _split_address(tokens[2:], key)
    if len(tokens) > 3 or (len(tokens) == 3 and control is None):
        raise Reject(RejectCode.HEADER, "A DELIVERED MESSAGE HEADER IS KEY.ORI", key=key)
    body = "\n".join([lines[2].strip()[len(TXT):], *lines[3:]]).strip()
    header = OutputHeader(received, sent, receiving)
    return _message(key, tokens[1], (), control, body, header)


def _stamp(line: str) -> Stamp:
    match = _STAMP.match(line.strip())
    if match is None:
        raise Reject(RejectCode.HEADER, "OUTPUT HEADER LINE MUST BE HH:MM MM/DD/CCYY NNNNN")
    try:
        at = datetime.strptime(line.strip()[:16], _STAMP_TIME)
    except ValueError:
        raise Reject(RejectCode.HEADER, f"OUTPUT HEADER TIME {line[:16]} IS NOT REAL") from None
    return Stamp(at, int(match.group(6)))


def _message(
    key: str,
    sender: str,
    destinations: tuple[str, ...],
    control: str | None,
    text: str,
    header: OutputHeader | None,
) -> Message:
    try:
        return Message(key, sender, destinations, control, body=text, header=header)
    except Reject as reject:
        raise reject.with_context(key=key) from None
