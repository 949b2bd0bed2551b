"""A state's policy in plain words, found by asking its engine rather than reading its text:
what each policy says, and what each kind of agency sees, per message group and element.

The matrix is what the engine decides for one representative agency per statistics category,
so it is exactly as true as the decisions a gateway would make at this version.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..directory.agency import Agency
from ..directory.categories import DEFAULT_RULES, RuleTable
from .engine import Decision, PolicyEngine, Reason, Request, Verdict
from .schema import ELEMENTS, GROUP_ELEMENTS, QUERY_ACTIONS
from .source import Policy

ROWS: dict[str, str] = {
    "DQ": "driver",
    "DNQ": "name-only driver",
    "RQ": "vehicle",
    "RPQ": "partial-plate",
    "KQ": "history",
}
"""The matrix's rows: a message key and how a sentence names its queries."""


class Access(Enum):
    RELEASED = "released"
    WITHHELD = "withheld"
    REVIEW = "review"
    """Released if a coordinator approves the held query."""
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class Row:
    """One message key for one category: the verdict, and each element its response carries."""

    key: str
    verdict: Verdict
    elements: dict[str, Access]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class CategoryView:
    category: str
    where: str
    """"in WA" or "out of state" when the category's agencies are treated differently by
    where they sit (a federal office in the state, say); "" when not."""
    agency: Agency
    """The representative the engine was asked about."""
    rows: tuple[Row, ...]
    opened_by_court_order: tuple[str, ...]
    """Keys whose verdict improves when a court order is on file."""
    opened_by_attestation: tuple[str, ...]
    sentence: str

    @property
    def label(self) -> str:
        return f"{self.category} ({self.where})" if self.where else self.category


@dataclass(frozen=True, slots=True)
class Explanation:
    state: str
    version: str
    policies: tuple[Policy, ...]
    categories: tuple[CategoryView, ...]
    missing: tuple[str, ...]
    """Categories with no active agency in the directory: not shown, not decided."""


def explain(engine: PolicyEngine, rules: RuleTable = DEFAULT_RULES) -> Explanation:
    """Every policy, and the who-can-see-what matrix with a sentence per category."""
    chosen = representatives(engine, rules)
    names = tuple(rule.name for rule in rules.categories)
    views = tuple(view for name in names for view in _views(engine, name, chosen.get(name, [])))
    return Explanation(engine.home, engine.version, engine.source.policies, views,
                       tuple(name for name in names if name not in chosen))


def representatives(engine: PolicyEngine,
                    rules: RuleTable = DEFAULT_RULES) -> dict[str, list[Agency]]:
    """For each category, its typical sender in the state and outside it (when it has both):
    the first active agency by ORI, preferring DMV permission (D) and criminal justice."""
    found: dict[str, dict[bool, Agency]] = {}
    ranked = sorted((a for a in engine.snapshot.agencies.values() if a.active),
                    key=lambda a: ("D" not in a.permissions, not a.criminal_justice, a.ori))
    for agency in ranked:
        by_place = found.setdefault(rules.category(agency, engine.home), {})
        by_place.setdefault(agency.state == engine.home, agency)
    return {name: [by_place[place] for place in (True, False) if place in by_place]
            for name, by_place in found.items()}


def _views(engine: PolicyEngine, category: str,
           agencies: list[Agency]) -> list[CategoryView]:
    """One view, or one per place when an in-state and an out-of-state agency of the same
    category are not treated alike."""
    views = [_view(engine, category, agency, "") for agency in agencies]
    if len(views) == 2 and views[0].rows != views[1].rows:
        return [_view(engine, category, agency, place) for agency, place
                in zip(agencies, (f"in {engine.home}", "out of state"), strict=True)]
    return views[:1]


def _view(engine: PolicyEngine, category: str, agency: Agency, where: str) -> CategoryView:
    rows = tuple(_row(engine, agency, key) for key in ROWS)
    ordered = tuple(_row(engine, agency, key, court_order=True) for key in ROWS)
    attested = tuple(_row(engine, agency, key, attested=True) for key in ROWS)
    by_order = _opened(rows, ordered)
    by_attestation = _opened(rows, attested)
    label = f"{category} ({where})" if where else category
    return CategoryView(category, where, agency, rows, by_order, by_attestation,
                        sentence(label, rows, by_order, by_attestation))


