"""Decisions: may this agency run this query on this state, and which elements leave it?

One engine per state and version (policy text + directory version). Anything that is not a
clear Allow — an unknown or inactive agency, an evaluation error, no permit — is a deny.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cedarpy import Entities, _internal

from ..directory.agency import DirectoryError, normalise_ori
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Snapshot
from .entities import build_entities
from .schema import DELIVERED_AS, GROUP_ELEMENTS, QUERY_ACTIONS
from .source import PolicySource

CACHE_LIMIT = 200_000
"""Decisions kept per engine before the cache starts afresh."""


class Verdict(Enum):
    ALLOW = "allow"
    REVIEW = "review"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Reason:
    """A policy that decided, and the plain words denials, briefings and reports show."""

    policy: str
    text: str


UNKNOWN_AGENCY = Reason("unknown-agency", "The sending ORI is not in the directory.")
INACTIVE_AGENCY = Reason("inactive-agency", "The sending agency is not active in the directory.")
UNSUPPORTED_KEY = Reason("unsupported-key", "This state's gateway does not answer this message "
                                            "key.")
ENGINE_ERROR = Reason("policy-error", "A policy could not be evaluated for this request; "
                                      "Stateline denies when in doubt.")
DEFAULT_DENY = Reason("default-deny", "No policy permits this query.")


@dataclass(frozen=True, slots=True)
class Request:
    """What a decision depends on: who asks, with which key, and the request's context."""

    ori: str
    key: str
    reason: str = ""
    multi_state: bool = False
    image_requested: bool = False
    court_order: bool = False
    attested: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    action: str
    released: tuple[str, ...] = ()
    withheld: tuple[str, ...] = ()
    reasons: tuple[Reason, ...] = ()
    version: str = ""

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(r.policy for r in self.reasons)

    @property
    def explanation(self) -> str:
        """The deciding policy and its reason, as a response or a briefing says it."""
        if not self.reasons:
            return ""
        first = self.reasons[0]
        return f"{first.policy}: {first.text}"


def policy_version(digest: str, directory_version: int) -> str:
    """What decisions are cached, audited and reported under: the policy text and directory."""
    return f"{digest[:16]}.d{directory_version}"


@dataclass(frozen=True, slots=True)
class _Answer:
    """One of Cedar's answers: only a clear Allow with no evaluation error counts as allow."""

    allowed: bool
    reasons: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def clear(self) -> bool:
        return self.allowed and not self.errors

    @classmethod
    def read(cls, text: str) -> _Answer:
        answer = json.loads(text)
        diagnostics = answer.get("diagnostics", {})
        return cls(answer.get("decision") == "Allow", tuple(diagnostics.get("reason", ())),
                   tuple(str(e) for e in diagnostics.get("errors", ())))


