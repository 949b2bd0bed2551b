"""The summary of a multi-state (NL or regional) query: where it went, who hit, who had no
record, who denied or held it, whose copy is waiting for the state to return, and who did not
answer within the wait. Pure: leg statuses in, a summary out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WAITING = "waiting"
"""Delivered, no answer yet."""
HELD_FOR_DELIVERY = "held-for-delivery"
"""The state is out of service: the switch keeps the message until it returns."""
NOT_FORWARDED = "not-forwarded"
"""Refused with .01. or .04.: nothing was sent and nothing is kept."""

BUCKETS = {
    "released": "hit",
    "partial": "hit",
    "no-record": "no_record",
    "denied": "denied",
    "held": "held_for_review",
    "error": "error",
    HELD_FOR_DELIVERY: "held_for_delivery",
    NOT_FORWARDED: "not_forwarded",
    WAITING: "not_answered",
}
"""Where each leg status is counted."""

LINES = {
    "hit": "HIT",
    "no_record": "NO RECORD",
    "denied": "DENIED",
    "held_for_review": "HELD FOR STATE REVIEW",
    "held_for_delivery": "HELD UNTIL BACK IN SERVICE",
    "not_forwarded": "NOT FORWARDED",
    "error": "COULD NOT ANSWER",
    "not_answered": "NO ANSWER WITHIN {wait} S",
}

PRECEDENCE = (("released", "released"), ("partial", "partial"), ("held", "held"),
              (HELD_FOR_DELIVERY, "held"), ("denied", "denied"), ("no-record", "no-record"),
              ("error", "error"), (NOT_FORWARDED, "rejected"))
"""The summary's own outcome: the best any state gave; `error` when none has answered."""


@dataclass(frozen=True, slots=True)
class Summary:
    key: str
    sent_to: tuple[str, ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    outcome: str = "error"

    def to_json(self) -> dict[str, object]:
        return {"sent_to": list(self.sent_to),
                **{name: list(self.groups.get(name, ())) for name in LINES}}


def summarize(key: str, legs: Sequence[tuple[str, str]]) -> Summary:
    """Legs as (state, status), status an outcome or one of WAITING, HELD_FOR_DELIVERY,
    NOT_FORWARDED."""
    groups: dict[str, list[str]] = {}
    for state, status in legs:
        groups.setdefault(BUCKETS.get(status, "error"), []).append(state)
    statuses = {status for _, status in legs}
    outcome = next((shown for status, shown in PRECEDENCE if status in statuses), "error")
    return Summary(key, tuple(state for state, _ in legs),
                   {name: tuple(sorted(states)) for name, states in groups.items()}, outcome)


def summary_text(summary: Summary, wait_seconds: float) -> str:
    lines = [f"MULTI-STATE SUMMARY FOR {summary.key}",
             f"SENT TO: {' '.join(summary.sent_to)}"]
    wait = f"{wait_seconds:g}"
    for name, label in LINES.items():
        states = summary.groups.get(name)
        if states:
            lines.append(f"{label.format(wait=wait)}: {' '.join(states)}")
    return "\n".join(lines)
