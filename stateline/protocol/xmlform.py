"""Nlets XML (NIEM) codec: Message ⇄ an ``n2:NLETS`` document, strict about shape, no I/O.

Shape (nlets-protocol.md §1.4, §1.5, §9; the guide's Generic Messages, Status Messages and
Amber Alert examples)::

    <n2:NLETS n2:version="4.00">
      <n2:NLETSMessageHeader>
        <nh2:MessageKeyCodeText>DQ</nh2:MessageKeyCodeText>
        <nh2:OriginatingORIID>ORPPD0000</nh2:OriginatingORIID>
        <nh2:DestinationORIID>WA</nh2:DestinationORIID>     (one per destination)
        <nh2:DocumentControlFieldText><![CDATA[CASE42]]></nh2:DocumentControlFieldText>
        (MessageReceiveDate/Time, MessageSendDate/Time, Receive/SendMessageNumeric:
         the switch's output header; a delivered message's one destination is its receiver)
      </n2:NLETSMessageHeader>
      <n2:NLETSInquiryData n2:key="DQ">...</n2:NLETSInquiryData>   (queries: xmlfields.py)
    </n2:NLETS>

Responses and ER carry ``n2:NLETSResponseData/n2:ResponseText`` (a state's answer also its
elements, xmlanswer.py); AM ``n2:NLETSMailData/n2:MailMessageText``; SM
``n2:NLETSMailData/n2:StatusMessageText``. A key Stateline does not know keeps its fields as
``n2:InquiryDescriptionText`` (the guide's generic LQ), and whatever else it carries as text.

Stamps on a message addressed by a 2-character code (as the guide's AA and AM examples are) are
no output header the model can hold: such a message is read as addressed to that code, and the
switch stamps it anew.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, datetime
from typing import NamedTuple

from .errors import Reject, RejectCode, require_utf8
from .keys import TextKind, spec_for
from .model import Field, Message, OutputHeader, Stamp, normalise_body
from .responses import Answer, format_answer, read_answer
from .xmlanswer import ANSWER, answer_node, read_answer_element
from .xmlfields import query_nodes, read_query
from .xmlsafe import load
from .xmltree import VERSION, Node, clark, short, write

ROOT, HEADER = "n2:NLETS", "n2:NLETSMessageHeader"
INQUIRY, RESPONSE, MAIL = "n2:NLETSInquiryData", "n2:NLETSResponseData", "n2:NLETSMailData"
KEY_ATTRIBUTE = "n2:key"

_KEY, _SENDER = "nh2:MessageKeyCodeText", "nh2:OriginatingORIID"
_DESTINATION, _CONTROL = "nh2:DestinationORIID", "nh2:DocumentControlFieldText"
_RECEIVED = ("nh2:MessageReceiveDate", "nh2:MessageReceiveTime", "nh2:ReceiveMessageNumeric")
_SENT = ("nh2:MessageSendDate", "nh2:MessageSendTime", "nh2:SendMessageNumeric")
_HEADER_TAGS = {clark(tag): tag for tag in (_KEY, _SENDER, _DESTINATION, _CONTROL,
                                            *_RECEIVED, *_SENT)}

TEXTS = {"AM": (MAIL, "n2:MailMessageText"), "SM": (MAIL, "n2:StatusMessageText")}
"""Where a free-text key keeps its text; every other one (responses, ER) in RESPONSE_TEXT."""
RESPONSE_TEXT = (RESPONSE, "n2:ResponseText")
GENERIC_FIELDS = (INQUIRY, "n2:InquiryDescriptionText")
GENERIC_TEXT = (MAIL, "n2:MailMessageText")
_DATA = {clark(tag) for tag in (INQUIRY, RESPONSE, MAIL)}
_FREE_TEXTS = {clark(tag) for tag in ("n2:InquiryDescriptionText", "n2:ResponseText",
                                      "n2:MailMessageText", "n2:StatusMessageText")}

_DATE, _TIME, _COUNTER = re.compile(r"\d\d/\d\d/\d{4}"), re.compile(r"\d\d:\d\d"), \
    re.compile(r"\d{1,5}")
_CLAIMED = re.compile(r"<(?:[A-Za-z0-9_.-]+:)?OriginatingORIID>\s*(?:<!\[CDATA\[)?\s*"
                      r"([A-Za-z0-9]{9})\s*[<\]]")
ORI_LENGTH = 9


def parse_xml(raw: str) -> Message:
    """Read one message in Nlets XML; raise Reject (with the input quoted) if unreadable."""
    try:
        return _parse(raw)
    except Reject as reject:
        raise reject.with_context(original=raw) from None


def format_xml(message: Message, *, today: date | None = None) -> str:
    """Write a message as Nlets XML, read back equal by parse_xml. `today` settles the century
    of a six-digit DOB, which NIEM's date must name (the legacy spelling is kept beside it)."""
    return _written(message, _answer_in, today)


