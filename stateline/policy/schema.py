"""The Cedar schema and the vocabulary around it: actions, elements and their groups."""

from __future__ import annotations

from functools import cache
from importlib import resources

from cedarpy import Schema

from ..protocol.keys import KEYS

QUERY_ACTIONS: dict[str, str] = {spec.key: spec.group for spec in KEYS.values()
                                 if spec.group and spec.delivered_as is None}
"""Each query action and the message group it belongs to, from the protocol's key table (the
Cedar schema declares the same actions; a test holds the two together)."""

DELIVERED_AS: dict[str, str] = {spec.key: spec.delivered_as for spec in KEYS.values()
                                if spec.delivered_as}
"""Regional keys are decided as the key states receive."""

ELEMENT_GROUPS: dict[str, tuple[str, ...]] = {
    "standard": ("identity", "description", "address", "license", "vehicle", "registration",
                 "history"),
    "sensitive": ("credential", "ssn", "photo"),
}
"""Element groups: `sensitive` holds what reveals more than a traffic stop needs."""

ELEMENTS = tuple(e for group in ELEMENT_GROUPS.values() for e in group)

GROUP_ELEMENTS: dict[str, tuple[str, ...]] = {
    "driver": ("identity", "description", "address", "license", "credential", "ssn", "photo"),
    "history": ("identity", "license", "history", "photo"),
    "vehicle": ("vehicle", "registration"),
}
"""Elements a response to each message group can carry (photo only when asked for)."""


@cache
def schema_text() -> str:
    return resources.files("stateline.policy").joinpath("schema.cedarschema").read_text()


@cache
def schema() -> Schema:
    return Schema.from_str(schema_text())
