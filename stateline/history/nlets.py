"""The "nlets-text" format: a state switch's log as it prints transactions.

Each transaction is the inbound query in the delivered form (with the switch's output header),
then the state's response, also delivered; one or more blank lines separate transactions:

    DQ.ORICE0000
    14:03 03/12/2025 01239
    14:03 03/12/2025 01233 WAOLN0000
    TXT
    OLN/WDL123456.IMQ/Y
    DR.WAOLN0000
    14:03 03/12/2025 04412
    14:03 03/12/2025 04410 ORICE0000
    TXT
    WA DRIVER RESPONSE: RELEASED
    RECORD 1 OF 1
    IDENTITY: OLN/WDL123456.NAM/DOE,JANE Q.DOB/19850314.SEX/F

The protocol's parser (`protocol.text.parse`, `protocol.responses.read_answer`) defines what a
message is. A message exactly as `format_text` writes it is read by the fast path here, which
takes only text the parser reads the same way (a test holds the two together) and hands
anything else to the parser, whose reject names what is wrong. Years of traffic are millions
of transactions: the parser builds every field of every answer, the fast path only the facts
an entry keeps.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import NamedTuple

from ..protocol import KEYS, Message, Outcome, Reject, RejectCode, parse, read_answer
from ..protocol.model import YEARS, read_fields
from ..protocol.responses import WITHHELD
from .rows import (
    ELEMENT_NAMES,
    QUERY_KEYS,
    Bad,
    Reading,
    Row,
    disclosed,
    element,
    not_after,
    too_long,
    utc_text,
)

ER = "ER"
ID_PREFIX = {"driver": "OLN", "history": "OLN", "vehicle": "VIN"}
"""The field a record of each message group is known by: what `records` lists."""

_LINES = re.compile(r"\r\n|\r|\n")
_HEAD = re.compile(r"\s*[A-Za-z][A-Za-z0-9]{1,2}\.[A-Za-z0-9]{9}(?:\.\*[A-Za-z0-9\-]{1,10})?\s*")
_STAMPED = re.compile(r"\s*\d\d:\d\d \d\d/\d\d/\d{4} \d{5}")
"""A message begins where a line KEY.ORI is followed by an output-header stamp."""
RECEIVING_COLUMN = len("14:03 03/12/2025 01233 ") + 1

# The fast path: exactly what format_text writes.
_KEY_LINE = re.compile(r"([A-Z][A-Z0-9]{1,2})\.([A-Z0-9]{9})(?:\.\*[A-Z0-9\-]{1,10})?")
_STAMP = r"\d\d:\d\d \d\d/\d\d/\d{4} \d{5}"
_RECEIVED = re.compile(_STAMP)
_SENT = re.compile(_STAMP + r" [A-Z0-9]{9}")
_IGNORED = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TITLE = re.compile(r"([A-Z0-9]{2}) (DRIVER|VEHICLE|HISTORY) RESPONSE: ([A-Z\-]+)")
_RECORD = re.compile(r"RECORD (\d+) OF (\d+)")
_VALUE = r"(?:[^.\s\x00-\x1f\x7f-\x9f](?:[^.\x00-\x1f\x7f-\x9f]*[^.\s\x00-\x1f\x7f-\x9f])?)?"
_FIELD = r"[A-Z][A-Z0-9]{1,3}/" + _VALUE
_SECTION = re.compile(r"([A-Z]+): (" + _FIELD + r"(?:\." + _FIELD + r")*)")
_IDS = {prefix: re.compile(r"(?:^|\.)" + prefix + r"/([^.]*)") for prefix in ("OLN", "VIN")}
_OUTCOMES = {o.value.upper(): o.value for o in Outcome}
_CODES = {code.value for code in RejectCode}


class Query(NamedTuple):
    key: str
    sender: str
    sent: datetime
    counter: int
    receiving: str
    terms: tuple[str, ...]


Sections = list[list[tuple[str, bool, str | None]]]
"""Each record's sections as (element, withheld, the value of the field it is known by)."""


class Response(NamedTuple):
    key: str
    sender: str
    receiving: str
    state: str
    """The state the answer is from; "" for an ER."""
    outcome: str
    records: Sections
    reject: str | None
    """An ER's code (.14. ...), when it gives one."""


