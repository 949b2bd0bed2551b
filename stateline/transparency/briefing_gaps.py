"""Gaps stated as facts: what the policy in force still lets through, found by asking the engine
about the agencies in the directory, never by reading the policy text. A sentence is only
written when a decision makes it true, so a policy change changes the sentences with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..directory.agency import Agency
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..policy.engine import Decision, PolicyEngine, Request, Verdict
from .recorded import ordered

QUERIES: dict[str, str] = {
    "DQ": "driver's license (DQ)",
    "DNQ": "name-only driver (DNQ)",
    "KQ": "driving history (KQ)",
    "RQ": "plate (RQ)",
    "RNQ": "owner-name vehicle (RNQ)",
    "RPQ": "partial-plate (RPQ)",
}
"""Every query key a gateway answers, and how a sentence names its queries."""
IMMIGRATION = ("ICE", "HSI", "CBP", "USCIS")
"""The DHS immigration components, in the order the letters to governors name them."""
BROAD = ("DNQ", "RNQ", "RPQ")
HOME = "in-state"


@dataclass(frozen=True, slots=True)
class Gap:
    topic: str
    text: str


class Asker:
    """The engine and the directory's active agencies by category, with decisions cached by
    the engine itself."""

    def __init__(self, engine: PolicyEngine, rules: RuleTable = DEFAULT_RULES) -> None:
        self.engine, self.home = engine, engine.home
        self.by_category: dict[str, list[Agency]] = {}
        for agency in sorted(engine.snapshot.agencies.values(), key=lambda a: a.ori):
            if agency.active:
                self.by_category.setdefault(rules.category(agency, self.home), []).append(agency)

    def decide(self, agency: Agency, key: str) -> Decision:
        return self.engine.decide(Request(agency.ori, key, image_requested=True))

    def able(self, agencies: Iterable[Agency], key: str) -> list[Agency]:
        return [a for a in agencies if self.decide(a, key).verdict is Verdict.ALLOW]

    def federal_categories(self) -> list[str]:
        return ordered(c for c, found in self.by_category.items()
                       if any(a.is_federal for a in found))


def immigration_access(ask: Asker) -> list[Gap]:
    """Each DHS immigration component that can still run queries, and which."""
    gaps = []
    for category in IMMIGRATION:
        offices = ask.by_category.get(category, [])
        able = {key: ask.able(offices, key) for key in QUERIES}
        open_keys = [key for key, found in able.items() if found]
        held = [key for key in QUERIES
                if any(ask.decide(a, key).verdict is Verdict.REVIEW for a in offices)]
        if open_keys:
            reach = len({a.ori for found in able.values() for a in found})
            what = ("every kind of query" if len(open_keys) == len(QUERIES)
                    else _join([QUERIES[k] for k in open_keys]) + " queries")
            gaps.append(Gap(category, f"{category} can still run {what} ({reach} of "
                                      f"{len(offices)} {category} offices in the directory)."))
        if held:
            what = (f"Every {category} query is" if len(held) == len(QUERIES) else
                    f"{category}'s {_join([QUERIES[k] for k in held])} queries are")
            gaps.append(Gap(category, f"{what} held for a coordinator's review rather than "
                                      "refused."))
    return gaps


def sister_agencies(ask: Asker) -> list[Gap]:
    """ICE refused while another immigration component is answered: the same query can be
    run by a sister agency."""
    ice = ask.by_category.get("ICE", [])
    if not ice or any(ask.able(ice, key) for key in QUERIES):
        return []
    others = [c for c in IMMIGRATION[1:]
              if any(ask.able(ask.by_category.get(c, []), key) for key in QUERIES)]
    if not others:
        return []
    return [Gap("ICE", f"ICE is refused, but {_join(others)} "
                       f"{'is' if len(others) == 1 else 'are'} answered: a query ICE cannot "
                       "run, a sister agency still can.")]


def partners_as_police(ask: Asker) -> list[Gap]:
    """Local agencies with 287(g) agreements that are answered like any police department."""
    partners = [a for found in ask.by_category.values() for a in found
                if "287g" in a.programs and not a.is_federal]
    able = [a for a in partners if any(ask.able([a], key) for key in ("DQ", "RQ"))]
    if not able:
        return []
    return [Gap("287(g)", f"{len(able)} local agencies with 287(g) agreements (of "
                          f"{len(partners)} in the directory) can query as local police.")]


def federal_broad_search(ask: Asker) -> list[Gap]:
    """Name-only and partial-plate searches open to federal agencies: searches that find
    people rather than check a record in hand."""
    federal = ask.federal_categories()
    open_to = {key: [c for c in federal if ask.able(_federal(ask, c), key)] for key in BROAD}
    keys = [key for key in BROAD if open_to[key]]
    if not keys:
        return []
    who = [c for c in federal if any(c in open_to[k] for k in keys)]
    if set(keys) >= {"RPQ"} and {"DNQ", "RNQ"} & set(keys):
        what = "Name-only and partial-plate"
    else:
        what = _join([QUERIES[k] for k in keys]).capitalize()
    return [Gap("searches", f"{what} queries are open to federal agencies ({_join(who)}).")]


def elements_leave(ask: Asker) -> list[Gap]:
    """Photos, card type and SSNs that leave the state's own agencies."""
    sayings = (("photo", "License photos go to {who}."),
               ("credential", "The card type (REAL ID, standard or limited-purpose, which can "
                              "stand in for immigration status) goes to {who}."),
               ("ssn", "Social Security numbers go to {who}."))
    gaps = []
    for element, saying in sayings:
        who = [OWN_AGENCIES if c == PARTNER and all(a.state == ask.home for a in getting)
               else c for c, getting in _getting(ask, element).items()]
        if who:
            gaps.append(Gap(element, saying.format(home=ask.home, who=_join(ordered(who)))))
    return gaps


PARTNER = "287(g) partner"
OWN_AGENCIES = "your own agencies (in-state) with 287(g) agreements"
"""The state's own local agencies in a 287(g) program are named as its own, not as partners."""


def _getting(ask: Asker, element: str) -> dict[str, list[Agency]]:
    """Agencies outside the in-state category a DQ would give the element to, by category."""
    found = {c: [a for a in agencies if element in ask.decide(a, "DQ").released]
             for c, agencies in ask.by_category.items() if c != HOME}
    return {c: getting for c, getting in found.items() if getting}


FINDERS: tuple[Callable[[Asker], list[Gap]], ...] = (
    immigration_access, sister_agencies, partners_as_police, federal_broad_search,
    elements_leave)
"""Every kind of gap, in the order a briefing states them."""


def gaps(engine: PolicyEngine, rules: RuleTable = DEFAULT_RULES) -> tuple[Gap, ...]:
    ask = Asker(engine, rules)
    return tuple(gap for finder in FINDERS for gap in finder(ask))


def _federal(ask: Asker, category: str) -> list[Agency]:
    return [a for a in ask.by_category.get(category, []) if a.is_federal]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
