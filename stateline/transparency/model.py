"""What a public report is: its tables as published (and for a year, the headline the letters ask
for), the policy changes of its period and the cosigned checkpoint it counts up to; and its JSON
form, which `report.schema.json` describes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from ..errors import RequesterError
from .provenance import FROM_RECORDS, SHORT
from .stats import GATEWAY, Period
from .suppress import WITHHELD

SCHEMA = "stateline/public-report/1"

Shown = int | str
"""A count as published: the number, or the mark standing in for it."""

DEFINITIONS = {
    "requests": "Queries the state's gateway decided, counted once each, when first decided.",
    "disclosures": "Requests answered with records, in full (released) or with elements "
                   "withheld (partial), when first decided or after review.",
    "reviews": "Held requests a coordinator answered after review, by how they ended.",
    "photos": "Disclosures that included a license photo.",
    "records": "Records (licenses, identity cards, vehicles) in those disclosures.",
    "held": "Requests held for review by the state instead of being answered at once.",
    "category": "Who asked: the first statistics category the requesting agency matched.",
    "group": "Message group: driver (DQ, DNQ), vehicle (RQ, RNQ, RPQ), history (KQ).",
}


METHOD = ("Counts from 1 to threshold-1 are shown as the small-count mark; other counts are "
          "withheld so that none of those can be worked out from totals, differences, other "
          "tables or other periods. A year, its quarters and its months are published from one "
          "decision, so no subtraction between them gives a count away; ranges of days are "
          "never published. The headline (requests and disclosures per requester for the year) "
          "is marked only where the count itself is small, and a small count that the headline "
          "and the zeros beside it give away whatever else is withheld is shown. Zeros are "
          "shown.")

CHECK = ("stateline report check REPORT.json [EARLIER.json ...] --url https://SITE "
         "--key 'STATE LOG KEY' --witness-key 'WITNESS KEY'")
"""What anyone runs to check a report without the state's log."""


class ReportError(RequesterError, ValueError):
    """A document that is not a public report this version can read."""

    code, status = "invalid-report", 422


@dataclass(frozen=True, slots=True)
class PublishedTable:
    id: str
    title: str
    measure: str
    row_dimension: str
    rows: tuple[str, ...]
    column_dimension: str
    columns: tuple[str, ...]
    cells: tuple[tuple[Shown, ...], ...]
    row_totals: tuple[Shown, ...]
    column_totals: tuple[Shown, ...]
    total: Shown


@dataclass(frozen=True, slots=True)
class PolicyNote:
    id: str
    effect: str
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyChange:
    time: str
    version: str
    added: tuple[PolicyNote, ...]
    removed: tuple[PolicyNote, ...]
    changed: tuple[PolicyNote, ...]


@dataclass(frozen=True, slots=True)
class AsOf:
    """The signed tree head a report counts up to, the key that signed it, and the witnesses
    the state names, whose cosignature lines the checkpoint carries."""

    origin: str
    size: int
    root: str
    time: str
    checkpoint: str
    verifier_key: str
    witnesses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Headline:
    """The table the letters to governors ask for: requests and disclosures per requester for
    the year, each marked only where the count itself is from 1 to threshold-1."""

    categories: tuple[str, ...]
    requests: tuple[Shown, ...]
    disclosures: tuple[Shown, ...]


@dataclass(frozen=True, slots=True)
class CountedFrom:
    """Where some of a report's requests were counted from: a file of the state switch's own
    records imported into the log (by its digest and the day it was imported), or the state's
    gateway. Listed when some of the year's requests were imported."""

    label: str
    """The row of the table `requests-by-source` it is."""
    kind: str
    """"imported" or "gateway"."""
    sha256: str
    """The imported file's SHA-256; "" for the gateway."""
    imported_on: str
    """The day (YYYY-MM-DD, UTC) the file was imported; "" for the gateway."""
    requests: Shown
    """The period's requests from it, as the table shows them."""

    def said(self) -> str:
        if self.kind == GATEWAY:
            return "decided by the state's gateway"
        return f"{FROM_RECORDS}, imported on {self.imported_on} ({self.sha256[:SHORT]})"


