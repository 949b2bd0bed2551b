"""The proxy-query rules, each a small check fed the period's requests oldest first (live
decisions and those imported from the state switch's records, by when they were made).

A check keeps only what its rule needs (counts per agency, recently refused subjects) and
says at the end which agencies it flags. Parameters come from `Settings`, with defaults a
state can change; the plain-language explanation of each rule lives beside it in `flags.py`.
The displaced-traffic rule reads daily counts instead (`displacement`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ..audit import Rollup
from ..protocol import birth_date
from .provenance import FROM_RECORDS
from .recorded import Recorded

DAY_US = 86_400_000_000
DISCLOSED = frozenset({"released", "partial"})
REFUSED = frozenset({"denied", "held"})
IMMIGRATION_CATEGORIES = frozenset({"ICE", "HSI", "CBP", "USCIS", "DHS-other"})
BROAD_KEYS = frozenset({"DNQ", "RNQ", "RPQ"})
"""Searches that find people the officer does not yet know: by name, or by partial plate."""
WORDS = ("IMMIGRATION", "IMMIG", "ICE", "ERO", "HSI", "CBP", "BORDER PATROL", "USBP",
         "DEPORT", "DEPORTED", "DEPORTEE", "DEPORTATION", "REMOVAL", "DETAINER", "ALIEN",
         "UNDOCUMENTED", "I-213", "287G", "287(G)")
"""Words that mark an immigration purpose in free text, matched as whole words."""


@dataclass(frozen=True, slots=True)
class Settings:
    within_days: int = 7
    """Same-subject rule: how soon after a refused federal immigration request."""
    recent_days: int = 30
    baseline_days: int = 90
    """Baseline rule: the last `recent_days` against the `baseline_days` before them."""
    factor: float = 3.0
    """Baseline rule: flag when the recent daily volume is this many times the baseline's."""
    minimum: int = 30
    """Baseline rule: fewer recent queries than this are never flagged for volume."""
    mix_jump: float = 0.25
    """Baseline rule: flag when the share of name-only and partial-plate queries rises by
    this much (0.25 = 25 percentage points)."""
    minimum_broad: int = 10
    reason_codes: frozenset[str] = frozenset()
    """Reason codes a state treats as immigration. Nlets defines none: the meaning of RSN/I
    is not published, so none is assumed."""
    text_fields: frozenset[str] = frozenset({"ATN"})
    """Free-text query fields scanned for words."""
    words: tuple[str, ...] = WORDS
    displaced_weeks: int = 8
    """Displacement rule: weeks compared on each side of a block (its own week left out)."""
    displaced_factor: float = 1.5
    """Displacement rule: flag a category whose weekly requests after a block are more than
    this many times its weekly requests before."""
    displaced_minimum: int = 30
    """Displacement rule: fewer requests after the block than this never flag."""
    block_share: float = 0.9
    """Displacement rule, imported history: the share of a category's requests denied from
    the week it counts as blocked on (and at most one minus it in the weeks before)."""
    displaced_reach_days: int = 730
    """Displacement rule: blocks this many days before the end of the period are compared:
    traffic a block moves stays moved, and only history shows it."""


@dataclass(frozen=True, slots=True)
class Flag:
    rule: str
    ori: str
    name: str
    category: str
    count: int
    first_us: int
    last_us: int
    examples: tuple[str, ...]
    """Request ids of flagged requests, newest last."""
    detail: str
    before: tuple[str, ...] = ()
    """For each example, the refused request it followed, where a rule pairs them."""
    imported: int = 0
    """How many of the requests it rests on were imported from the state switch's records."""


@dataclass(slots=True)
class Tally:
    """One agency's flagged requests under one rule."""

    name: str
    category: str
    count: int = 0
    answered: int = 0
    first_us: int = 0
    last_us: int = 0
    examples: list[str] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)
    imported: int = 0

    def add(self, row: Recorded, before: str = "") -> None:
        self.count += 1
        self.imported += row.imported
        self.answered += row.outcome in DISCLOSED
        self.first_us = self.first_us or row.time_us
        self.last_us = row.time_us
        self.examples = [*self.examples, row.request_id][-3:]
        if before:
            self.before = [*self.before, before][-3:]