def read(text: str, reading: Reading) -> list[Row]:
    """Every transaction in the text, as rows; problems go to `reading`."""
    lines = _LINES.split(text)
    if too_long(lines, reading):
        return []
    rows: list[Row] = []
    start: int | None = None
    for number, line in enumerate(lines, 1):
        if line.strip():
            if start is None:
                start = number
        elif start is not None:
            _transaction(lines[start - 1:number - 1], start, reading, rows)
            start = None
    if start is not None:
        _transaction(lines[start - 1:], start, reading, rows)
    return rows


def _transaction(block: list[str], first: int, reading: Reading, rows: list[Row]) -> None:
    starts = [i for i in range(len(block) - 1)
              if _STAMPED.match(block[i + 1]) and _HEAD.fullmatch(block[i])]
    cut = starts[1] if len(starts) > 1 else len(block)
    if len(starts) > 2:
        reading.problem(first + starts[2], "1", "a third message in one transaction: a "
                        "query and its response are followed by a blank line")
        return
    try:
        query = fast_query(block[:cut]) or protocol_query("\n".join(block[:cut]))
    except (Reject, Bad) as error:
        reading.problem(first, None, _said(error))
        return
    if len(starts) < 2 or starts[0] != 0:
        reading.problem(first, None, "a query with no response: the transaction is cut off "
                        "(each query is followed by the state's response, then a blank line)")
        return
    try:
        response = fast_response(block[cut:]) or protocol_response("\n".join(block[cut:]))
    except (Reject, Bad) as error:
        reading.problem(first + cut, None, _said(error))
        return
    row = _row(query, response, first, first + cut, reading)
    if row is not None:
        rows.append(row)
        reading.read(rows)


def _row(query: Query, response: Response, first: int, answered: int,
         reading: Reading) -> Row | None:
    state = reading.state
    spec = KEYS.get(query.key)
    if spec is None or query.key not in QUERY_KEYS:
        reading.problem(first, "1", f"{query.key} is not a query key a state answers "
                        f"({' '.join(sorted(QUERY_KEYS))})")
        return None
    problems = []
    if not query.receiving.startswith(state):
        problems.append((first + 2, str(RECEIVING_COLUMN),
                         f"the query was delivered to {query.receiving}, not to {state}"))
    if response.key not in (spec.response, ER):
        problems.append((answered, "1", f"{response.key} does not answer {query.key} (a "
                         f"{spec.response} or an ER does)"))
    if response.receiving != query.sender:
        problems.append((answered + 2, str(RECEIVING_COLUMN), f"the response went to "
                         f"{response.receiving}, not to {query.sender}, who asked"))
    if response.key != ER and response.state != state:
        problems.append((answered + 4, "1", f"the answer is {response.state}'s, not "
                         f"{state}'s"))
    try:
        time = _utc(query.sent, reading.zone)
        not_after(time, reading.today)
    except Bad as error:
        problems.append((first + 2, "1", str(error)))
    for line, column, text in problems:
        reading.problem(line, column, text)
    if problems:
        return None
    released, withheld, records, photo = disclosed(response.records)
    reason = next((t[4:] for t in query.terms if t.startswith("RSN/")), "")
    return Row(time, first, query.sender, query.key, response.outcome, released, withheld,
               records, photo, query.terms, reason, response.reject,
               (query.sent, query.counter, query.sender, query.terms))


@lru_cache(maxsize=4096)
def _utc(moment: datetime, zone: tzinfo) -> str:
    return utc_text(moment, zone)


def _said(error: Reject | Bad) -> str:
    """A reject's lines on one line, without the input it quotes (the line number finds it)."""
    if isinstance(error, Bad):
        return str(error)
    return " ".join([f"{error.code.value} {error.title}", *error.detail])


# The fast path. Each returns None for anything it does not take whole.


@lru_cache(maxsize=4096)
def _minute(text: str) -> datetime | None:
    """`HH:MM MM/DD/CCYY` as a time, None if it names none; a switch's log repeats each minute
    many times over."""
    hour, minute, month, day, year = (int(text[a:b]) for a, b in _PARTS)
    if year not in YEARS:
        return None
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError:
        return None


