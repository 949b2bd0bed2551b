"""`stateline policy presets|check|test`: policy files and their test cases."""

from __future__ import annotations

from .policy import app  # noqa: F401