@dataclass(frozen=True, slots=True)
class Block:
    """A category refused from a day on: by a policy change the log holds, or as the state
    switch's imported records show it."""

    category: str
    day: date
    how: str
    """"policy change" or "imported records"."""
    detail: str
    """What shows it, in words."""


@dataclass(frozen=True, slots=True)
class Weekly:
    """Requests from every other federal and 287(g) category, week by week, around a block."""

    block: Block
    weeks: tuple[date, ...]
    """The Monday of each week compared, oldest first: `before` of them before the block's
    week, the rest after it."""
    before: int
    counts: Mapping[str, tuple[int, ...]]
    """Requests per week, by category."""
    imported: Mapping[str, int]
    """How many of each category's requests in those weeks were imported."""


@dataclass(frozen=True, slots=True)
class Period:
    since_us: int
    until_us: int
    covered_us: int
    """When the log's requests begin: a baseline cannot reach back further."""
    days: tuple[Rollup, ...] = ()
    """Daily counts from `Settings.displaced_reach_days` before the end on (rollups)."""
    blocks: tuple[Block, ...] = ()
    """Blocks the log's policy changes made."""


class Check:
    """Fed every request of the period oldest first; `flags` gives the result."""

    note = ""
    """Why the rule could not be applied, if it could not."""
    weekly: tuple[Weekly, ...] = ()
    """What a rule comparing weeks shows, flagged or not."""

    def __init__(self, name: str, settings: Settings, period: Period) -> None:
        self.name, self.settings, self.period = name, settings, period
        self.tallies: dict[str, Tally] = {}

    def add(self, row: Recorded) -> None:
        raise NotImplementedError

    def tally(self, row: Recorded) -> Tally:
        found = self.tallies.get(row.ori)
        if found is None:
            found = self.tallies[row.ori] = Tally(row.name, row.category)
        return found

    def flags(self) -> list[Flag]:
        return [Flag(self.name, ori, t.name, t.category, t.count, t.first_us, t.last_us,
                     tuple(t.examples), self.detail(t) + imported(t.imported, t.count),
                     tuple(t.before), t.imported)
                for ori, t in self.tallies.items()]

    def detail(self, tally: Tally) -> str:
        return "; ".join(sorted(tally.notes))


def imported(count: int, of: int) -> str:
    """"; 12 of them from the state switch's records", when a flag rests on imported ones."""
    if not count:
        return ""
    return f"; {'all' if count == of else f'{count:,}'} of them {FROM_RECORDS}"


def is_federal(row: Recorded) -> bool:
    return row.level == "federal"


class PartnerRequests(Check):
    """Every request from a non-federal agency with a 287(g) agreement."""

    def add(self, row: Recorded) -> None:
        if "287g" in row.programs and not is_federal(row):
            self.tally(row).add(row)

    def detail(self, tally: Tally) -> str:
        return f"{tally.count} requests, {tally.answered} answered"


class SameSubjectAfterBlock(Check):
    """An answered query by a non-federal agency for a person or vehicle that a federal
    immigration agency was refused (or held) within the days before."""

    def __init__(self, name: str, settings: Settings, period: Period) -> None:
        super().__init__(name, settings, period)
        self.refused: dict[str, tuple[int, str, str]] = {}

    def add(self, row: Recorded) -> None:
        subjects = subject_keys(row)
        if row.category in IMMIGRATION_CATEGORIES and row.outcome in REFUSED:
            for subject in subjects:
                self.refused[subject] = (row.time_us, row.request_id, row.category)
        elif row.outcome in DISCLOSED and not is_federal(row):
            window = self.settings.within_days * DAY_US
            for subject in subjects:
                earlier = self.refused.get(subject)
                if earlier is not None and row.time_us - earlier[0] <= window:
                    found = self.tally(row)
                    found.add(row, earlier[1])
                    found.notes.add(earlier[2])
                    break

    def detail(self, tally: Tally) -> str:
        return (f"{tally.count} answered within {self.settings.within_days} days after "
                f"{', '.join(sorted(tally.notes))} was refused or held for the same subject")


