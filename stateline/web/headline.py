"""The one sentence a state's landing page leads with, and what it blocks, read off the same
explanation the briefing's "what the state shares today" comes from: the engine's decisions
for one typical agency per category, so the sentence is as true as the gateway."""

from __future__ import annotations

from ..policy.engine import Verdict
from ..policy.explain import Access, CategoryView, Explanation

KEPT = {"photo": "photos", "ssn": "SSNs", "credential": "credential types"}
"""Elements the sentence follows, as it names them: the ones people ask where they go."""
_EXCEPT = {Verdict.DENY: "refused", Verdict.REVIEW: "held for review"}
_PARTLY = "some queries refused or held"


def headline(explanation: Explanation) -> str:
    """"WA answers every agency except ICE (refused); photos stay in WA." Categories whose
    queries are not all answered are named with what happens to them; the sensitive elements
    say where they go."""
    home, views = explanation.state, explanation.categories
    if not views:
        return f"{home} answers no agency: the directory has none to decide for."
    excepted = [view for view in views if _verdict(view) is not Verdict.ALLOW]
    if len(excepted) == len(views):
        opening = f"{home} answers no agency in full: {_exceptions(excepted)}"
    elif excepted:
        opening = f"{home} answers every agency except {_exceptions(excepted)}"
    else:
        opening = f"{home} answers every agency"
    return "; ".join([opening, *_where_elements_go(home, views)]) + "."


def blocked(explanation: Explanation) -> list[CategoryView]:
    """Categories with any query refused or held: the ones a coordinator is asked about."""
    return [view for view in explanation.categories
            if any(row.verdict is not Verdict.ALLOW for row in view.rows)]


def name_of(view: CategoryView) -> str:
    """A category as a sentence names it: "287(g) partner out of state"."""
    return f"{view.category} {view.where}" if view.where else view.category


def _verdict(view: CategoryView) -> Verdict | None:
    """The one verdict every query of the category gets; None when they differ."""
    found = {row.verdict for row in view.rows}
    return found.pop() if len(found) == 1 else None


def _exceptions(views: list[CategoryView]) -> str:
    grouped: dict[str, list[str]] = {}
    for view in views:
        verdict = _verdict(view)
        said = _EXCEPT.get(verdict, _PARTLY) if verdict else _PARTLY
        grouped.setdefault(said, []).append(name_of(view))
    return " and ".join(f"{join(names)} ({said})" for said, names in grouped.items())


def _where_elements_go(home: str, views: tuple[CategoryView, ...]) -> list[str]:
    """"photos, SSNs and credential types stay in WA", or who outside gets them."""
    staying: list[str] = []
    leaving: list[str] = []
    for element, words in KEPT.items():
        given = [view for view in views if _gives(view, element)]
        outside = [name_of(view) for view in given if view.agency.state != home]
        if not given:
            leaving.append(f"{words} go to no one")
        elif outside:
            leaving.append(f"{words} go to {join(outside)}")
        else:
            staying.append(words)
    said = [f"{join(staying)} stay in {home}"] if staying else []
    return said + leaving


def _gives(view: CategoryView, element: str) -> bool:
    return any(row.elements.get(element) in (Access.RELEASED, Access.REVIEW)
               for row in view.rows)


def join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