def format_answered_xml(message: Message, answer: Answer | None, *,
                        today: date | None = None) -> str:
    """A response as XML with the elements of the answer it was written from, taken as given,
    never read back from its text: for a holder of answers as records (the switch). The
    elements go in only when the answer writes exactly the response text, as a reader
    requires; without an answer the text goes alone."""
    def given(body: str) -> Answer | None:
        return answer if answer is not None and format_answer(answer) == body else None

    return _written(message, given, today)


def read_xml_answer(raw: str) -> Answer:
    """A state's answer in an XML response, read from its elements (or, without them, from
    its response text); Reject for anything else."""
    message = parse_xml(raw)
    try:
        return read_answer(message.body or "")
    except Reject as reject:
        raise reject.with_context(key=message.key, original=raw) from None


def format_xml_error(code: str, text: str) -> str:
    """The project's one error shape (`{"error": {"code", "text"}}`) for a caller speaking XML."""
    return write(Node("st:Error", children=(Node("st:Code", code),
                                            Node("st:Text", text, cdata=True))))


def claimed_sender(raw: str) -> str | None:
    """The sending ORI an XML message names, picked out without parsing it, for the log of
    refused credentials: never trusted, only recorded."""
    found = _CLAIMED.search(raw[:4096])
    return found.group(1).upper() if found else None


# --- Reading ------------------------------------------------------------------------------


class _Head(NamedTuple):
    key: str
    sender: str
    destinations: tuple[str, ...]
    control: str | None
    delivered: OutputHeader | None


def _parse(raw: str) -> Message:
    require_utf8(raw, "THE MESSAGE")
    root = load(raw)
    if root.tag != clark(ROOT):
        raise Reject(RejectCode.NO_TXT, f"NOT NLETS XML: THE ROOT IS {short(root.tag)}, "
                     f"NOT {ROOT}")
    header, data = _sections(root)
    head = _head(header)
    try:
        fields, body = _content(head.key, data)
        destinations = () if head.delivered else head.destinations
        return Message(head.key, head.sender, destinations, head.control, fields, body,
                       head.delivered)
    except Reject as reject:
        raise reject.with_context(key=head.key) from None


def _sections(root: ET.Element) -> tuple[ET.Element, ET.Element | None]:
    """The header and the one data element, if any; anything else is refused."""
    headers, data = [], []
    _no_loose_text(root)
    for child in root:
        if child.tag == clark(HEADER):
            headers.append(child)
        elif child.tag in _DATA:
            data.append(child)
        else:
            raise Reject(RejectCode.STRUCTURE, f"{short(child.tag)} HAS NO PLACE IN {ROOT}")
    if len(headers) != 1:
        raise Reject(RejectCode.HEADER, f"{ROOT} NEEDS ONE {HEADER}, NOT {len(headers)}")
    if len(data) > 1:
        raise Reject(RejectCode.STRUCTURE, f"{ROOT} CARRIES ONE DATA ELEMENT, NOT {len(data)}")
    return headers[0], data[0] if data else None


