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


DOES: dict[Permission, str] = {
    Permission.READ: "read the overview, the policy and reports",
    Permission.TRAFFIC: "watch live traffic",
    Permission.AUDIT: "read the audit log",
    Permission.SEE_CASES: "see held requests, court orders and notices",
    Permission.REVIEW: "release or deny held requests",
    Permission.NOTICES: "send notices",
    Permission.ORDERS: "register court orders",
    Permission.POLICY: "change policy",
    Permission.USERS: "manage accounts",
}
"""Each permission as a refusal names it, in the words of the pages it opens."""
_LEADS = {_C: Permission.POLICY, _R: Permission.REVIEW, _A: Permission.AUDIT,
          _V: Permission.READ}
"""The one thing each role is for, which a refusal says it still can do."""


def allowed(role: Role, permission: Permission) -> bool:
    return role in GRANTS[permission]


def refusal(role: Role, permission: Permission) -> str:
    """"Your account (auditor) can read the audit log but cannot change policy"."""
    return (f"Your account ({role.value}) can {DOES[_LEADS[role]]} but cannot "
            f"{DOES[permission]}.")
