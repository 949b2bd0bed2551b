"""A state's public report for a period: its tables with small counts protected, for a year the
headline the letters ask for, the policy changes made in the period, and the cosigned checkpoint
it was computed from.

`assemble` is the one place a report is put together, from rollups: `build` feeds it the
rollups read at the head reports use, `verify` the rollups recounted from the entries below
that head, so the two can only agree when the log and the report do. A year, a quarter or a
month takes its marks from its year's one decision (`release`); a range of days, which only
staff see, is decided alone. The JSON form is described by `report.schema.json` beside this
module; `model` reads and writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from ..audit import AuditEntry, Rollup, SignedTreeHead
from ..audit.checkpoint import format_time
from ..audit.note import Verifier
from ..datadir import DataDir
from ..policy.source import PolicyError, compile_policies
from ..policy.store import checked_state
from . import snapshot
from .model import (
    AsOf,
    CountedFrom,
    Headline,
    PolicyChange,
    PolicyNote,
    PublicReport,
    PublishedTable,
    Shown,
)
from .provenance import IMPORTED, FileMonth, files
from .release import Decided, decide, decided
from .stats import (
    ANY,
    GATEWAY,
    HEADLINE,
    HEADLINE_MEASURES,
    Cell,
    Period,
    PeriodError,
    SourceMonth,
    Table,
    tabulate,
)
from .suppress import DEFAULT_THRESHOLD, suppress


def build(data: DataDir, state: str, period: Period,
          threshold: int = DEFAULT_THRESHOLD) -> PublicReport:
    """The report as of the head reports use (the newest its witnesses all cosigned), from
    the rollups (no rescan)."""
    code = checked_state(data, state)
    found = snapshot.read(data, code, scope(period))
    return assemble(code, period, found.head, found.log_key, found.witnesses, threshold,
                    found.rollups, found.policy_changes, imported=found.imported)


def scope(period: Period) -> Period:
    """The counts a period's marks are decided from: its year's, or a range's own."""
    return period.year if period.published else period


def assemble(state: str, period: Period, head: SignedTreeHead, log_key: Verifier,
             witnesses: Sequence[Verifier], threshold: int, rollups: list[Rollup],
             changes: list[AuditEntry], *, kept: bool = True,
             imported: Sequence[FileMonth] = ()) -> PublicReport:
    """The report from the rollups of its `scope` as of `head`, and the requests its scope
    read from imported files, by month. `kept` reuses a year's decision made before for the
    same counts (`verify` decides again)."""
    through = head_day(head)
    if through < period.first:
        raise PeriodError(f"period {period.label} begins after {state}'s latest signed head "
                          f"({through.isoformat()})")
    headline = None
    sources = snapshot.sources(imported)
    if period.published:
        release = (decided if kept else decide)(rollups, period.year, through, threshold,
                                                sources)
        found = release.of(period)
        if period.kind == "year":
            headline = _headline(found)
    else:
        found = _alone(rollups, period, through, threshold, sources)

    def shown(table: Table, row: str = ANY, column: str = ANY) -> Shown:
        return found.shown(table.cell(row, column))

    tables = tuple(PublishedTable(
        t.id, t.title, t.measure, t.row_dimension, t.rows, t.column_dimension, t.columns,
        tuple(tuple(shown(t, r, c) for c in t.columns) for r in t.rows),
        tuple(shown(t, r) for r in t.rows), tuple(shown(t, column=c) for c in t.columns),
        shown(t)) for t in found.tabulation.tables)
    h = head.head
    as_of = AsOf(h.origin, h.size, h.root.hex(), format_time(h.time_us), head.note(),
                 log_key.vkey, tuple(w.vkey for w in witnesses))
    return PublicReport(state, period, as_of, threshold, tables,
                        _policy_changes(changes, period), headline,
                        _counted_from(found, imported))


def head_day(head: SignedTreeHead) -> date:
    """The day (UTC) the head was signed: a period is counted up to it."""
    return datetime.fromtimestamp(head.head.time_us / 1e6, UTC).date()


def _alone(rollups: list[Rollup], period: Period, through: date, threshold: int,
           sources: Sequence[SourceMonth]) -> Decided:
    """A range of days decided on its own: for staff, never published beside the others."""
    tab = tabulate(rollups, period.months(through), sources=sources)
    hidden = suppress(tab.counts, tab.equations, threshold, keep=tab.ranks)
    return Decided(tab, {cell: mark for cell in tab.counts
                         if (mark := hidden.mark(cell)) is not None})


def _counted_from(found: Decided, imported: Sequence[FileMonth]) -> tuple[CountedFrom, ...]:
    """Each imported file, oldest import first, then the gateway, with the period's requests
    from it as its row of `requests-by-source` shows them; those with none are left out."""
    table = next((t for t in found.tabulation.tables if t.row_dimension == "source"), None)
    if table is None:
        return ()
    named = [(f.label, IMPORTED, f.sha256, f.imported_on) for f in files(imported)]
    named.append((GATEWAY, GATEWAY, "", ""))
    counted = (CountedFrom(*row, found.shown(table.cell(row[0]))) for row in named
               if row[0] in table.rows)
    return tuple(c for c in counted if c.requests != 0)


def _headline(year: Decided) -> Headline:
    requests, disclosures = (tuple(year.shown(Cell(measure, category)) for category in HEADLINE)
                             for measure in HEADLINE_MEASURES)
    return Headline(HEADLINE, requests, disclosures)


def _policy_changes(entries: list[AuditEntry], period: Period) -> tuple[PolicyChange, ...]:
    """Changes that took effect in the period, as policies added, removed or changed. Who made
    a change and the note they wrote are left out: they may name a person."""
    found: list[PolicyChange] = []
    before: dict[str, PolicyNote] = {}
    for entry in entries:
        body = entry.body
        if "failed" in body or not isinstance(body.get("text"), str):
            continue  # a change that was not installed
        after = _notes(body["text"])
        if period.start_us <= entry.time_us < period.end_us:
            found.append(PolicyChange(
                format_time(entry.time_us), str(body.get("new_version", "")),
                tuple(after[i] for i in sorted(after.keys() - before.keys())),
                tuple(before[i] for i in sorted(before.keys() - after.keys())),
                tuple(after[i] for i in sorted(after.keys() & before.keys())
                      if after[i] != before[i])))
        before = after
    return tuple(found)


def _notes(text: str) -> dict[str, PolicyNote]:
    try:
        source = compile_policies(text)
    except PolicyError:
        return {}  # a text this version cannot read: its changes are not itemised
    return {p.id: PolicyNote(p.id, p.effect, p.reason) for p in source.policies}


