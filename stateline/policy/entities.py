"""The Cedar entity graph for one state: every agency with its attributes, its categories as
parents, the state, and the data elements in their groups. Built once per directory version."""

from __future__ import annotations

import json
from typing import Any

from cedarpy import Entities

from ..directory.agency import Agency, to_json
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Snapshot
from ..protocol import STATES
from .schema import ELEMENT_GROUPS, schema

LOCATIONS = ("in-state", "out-of-state")
AGENCY_ATTRIBUTES = frozenset({"ori", "state", "level", "agency_type", "department", "component",
                               "criminal_justice", "permissions", "programs"})
"""The directory attributes the Cedar schema gives an Agency."""


def parents(agency: Agency, home: str, rules: RuleTable = DEFAULT_RULES) -> tuple[str, ...]:
    """An agency's Cedar categories relative to `home`: its statistics category, every group it
    belongs to (federal, DHS, federal-immigration, 287g), and in-state or out-of-state."""
    location = "in-state" if agency.state == home else "out-of-state"
    found = [rules.category(agency, home), location]
    found += [rule.name for rule in rules.groups if rule.matches(agency, home)]
    return tuple(dict.fromkeys(found))


def agency_entity(agency: Agency, home: str, rules: RuleTable = DEFAULT_RULES) -> dict[str, Any]:
    return {
        "uid": {"type": "Agency", "id": agency.ori},
        "attrs": {k: v for k, v in to_json(agency).items() if k in AGENCY_ATTRIBUTES},
        "parents": [{"type": "Category", "id": name} for name in parents(agency, home, rules)],
    }


def entity_list(snapshot: Snapshot, home: str,
                rules: RuleTable = DEFAULT_RULES) -> list[dict[str, Any]]:
    """Every entity a decision for `home` can touch, as Cedar's JSON entity format."""
    found: list[dict[str, Any]] = [
        {"uid": {"type": "Category", "id": name}, "attrs": {}, "parents": []}
        for name in (*rules.names, *LOCATIONS)
    ]
    found += [{"uid": {"type": "State", "id": code}, "attrs": {}, "parents": []}
              for code in STATES]
    found += [{"uid": {"type": "ElementGroup", "id": group}, "attrs": {}, "parents": []}
              for group in ELEMENT_GROUPS]
    found += [{"uid": {"type": "Element", "id": element}, "attrs": {},
               "parents": [{"type": "ElementGroup", "id": group}]}
              for group, elements in ELEMENT_GROUPS.items() for element in elements]
    found += [agency_entity(agency, home, rules) for agency in snapshot.agencies.values()]
    return found


def build_entities(snapshot: Snapshot, home: str, rules: RuleTable = DEFAULT_RULES) -> Entities:
    """Parsed once, checked against the schema, and shared by every decision at this version."""
    return Entities.from_json_str(json.dumps(entity_list(snapshot, home, rules)), schema())
