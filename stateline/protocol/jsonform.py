"""JSON codec: Message and Answer ⇄ plain JSON objects, strict about shape, with no I/O.

A message's shape::

    {"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"], "control": null,
     "fields": [{"prefix": "OLN", "value": "WDL123456"}], "body": null, "header": null}

``supported`` is written for readers (is the key one Stateline handles for DMV data?) and
ignored when read back. A state's answer, as it crosses from a gateway to the switch beside
the response text, so the switch never reads the text back::

    {"state": "WA", "group": "driver", "outcome": "partial", "policy": "no-photos",
     "reason": null, "reference": null, "note": null,
     "records": [{"sections": [{"element": "identity", "fields": [{"prefix": "OLN",
     "value": "WDL123456"}]}, {"element": "photo", "withheld": true}]}]}
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from .errors import Reject, RejectCode, require_utf8
from .keys import spec_for
from .model import Field, Message, OutputHeader, Stamp
from .responses import Answer, Outcome, Record, Section

_MEMBERS = frozenset(
    {"key", "sender", "destinations", "control", "fields", "body", "header", "supported"}
)


def to_json(message: Message) -> dict[str, Any]:
    header = message.header
    return {
        "key": message.key,
        "sender": message.sender,
        "destinations": list(message.destinations),
        "control": message.control,
        "fields": [{"prefix": f.prefix, "value": f.value} for f in message.fields],
        "body": message.body,
        "header": None if header is None else {
            "received": _stamp_json(header.received),
            "sent": _stamp_json(header.sent),
            "receiving_ori": header.receiving_ori,
        },
        "supported": spec_for(message.key) is not None,
    }


def from_json(data: object) -> Message:
    """A message from its JSON form; any shape error is a structure reject naming the member."""
    obj = _object(data, "message", _MEMBERS)
    key = _string(obj, "key")
    try:
        return Message(
            key=key,
            sender=_string(obj, "sender"),
            destinations=tuple(_strings(obj, "destinations")),
            control=_optional_string(obj, "control"),
            fields=Field.each([_pair(item, n) for n, item in enumerate(_list(obj, "fields"))]),
            body=_optional_string(obj, "body"),
            header=_header(obj.get("header")),
        )
    except Reject as reject:
        raise reject.with_context(key=key.strip().upper()) from None


def loads(text: str) -> Message:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Reject(RejectCode.STRUCTURE, f"NOT JSON: {error}"[:100], original=text) from None
    try:
        return from_json(data)
    except Reject as reject:
        raise reject.with_context(original=text) from None


def dumps(message: Message) -> str:
    return json.dumps(to_json(message), indent=2)


MOST_RECORDS = 1_000
"""Records in one answer: far above any search's limit (20 by name, 50 by partial plate)."""
MOST_SECTIONS = 64
"""Elements in one record: there are ten."""
MOST_FIELDS = 20_000
"""Fields in one answer, all records together."""
MOST_CHARACTERS = 2_048
"""Characters in one string of an answer: a field value is at most 200 from a DMV responder."""
_ANSWER = frozenset({"state", "group", "outcome", "records", "policy", "reason", "reference",
                     "note"})
_LABELS = ("policy", "reason", "reference", "note")
_STATE = re.compile(r"[A-Z0-9]{2}")


def answer_to_json(answer: Answer) -> dict[str, Any]:
    return {
        "state": answer.state, "group": answer.group, "outcome": answer.outcome.value,
        **{label: getattr(answer, label) for label in _LABELS},
        "records": [{"sections": [_section_json(s) for s in record.sections]}
                    for record in answer.records],
    }


def answer_from_json(data: object) -> Answer:
    """An answer from its JSON form, every member checked and bounded; Reject (structure)
    naming what is wrong."""
    obj = _object(data, "answer", _ANSWER)
    state = _bounded(obj, "state")
    if _STATE.fullmatch(state) is None:
        raise Reject(RejectCode.STRUCTURE, f"JSON answer state {state[:10]!r} IS NOT A "
                     "2-CHARACTER CODE")
    try:
        outcome = Outcome(_bounded(obj, "outcome"))
    except ValueError:
        raise Reject(RejectCode.STRUCTURE, "JSON answer outcome IS NOT ONE OF "
                     + " ".join(o.value for o in Outcome)) from None
    items = _list(obj, "records")
    if len(items) > MOST_RECORDS:
        raise Reject(RejectCode.STRUCTURE, f"JSON answer HAS MORE THAN {MOST_RECORDS} RECORDS")
    budget = _Budget(MOST_FIELDS)
    records = tuple(_record(item, n, budget) for n, item in enumerate(items, 1))
    labels = {label: None if obj.get(label) is None else _bounded(obj, label)
              for label in _LABELS}
    return Answer(state, _bounded(obj, "group"), outcome, records, **labels)


def _section_json(section: Section) -> dict[str, Any]:
    if section.withheld:
        return {"element": section.element, "withheld": True}
    return {"element": section.element,
            "fields": [{"prefix": f.prefix, "value": f.value} for f in section.fields]}


