"""The bus between the switch and the state gateways: one interface, two carriers.

`base` names the contract (what travels, and the `Transport` the switch calls); `inprocess`
carries it by function call inside one process, `nats` over NATS between processes.
"""

from .base import Envelope, Reply, StateUnavailable, Transport

__all__ = ["Envelope", "Reply", "StateUnavailable", "Transport"]
