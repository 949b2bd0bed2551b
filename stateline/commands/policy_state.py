"""`stateline policy apply|explain|history`, `stateline orders`, `stateline attest`: the policy in force."""

from __future__ import annotations

from .policy import app  # noqa: F401
