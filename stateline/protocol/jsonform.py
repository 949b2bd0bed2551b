"""JSON codec: Message ⇄ plain JSON objects, strict about shape, with no I/O.

Shape::

    {"key": "DQ", "sender": "ORPPD0000", "destinations": ["WA"], "control": null,
     "fields": [{"prefix": "OLN", "value": "WDL123456"}], "body": null, "header": null}

``supported`` is written for readers (is the key one Stateline handles for DMV data?) and
ignored when read back.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .errors import Reject, RejectCode, require_utf8
from .keys import spec_for
from .model import Field, Message, OutputHeader, Stamp

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
            fields=tuple(_field(item, n) for n, item in enumerate(_list(obj, "fields"))),
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


def _stamp_json(stamp: Stamp) -> dict[str, Any]:
    return {"at": stamp.at.isoformat(timespec="minutes"), "counter": stamp.counter}


def _object(data: object, what: str, members: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Reject(RejectCode.STRUCTURE, f"JSON {what} MUST BE AN OBJECT")
    unknown = sorted(str(k) for k in data if k not in members)
    if unknown:
        raise Reject(RejectCode.STRUCTURE, f"JSON {what} HAS UNKNOWN MEMBER {unknown[0]}"[:100])
    return data


def _string(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise Reject(RejectCode.STRUCTURE, f"JSON MEMBER {name} MUST BE A STRING")
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


def _field(item: object, index: int) -> Field:
    obj = _object(item, f"field {index}", frozenset({"prefix", "value"}))
    return Field(_string(obj, "prefix"), _string(obj, "value"))


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