class BaselineDeparture(Check):
    """A non-federal agency whose recent volume, or share of name-only and partial-plate
    queries, departs sharply from its own baseline."""

    def __init__(self, name: str, settings: Settings, period: Period) -> None:
        super().__init__(name, settings, period)
        s = self.settings
        self.recent_from = period.until_us - s.recent_days * DAY_US
        self.baseline_from = self.recent_from - s.baseline_days * DAY_US
        self.counts: dict[str, list[int]] = {}
        """[recent, recent broad, baseline, baseline broad] per ORI."""
        if max(period.covered_us, period.since_us) > self.baseline_from:
            self.note = (f"The log does not reach back the {s.recent_days + s.baseline_days} "
                         "days a baseline needs, so no agency was compared with its own past.")

    def add(self, row: Recorded) -> None:
        if is_federal(row) or row.time_us < self.baseline_from:
            return
        counts = self.counts.setdefault(row.ori, [0, 0, 0, 0])
        recent = row.time_us >= self.recent_from
        at = 0 if recent else 2
        counts[at] += 1
        counts[at + 1] += row.key in BROAD_KEYS
        if recent:
            self.tally(row).add(row)

    def flags(self) -> list[Flag]:
        if self.note:
            return []
        s = self.settings
        for ori, (recent, broad, base, base_broad) in self.counts.items():
            tally = self.tallies.get(ori)
            if tally is None:
                continue
            before = base / s.baseline_days
            now = recent / s.recent_days
            if recent >= s.minimum and now >= s.factor * before:
                tally.notes.add(f"{recent} queries in {s.recent_days} days, {now:.1f} a day "
                                f"against {before:.1f} a day in the {s.baseline_days} before")
            share, base_share = broad / recent, base_broad / base if base else 0.0
            if broad >= s.minimum_broad and share - base_share >= s.mix_jump:
                tally.notes.add(f"name-only and partial-plate queries {share:.0%} of recent "
                                f"queries against {base_share:.0%} before")
        self.tallies = {ori: t for ori, t in self.tallies.items() if t.notes}
        return super().flags()


class ImmigrationWords(Check):
    """A reason code the state counts as immigration, or a free-text field naming it."""

    def __init__(self, name: str, settings: Settings, period: Period) -> None:
        super().__init__(name, settings, period)
        words = "|".join(re.escape(w) for w in sorted(self.settings.words, key=len,
                                                      reverse=True))
        self.pattern = re.compile(rf"(?<![A-Z0-9])(?:{words})(?![A-Z0-9])")

    def add(self, row: Recorded) -> None:
        said = [f"reason code {row.reason}"] if row.reason in self.settings.reason_codes else []
        for term in row.terms:
            prefix, _, value = term.partition("/")
            if prefix in self.settings.text_fields and self.pattern.search(value.upper()):
                said.append(f"{prefix}/{value}")
        if said:
            found = self.tally(row)
            found.add(row)
            found.notes.update(said[:3])


def subject_keys(row: Recorded) -> tuple[str, ...]:
    """Who or what a query names, in forms comparable across queries: license number, name
    with date of birth, full plate, VIN. A name alone or a partial plate names nobody."""
    values: dict[str, str] = {}
    for term in row.terms:
        prefix, _, value = term.partition("/")
        values.setdefault(prefix, "".join(value.split()).upper())
    found = [f"{p}/{values[p]}" for p in ("OLN", "VIN") if values.get(p)]
    plate = values.get("LIC", "")
    if plate and row.key != "RPQ" and not set(plate) & {"*", "?"}:
        found.append(f"LIC/{plate}")
    if values.get("NAM") and values.get("DOB"):
        found.append(f"NAM/{values['NAM']}.DOB/{_born(values['DOB'], row.time_us)}")
    return tuple(found)


def _born(text: str, time_us: int) -> str:
    """A date of birth in one spelling (CCYYMMDD), whichever form the query used."""
    try:
        today = datetime.fromtimestamp(time_us // 1_000_000, UTC).date()
        return f"{birth_date(text, today):%Y%m%d}"
    except ValueError:
        return text
