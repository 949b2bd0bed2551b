"""The coordinator's briefing: what the state shares today, in plain words, and what its log
shows, in one print-ready page for the governor's office (the letters to governors ask for
exactly this briefing). Every statement is computed: the sharing and the gaps from decisions
of the policy in force over the directory, the counts from the audit log, the preset effects
from replaying that log. An internal document: counts are not suppressed (publish the
statistics report instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..audit import EntryKind, open_state_log
from ..datadir import DataDir
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..directory.store import Directory
from ..policy.engine import PolicyEngine, Verdict
from ..policy.explain import ROWS, Access, CategoryView, Explanation, explain
from ..policy.presets import presets
from ..policy.schema import ELEMENTS
from ..policy.source import compile_policies
from ..policy.store import NO_POLICY, checked_state, current_text
from ..protocol import STATES
from . import briefing_charts as charts
from .briefing_counts import (
    FederalRequesters,
    PolicyChange,
    Volumes,
    federal_requesters,
    months_back,
    policy_changes,
    volumes,
)
from .briefing_gaps import IMMIGRATION, Gap, gaps
from .flag_rules import Weekly
from .flags import FlagReport, Settings, find_flags, weekly_json
from .provenance import ImportedFile, imported_files
from .recorded import micros, moment, ordered
from .whatif import Cell, History, Shift, read_history, replay

WATCHED = IMMIGRATION[:3]
"""The components the preset table counts changes for: ICE, HSI and CBP."""


@dataclass(frozen=True, slots=True)
class PresetEffect:
    """What a preset would have done to the last twelve months of requests."""

    name: str
    summary: str
    in_force: bool
    newly_denied: dict[str, int]
    """Requests of ICE, HSI and CBP answered or held then that the preset would deny."""
    newly_held: dict[str, int]
    """Those answered or denied then that it would hold for review: a denial it would hold
    is a loosening, so it is never counted as stopped."""
    newly_answered: dict[str, int]
    """Those denied or held then that it would answer."""
    other_changed: int
    """Requests of every other category whose verdict would change."""
    newly_allowed: int


@dataclass(frozen=True, slots=True)
class Briefing:
    state: str
    state_name: str
    generated: datetime
    version: str
    explanation: Explanation
    agencies: dict[str, int]
    """Active agencies in the directory by category."""
    gaps: tuple[Gap, ...]
    volumes: Volumes
    federal: FederalRequesters
    changes: tuple[PolicyChange, ...]
    flags: FlagReport
    presets: tuple[PresetEffect, ...]
    replayed: int
    """Requests of the last twelve months the presets were replayed against."""
    charts: dict[str, str]
    files: tuple[ImportedFile, ...] = ()
    """Files of the state switch's records the counts were partly read from (since the start
    of last year), with how many requests each holds."""
    replayed_imported: int = 0
    """Of the requests replayed, those imported from the state switch's records."""
    displaced: tuple[tuple[Weekly, str], ...] = ()
    """Every other federal and 287(g) category's weeks around each block, with its chart."""


def briefing(data: DataDir, state: str, now: datetime | None = None,
             settings: Settings | None = None, rules: RuleTable = DEFAULT_RULES) -> Briefing:
    """Everything the briefing says, computed now. A policy file that does not compile raises
    PolicyError: a briefing on a policy no gateway could load would mislead."""
    code = checked_state(data, state)
    now = now or datetime.now(UTC)
    today = now.date()
    text = current_text(data, code)
    source = compile_policies(NO_POLICY if text is None else text)
    with Directory.open(data, create=False) as directory:
        snapshot = directory.snapshot()
    engine = PolicyEngine(code, source, snapshot, rules)
    history = read_history(data, code, _start(months_back(today)), now)
    start = date(today.year - 1, 1, 1)
    with open_state_log(data, code) as log:
        counts = volumes(log.rollups(start.isoformat(), today.isoformat()), today)
        changes = policy_changes(log.events([EntryKind.POLICY_CHANGE]))
        files = imported_files(log.select, log.dialect, micros(start), micros(now))
    federal = federal_requesters(history.shapes)
    flags = find_flags(data, code, now - timedelta(days=365), now, settings)
    agencies: dict[str, int] = {}
    for agency in snapshot.agencies.values():
        if agency.active:
            name = rules.category(agency, code)
            agencies[name] = agencies.get(name, 0) + 1
    return Briefing(
        code, STATES.get(code, code), now, engine.version, explain(engine, rules),
        {name: agencies[name] for name in ordered(agencies)}, gaps(engine, rules), counts,
        federal, changes, flags, preset_effects(history, source.text, rules),
        sum(c.entries for c in history.shapes),
        {"monthly": charts.monthly(counts), "years": charts.years(counts),
         "federal": charts.federal(federal)}, tuple(files), history.imported,
        tuple((w, charts.displaced(w)) for r in flags.results for w in r.weekly))


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def preset_effects(history: History, in_force: str,
                   rules: RuleTable = DEFAULT_RULES) -> tuple[PresetEffect, ...]:
    """Each shipped preset replayed against the same history."""
    effects = []
    for preset in presets():
        text = preset.text()
        result = replay(history, compile_policies(text), rules)
        by_category = result.by_category()
        watched = {c: by_category[c] for c in WATCHED if c in by_category}
        total = result.total()
        effects.append(PresetEffect(
            preset.name, preset.summary, text == in_force,
            _shifted(watched, Shift.NEWLY_DENIED), _shifted(watched, Shift.NEWLY_HELD),
            _shifted(watched, Shift.NEWLY_ALLOWED),
            total.changed - sum(cell.changed for cell in watched.values()),
            total.shifts[Shift.NEWLY_ALLOWED]))
    return tuple(effects)


