"""A report's charts, drawn by matplotlib as inline SVG from the published cells only, so a chart
can never show more than the tables do. Black and gray with distinct markers and hatching, to
read the same printed; text stays text; a fixed hash salt and no date make the bytes repeatable.
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .model import PublicReport, PublishedTable, Shown

SERIES = (("ICE", "-", "o"), ("HSI", "--", "s"), ("CBP", ":", "^"))
"""The categories the monthly chart follows: the letter to governors asks for ICE and HSI."""

_RC: dict[Any, Any] = {"svg.hashsalt": "stateline", "svg.fonttype": "none", "font.size": 9,
       "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False}


def svg(figure: Figure, rc: dict[Any, Any] | None = None, *, tight: bool = False) -> str:
    """The figure as an <svg> element without the XML prologue, to sit inside a page; the
    same bytes for the same figure (no date, a fixed hash salt), so pages can be compared."""
    out = io.StringIO()
    settings: dict[Any, Any] = _RC if rc is None else rc
    with rc_context(settings):
        figure.savefig(out, format="svg", metadata={"Date": None},
                       bbox_inches="tight" if tight else None)
    text = out.getvalue()
    return text[text.index("<svg"):]


def monthly(report: PublicReport) -> str | None:
    """Requests each month from ICE, HSI and CBP: small counts as an open marker on a 1-9
    bar, withheld months left out. None for a report of a single month."""
    table = next((t for t in report.tables if t.id == "requests-by-month"), None)
    if table is None:
        return None
    with rc_context(_RC):
        figure = Figure(figsize=(7.2, 2.8), layout="constrained")
        axes = figure.add_subplot()
        for name, style, marker in SERIES:
            if name not in table.columns:
                continue
            column = table.columns.index(name)
            values = [row[column] for row in table.cells]
            shown = [v if isinstance(v, int) else None for v in values]
            axes.plot(range(len(values)), [float("nan") if v is None else v for v in shown],
                      linestyle=style, marker=marker, color="black", label=name)
            small = [i for i, v in enumerate(values) if v == _small(report)]
            if small:
                axes.errorbar(small, [5] * len(small), yerr=4, fmt=marker, color="gray",
                              markerfacecolor="white", capsize=2)
        axes.set_xticks(range(len(table.rows)), _month_labels(table.rows))
        axes.set_ylim(bottom=0)
        axes.set_ylabel("requests")
        axes.set_title("Requests each month", loc="left")
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return svg(figure)


def by_category(report: PublicReport) -> str:
    """Requests and disclosures per requester over the period, marks written in place of
    bars that cannot be shown."""
    requests = report.table("requests-by-category-and-outcome")
    disclosures = report.table("disclosures-by-category-and-group")
    names = requests.rows
    with rc_context(_RC):
        figure = Figure(figsize=(7.2, 0.4 * len(names) + 1.1), layout="constrained")
        axes = figure.add_subplot()
        top = max([v for v in (*requests.row_totals, *disclosures.row_totals)
                   if isinstance(v, int)], default=0) or 1
        for offset, table, hatch, label in ((-0.2, requests, "", "requests"),
                                            (0.2, disclosures, "////", "disclosures")):
            _bars(axes, _totals(table, names), offset, hatch, label, top)
        axes.set_yticks(range(len(names)), names)
        axes.invert_yaxis()
        axes.set_xlim(0, top * 1.18)
        axes.set_xlabel(f"{report.period.label}")
        axes.set_title("Requests and disclosures by requester", loc="left")
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return svg(figure)


def _totals(table: PublishedTable, names: Sequence[str]) -> list[Shown]:
    return [table.row_totals[table.rows.index(n)] if n in table.rows else 0 for n in names]


def _bars(axes: Axes, values: Sequence[Shown], offset: float, hatch: str, label: str,
          top: int) -> None:
    places = [i + offset for i in range(len(values))]
    widths = [v if isinstance(v, int) else 0 for v in values]
    axes.barh(places, widths, height=0.38, color="white" if hatch else "0.35",
              edgecolor="black", hatch=hatch, linewidth=0.6, label=label)
    for place, value in zip(places, values, strict=True):
        text = f"{value:,}" if isinstance(value, int) else value
        axes.text((value if isinstance(value, int) else 0) + top * 0.01, place, text,
                  va="center", fontsize=7)


def _month_labels(months: Sequence[str]) -> list[str]:
    """Jan, Feb, ...; the year under the first month and under every January."""
    return [calendar.month_abbr[int(m[5:])] + (f"\n{m[:4]}" if n == 0 or m.endswith("-01")
                                               else "") for n, m in enumerate(months)]


def _small(report: PublicReport) -> str:
    return f"<{report.threshold}"
