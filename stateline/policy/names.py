"""The names a policy text uses, checked against what exists: a Category, Element, ElementGroup
or State the schema's vocabulary does not hold, or an Agency ORI not in the directory, is an
error with the closest known names; a `forbid` that takes in no agency of the directory is a
warning. Cedar accepts both silently, and a misspelt block then blocks no one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from cedarpy import PolicySet, is_authorized_partial

from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Snapshot
from ..protocol import STATES
from .entities import LOCATIONS, agency_entity, build_entities
from .schema import ELEMENT_GROUPS, ELEMENTS
from .source import (
    Policy,
    PolicyError,
    PolicyProblem,
    PolicySource,
    compile_policies,
    string_end,
)


@dataclass(frozen=True, slots=True)
class Named:
    """An entity literal in the text, `Type::"id"`, with the line it is on."""

    type: str
    id: str
    line: int


@dataclass(frozen=True, slots=True)
class PolicyWarning:
    """Something a policy does that is allowed but probably not meant."""

    line: int
    policy: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line} ({self.policy}): {self.message}"


Known = Callable[[Snapshot | None, RuleTable], Collection[str] | None]
KNOWN: dict[str, tuple[str, Known]] = {
    "Category": ("category", lambda _s, rules: (*rules.names, *LOCATIONS)),
    "Element": ("data element", lambda _s, _r: ELEMENTS),
    "ElementGroup": ("element group", lambda _s, _r: tuple(ELEMENT_GROUPS)),
    "State": ("state", lambda _s, _r: STATES),
    "Agency": ("agency in the directory",
               lambda snapshot, _r: None if snapshot is None else tuple(snapshot.agencies)),
}
"""Each entity type a policy may name, what it is called, and the names that exist (None:
cannot be known here, so not checked)."""

_PATH = re.compile(r"([A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)*)\s*::\s*$")
_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|.)", re.DOTALL)
_BY_ORI = re.compile(r"\bAgency\s*::|\bori\b")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def named_entities(text: str) -> list[Named]:
    """Every `Type::"id"` outside comments and strings, in order."""
    code, spans = _code_and_strings(text)
    found = []
    for start, end in spans:
        path = _PATH.search(code, max(0, start - 200), start)
        if path is not None:
            kind = re.sub(r"\s+", "", path.group(1))
            found.append(Named(kind, _decoded(text[start + 1:end]),
                               text.count("\n", 0, start) + 1))
    return found


def unknown_names(source: PolicySource, snapshot: Snapshot | None,
                  rules: RuleTable = DEFAULT_RULES) -> list[PolicyProblem]:
    """An error for every entity the text names that does not exist, with the nearest names."""
    problems = []
    for named in named_entities(source.text):
        kind = KNOWN.get(named.type)
        known = kind[1](snapshot, rules) if kind else None
        if kind is None or known is None or named.id in known:
            continue
        close = [k for k in known if k.casefold() == named.id.casefold()] or \
            difflib.get_close_matches(named.id, list(known), n=3, cutoff=0.6)
        hint = (f"; did you mean {' or '.join(close)}?" if close else
                f"; known: {', '.join(sorted(known))}" if len(known) <= 20 else "")
        problems.append(PolicyProblem(named.line, f'{named.type}::"{named.id}" names no '
                                                  f"{kind[0]}{hint}",
                                      _policy_at(source, named.line)))
    return problems


def idle_forbids(source: PolicySource, snapshot: Snapshot, home: str,
                 rules: RuleTable = DEFAULT_RULES) -> list[PolicyWarning]:
    """A warning for every `forbid` that no active agency of the directory can fall under,
    whatever the action, resource and context: asked of the engine, each forbid alone, with
    everything but the agency unknown. When the engine cannot tell, it warns (fail safe)."""
    forbids = [p for p in source.policies if p.effect == "forbid"]
    if not forbids:
        return []
    try:
        entities = build_entities(snapshot, home, rules)
        warnings = []
        for policy in forbids:
            agencies = _representatives(policy, snapshot, home, rules)
            alone = PolicySet.from_str(policy.text)
            if not any(_may_match(alone, entities, ori) for ori in agencies):
                warnings.append(PolicyWarning(
                    policy.line, policy.id, f"this forbid takes in none of the "
                                            f"{len(snapshot.agencies):,} agencies in the "
                                            f"directory, so it blocks no one as {home} sees "
                                            "them; check its names and conditions"))
        return warnings
    except Exception as error:  # the check is advice: it must never stop a change
        return [PolicyWarning(p.line, p.id, f"could not be checked against the directory "
                                            f"({error}); make sure it blocks whom it should")
                for p in forbids]


def vetted(text: str, snapshot: Snapshot | None, home: str | None = None,
           rules: RuleTable = DEFAULT_RULES) -> tuple[PolicySource, list[PolicyWarning]]:
    """Compile a text and check its names (PolicyError lists every problem), with the warnings
    about its forbids when a directory and home state are given."""
    source = compile_policies(text)
    problems = unknown_names(source, snapshot, rules)
    if problems:
        raise PolicyError(problems)
    if snapshot is None or home is None:
        return source, []
    return source, idle_forbids(source, snapshot, home, rules)


def _representatives(policy: Policy, snapshot: Snapshot, home: str,
                     rules: RuleTable) -> Iterator[str]:
    """Active agencies to ask about: one per distinct set of attributes and categories, unless
    the policy can tell agencies apart by ORI."""
    active = (a for a in snapshot.agencies.values() if a.active)
    if _BY_ORI.search(policy.text):
        yield from (a.ori for a in active)
        return
    seen: set[str] = set()
    for agency in active:
        entity = agency_entity(agency, home, rules)
        key = repr(({k: v for k, v in sorted(entity["attrs"].items()) if k != "ori"},
                    entity["parents"]))
        if key not in seen:
            seen.add(key)
            yield agency.ori


def _may_match(alone: PolicySet, entities: Any, ori: str) -> bool:
    """True unless the engine is sure the lone forbid cannot apply to this agency; an
    evaluation error counts as applying, since the gateway denies on one."""
    answer = is_authorized_partial({"principal": f'Agency::"{ori}"'}, alone, entities, None)
    if answer.diagnostics.errors or "policy0" in answer.diagnostics.reasons:
        return True
    residual = (answer.residuals or {}).get("policy0")
    if residual is None:
        return False
    return not any(_settled(c.get("body"), c.get("kind") != "when")
                   for c in residual.get("conditions", ()))


def _settled(body: Any, value: bool) -> bool:
    """True when a residual condition surely comes out as `value`, whatever the unknowns: the
    engine leaves `unknown && false` as it is, since an unknown might error."""
    if not isinstance(body, dict):
        return False
    if body.get("Value") is value:
        return True
    both = body.get("&&" if not value else "||")
    either = body.get("||" if not value else "&&")
    if isinstance(both, dict):
        return _settled(both.get("left"), value) or _settled(both.get("right"), value)
    if isinstance(either, dict):
        return _settled(either.get("left"), value) and _settled(either.get("right"), value)
    return False


def _policy_at(source: PolicySource, line: int) -> str:
    starts = [p for p in source.policies if p.line <= line]
    return starts[-1].id if starts else ""


def _code_and_strings(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text with comments and string contents blanked (positions kept), and the span of
    every string literal (from its opening quote to its closing one)."""
    code = list(text)
    spans = []
    index = 0
    while index < len(text):
        if text.startswith("//", index):
            end = text.find("\n", index)
            end = len(text) if end < 0 else end
            code[index:end] = " " * (end - index)
            index = end
        elif text[index] == '"':
            end = string_end(text, index)
            spans.append((index, end))
            code[index:end + 1] = " " * (min(end + 1, len(text)) - index)
            index = end + 1
        else:
            index += 1
    return "".join(code), spans


def _decoded(raw: str) -> str:
    def one(found: re.Match[str]) -> str:
        escape = found.group(1)
        if escape.startswith("u{"):
            return chr(min(int(escape[2:-1], 16), 0x10FFFF))
        return _SIMPLE.get(escape, escape)

    return _ESCAPE.sub(one, raw)
