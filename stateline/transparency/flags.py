"""Proxy-query flags: patterns in the audit log that suggest a query was run for someone the
policy refuses (the "side door"), or that a block moved traffic to another agency. Each rule
is small, named and explained in plain words; a flag is a lead for a coordinator to look
into, never a block. Requests imported from the state switch's records count like live ones,
by when they were made, and a flag says how many of its requests were imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..audit import AuditLog, EntryKind, Rollup, open_state_log
from ..datadir import DataDir
from ..directory.store import Directory, NoNation
from ..policy.store import checked_state
from .displacement import DisplacedTraffic, logged_blocks
from .flag_rules import (
    DAY_US,
    BaselineDeparture,
    Block,
    Check,
    Flag,
    ImmigrationWords,
    PartnerRequests,
    Period,
    SameSubjectAfterBlock,
    Settings,
    Weekly,
)
from .recorded import first_request, micros, moment, requests

__all__ = ["RULES", "Flag", "FlagReport", "FlagRule", "RuleResult", "Settings", "find_flags",
           "to_json"]

PERIOD = timedelta(days=365)
"""How far back flags look when no start is given."""


@dataclass(frozen=True, slots=True)
class FlagRule:
    name: str
    title: str
    explanation: str
    """Plain words for a briefing; `{name}` fields are filled from the settings."""
    check: Callable[[str, Settings, Period], Check]

    def explain(self, settings: Settings) -> str:
        return self.explanation.format(**asdict(settings))


RULES: tuple[FlagRule, ...] = (
    FlagRule(
        "287g-partner", "Requests from 287(g) partners",
        "A local agency with a 287(g) agreement has officers deputized for immigration "
        "enforcement with ICE, yet it queries under its local ORI, so its requests look like "
        "ordinary police traffic. Every request from one is listed so a coordinator can ask "
        "what it was for.", PartnerRequests),
    FlagRule(
        "after-federal-refusal", "The same person or vehicle soon after a federal refusal",
        "A state, county, city or tribal agency got an answer about a person or vehicle "
        "within {within_days} days after ICE, HSI, CBP, USCIS or another DHS office was "
        "refused (or held for review) on the same license number, name and date of birth, "
        "plate or VIN. It can be chance; it is also what a query run on a federal agency's "
        "behalf looks like.", SameSubjectAfterBlock),
    FlagRule(
        "baseline-departure", "A local agency far from its own baseline",
        "A non-federal agency's last {recent_days} days are compared with the "
        "{baseline_days} days before: flagged when it sent at least {minimum} queries and "
        "{factor:g} times its usual daily volume, or when name-only and partial-plate "
        "searches (DNQ, RNQ, RPQ) rose by {mix_jump:.0%} or more of its queries (at least "
        "{minimum_broad} of them). A sudden change in volume or in the kind of search is "
        "what running queries for someone else looks like.", BaselineDeparture),
    FlagRule(
        "immigration-words", "Immigration named in a reason or free text",
        "A request whose free-text fields (such as ATN) name immigration work (ICE, ERO, "
        "deportation, removal, 287(g), ...), or whose reason code the state counts as "
        "immigration. Nlets defines no immigration reason code, so free text is what "
        "usually shows it, as it did in the Flock audit logs.", ImmigrationWords),
    FlagRule(
        "displaced-traffic", "Traffic moving to another agency after a block",
        "Blocking one agency can move its traffic to another: in Washington, once ICE was "
        "refused, Border Patrol (CBP) ran most of the queries that came before arrests. For "
        "each block of a federal or 287(g) category in the {displaced_reach_days} days "
        "before the end of the period, every other such category's weekly requests in the "
        "{displaced_weeks} weeks before and after are compared (the week of the block left "
        "out): flagged when they rise to more than {displaced_factor:g} times what they were, "
        "with at least {displaced_minimum} requests after. A block is a policy change after "
        "which every query of the category's typical agency is refused where it was not "
        "before, when most of the category's requests in the weeks before were answered; in "
        "history imported from the state switch's records, where no policy "
        "change is logged, it is the first week from which at least {block_share:.0%} of "
        "the category's requests were denied, after weeks in which most were not.",
        DisplacedTraffic),
)
"""Every rule, in the order a briefing explains them."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: FlagRule
    flags: tuple[Flag, ...]
    note: str
    weekly: tuple[Weekly, ...] = ()
    """What a rule comparing weeks shows, flagged or not."""