def _head(header: ET.Element) -> _Head:
    values: dict[str, list[str]] = {}
    _no_loose_text(header)
    for child in header:
        tag = _HEADER_TAGS.get(child.tag)
        if tag is None or len(child):
            raise Reject(RejectCode.HEADER, f"{short(child.tag)} HAS NO PLACE IN THE HEADER")
        if tag != _DESTINATION and tag in values:
            raise Reject(RejectCode.HEADER, f"{tag} IS REPEATED")
        values.setdefault(tag, []).append((child.text or "").strip())
    key = _required(values, _KEY).upper()
    try:
        sender = _required(values, _SENDER)
        destinations = tuple(values.get(_DESTINATION, []))
        control = values[_CONTROL][0] if _CONTROL in values else None
        return _Head(key, sender, destinations, control, _delivered(values, destinations))
    except Reject as reject:
        raise reject.with_context(key=key) from None


def _delivered(values: dict[str, list[str]], destinations: tuple[str, ...]
               ) -> OutputHeader | None:
    """The output header a delivered message's stamps make, once each is checked; none
    without stamps, or for a message addressed by a 2-character code."""
    stamps = [tag for tag in (*_RECEIVED, *_SENT) if tag in values]
    if not stamps:
        return None
    if len(stamps) != len(_RECEIVED) + len(_SENT):
        raise Reject(RejectCode.HEADER, "AN OUTPUT HEADER NEEDS RECEIVE AND SEND DATE, TIME "
                     "AND NUMBER")
    received, sent = (_stamp([values[tag][0] for tag in tags]) for tags in (_RECEIVED, _SENT))
    if len(destinations) == 1 and len(destinations[0]) == ORI_LENGTH:
        return OutputHeader(received, sent, destinations[0])
    return None


def _required(values: dict[str, list[str]], tag: str) -> str:
    if tag not in values or not values[tag][0]:
        raise Reject(RejectCode.HEADER, f"{tag} IS MISSING")
    return values[tag][0]


def _stamp(parts: list[str]) -> Stamp:
    day, time, counter = parts
    if not (_DATE.fullmatch(day) and _TIME.fullmatch(time) and _COUNTER.fullmatch(counter)):
        raise Reject(RejectCode.HEADER, "STAMPS ARE MM/DD/CCYY, HH:MM AND UP TO 5 DIGITS")
    try:
        at = datetime.strptime(f"{time} {day}", "%H:%M %m/%d/%Y")
    except ValueError:
        raise Reject(RejectCode.HEADER, f"OUTPUT HEADER TIME {time} {day} IS NOT REAL") from None
    return Stamp(at, int(counter))


def _content(key: str, data: ET.Element | None) -> tuple[tuple[Field, ...], str | None]:
    """A message's fields or its text, from its data element, as its key says to read it."""
    if data is None:
        return (), None
    named = data.get(clark(KEY_ATTRIBUTE))
    if named is not None and named.strip().upper() != key:
        raise Reject(RejectCode.HEADER, f"{KEY_ATTRIBUTE} {named[:5]} IS NOT THE MESSAGE KEY")
    spec = spec_for(key)
    if spec is None:
        return (), _any_text(data)
    if spec.text is TextKind.FIELDS:
        _expect(data, INQUIRY, key)
        return read_query(data, key), None
    container, text_tag = TEXTS.get(key, RESPONSE_TEXT)
    _expect(data, container, key)
    allowed = {clark(text_tag), *([clark(ANSWER)] if container == RESPONSE else [])}
    found: dict[str, ET.Element] = {}
    _no_loose_text(data)
    for child in data:
        if child.tag not in allowed or child.tag in found:
            raise Reject(RejectCode.STRUCTURE, f"{short(child.tag)} HAS NO PLACE IN "
                         f"{short(data.tag)} OF {key}")
        found[child.tag] = child
    text = found.get(clark(text_tag))
    if text is not None and len(text):
        raise Reject(RejectCode.STRUCTURE, f"{text_tag} HOLDS TEXT, NOT ELEMENTS")
    body = None if text is None else text.text or ""
    answer = found.get(clark(ANSWER))
    if answer is None:
        return (), body or ""
    written = format_answer(read_answer_element(answer))
    if body is not None and normalise_body(body) != written:
        raise Reject(RejectCode.FORMAT, "THE RESPONSE TEXT AND ITS ELEMENTS DIFFER")
    return (), written


