"""Engines that decide for senders as the audit log recorded them, not as the directory has
them today: a what-if replay must ask about the requester that actually asked."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..directory.agency import Agency, DirectoryError, Level
from ..directory.categories import RuleTable
from ..directory.store import Snapshot
from ..policy.engine import (
    UNKNOWN_AGENCY,
    Decision,
    PolicyEngine,
    Request,
    Verdict,
    referenced_context,
)
from ..policy.source import PolicySource
from .recorded import Shape

NAMES_AGENCIES = re.compile(r"Agency::|\bori\b")
"""A policy that names an agency, or reads an ORI, can treat two alike agencies differently."""
ATTRIBUTES = ("state", "level", "agency_type", "department", "component", "criminal_justice",
              "permissions", "programs")
"""The agency attributes a policy can read (`principal.state`, ...), ORI aside."""


def reads(text: str) -> frozenset[str]:
    """The attributes a policy text may read: any mention of `.name`, comments included, so
    one is never left out."""
    return frozenset(a for a in ATTRIBUTES if re.search(rf"\.\s*{a}\b", text))


def kind(agency: Agency, home: str, rules: RuleTable, read: frozenset[str]) -> tuple[object, ...]:
    """What a decision can see of an agency under a policy that names no agency: its
    categories and groups (Cedar parents), in-state or not, active or not, and the attributes
    the policy reads."""
    return (rules.memberships(agency, home), agency.state == home, agency.active,
            *(getattr(agency, a) for a in ATTRIBUTES if a in read))


class RecordedSenders:
    """Engines over the senders as recorded. An engine knows each ORI once, so an ORI recorded
    with different attributes at different times goes into a second engine, and so on.

    When the policy names no agency and reads no ORI, agencies alike in all it can see are
    decided alike, so one of them stands for all: thousands of police departments become a
    few kinds, and Cedar is asked once per kind instead of once per ORI."""

    def __init__(self, home: str, source: PolicySource, rules: RuleTable,
                 found: Iterable[Shape]) -> None:
        read = referenced_context(source.text)
        self._reads_reason = "reason" in read
        self._reads_order = "court_order" in read
        self._reads_attestation = "attested" in read
        self._reads_multi = "multi_state" in read
        self._placed: dict[str, tuple[int, Agency] | None] = {}
        alike = not NAMES_AGENCIES.search(source.text)
        read = reads(source.text)
        standing: dict[tuple[object, ...], Agency] = {}
        layers: list[dict[str, Agency]] = []
        for shape in found:
            if not shape.sender or shape.sender in self._placed:
                continue
            agency = rebuilt(shape.sender)
            if agency is None:
                self._placed[shape.sender] = None
                continue
            if alike:
                agency = standing.setdefault(kind(agency, home, rules, read), agency)
            layer = next((n for n, oris in enumerate(layers)
                          if oris.get(agency.ori, agency) == agency), len(layers))
            if layer == len(layers):
                layers.append({})
            layers[layer][agency.ori] = agency
            self._placed[shape.sender] = (layer, agency)
        self._engines = [PolicyEngine(home, source, Snapshot(-1 - n, agencies), rules)
                         for n, agencies in enumerate(layers)]

    def decide(self, shape: Shape) -> Decision | None:
        """The candidate's decision; None when the recorded sender is not a valid agency."""
        if not shape.sender:
            return Decision(Verdict.DENY, shape.key, reasons=(UNKNOWN_AGENCY,))
        placed = self._placed[shape.sender]
        if placed is None:
            return None
        layer, agency = placed
        # Context the policy never reads is left out, so requests that differ only there
        # share one decision; the photo is kept, since it decides which elements are asked.
        return self._engines[layer].decide(Request(
            agency.ori, shape.key, shape.reason if self._reads_reason else "",
            shape.multi_state and self._reads_multi,
            shape.image_requested, shape.court_order and self._reads_order,
            shape.attested and self._reads_attestation))


def rebuilt(sender: str) -> Agency | None:
    """An agency from the attributes an audit entry recorded; None when they do not make a
    valid agency any more (a code the directory has since dropped, say)."""
    try:
        a = json.loads(sender)
        return Agency(a["ori"], a["name"], a["state"], Level.parse(a["level"]),
                      a["agency_type"], a.get("department", ""), a.get("component", ""),
                      a.get("criminal_justice") is True, frozenset(a.get("permissions", ())),
                      frozenset(a.get("programs", ())), a.get("active", True) is True)
    except (ValueError, KeyError, TypeError, AttributeError, DirectoryError):
        return None
