"""A state's public report for a period: its tables with small counts protected, the policy
changes made in the period, and the signed tree head it was computed from.

`assemble` is the one place a report is put together, from rollups: `build` feeds it the
rollups read at the latest signed head, `verify` the rollups recounted from the entries below
that head, so the two can only agree when the log and the report do. The JSON form is described
by `report.schema.json` beside this module; `model` reads and writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..audit import AuditEntry, Rollup, SignedTreeHead
from ..audit.checkpoint import format_time, verifier_key
from ..datadir import DataDir
from ..policy.source import PolicyError, compile_policies
from ..policy.store import checked_state
from . import snapshot
from .model import AsOf, PolicyChange, PolicyNote, PublicReport, PublishedTable, Shown
from .stats import ANY, Period, PeriodError, Table, tabulate
from .suppress import DEFAULT_THRESHOLD, suppress


def build(data: DataDir, state: str, period: Period,
          threshold: int = DEFAULT_THRESHOLD) -> PublicReport:
    """The report as of the state's latest signed head, from the rollups (no rescan)."""
    code = checked_state(data, state)
    found = snapshot.read(data, code, period)
    return assemble(code, period, found.head, snapshot.public_key(data, code), threshold,
                    found.rollups, found.policy_changes)


def assemble(state: str, period: Period, head: SignedTreeHead, key: Ed25519PublicKey,
             threshold: int, rollups: list[Rollup],
             changes: list[AuditEntry]) -> PublicReport:
    through = datetime.fromtimestamp(head.head.time_us / 1e6, UTC).date()
    if through < period.first:
        raise PeriodError(f"period {period.label} begins after {state}'s latest signed head "
                          f"({through.isoformat()})")
    tab = tabulate(rollups, period.months(through))
    hidden = suppress(tab.counts, tab.equations, threshold, keep=tab.headline)

    def shown(table: Table, row: str = ANY, column: str = ANY) -> Shown:
        cell = table.cell(row, column)
        mark = hidden.mark(cell)
        return tab.counts[cell] if mark is None else mark

    tables = tuple(PublishedTable(
        t.id, t.title, t.measure, t.row_dimension, t.rows, t.column_dimension, t.columns,
        tuple(tuple(shown(t, r, c) for c in t.columns) for r in t.rows),
        tuple(shown(t, r) for r in t.rows), tuple(shown(t, column=c) for c in t.columns),
        shown(t)) for t in tab.tables)
    h = head.head
    as_of = AsOf(h.origin, h.size, h.root.hex(), format_time(h.time_us), head.note(),
                 verifier_key(h.origin, key))
    return PublicReport(state, period, as_of, threshold, tables,
                        _policy_changes(changes, period))


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