def _expect(data: ET.Element, tag: str, key: str) -> None:
    if data.tag != clark(tag):
        raise Reject(RejectCode.STRUCTURE, f"{key} CARRIES {tag}, NOT {short(data.tag)}")


def _any_text(data: ET.Element) -> str:
    """A key Stateline does not know: its one text element's text, or every text it holds,
    one per line, so nothing it carried is lost from sight."""
    children = list(data)
    if len(children) == 1 and children[0].tag in _FREE_TEXTS and not len(children[0]):
        return children[0].text or ""
    return "\n".join(text.strip() for text in data.itertext() if text.strip())


def _no_loose_text(element: ET.Element) -> None:
    if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
        raise Reject(RejectCode.STRUCTURE, f"{short(element.tag)} HOLDS TEXT BESIDE ELEMENTS")


# --- Writing ------------------------------------------------------------------------------


def _written(message: Message, answer_of: Callable[[str], Answer | None],
             today: date | None) -> str:
    """The document; `answer_of` gives the Answer a response body carries, if any."""
    day = today or date.today()
    children = (_header_node(message), *_data_nodes(message, day, answer_of))
    return write(Node(ROOT, children=children, attributes=(("n2:version", VERSION),)))


def _header_node(message: Message) -> Node:
    """The header in the guide's order: key, sender, destinations, control, then the two
    dates and times, then the two numbers."""
    header = message.header
    leaves = [Node(_KEY, message.key), Node(_SENDER, message.sender)]
    addresses = (header.receiving_ori,) if header else message.destinations
    leaves += [Node(_DESTINATION, address) for address in addresses]
    if message.control:
        leaves.append(Node(_CONTROL, message.control, cdata=True))
    if header:
        (day_in, time_in, number_in), (day_out, time_out, number_out) = (
            (stamp.at.strftime("%m/%d/%Y"), stamp.at.strftime("%H:%M"), f"{stamp.counter:05d}")
            for stamp in (header.received, header.sent))
        leaves += [Node(_RECEIVED[0], day_in), Node(_RECEIVED[1], time_in),
                   Node(_SENT[0], day_out), Node(_SENT[1], time_out),
                   Node(_RECEIVED[2], number_in), Node(_SENT[2], number_out)]
    return Node(HEADER, children=tuple(leaves))


def _data_nodes(message: Message, today: date,
                answer_of: Callable[[str], Answer | None]) -> tuple[Node, ...]:
    key = (KEY_ATTRIBUTE, message.key)
    spec = spec_for(message.key)
    if message.fields and spec is not None and spec.text is TextKind.FIELDS:
        children, attributes = query_nodes(message.key, message.fields, today)
        return (Node(INQUIRY, children=children, attributes=(key, *attributes)),)
    if message.fields:
        container, tag = GENERIC_FIELDS
        listed = Node(tag, ".".join(map(str, message.fields)), cdata=True)
        return (Node(container, children=(listed,), attributes=(key,)),)
    if message.body is None:
        return ()
    container, tag = TEXTS.get(message.key, RESPONSE_TEXT if spec else GENERIC_TEXT)
    answer = answer_of(message.body) if container == RESPONSE else None
    elements = (answer_node(answer),) if answer is not None else ()
    return (Node(container, children=(Node(tag, message.body, cdata=True), *elements),
                 attributes=(key,)),)


def _answer_in(body: str) -> Answer | None:
    """The Answer a response body was written from, when it reads back to exactly that body."""
    try:
        answer = read_answer(body)
    except Reject:
        return None
    return answer if format_answer(answer) == body else None
