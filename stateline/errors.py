"""The one base of Stateline's errors: a stable code for programs, the HTTP status an API
answers with, and the side at fault, read once by the CLI's edge and once by each HTTP app.

Every room's errors derive from `StatelineError` (as h11's `ProtocolError` and Starlette's
`HTTPException` carry their own status), so a command never keeps its own map of error to code.
The codes are documented in README.md ("Error codes"); a test holds the two together.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar


class Side(Enum):
    """Who must act for the error to go away."""

    REQUESTER = "requester"
    """The input was wrong: a message, a flag, a file, a policy. Sending it again won't help."""
    SYSTEM = "system"
    """A store, a broker or a process failed: the same input may succeed later."""


class StatelineError(Exception):
    """An error with a code, an HTTP status and a side; its text is for a person."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    side: ClassVar[Side] = Side.SYSTEM

    @property
    def text(self) -> str:
        return str(self) or self.code

    def as_json(self) -> dict[str, object]:
        """The project's one error shape, as every API and `--json` print it."""
        return {"error": {"code": self.code, "text": self.text}}


class RequesterError(StatelineError):
    """Input the requester must correct."""

    code, status, side = "invalid", 400, Side.REQUESTER


class NotFoundError(RequesterError):
    """Something named that is not there (a state, an order, a message, a reference)."""

    code, status = "not-found", 404


class ServiceError(StatelineError):
    """A store or a service failed; nothing the requester sent was wrong."""

    code, status = "unavailable", 503


def kinds() -> list[type[StatelineError]]:
    """Every error class defined so far, base first: what the documentation test reads once
    the package's rooms are imported."""
    found: list[type[StatelineError]] = []
    pending: list[type[StatelineError]] = [StatelineError]
    while pending:
        kind = pending.pop(0)
        if kind not in found:
            found.append(kind)
            pending.extend(kind.__subclasses__())
    return found


__all__ = ["NotFoundError", "RequesterError", "ServiceError", "Side", "StatelineError", "kinds"]