@dataclass(frozen=True, slots=True)
class PublicReport:
    state: str
    period: Period
    as_of: AsOf
    threshold: int
    tables: tuple[PublishedTable, ...]
    policy_changes: tuple[PolicyChange, ...]
    headline: Headline | None = None
    """For a year; quarters and months show the same counts in their tables."""
    sources: tuple[CountedFrom, ...] = ()
    """Where the period's requests were counted from, when some were imported."""

    def table(self, table_id: str) -> PublishedTable:
        return next(t for t in self.tables if t.id == table_id)

    @property
    def withheld(self) -> int:
        """Published places that show a mark rather than a count (a shared margin once per
        table it appears in)."""
        return sum(isinstance(v, str) for t in self.tables for v in _shown(t))


def _shown(t: PublishedTable) -> list[Shown]:
    return [*(v for row in t.cells for v in row), *t.row_totals, *t.column_totals, t.total]


def as_json(report: PublicReport) -> dict[str, Any]:
    p, a = report.period, report.as_of
    return {
        "schema": SCHEMA,
        "state": report.state,
        "period": {"label": p.label, "first": p.first.isoformat(), "last": p.last.isoformat()},
        "as_of": {"origin": a.origin, "size": a.size, "root": a.root, "time": a.time,
                  "checkpoint": a.checkpoint, "verifier_key": a.verifier_key,
                  "witnesses": list(a.witnesses)},
        "disclosure_control": {
            "threshold": report.threshold, "small_count_mark": f"<{report.threshold}",
            "complementary_mark": WITHHELD, "method": METHOD},
        "definitions": DEFINITIONS,
        "headline": None if report.headline is None else {
            "categories": list(report.headline.categories),
            "requests": list(report.headline.requests),
            "disclosures": list(report.headline.disclosures)},
        "tables": [{
            "id": t.id, "title": t.title, "measure": t.measure,
            "rows": {"dimension": t.row_dimension, "labels": list(t.rows)},
            "columns": {"dimension": t.column_dimension, "labels": list(t.columns)},
            "cells": [list(row) for row in t.cells], "row_totals": list(t.row_totals),
            "column_totals": list(t.column_totals), "total": t.total,
        } for t in report.tables],
        "policy_changes": [{
            "time": c.time, "version": c.version,
            **{name: [{"id": n.id, "effect": n.effect, "reason": n.reason} for n in notes]
               for name, notes in (("added", c.added), ("removed", c.removed),
                                   ("changed", c.changed))},
        } for c in report.policy_changes],
        **({"sources": [{"label": c.label, "kind": c.kind, "sha256": c.sha256,
                         "imported": c.imported_on, "requests": c.requests, "said": c.said()}
                        for c in report.sources]} if report.sources else {}),
    }


def dumps(report: PublicReport) -> str:
    return json.dumps(as_json(report), indent=2, ensure_ascii=False) + "\n"


def schema_text() -> str:
    return resources.files(__package__).joinpath("report.schema.json").read_text("utf-8")


