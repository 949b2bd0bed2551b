"""Where a message goes: destinations expanded into one leg per state, each delivered, held
or refused with a status message. Pure: the network is a value, no I/O.

Rules (nlets-protocol.md §1.6-1.8, §6): a state code names that state; `NL` names every state
on the network that takes the key; a region code names the region's states that take the key;
DQG/RQG are delivered as DQ/RQ. A state named outright that does not take the key gets `.01.`;
a state out of service gets `.02.` and its message is held; a state on remove status gets
`.04.` and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from ..protocol import MULTI_STATE, Message, Reject, RejectCode, is_state, spec_for
from ..protocol.keys import Addressing

ORI_LENGTH = 9


class Service(Enum):
    """A state's standing on the network, set by an operator."""

    IN = "in-service"
    OUT = "out-of-service"
    """Down for now: traffic is held and delivered, in order, when it returns."""
    REMOVED = "removed"
    """On remove status: traffic is refused and not kept."""


class Action(Enum):
    DELIVER = "deliver"
    HOLD = "hold"
    NOT_TAKEN = "not-taken"
    REMOVED = "removed"


STATUS_CODES = {
    Action.NOT_TAKEN: ".01.",
    Action.HOLD: ".02.",
    Action.REMOVED: ".04.",
}
STATUS_TEXTS = {
    Action.NOT_TAKEN: "USER DOES NOT RESPOND TO MSG TYPE, SWITCH WILL NOT FORWARD",
    Action.HOLD: "USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL FORWARD",
    Action.REMOVED: "USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL NOT FORWARD",
}
"""The system-generated status messages a sender gets instead of an answer (§6)."""

_BY_SERVICE = {Service.IN: Action.DELIVER, Service.OUT: Action.HOLD,
               Service.REMOVED: Action.REMOVED}


@dataclass(frozen=True, slots=True)
class Network:
    """What routing needs to know: who is on the network, what each takes, the regions, and
    each state's service status (absent means in service)."""

    members: frozenset[str]
    takes: Mapping[str, frozenset[str]]
    regions: Mapping[str, tuple[str, ...]]
    service: Mapping[str, Service]

    def taking(self, state: str, key: str) -> bool:
        return state in self.members and key in self.takes.get(state, frozenset())


@dataclass(frozen=True, slots=True)
class Leg:
    state: str
    action: Action


@dataclass(frozen=True, slots=True)
class Plan:
    key: str
    """The key states receive (DQG and RQG rewritten)."""
    legs: tuple[Leg, ...]
    fan_out: bool
    """Sent to NL or a region: the answers are merged under one summary."""

    def states(self, action: Action) -> tuple[str, ...]:
        return tuple(leg.state for leg in self.legs if leg.action is action)


def route(message: Message, network: Network) -> Plan:
    """The plan for a validated message; Reject when its destinations cannot be routed."""
    spec = spec_for(message.key)
    key = (spec.delivered_as if spec else None) or message.key
    one_state = spec is not None and spec.destinations.addressing is Addressing.ONE_STATE
    named: list[str] = []
    spread: list[str] = []
    for destination in message.destinations:
        if destination == MULTI_STATE:
            spread += sorted(s for s in network.members if network.taking(s, key))
        elif destination in network.regions:
            spread += [s for s in network.regions[destination] if network.taking(s, key)]
        elif is_state(destination):
            named.append(destination)
        elif len(destination) == ORI_LENGTH:
            raise _reject(message, f"{destination}: THE SWITCH ROUTES TO STATES, NOT TO AGENCIES")
        else:
            raise _reject(message, f"{destination} IS NOT A STATE CODE, A REGION OR NL")
    fan_out = len(named) != len(message.destinations)
    if one_state and (fan_out or len(named) != 1):
        raise _reject(message, f"{message.key} GOES TO EXACTLY ONE STATE CODE")
    states = list(dict.fromkeys([*named, *spread]))
    if not states:
        raise Reject(RejectCode.NOT_ALLOWED, f"NO STATE ON THE NETWORK TAKES {key} THERE",
                     key=message.key)
    legs = tuple(Leg(state, _action(network, state, key)) for state in states)
    return Plan(key, legs, fan_out)


def _action(network: Network, state: str, key: str) -> Action:
    if not network.taking(state, key):
        return Action.NOT_TAKEN
    return _BY_SERVICE[network.service.get(state, Service.IN)]


def _reject(message: Message, detail: str) -> Reject:
    return Reject(RejectCode.DESTINATION, detail, key=message.key)


def status_text(action: Action, state: str, key: str) -> str:
    """The body of the status message a sender gets for one leg."""
    return f"{STATUS_CODES[action]} {STATUS_TEXTS[action]}\nDESTINATION {state} MESSAGE {key}"