class _Budget:
    """The fields an answer may still hold, spent as each element is read, so an oversized
    answer is refused before its fields are built."""

    def __init__(self, left: int) -> None:
        self.left = left

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise Reject(RejectCode.STRUCTURE, f"JSON answer HAS MORE THAN {MOST_FIELDS} FIELDS")


def _record(item: object, number: int, budget: _Budget) -> Record:
    obj = _object(item, f"record {number}", frozenset({"sections"}))
    parts = _list(obj, "sections")
    if len(parts) > MOST_SECTIONS:
        raise Reject(RejectCode.STRUCTURE, f"JSON record {number} HAS MORE THAN "
                     f"{MOST_SECTIONS} ELEMENTS")
    return Record(tuple(_section(part, number, budget) for part in parts))


_SECTION = frozenset({"element", "fields", "withheld"})
_FIELD = frozenset({"prefix", "value"})


def _section(item: object, number: int, budget: _Budget) -> Section:
    obj = _object(item, "record element", _SECTION)
    element = _bounded(obj, "element")
    withheld = obj.get("withheld", False)
    if not isinstance(withheld, bool):
        raise Reject(RejectCode.STRUCTURE, "JSON MEMBER withheld MUST BE true OR false")
    items = _list(obj, "fields")
    budget.spend(len(items))
    return Section(element, Field.each([_bounded_field(field) for field in items]), withheld)


def _bounded_field(item: object) -> tuple[str, str]:
    """A field of an answer as (prefix, value), its members checked and bounded: the common
    case (an object of two short ASCII strings) in a few comparisons."""
    if type(item) is dict and len(item) == 2:
        prefix, value = item.get("prefix"), item.get("value")
        if type(prefix) is str and type(value) is str and prefix.isascii() and \
                value.isascii() and len(prefix) + len(value) <= MOST_CHARACTERS:
            return prefix, value
    obj = _object(item, "field", _FIELD)
    return _bounded(obj, "prefix"), _bounded(obj, "value")


def _bounded(obj: dict[str, Any], name: str) -> str:
    value = _string(obj, name)
    if len(value) > MOST_CHARACTERS:
        raise Reject(RejectCode.STRUCTURE, f"JSON MEMBER {name} IS LONGER THAN "
                     f"{MOST_CHARACTERS} CHARACTERS")
    return value


def _stamp_json(stamp: Stamp) -> dict[str, Any]:
    return {"at": stamp.at.isoformat(timespec="minutes"), "counter": stamp.counter}


def _object(data: object, what: str, members: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Reject(RejectCode.STRUCTURE, f"JSON {what} MUST BE AN OBJECT")
    if not members.issuperset(data):
        unknown = sorted(str(k) for k in data if k not in members)
        raise Reject(RejectCode.STRUCTURE, f"JSON {what} HAS UNKNOWN MEMBER {unknown[0]}"[:100])
    return data


def _string(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise Reject(RejectCode.STRUCTURE, f"JSON MEMBER {name} MUST BE A STRING")
    if not value.isascii():  # ASCII cannot hold a lone surrogate
        require_utf8(value, f"JSON MEMBER {name}")
    return value


def _optional_string(obj: dict[str, Any], name: str) -> str | None:
    return None if obj.get(name) is None else _string(obj, name)


def _list(obj: dict[str, Any], name: str) -> list[Any]:
    value = obj.get(name, [])
    if not isinstance(value, list):
        raise Reject(RejectCode.STRUCTURE, f"JSON MEMBER {name} MUST BE A LIST")
    return value


def _strings(obj: dict[str, Any], name: str) -> list[str]:
    items = _list(obj, name)
    if not all(isinstance(item, str) for item in items):
        raise Reject(RejectCode.STRUCTURE, f"JSON MEMBER {name} MUST BE A LIST OF STRINGS")
    for item in items:
        require_utf8(item, f"JSON MEMBER {name}")
    return items


def _pair(item: object, index: int) -> tuple[str, str]:
    obj = _object(item, f"field {index}", _FIELD)
    return _string(obj, "prefix"), _string(obj, "value")


def _header(data: object) -> OutputHeader | None:
    if data is None:
        return None
    obj = _object(data, "header", frozenset({"received", "sent", "receiving_ori"}))
    return OutputHeader(
        _stamp(obj.get("received"), "received"),
        _stamp(obj.get("sent"), "sent"),
        _string(obj, "receiving_ori"),
    )


def _stamp(data: object, what: str) -> Stamp:
    obj = _object(data, f"header {what}", frozenset({"at", "counter"}))
    counter = obj.get("counter")
    if not isinstance(counter, int) or isinstance(counter, bool):
        raise Reject(RejectCode.STRUCTURE, f"JSON header {what} counter MUST BE AN INTEGER")
    try:
        at = datetime.fromisoformat(_string(obj, "at"))
    except ValueError:
        raise Reject(RejectCode.STRUCTURE, f"JSON header {what} at MUST BE ISO TIME") from None
    return Stamp(at, counter)