def loads(text: str) -> PublicReport:
    """A report back from its JSON text; anything else is a ReportError saying what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ReportError(f"not JSON: {error}") from None
    return from_json(document)


def from_json(document: Any) -> PublicReport:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ReportError(f"not a Stateline public report (no \"schema\": \"{SCHEMA}\")")
    period, as_of = _object(document, "period"), _object(document, "as_of")
    control = _object(document, "disclosure_control")
    try:
        first, last = (date.fromisoformat(_text(period, n, "period")) for n in ("first", "last"))
    except ValueError:
        raise ReportError("period: first and last must be days (YYYY-MM-DD)") from None
    return PublicReport(
        _text(document, "state", "report"),
        Period(_text(period, "label", "period"), first, last),
        AsOf(_text(as_of, "origin", "as_of"), _int(as_of, "size", "as_of"),
             _text(as_of, "root", "as_of"), _text(as_of, "time", "as_of"),
             _text(as_of, "checkpoint", "as_of"), _text(as_of, "verifier_key", "as_of"),
             tuple(_strings(as_of, "witnesses", "as_of"))),
        _int(control, "threshold", "disclosure_control"),
        tuple(_table(t, f"tables[{n}]") for n, t in enumerate(_list(document, "tables", ""))),
        tuple(_change(c, f"policy_changes[{n}]")
              for n, c in enumerate(_list(document, "policy_changes", ""))),
        _headline(document.get("headline")),
        tuple(_source(c, f"sources[{n}]")
              for n, c in enumerate(document.get("sources") or [])))


def _source(item: Any, where: str) -> CountedFrom:
    if not isinstance(item, dict):
        raise ReportError(f"{where} is not an object")
    label, kind, sha256, day = (_text(item, n, where)
                                for n in ("label", "kind", "sha256", "imported"))
    return CountedFrom(label, kind, sha256, day,
                       _counts([item.get("requests")], f"{where}.requests")[0])


def _headline(item: Any) -> Headline | None:
    if item is None:
        return None
    if not isinstance(item, dict):
        raise ReportError("headline is not an object")
    categories = tuple(_strings(item, "categories", "headline"))
    requests = _counts(item.get("requests"), "headline.requests")
    disclosures = _counts(item.get("disclosures"), "headline.disclosures")
    if not len(categories) == len(requests) == len(disclosures):
        raise ReportError("headline: requests and disclosures do not fit its categories")
    return Headline(categories, requests, disclosures)


def _table(item: Any, where: str) -> PublishedTable:
    if not isinstance(item, dict):
        raise ReportError(f"{where} is not an object")
    rows, columns = _object(item, "rows", where), _object(item, "columns", where)
    labels = [tuple(_strings(axis, "labels", where)) for axis in (rows, columns)]
    cells = tuple(_counts(row, f"{where}.cells") for row in _list(item, "cells", where))
    table = PublishedTable(
        _text(item, "id", where), _text(item, "title", where), _text(item, "measure", where),
        _text(rows, "dimension", where), labels[0], _text(columns, "dimension", where),
        labels[1], cells, _counts(item.get("row_totals"), f"{where}.row_totals"),
        _counts(item.get("column_totals"), f"{where}.column_totals"),
        _counts([item.get("total")], f"{where}.total")[0])
    if (len(cells) != len(labels[0]) or any(len(r) != len(labels[1]) for r in cells)
            or len(table.row_totals) != len(labels[0])
            or len(table.column_totals) != len(labels[1])):
        raise ReportError(f"{where}: cells and totals do not fit its rows and columns")
    return table


def _change(item: Any, where: str) -> PolicyChange:
    if not isinstance(item, dict):
        raise ReportError(f"{where} is not an object")
    notes = []
    for name in ("added", "removed", "changed"):
        found = []
        for note in _list(item, name, where):
            if not isinstance(note, dict):
                raise ReportError(f"{where}.{name} holds a non-object")
            found.append(PolicyNote(*(_text(note, n, f"{where}.{name}")
                                      for n in ("id", "effect", "reason"))))
        notes.append(tuple(found))
    return PolicyChange(_text(item, "time", where), _text(item, "version", where), *notes)


def _object(item: dict[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = item.get(name)
    if not isinstance(value, dict):
        raise ReportError(f"{_at(where, name)} is missing or not an object")
    return value


def _list(item: dict[str, Any], name: str, where: str) -> list[Any]:
    value = item.get(name)
    if not isinstance(value, list):
        raise ReportError(f"{_at(where, name)} is missing or not a list")
    return value


def _text(item: dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise ReportError(f"{_at(where, name)} is missing or not a string")
    return value


def _int(item: dict[str, Any], name: str, where: str) -> int:
    value = item.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ReportError(f"{_at(where, name)} is missing or not a whole number")
    return value


def _strings(item: dict[str, Any], name: str, where: str) -> list[str]:
    value = _list(item, name, where)
    if not all(isinstance(v, str) for v in value):
        raise ReportError(f"{_at(where, name)} must hold strings")
    return value


def _counts(value: Any, where: str) -> tuple[Shown, ...]:
    """Counts as published: whole numbers of at least 0, or marks."""
    if not isinstance(value, list) or not all(
            isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            for v in value):
        raise ReportError(f"{where} must hold counts (whole numbers) or marks")
    return tuple(value)


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