class PolicyEngine:
    """A state's policy in force at one version, with its decision cache."""

    def __init__(self, home: str, source: PolicySource, snapshot: Snapshot,
                 rules: RuleTable = DEFAULT_RULES, *, entities: Entities | None = None) -> None:
        self.home = home.upper()
        self.source = source
        self.snapshot = snapshot
        self.rules = rules
        self.version = policy_version(source.digest, snapshot.version)
        self._entities = entities or build_entities(snapshot, self.home, rules)
        self._resource = {"type": "State", "id": self.home}
        self._context_keys = referenced_context(source.text)
        self._cache: dict[Request, Decision] = {}

    def with_source(self, source: PolicySource) -> PolicyEngine:
        """The same directory under another policy text: the entity graph is reused, so a
        policy change takes effect without rebuilding it."""
        return PolicyEngine(self.home, source, self.snapshot, self.rules, entities=self._entities)

    def decide(self, request: Request) -> Decision:
        """The decision for a request, from the cache when this version has seen it before."""
        found = self._cache.get(request)
        if found is None:
            canonical = _canonical(request)
            found = self._cache.get(canonical) or self._decide(canonical)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[request] = self._cache[canonical] = found
        return found

    def _decide(self, request: Request) -> Decision:
        action = DELIVERED_AS.get(request.key, request.key)
        if action not in QUERY_ACTIONS:
            return self._deny(action, UNSUPPORTED_KEY)
        agency = self.snapshot.get(request.ori) if request.ori else None
        if agency is None:
            return self._deny(action, UNKNOWN_AGENCY)
        if not agency.active:
            return self._deny(action, INACTIVE_AGENCY)
        group = QUERY_ACTIONS[action]
        elements = tuple(e for e in GROUP_ELEMENTS[group]
                         if e != "photo" or request.image_requested)
        query, review, *releases = self._ask(agency.ori, action, elements, request)
        if query.errors:
            return self._deny(action, ENGINE_ERROR)
        released = tuple(e for e, r in zip(elements, releases, strict=True) if r.clear)
        withheld = tuple(e for e, r in zip(elements, releases, strict=True) if not r.clear)
        if query.clear:
            return Decision(Verdict.ALLOW, action, released, withheld,
                            self._reasons(query), self.version)
        forbidding = self._reasons(query) or (DEFAULT_DENY,)
        if review.clear:
            return Decision(Verdict.REVIEW, action, released, withheld,
                            forbidding + self._reasons(review), self.version)
        return Decision(Verdict.DENY, action, reasons=forbidding, version=self.version)

    def _ask(self, ori: str, action: str, elements: tuple[str, ...],
             request: Request) -> list[_Answer]:
        """The query, its review path and every element's release, in one call to Cedar: one
        crossing into the engine instead of one per question."""
        principal = {"type": "Agency", "id": ori}
        context = json.dumps(self._context(request, action))
        questions = [
            {"principal": principal, "action": {"type": "Action", "id": action},
             "resource": self._resource, "context": context},
            {"principal": principal, "action": {"type": "Action", "id": "review"},
             "resource": self._resource, "context": context},
            *({"principal": principal, "action": {"type": "Action", "id": "release"},
               "resource": {"type": "Element", "id": element}, "context": context}
              for element in elements),
        ]
        answers = _internal.is_authorized_batch(questions, self.source.policy_set,
                                                self._entities._inner, None, False)
        return [_Answer.read(answer) for answer in answers]

    def _context(self, request: Request, action: str) -> dict[str, Any]:
        """The request context, cut to what the policy reads: Cedar's cost grows with it."""
        full = {
            "home_state": self.home,
            "message_key": action,
            "reason": request.reason,
            "multi_state": request.multi_state,
            "image_requested": request.image_requested,
            "court_order": request.court_order,
            "attested": request.attested,
        }
        return {k: v for k, v in full.items() if k in self._context_keys}

    def _reasons(self, answer: _Answer) -> tuple[Reason, ...]:
        found = []
        for engine_id in answer.reasons:
            policy = self.source.by_engine_id.get(engine_id)
            if policy is not None:
                found.append(Reason(policy.id, policy.reason))
        return tuple(found)

    def _deny(self, action: str, reason: Reason) -> Decision:
        return Decision(Verdict.DENY, action, reasons=(reason,), version=self.version)


CONTEXT_KEYS = frozenset({"home_state", "message_key", "reason", "multi_state",
                          "image_requested", "court_order", "attested"})
_CONTEXT_WORD = re.compile(r"\bcontext\b")
_CONTEXT_ATTRIBUTE = re.compile(r"\bcontext\s*\.\s*([A-Za-z_]\w*)")


def referenced_context(text: str) -> frozenset[str]:
    """The context attributes a policy text reads as `context.name`. Any other mention of
    `context` (even in a comment) keeps them all: leaving one out must never change a result."""
    named = _CONTEXT_ATTRIBUTE.findall(text)
    if len(named) != len(_CONTEXT_WORD.findall(text)):
        return CONTEXT_KEYS
    return frozenset(named) & CONTEXT_KEYS


def _canonical(request: Request) -> Request:
    """The same request with its ORI and key as the directory and protocol spell them."""
    try:
        ori = normalise_ori(request.ori)
    except DirectoryError:
        ori = ""
    key = request.key.strip().upper()
    reason = request.reason.strip().upper()
    if (ori, key, reason) == (request.ori, request.key, request.reason):
        return request
    return Request(ori, key, reason, request.multi_state, request.image_requested,
                   request.court_order, request.attested)
