"""The message keys Stateline handles, as one table the validator and the switch read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TextKind(Enum):
    FIELDS = "fields"
    """Prefixed data elements (queries)."""
    FREE = "free"
    """Free text kept verbatim (AM, SM, ER and responses)."""


class Addressing(Enum):
    """What a destination may name."""

    STATES = "states"
    """State codes, region codes or NL (multi-state)."""
    ONE_STATE = "one-state"
    """Exactly one state: no region, no NL, no second destination."""
    REGIONS = "regions"
    """Region codes, or NL; the switch rewrites the key on delivery."""
    ORI = "ori"
    """One 9-character ORI (a response goes back to its requester)."""
    ANY = "any"
    """State or region codes and 9-character ORIs mixed."""


@dataclass(frozen=True, slots=True)
class DestinationRule:
    addressing: Addressing
    most: int


@dataclass(frozen=True, slots=True)
class KeySpec:
    """Everything the protocol knows about one message key."""

    key: str
    meaning: str
    text: TextKind
    destinations: DestinationRule
    field_sets: tuple[tuple[str, ...], ...] = ()
    """Acceptable identifying sets: a query must carry every field of at least one."""
    optional: frozenset[str] = frozenset()
    response: str | None = None
    group: str | None = None
    """driver, vehicle or history: the Cedar action group a query belongs to."""
    delivered_as: str | None = None
    """The key states receive instead (DQG → DQ)."""
    origin: str | None = None
    """The only ORI allowed to send this key."""
    allowed: frozenset[str] = field(init=False)
    """Every prefix the key takes: its identifying sets and its optional fields."""

    def __post_init__(self) -> None:
        identifying = frozenset(p for s in self.field_sets for p in s)
        object.__setattr__(self, "allowed", identifying | self.optional)

    @property
    def is_query(self) -> bool:
        return self.response is not None

    def options_text(self) -> tuple[str, ...]:
        """The acceptable field sets, numbered as a .22. reject lists them."""
        return tuple(f"{n}. {', '.join(s)}" for n, s in enumerate(self.field_sets, 1))


_FIVE_STATES = DestinationRule(Addressing.STATES, 5)
_ONE_STATE = DestinationRule(Addressing.ONE_STATE, 1)
_FIVE_REGIONS = DestinationRule(Addressing.REGIONS, 5)
_REQUESTER = DestinationRule(Addressing.ORI, 1)
_MAIL = DestinationRule(Addressing.ANY, 5)

_PERSON = (("OLN",), ("NAM", "DOB"))
_PLATE_OR_VIN = (("LIC", "LIY", "LIT"), ("VIN",))

_SPECS = (
    KeySpec("DQ", "driver's license query", TextKind.FIELDS, _FIVE_STATES, _PERSON,
            frozenset({"SEX", "RSN", "IMQ"}), response="DR", group="driver"),
    KeySpec("DNQ", "driver query by name only", TextKind.FIELDS, _FIVE_STATES, (("NAM",),),
            frozenset({"SEX", "RSN"}), response="DNR", group="driver"),
    KeySpec("DQG", "regional driver's license query", TextKind.FIELDS, _FIVE_REGIONS,
            (("NAM", "DOB"),), frozenset({"SEX", "RSN"}), response="DR", group="driver",
            delivered_as="DQ"),
    KeySpec("KQ", "driver history query", TextKind.FIELDS, _ONE_STATE, _PERSON,
            frozenset({"SEX", "RSN", "PUR", "ATN", "IMQ"}), response="KR", group="history"),
    KeySpec("RQ", "vehicle registration query", TextKind.FIELDS, _FIVE_STATES, _PLATE_OR_VIN,
            frozenset({"RSN", "VMA", "VYR"}), response="RR", group="vehicle"),
    KeySpec("RQG", "regional vehicle registration query", TextKind.FIELDS, _FIVE_REGIONS,
            _PLATE_OR_VIN, frozenset({"RSN", "VMA", "VYR"}), response="RR", group="vehicle",
            delivered_as="RQ"),
    KeySpec("RNQ", "registration query by owner name", TextKind.FIELDS, _FIVE_STATES,
            (("NAM",),), frozenset({"DOB", "RSN"}), response="RR", group="vehicle"),
    KeySpec("RPQ", "partial plate query", TextKind.FIELDS, _ONE_STATE, (("LIC",),),
            frozenset({"LIY", "LIT", "RSN", "VMA", "VYR"}), response="RPR", group="vehicle"),
    KeySpec("DR", "driver's license response", TextKind.FREE, _REQUESTER),
    KeySpec("DNR", "driver name-search response", TextKind.FREE, _REQUESTER),
    KeySpec("KR", "driver history response", TextKind.FREE, _REQUESTER),
    KeySpec("RR", "vehicle registration response", TextKind.FREE, _REQUESTER),
    KeySpec("RPR", "partial plate response", TextKind.FREE, _REQUESTER),
    KeySpec("AM", "administrative message", TextKind.FREE, _MAIL),
    KeySpec("SM", "status message", TextKind.FREE, _MAIL),
    KeySpec("ER", "error (reject) message", TextKind.FREE, _REQUESTER, origin="NL0000000"),
)

KEYS: dict[str, KeySpec] = {spec.key: spec for spec in _SPECS}
"""Every fully supported key; any other key is routed generically and flagged unsupported."""

RESPONSE_KEYS = frozenset(spec.response for spec in _SPECS if spec.response)


def spec_for(key: str) -> KeySpec | None:
    return KEYS.get(key)