_PARTS = ((0, 2), (3, 5), (6, 8), (9, 11), (12, 16))


def _head(lines: list[str]) -> tuple[str, str, datetime, int, str, str] | None:
    """Key, sender, sent time and counter, receiving ORI and the text after TXT, of a message
    written exactly as format_text writes it."""
    if len(lines) < 5 or lines[3] != "TXT":
        return None
    key_line, sent = _KEY_LINE.fullmatch(lines[0]), _SENT.fullmatch(lines[2])
    if key_line is None or sent is None or _RECEIVED.fullmatch(lines[1]) is None or \
            _minute(lines[1][:16]) is None:
        return None
    at = _minute(lines[2][:16])
    body = "\n".join(lines[4:])
    if at is None or body != body.strip() or body.endswith(".") or \
            _IGNORED.search(body.replace("\n", " ")) or " \n" in body:
        return None
    key, sender = key_line.groups()
    return key, sender, at, int(lines[2][17:22]), lines[2][23:], body


def fast_query(lines: list[str]) -> Query | None:
    head = _head(lines)
    if head is None or head[0] not in QUERY_KEYS:
        return None
    key, sender, sent, counter, receiving, body = head
    try:
        fields = read_fields(body)
    except Reject:
        return None
    return Query(key, sender, sent, counter, receiving, tuple(f"{f.prefix}/{f.value}"
                                                             for f in fields))


def fast_response(lines: list[str]) -> Response | None:
    head = _head(lines)
    if head is None:
        return None
    key, sender, _, _, receiving, body = head
    if key == ER:
        return Response(key, sender, receiving, "", Outcome.ERROR.value, [], _code(body))
    text = body.split("\n")
    title = _TITLE.fullmatch(text[0])
    if title is None or title.group(3) not in _OUTCOMES:
        return None
    state, group, word = title.groups()
    withheld = WITHHELD.format(state=state)
    ids = _IDS[ID_PREFIX[group.lower()]]
    records: Sections = []
    for line in text[1:]:
        if line.startswith("RECORD ") and _RECORD.fullmatch(line):
            records.append([])
        elif records and ": " in line:
            label, _, value = line.partition(": ")
            name = label.lower()
            if name not in ELEMENT_NAMES:  # the protocol's parser's path says which
                return None
            if value == withheld and label.isupper() and label.isascii():
                records[-1].append((name, True, None))
                continue
            section = _SECTION.fullmatch(line)
            if section is None or line != line.upper():
                return None
            found = ids.search(value)
            records[-1].append((name, False, found.group(1) if found else None))
    return Response(key, sender, receiving, state, _OUTCOMES[word], records, None)


def _code(body: str) -> str | None:
    first = body.split(None, 1)[0] if body.strip() else ""
    return first if first in _CODES else None


# The protocol's own parser: the definition, and the path for everything the fast one leaves.


def _delivered(text: str) -> Message:
    message = parse(text)
    if message.header is None:
        raise Bad(f"{message.key}.{message.sender} is not in the delivered form: a "
                  "switch's log shows each message with its output header")
    return message


def protocol_query(text: str) -> Query:
    message = _delivered(text)
    header = message.header
    assert header is not None
    return Query(message.key, message.sender, header.sent.at, header.sent.counter,
                 header.receiving_ori, tuple(str(f) for f in message.fields))


def protocol_response(text: str) -> Response:
    message = _delivered(text)
    header = message.header
    assert header is not None
    if message.key == ER:
        return Response(message.key, message.sender, header.receiving_ori, "",
                        Outcome.ERROR.value, [], _code(message.body or ""))
    answer = read_answer(message.body or "")
    prefix = ID_PREFIX[answer.group]
    records: Sections = [
        [(element(s.element), s.withheld,
          None if s.withheld else next((f.value for f in s.fields if f.prefix == prefix), None))
         for s in record.sections]
        for record in answer.records]
    return Response(message.key, message.sender, header.receiving_ori, answer.state,
                    answer.outcome.value, records, None)
