"""A state switch's records as the history tests write them: transactions in the nlets-text
form (each message exactly as `format_text` writes it, with its output header), and the same
requests as CSV and JSONL with the column maps that read them."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from stateline.protocol import (
    KEYS,
    SWITCH_ORI,
    Answer,
    Field,
    Message,
    Outcome,
    OutputHeader,
    Record,
    Section,
    Stamp,
    format_answer,
    format_text,
)

STATE = "WA"
IN_STATE, OUT_OF_STATE, ICE, HSI = "WASPD0100", "ORPPD0000", "VTICE0900", "NYHSI0100"
UNKNOWN = "ZZ9999999"
"""An ORI no directory holds."""
DMV = f"{STATE}OLN0000"

IDENTITY = Section("identity", (Field("OLN", "WDL123456"), Field("NAM", "DOE,JANE Q"),
                                Field("DOB", "19850314"), Field("SEX", "F")))
LICENSE = Section("license", (Field("CLS", "C"), Field("STA", "VALID")))
PHOTO = Section("photo", (Field("IMG", "P0001"),))
VEHICLE = Section("vehicle", (Field("VIN", "1HGCM82633A004352"), Field("VMA", "HOND")))


@dataclass(frozen=True, slots=True)
class Request:
    """One request and what the state answered, as every format of the tests writes it."""

    sender: str
    when: datetime
    """UTC, minute precision (the output header's)."""
    key: str
    fields: tuple[Field, ...]
    outcome: Outcome
    records: tuple[Record, ...] = ()
    counter: int = 1
    reject: str | None = None
    """An ER's text instead of an answer."""

    @property
    def group(self) -> str:
        group = KEYS[self.key].group
        assert group is not None
        return group


def released(*sections: Section) -> tuple[Record, ...]:
    return (Record(tuple(sections)),)


def withheld(element: str) -> Section:
    return Section(element, withheld=True)


REQUESTS = (
    Request(IN_STATE, datetime(2024, 2, 1, 9, 15), "DQ", (Field("OLN", "WDL123456"),),
            Outcome.RELEASED, released(IDENTITY, LICENSE, PHOTO)),
    Request(ICE, datetime(2024, 6, 3, 14, 3), "DQ",
            (Field("OLN", "WDL123456"), Field("IMQ", "Y")), Outcome.DENIED),
    Request(OUT_OF_STATE, datetime(2025, 3, 12, 14, 3), "DQ",
            (Field("NAM", "DOE,JANE Q"), Field("DOB", "19850314"), Field("RSN", "T")),
            Outcome.PARTIAL, released(IDENTITY, LICENSE, withheld("photo")), counter=2),
    Request(HSI, datetime(2025, 3, 12, 14, 3), "RQ", (Field("VIN", "1HGCM82633A004352"),),
            Outcome.RELEASED, released(VEHICLE), counter=3),
    Request(UNKNOWN, datetime(2025, 7, 4, 23, 59), "DQ", (Field("OLN", "WDL999999"),),
            Outcome.NO_RECORD),
    Request(IN_STATE, datetime(2025, 12, 31, 8, 0), "KQ", (Field("OLN", "WDL123456"),),
            Outcome.ERROR, reject=".14. FIELDS MISSING\nKQ NEEDS OLN OR NAM AND DOB"),
)
"""Six requests over 2024 and 2025, of every outcome a test needs, one from an unknown ORI."""


def _header(when: datetime, counter: int, to: str) -> OutputHeader:
    return OutputHeader(Stamp(when, counter + 5), Stamp(when, counter), to)


def query_text(r: Request, state: str = STATE) -> str:
    return format_text(Message(r.key, r.sender, (), None, r.fields,
                               header=_header(r.when, r.counter, f"{state}NLETS00")))


def response_text(r: Request, state: str = STATE) -> str:
    if r.reject is not None:
        return format_text(Message("ER", SWITCH_ORI, (), None, body=r.reject,
                                   header=_header(r.when, r.counter + 100, r.sender)))
    answer = Answer(state, r.group, r.outcome, r.records)
    response = KEYS[r.key].response
    assert response is not None
    return format_text(Message(response, f"{state}OLN0000", (), None,
                               body=format_answer(answer),
                               header=_header(r.when, r.counter + 200, r.sender)))


def transaction(r: Request, state: str = STATE) -> str:
    return f"{query_text(r, state)}\n{response_text(r, state)}"


def nlets_text(requests: tuple[Request, ...] = REQUESTS, newline: str = "\n") -> str:
    return (newline * 2).join(transaction(r).replace("\n", newline) for r in requests) + newline


ELEMENTS_OF = {Outcome.RELEASED, Outcome.PARTIAL}


def _row(r: Request) -> dict[str, str]:
    sections = [s for record in r.records for s in record.sections]
    ids = [f.value for s in sections if not s.withheld for f in s.fields
           if f.prefix in ("OLN", "VIN")]
    return {"sent": r.when.strftime("%m/%d/%Y %H:%M"), "ori": r.sender, "mke": r.key,
            "text": ".".join(str(f) for f in r.fields),
            "result": {Outcome.RELEASED: "HIT", Outcome.PARTIAL: "PARTIAL HIT",
                       Outcome.NO_RECORD: "NO HIT"}.get(r.outcome, r.outcome.value.upper()),
            "returned": "|".join(s.element for s in sections if not s.withheld),
            "held_back": "|".join(s.element for s in sections if s.withheld),
            "photo": "Y" if any(s.element == "photo" and not s.withheld for s in sections)
            else "N",
            "records": "|".join(ids), "dest": STATE}


CSV_HEADER = ("sent", "ori", "mke", "text", "result", "returned", "held_back", "photo",
              "records", "dest")


def csv_text(requests: tuple[Request, ...] = REQUESTS, newline: str = "\r\n") -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, CSV_HEADER, lineterminator=newline)
    writer.writeheader()
    for r in requests:
        writer.writerow(_row(r))
    return out.getvalue()


def jsonl_text(requests: tuple[Request, ...] = REQUESTS) -> str:
    lines = []
    for r in requests:
        row = _row(r)
        lines.append(json.dumps({
            "at": r.when.strftime("%Y-%m-%dT%H:%M:00Z"), "from": r.sender, "key": r.key,
            "query": row["text"], "outcome": row["result"],
            "elements": row["returned"].split("|") if row["returned"] else [],
            "photo": row["photo"] == "Y", "records": row["records"].split("|")
            if row["records"] else []}))
    return "\n".join(lines) + "\n"


CSV_MAP = """\
[time]
column = "sent"
format = "%m/%d/%Y %H:%M"

[sender]
column = "ori"

[key]
column = "mke"

[outcome]
column = "result"
words = { HIT = "released", "PARTIAL HIT" = "partial", "NO HIT" = "no-record" }

[elements]
column = "returned"
separator = "|"

[withheld]
column = "held_back"
separator = "|"

[photo]
column = "photo"
true = ["Y"]
false = ["N"]

[records]
column = "records"
separator = "|"

[terms]
column = "text"

[destination]
column = "dest"
"""

JSONL_MAP = """\
[time]
column = "at"

[sender]
column = "from"

[key]
column = "key"

[outcome]
column = "outcome"
words = { HIT = "released", "PARTIAL HIT" = "partial", "NO HIT" = "no-record" }

[elements]
column = "elements"

[photo]
column = "photo"

[records]
column = "records"

[terms]
column = "query"
"""
