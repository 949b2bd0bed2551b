"""A state's gateway: decision, lookup, per-element release, audit before response."""

from .pipeline import Gateway, GatewayError, Result, ReviewRefused
from .review import Held, ReviewError, ReviewQueue

__all__ = ["Gateway", "GatewayError", "Held", "Result", "ReviewError", "ReviewQueue",
           "ReviewRefused"]