def _shifted(watched: dict[str, Cell], shift: Shift) -> dict[str, int]:
    return {c: watched[c].shifts[shift] if c in watched else 0 for c in WATCHED}


_ENV = Environment(loader=PackageLoader("stateline.transparency", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True,
                   lstrip_blocks=True)
_ENV.filters["n"] = lambda value: f"{value:,}"
_ENV.filters["day"] = lambda time_us: f"{moment(time_us):%Y-%m-%d}"
FLAG_ROWS = 12
"""Agencies listed per flag rule on the page, most requests first; `--json` has them all."""
VERDICTS = {"allow": "answered", "review": "held", "deny": "refused"}
SHOWN = {Access.RELEASED: "yes", Access.REVIEW: "held", Access.WITHHELD: "withheld"}
"""How an element cell reads, best first; an element no answer carries reads NONE."""
NONE = "\u2013"


def element_access(view: CategoryView) -> dict[str, str]:
    """For each element, the most a category's answers give of it across message keys."""
    found = {}
    for element in ELEMENTS:
        given = {row.elements.get(element) for row in view.rows}
        found[element] = next((word for access, word in SHOWN.items() if access in given), NONE)
    return found


def render(found: Briefing, dashboard: str | None = None) -> str:
    """The briefing as one self-contained HTML page: inline SVG charts, print styles, no
    script; with a link back to the state's dashboard page when served from it."""
    rows = found.volumes.categories
    immigration = [r for r in rows if r.category in IMMIGRATION]
    views = found.explanation.categories
    paths = any(v.opened_by_court_order or v.opened_by_attestation or
                any(r.verdict is Verdict.REVIEW for r in v.rows) for v in views)
    return _ENV.get_template("briefing.html").render(
        b=found, dashboard=dashboard, keys=ROWS, verdicts=VERDICTS, flag_rows=FLAG_ROWS,
        elements=ELEMENTS,
        watched=WATCHED, element_access=element_access, paths=paths,
        total_requests=sum(r.requests for r in rows),
        imported_requests=sum(found.volumes.imported),
        immigration_requests=sum(r.requests for r in immigration),
        immigration_disclosed=sum(r.disclosed for r in immigration),
        explanations=[(r.rule, r.rule.explain(found.flags.settings))
                      for r in found.flags.results])


def to_json(found: Briefing) -> dict[str, Any]:
    """The briefing's facts as the CLI's `--json` and the API give them (charts left out)."""
    return {
        "state": found.state,
        "generated": found.generated.isoformat(),
        "version": found.version,
        "sharing": [view.sentence for view in found.explanation.categories],
        "agencies": found.agencies,
        "gaps": [{"topic": g.topic, "text": g.text} for g in found.gaps],
        "categories": [{"category": r.category, "requests": r.requests,
                        "disclosed": r.disclosed, "outcomes": r.outcomes, "photos": r.photos}
                       for r in found.volumes.categories],
        "years": [{"category": y.category, "last_year": y.last_year,
                   "last_year_to_date": y.last_year_to_date,
                   "this_year_to_date": y.this_year_to_date}
                  for y in found.volumes.years],
        "federal_components": [{"component": r.component, "requests": r.requests,
                                "disclosed": r.disclosed} for r in found.federal.components],
        "federal_offices": [{"ori": r.ori, "name": r.name, "component": r.component,
                             "requests": r.requests, "disclosed": r.disclosed}
                            for r in found.federal.offices],
        "policy_changes": [{"time": c.time, "who": c.who, "note": c.note,
                            "new_version": c.new_version, "added": list(c.added),
                            "removed": list(c.removed), "failed": c.failed}
                           for c in found.changes],
        "flags": [{"rule": f.rule, "ori": f.ori, "name": f.name, "count": f.count,
                   "detail": f.detail, "examples": list(f.examples), "imported": f.imported}
                  for f in found.flags.flags],
        "displaced": [weekly_json(w) for w, _ in found.displaced],
        "imported": {
            "twelve_months": sum(found.volumes.imported),
            "by_month": dict(zip(found.volumes.months, found.volumes.imported, strict=True)),
            "last_year": found.volumes.imported_years[0],
            "last_year_to_date": found.volumes.imported_years[1],
            "this_year_to_date": found.volumes.imported_years[2],
            "files": [{"sha256": f.sha256, "file": f.file, "imported": f.imported_on,
                       "requests": f.requests, "said": f.said()} for f in found.files]},
        "replayed_imported": found.replayed_imported,
        "presets": [{"name": p.name, "in_force": p.in_force, "newly_denied": p.newly_denied,
                     "newly_held": p.newly_held, "newly_answered": p.newly_answered,
                     "other_changed": p.other_changed,
                     "newly_allowed": p.newly_allowed} for p in found.presets],
        "replayed": found.replayed,
    }
