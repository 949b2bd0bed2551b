"""Which role may see or do what: one table, read by every page's guard.

Pages that show people's identifiers (audit entries, held requests, notices, court orders,
live traffic) need more than the viewer role; only coordinators change policy, court orders
and accounts.
"""

from __future__ import annotations

from enum import Enum

from .accounts import Role


class Permission(Enum):
    READ = "read"
    """Overview, policy in force and its history, reports, briefing."""
    TRAFFIC = "traffic"
    AUDIT = "audit"
    """Audit search, entries with their proofs, running verification."""
    SEE_CASES = "see-cases"
    """Held requests, notices, court orders and attestations."""
    REVIEW = "review"
    NOTICES = "notices"
    ORDERS = "orders"
    POLICY = "policy"
    """Edit, test, what-if and apply a policy."""
    USERS = "users"


_C, _R, _A, _V = Role.COORDINATOR, Role.REVIEWER, Role.AUDITOR, Role.VIEWER

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.READ: frozenset({_C, _R, _A, _V}),
    Permission.TRAFFIC: frozenset({_C, _R, _A}),
    Permission.AUDIT: frozenset({_C, _A}),
    Permission.SEE_CASES: frozenset({_C, _R, _A}),
    Permission.REVIEW: frozenset({_C, _R}),
    Permission.NOTICES: frozenset({_C, _R}),
    Permission.ORDERS: frozenset({_C}),
    Permission.POLICY: frozenset({_C}),
    Permission.USERS: frozenset({_C}),
}


def allowed(role: Role, permission: Permission) -> bool:
    return role in GRANTS[permission]
