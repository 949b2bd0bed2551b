"""Decisions: may this agency run this query on this state, and which elements leave it?

One engine per state and version (policy text + directory version). Anything that is not a
clear Allow — an unknown or inactive agency, an evaluation error, no permit — is a deny.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from cedarpy import AuthzResult, is_authorized
from cedarpy import Decision as CedarDecision

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


class PolicyEngine:
    """A state's policy in force at one version, with its decision cache."""

    def __init__(self, home: str, source: PolicySource, snapshot: Snapshot,
                 rules: RuleTable = DEFAULT_RULES) -> None:
        self.home = home.upper()
        self.source = source
        self.snapshot = snapshot
        self.version = f"{source.digest[:16]}.d{snapshot.version}"
        self._entities = build_entities(snapshot, self.home, rules)
        self._resource = {"type": "State", "id": self.home}
        self._cache: dict[Request, Decision] = {}

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
        principal = {"type": "Agency", "id": agency.ori}
        context = self._context(request, action)
        asked = self._ask(principal, action, self._resource, context)
        if asked.diagnostics.errors:
            return self._deny(action, ENGINE_ERROR)
        if asked.decision == CedarDecision.Allow:
            released, withheld = self._elements(principal, action, context, request)
            return Decision(Verdict.ALLOW, action, released, withheld, self._reasons(asked),
                            self.version)
        forbidding = self._reasons(asked) or (DEFAULT_DENY,)
        review = self._ask(principal, "review", self._resource, context)
        if review.decision == CedarDecision.Allow and not review.diagnostics.errors:
            released, withheld = self._elements(principal, action, context, request)
            return Decision(Verdict.REVIEW, action, released, withheld,
                            forbidding + self._reasons(review), self.version)
        return Decision(Verdict.DENY, action, reasons=forbidding, version=self.version)

    def _elements(self, principal: dict[str, str], action: str, context: dict[str, Any],
                  request: Request) -> tuple[tuple[str, ...], tuple[str, ...]]:
        released: list[str] = []
        withheld: list[str] = []
        for element in GROUP_ELEMENTS[QUERY_ACTIONS[action]]:
            if element == "photo" and not request.image_requested:
                continue
            answer = self._ask(principal, "release", {"type": "Element", "id": element}, context)
            clear = answer.decision == CedarDecision.Allow and not answer.diagnostics.errors
            (released if clear else withheld).append(element)
        return tuple(released), tuple(withheld)

    def _ask(self, principal: dict[str, str], action: str, resource: dict[str, str],
             context: dict[str, Any]) -> AuthzResult:
        return is_authorized(
            {"principal": principal, "action": {"type": "Action", "id": action},
             "resource": resource, "context": context},
            self.source.policy_set, self._entities,
        )

    def _context(self, request: Request, action: str) -> dict[str, Any]:
        return {
            "home_state": self.home,
            "message_key": action,
            "reason": request.reason,
            "multi_state": request.multi_state,
            "image_requested": request.image_requested,
            "court_order": request.court_order,
            "attested": request.attested,
        }

    def _reasons(self, result: AuthzResult) -> tuple[Reason, ...]:
        found = []
        for engine_id in result.diagnostics.reasons:
            policy = self.source.by_engine_id.get(engine_id)
            if policy is not None:
                found.append(Reason(policy.id, policy.reason))
        return tuple(found)

    def _deny(self, action: str, reason: Reason) -> Decision:
        return Decision(Verdict.DENY, action, reasons=(reason,), version=self.version)


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
