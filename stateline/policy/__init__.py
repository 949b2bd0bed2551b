"""State sharing policy in Cedar: checked texts, decisions with reasons, presets, explanations."""

from .engine import Decision, PolicyEngine, Reason, Request, Verdict, policy_version
from .source import Policy, PolicyError, PolicyProblem, PolicySource, compile_policies

__all__ = [
    "Decision",
    "Policy",
    "PolicyEngine",
    "PolicyError",
    "PolicyProblem",
    "PolicySource",
    "Reason",
    "Request",
    "Verdict",
    "compile_policies",
    "policy_version",
]
