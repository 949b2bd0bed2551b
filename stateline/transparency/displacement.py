"""Displaced traffic: after one federal or 287(g) category is blocked, does another one's
traffic rise? In Washington, once ICE was refused, Border Patrol (CBP) ran most of the
queries that came before arrests. Only history shows such a move, so this rule reads daily
counts (the rollups, never the entries) from well before the period, and compares weeks.

A block comes from one of two places. A policy change the log holds blocks a category when
the engine refuses every query of the category's typical agency under the new text and did
not under the text before (or there was none), and most of the category's requests in the
weeks before were answered: a change that refuses what was refused already moves nothing.
History imported from the state switch's records has no policy change: there the first week
from which nearly all of a category's imported requests were denied, after weeks in which
most were answered, is the block.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..audit import AuditEntry, Rollup
from ..audit.entries import FIRST_HAND_KINDS
from ..directory.agency import Agency
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Snapshot
from ..policy.engine import PolicyEngine, Request, Verdict
from ..policy.explain import ROWS, representatives
from ..policy.source import PolicyError, compile_policies
from .flag_rules import Block, Check, Flag, Period, Settings, Weekly
from .provenance import FROM_RECORDS
from .recorded import micros

WATCHED = ("ICE", "HSI", "CBP", "USCIS", "DHS-other", "federal-other", "287(g) partner")
"""The federal and 287(g) categories whose traffic can move to one another."""
WEEK = timedelta(days=7)
FEWEST_WEEKS = 2
"""Weeks each side needs at least before a block is compared."""
POLICY, HISTORY = "policy change", "imported records"


@dataclass(slots=True)
class Days:
    """The daily counts the rule reads, by category and day."""

    requests: dict[str, dict[date, int]]
    denied: dict[str, dict[date, int]]
    imported: dict[str, dict[date, int]]
    imported_denied: dict[str, dict[date, int]]
    """What shows a block in the years before the gateway."""
    first: date | None

    @classmethod
    def of(cls, rollups: Iterable[Rollup]) -> Days:
        found: list[dict[str, dict[date, int]]] = [
            defaultdict(lambda: defaultdict(int)) for _ in range(4)]
        requests, denied, imported, imported_denied = found
        first: date | None = None
        for r in rollups:
            if r.kind not in FIRST_HAND_KINDS or len(r.day) != 10:
                continue
            day = date.fromisoformat(r.day)
            first = day if first is None else min(first, day)
            refused = r.entries if r.outcome == "denied" else 0
            requests[r.category][day] += r.entries
            denied[r.category][day] += refused
            if r.kind == "imported":
                imported[r.category][day] += r.entries
                imported_denied[r.category][day] += refused
        return cls(requests, denied, imported, imported_denied, first)

    def week(self, counts: Mapping[date, int], monday: date) -> int:
        return sum(counts.get(monday + timedelta(days=n), 0) for n in range(7))


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


class DisplacedTraffic(Check):
    """Every other federal and 287(g) category's weekly requests before and after each
    block; flagged where they rise past the factor."""

    def __init__(self, name: str, settings: Settings, period: Period) -> None:
        super().__init__(name, settings, period)
        days = Days.of(period.days)
        until = micros_day(period.until_us - 1)
        reach = until - timedelta(days=settings.displaced_reach_days)
        found = [b for b in (*period.blocks, *history_blocks(days, settings, period.blocks))
                 if reach <= b.day <= until]
        compared: list[Weekly] = []
        short: list[str] = []
        self.found: list[Flag] = []
        for block in sorted(found, key=lambda b: (b.day, b.category)):
            weekly = weeks_around(days, block, settings, until)
            if weekly is None:
                short.append(f"{block.category} on {block.day}")
                continue
            compared.append(weekly)
            self.found += rising(weekly, settings, self.name)
        self.weekly = tuple(compared)
        if short:
            self.note = (f"Blocks without {FEWEST_WEEKS} whole weeks of requests on each side "
                         f"were not compared: {', '.join(short)}.")

    def add(self, row: object) -> None:
        """Reads daily counts, not requests one by one."""

    def flags(self) -> list[Flag]:
        return list(self.found)


def micros_day(time_us: int) -> date:
    return date(1970, 1, 1) + timedelta(microseconds=time_us)


def weeks_around(days: Days, block: Block, settings: Settings, until: date) -> Weekly | None:
    """The whole weeks on each side of the block's week that the log covers, up to
    `displaced_weeks` each; None when either side has fewer than FEWEST_WEEKS."""
    start = monday(block.day)
    first = days.first or block.day
    before = [start - WEEK * n for n in range(settings.displaced_weeks, 0, -1)
              if start - WEEK * n >= first]
    after = [start + WEEK * n for n in range(1, settings.displaced_weeks + 1)
             if start + WEEK * n + timedelta(days=6) <= until]
    if len(before) < FEWEST_WEEKS or len(after) < FEWEST_WEEKS:
        return None
    weeks = (*before, *after)
    others = [c for c in WATCHED if c != block.category]
    counts = {c: tuple(days.week(days.requests.get(c, {}), w) for w in weeks) for c in others}
    imported = {c: sum(days.week(days.imported.get(c, {}), w) for w in weeks) for c in others}
    return Weekly(block, weeks, len(before), counts, imported)


def rising(weekly: Weekly, settings: Settings, rule: str) -> list[Flag]:
    """The categories whose weekly requests after the block passed the factor over before."""
    found = []
    b = weekly.block
    start_us = micros(b.day) or 0
    end_us = micros(weekly.weeks[-1] + timedelta(days=6), end=True) or 0
    for category, counts in weekly.counts.items():
        before, after = counts[:weekly.before], counts[weekly.before:]
        was, now = sum(before) / len(before), sum(after) / len(after)
        if sum(after) < settings.displaced_minimum or now <= settings.displaced_factor * was:
            continue
        times = f"{now / was:.1f} times" if was else "from none"
        detail = (f"{b.category} blocked from {b.day} ({b.how}: {b.detail}); {category} "
                  f"{now:.1f} requests a week in the {len(after)} weeks after against "
                  f"{was:.1f} in the {len(before)} weeks before ({times})")
        share = weekly.imported.get(category, 0)
        if share:
            detail += (f"; {share:,} of {category}'s requests in the weeks compared were read "
                       f"{FROM_RECORDS}")
        found.append(Flag(rule, "", f"{category} after the {b.category} block", category,
                          sum(after), start_us, end_us, (), detail, (), share))
    return found


def history_blocks(days: Days, settings: Settings,
                   logged: Sequence[Block] = ()) -> list[Block]:
    """For each category, the first week from which at least `block_share` of its imported
    requests were denied (in every week with requests after it, up to `displaced_weeks`),
    where in the weeks before most were not. A block a policy change already shows, within
    two weeks, is not found twice."""
    found = []
    share = settings.block_share
    for category in WATCHED:
        counts = days.imported.get(category, {})
        denied = days.imported_denied.get(category, {})
        weeks = sorted({monday(day) for day in counts})
        totals = [(days.week(counts, w), days.week(denied, w)) for w in weeks]
        for n, week in enumerate(weeks):
            before = totals[max(0, n - settings.displaced_weeks):n]
            after = totals[n:n + settings.displaced_weeks]
            asked, refused = (sum(t[i] for t in before) for i in (0, 1))
            if (len(before) < FEWEST_WEEKS or refused > asked / 2
                    or any(r < share * t for t, r in after)):
                continue
            day = _first_refused_day(counts, denied, week, share)
            if not any(b.category == category and abs((b.day - day).days) <= 14
                       for b in logged):
                later = sum(t for t, _ in after), sum(r for _, r in after)
                found.append(Block(category, day, HISTORY, (
                    f"{_share(refused, asked)} of its requests denied in the {len(before)} "
                    f"weeks before, {_share(later[1], later[0])} in the {len(after)} from "
                    f"then on, {FROM_RECORDS}")))
            break
    return found


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "none"


def _first_refused_day(counts: Mapping[date, int], denied: Mapping[date, int], week: date,
                       share: float) -> date:
    """The first day, in the week or the week before it (a block on a Wednesday leaves its
    own week mostly answered), from which the requests up to the week's end were (nearly)
    all denied."""
    days = [week - WEEK + timedelta(days=n) for n in range(14)]
    for n, day in enumerate(days):
        rest = days[n:]
        asked = sum(counts.get(d, 0) for d in rest)
        if denied.get(day, 0) and sum(denied.get(d, 0) for d in rest) >= share * asked:
            return day
    return week


def logged_blocks(changes: Sequence[AuditEntry], snapshot: Snapshot, home: str,
                  rollups: Iterable[Rollup], settings: Settings,
                  rules: RuleTable = DEFAULT_RULES) -> tuple[Block, ...]:
    """Each category a policy change blocked: refused for every query of its typical agency
    under the new text and not under the one before (none for the log's first policy), with
    most of its requests in the weeks before answered (by the gateway, or as history
    imported from the state switch's records shows)."""
    days = Days.of(rollups)
    found: list[Block] = []
    before: set[str] | None = None
    engine: PolicyEngine | None = None
    refused: dict[str, set[str]] = {}
    """By policy text: the directory's entities are built once, each text decided once."""
    for entry in changes:
        text = entry.body.get("text")
        if "failed" in entry.body or not isinstance(text, str):
            continue
        if text not in refused:
            try:
                source = compile_policies(text)
            except PolicyError:
                continue
            engine = (engine.with_source(source) if engine is not None
                      else PolicyEngine(home, source, snapshot, rules))
            refused[text] = _refused(engine, rules)
        now = refused[text]
        version = str(entry.body.get("new_version", ""))[:12]
        for category in sorted(now - (before or set())):
            block = Block(category, micros_day(entry.time_us), POLICY,
                          f"policy version {version}")
            if answered_before(days, block, settings):
                found.append(block)
        before = now
    return tuple(found)


def _refused(engine: PolicyEngine, rules: RuleTable) -> set[str]:
    """Watched categories whose typical agencies get every query refused."""
    chosen: Mapping[str, list[Agency]] = representatives(engine, rules)
    return {category for category in WATCHED if chosen.get(category) and all(
        engine.decide(Request(agency.ori, key, image_requested=True)).verdict is Verdict.DENY
        for agency in chosen[category] for key in ROWS)}


def answered_before(days: Days, block: Block, settings: Settings) -> bool:
    """Most of the category's requests in the weeks before the block were not denied."""
    start = monday(block.day)
    weeks = [start - WEEK * n for n in range(1, settings.displaced_weeks + 1)]
    asked = sum(days.week(days.requests.get(block.category, {}), w) for w in weeks)
    refused = sum(days.week(days.denied.get(block.category, {}), w) for w in weeks)
    return asked > 0 and refused <= asked / 2