def _row(engine: PolicyEngine, agency: Agency, key: str, *, court_order: bool = False,
         attested: bool = False) -> Row:
    decision = engine.decide(Request(agency.ori, key, image_requested=True,
                                     court_order=court_order, attested=attested))
    return Row(key, decision.verdict, _elements(decision, key), decision.reasons)


def _elements(decision: Decision, key: str) -> dict[str, Access]:
    carried = GROUP_ELEMENTS[QUERY_ACTIONS[key]]
    if decision.verdict is Verdict.DENY:
        return dict.fromkeys(carried, Access.DENIED)
    shown = Access.RELEASED if decision.verdict is Verdict.ALLOW else Access.REVIEW
    return {e: shown if e in decision.released else Access.WITHHELD for e in carried}


_RANK = {Verdict.DENY: 0, Verdict.REVIEW: 1, Verdict.ALLOW: 2}


def _opened(rows: tuple[Row, ...], variant: tuple[Row, ...]) -> tuple[str, ...]:
    return tuple(new.key for old, new in zip(rows, variant, strict=True)
                 if _RANK[new.verdict] > _RANK[old.verdict])


def sentence(category: str, rows: tuple[Row, ...], by_order: tuple[str, ...] = (),
             by_attestation: tuple[str, ...] = ()) -> str:
    """One line a briefing can quote: what the category's queries get, and why not."""
    by_verdict = {v: [r for r in rows if r.verdict is v] for v in Verdict}
    parts: list[str] = []
    if len(by_verdict[Verdict.DENY]) == len(rows):
        parts.append(f"every query denied ({_why(rows)})")
    else:
        for verdict, said in ((Verdict.ALLOW, "answered"), (Verdict.REVIEW, "held for review"),
                              (Verdict.DENY, "denied")):
            chosen = by_verdict[verdict]
            if not chosen:
                continue
            what = "every query" if len(chosen) == len(rows) else f"{_queries(chosen)} queries"
            why = f" ({_why(chosen)})" if verdict is not Verdict.ALLOW else ""
            parts.append(f"{what} {said}{why}")
        withheld = [e for e in ELEMENTS
                    if any(r.elements.get(e) is Access.WITHHELD for r in rows)]
        if withheld:
            parts.append(f"{_join(withheld)} withheld")
    for keys, by in ((by_order, "a court order on file"), (by_attestation, "an attestation")):
        opened = [r for r in rows if r.key in keys]
        if opened:
            what = "every query" if len(opened) == len(rows) else f"{_queries(opened)} queries"
            parts.append(f"{by} opens {what}")
    return f"{category}: " + "; ".join(parts) + "."


def _queries(rows: list[Row]) -> str:
    return _join([ROWS[r.key] for r in rows])


def _why(rows: tuple[Row, ...] | list[Row]) -> str:
    reasons = dict.fromkeys(reason for row in rows for reason in row.reasons[:1])
    # Reasons are sentences; inside brackets within another sentence they lose their stop.
    return "; ".join(f"{r.policy}: {r.text.rstrip('.')}" for r in reasons)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def to_json(explanation: Explanation) -> dict[str, Any]:
    """The explanation as the CLI's `--json` and the dashboard read it."""
    return {
        "state": explanation.state,
        "version": explanation.version,
        "policies": [{"id": p.id, "effect": p.effect, "reason": p.reason, "line": p.line}
                     for p in explanation.policies],
        "categories": [
            {
                "category": view.category,
                "where": view.where,
                "agency": {"ori": view.agency.ori, "name": view.agency.name},
                "sentence": view.sentence,
                "opened_by_court_order": list(view.opened_by_court_order),
                "opened_by_attestation": list(view.opened_by_attestation),
                "rows": [
                    {"key": row.key, "group": ROWS[row.key], "verdict": row.verdict.value,
                     "elements": {e: a.value for e, a in row.elements.items()},
                     "reasons": [{"policy": r.policy, "text": r.text} for r in row.reasons]}
                    for row in view.rows
                ],
            }
            for view in explanation.categories
        ],
        "missing": list(explanation.missing),
    }
