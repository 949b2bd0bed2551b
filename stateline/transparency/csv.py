"""A report as one CSV file in long form, a row per published count: easy to load into a
spreadsheet or a data frame, with the same marks as the JSON for counts not shown. Where some
requests were imported from the state switch's records, "about" rows say so file by file. Text cells
a spreadsheet would run as formulas (a policy's reason, say) are quoted as the directory's
export quotes them."""

from __future__ import annotations

import csv
import io

from ..directory.csvio import spreadsheet_cell
from .model import PublicReport

HEADER = ("table", "measure", "row_dimension", "row", "column_dimension", "column", "value")
TOTAL = "total"


def render(report: PublicReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    a = report.as_of
    for name, value in (("state", report.state), ("period", report.period.label),
                        ("first", report.period.first.isoformat()),
                        ("last", report.period.last.isoformat()), ("as_of_size", a.size),
                        ("as_of_root", a.root), ("as_of_time", a.time),
                        ("verifier_key", a.verifier_key), ("threshold", report.threshold)):
        writer.writerow(_cells("about", "", "", name, "", "", value))
    for n, key in enumerate(a.witnesses):
        writer.writerow(_cells("about", "", "", f"witness_{n + 1}", "", "", key))
    for n, source in enumerate(report.sources):
        writer.writerow(_cells("about", "", "", f"source_{n + 1}", "", "", source.said()))
        if source.sha256:
            writer.writerow(_cells("about", "", "", f"source_{n + 1}_sha256", "", "",
                                   source.sha256))
        day = ("imported on", source.imported_on) if source.imported_on else ("", "")
        writer.writerow(_cells("sources", "requests", "source", source.label, *day,
                               source.requests))
    if report.headline is not None:
        h = report.headline
        for measure, values in (("requests", h.requests), ("disclosures", h.disclosures)):
            for category, value in zip(h.categories, values, strict=True):
                writer.writerow(_cells("headline", measure, "category", category, "", "",
                                       value))
    for t in report.tables:
        rows = (*t.rows, TOTAL)
        grid = [*t.cells, t.column_totals]
        totals = (*t.row_totals, t.total)
        for row, values, total in zip(rows, grid, totals, strict=True):
            for column, value in zip((*t.columns, TOTAL), (*values, total), strict=True):
                writer.writerow(_cells(t.id, t.measure, t.row_dimension, row,
                                       t.column_dimension, column, value))
    for change in report.policy_changes:
        for label, notes in (("added", change.added), ("removed", change.removed),
                             ("changed", change.changed)):
            for note in notes:
                writer.writerow(_cells("policy-changes", "", "time", change.time, label,
                                       note.id, note.reason))
    return out.getvalue()


def _cells(*row: object) -> list[object]:
    """Text cells through `spreadsheet_cell`; numbers stay numbers."""
    return [spreadsheet_cell(c) if isinstance(c, str) else c for c in row]