@dataclass(frozen=True, slots=True)
class FlagReport:
    state: str
    since_us: int
    until_us: int
    settings: Settings
    results: tuple[RuleResult, ...]

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(flag for result in self.results for flag in result.flags)


def find_flags(data: DataDir, state: str, since: datetime | None = None,
               until: datetime | None = None, settings: Settings | None = None,
               rules: tuple[FlagRule, ...] = RULES) -> FlagReport:
    """Run every rule over a state's requests, live and imported, made from `since`
    (default: a year before `until`) to `until` (default: now). Reads only."""
    code = checked_state(data, state)
    settings = settings or Settings()
    end = until or datetime.now(UTC)
    until_us = micros(end) or 0
    since_us = micros(since or end - PERIOD) or 0
    with open_state_log(data, code) as log:
        covered = first_request(log)
        days, blocks = _history(data, code, log, until_us, settings)
        period = Period(since_us, until_us, until_us if covered is None else covered, days,
                        blocks)
        checks = [rule.check(rule.name, settings, period) for rule in rules]
        for row in requests(log, since_us, until_us):
            for check in checks:
                check.add(row)
    results = tuple(RuleResult(rule, tuple(sorted(check.flags(), key=_order)), check.note,
                               check.weekly)
                    for rule, check in zip(rules, checks, strict=True))
    return FlagReport(code, since_us, until_us, settings, results)


def _history(data: DataDir, state: str, log: AuditLog, until_us: int,
             settings: Settings) -> tuple[tuple[Rollup, ...], tuple[Block, ...]]:
    """The daily counts from as far back as blocks are compared, and the blocks the log's
    policy changes made (decided over the directory as it is; none without one)."""
    reach = settings.displaced_reach_days + 7 * (settings.displaced_weeks + 2)
    first, last = (moment(t).date().isoformat()
                   for t in (until_us - reach * DAY_US, until_us))
    days = tuple(log.rollups(first, last))
    try:
        with Directory.open(data, create=False) as directory:
            snapshot = directory.snapshot()
    except NoNation:
        return days, ()
    return days, logged_blocks(log.events([EntryKind.POLICY_CHANGE]), snapshot, state, days,
                               settings)


def _order(flag: Flag) -> tuple[int, str]:
    return -flag.count, flag.ori


def to_json(report: FlagReport) -> dict[str, Any]:
    """Flags as the CLI's `--json`, the API and the dashboard read them."""
    return {
        "state": report.state,
        "since": moment(report.since_us).isoformat(),
        "until": moment(report.until_us).isoformat(),
        "settings": {k: sorted(v) if isinstance(v, frozenset) else v
                     for k, v in asdict(report.settings).items()},
        "rules": [
            {"rule": r.rule.name, "title": r.rule.title,
             "explanation": r.rule.explain(report.settings), "note": r.note,
             "flags": [{"ori": f.ori, "name": f.name, "category": f.category,
                        "count": f.count, "first": moment(f.first_us).isoformat(),
                        "last": moment(f.last_us).isoformat(), "examples": list(f.examples),
                        "after": list(f.before), "detail": f.detail,
                        "imported": f.imported} for f in r.flags],
             **({"weekly": [weekly_json(w) for w in r.weekly]} if r.weekly else {})}
            for r in report.results
        ],
    }


def weekly_json(weekly: Weekly) -> dict[str, Any]:
    b = weekly.block
    return {"blocked": b.category, "day": b.day.isoformat(), "how": b.how,
            "detail": b.detail, "weeks": [w.isoformat() for w in weekly.weeks],
            "before": weekly.before, "requests": {c: list(n) for c, n in weekly.counts.items()},
            "imported": dict(weekly.imported)}
