"""The Cedar schema and the vocabulary around it: actions, elements and their groups."""

from __future__ import annotations

from functools import cache
from importlib import resources

from cedarpy import Schema

QUERY_ACTIONS: dict[str, str] = {
    "DQ": "driver", "DNQ": "driver", "KQ": "history",
    "RQ": "vehicle", "RNQ": "vehicle", "RPQ": "vehicle",
}
"""Each query action and the message group it belongs to."""

DELIVERED_AS = {"DQG": "DQ", "RQG": "RQ"}
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
