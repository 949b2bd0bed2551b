"""The briefing's charts, drawn by matplotlib as inline SVG: no script, readable printed in gray,
and the same counts always give the same bytes (fixed hash salt, no date in the metadata)."""

from __future__ import annotations

from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .briefing_counts import FederalRequesters, Volumes
from .charts import svg as page_svg
from .flag_rules import Weekly

_RC: dict[Any, Any] = {"svg.hashsalt": "stateline-briefing", "svg.fonttype": "none", "font.size": 8,
       "axes.spines.top": False, "axes.spines.right": False}
DISCLOSED = "#1b7837"
"""Green, as the dashboard draws answered requests; red means denied everywhere."""
PALETTE = ("#b2182b", "#ef8a62", "#d6604d", "#fddbc7", "#8c510a", "#5ab4ac", "#2166ac",
           "#67a9cf", "#bababa", "#404040")
"""Federal immigration categories first and warmest; the legend names every color."""
HATCHES = ("", "//", "..", "xx", "\\\\", "", "//", "..", "", "xx")
"""Patterns as well as colors, so a black-and-white print still tells bars apart."""


def svg(figure: Figure) -> str:
    return page_svg(figure, _RC, tight=True)


def _figure(width: float, height: float) -> Figure:
    with rc_context(_RC):
        return Figure(figsize=(width, height), layout="constrained")


def monthly(volumes: Volumes) -> str:
    """Requests per month over the last twelve months, stacked by category."""
    figure = _figure(7.0, 2.6)
    axes = figure.add_subplot()
    months = volumes.months
    bottom = [0] * len(months)
    for n, (category, counts) in enumerate(volumes.monthly.items()):
        axes.bar(range(len(months)), counts, bottom=bottom, label=category, width=0.8,
                 color=PALETTE[n % len(PALETTE)], hatch=HATCHES[n % len(HATCHES)],
                 edgecolor="white", linewidth=0.3)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xticks(range(len(months)), [m[2:] for m in months], rotation=30, ha="right")
    axes.set_ylabel("requests")
    axes.set_title("Requests per month by requester category (this month so far)", loc="left")
    if volumes.monthly:
        axes.legend(ncols=5, frameon=False, fontsize=7, loc="upper left",
                    bbox_to_anchor=(0, -0.22))
    else:
        _empty(axes)
    return svg(figure)


def years(volumes: Volumes) -> str:
    """This year so far against the same days of last year, by category."""
    rows = [row for row in volumes.years if row.last_year_to_date or row.this_year_to_date]
    figure = _figure(7.0, 0.25 * max(len(rows), 2) + 1.0)
    axes = figure.add_subplot()
    places = range(len(rows))
    axes.barh([p + 0.2 for p in places], [r.last_year_to_date for r in rows], height=0.4,
              color="#bababa", label=f"{volumes.today.year - 1}, same days")
    axes.barh([p - 0.2 for p in places], [r.this_year_to_date for r in rows], height=0.4,
              color="#2166ac", label=f"{volumes.today.year} so far")
    axes.set_yticks(list(places), [r.category for r in rows])
    axes.invert_yaxis()
    axes.set_xlabel("requests")
    axes.set_title(f"{volumes.today.year} so far against the same days of "
                   f"{volumes.today.year - 1}", loc="left")
    if rows:
        axes.legend(frameon=False, fontsize=7, ncols=2, loc="upper left",
                    bbox_to_anchor=(0, -0.12 - 0.6 / (len(rows) + 2)))
    else:
        _empty(axes)
    return svg(figure)


def federal(requesters: FederalRequesters) -> str:
    """Federal requests by component, answered and not."""
    rows = requesters.components
    figure = _figure(7.0, 0.22 * max(len(rows), 2) + 1.0)
    axes = figure.add_subplot()
    places = list(range(len(rows)))
    disclosed = [r.disclosed for r in rows]
    axes.barh(places, disclosed, color=DISCLOSED, label="records disclosed (answered)")
    axes.barh(places, [r.requests - d for r, d in zip(rows, disclosed, strict=True)],
              left=disclosed, color="#bababa", hatch="//", edgecolor="white",
              label="not disclosed (no record, denied, held, error)")
    axes.set_yticks(places, [r.component for r in rows])
    axes.invert_yaxis()
    axes.set_xlabel("requests in the last twelve months")
    axes.set_title("Federal requests by component", loc="left")
    if rows:
        axes.legend(frameon=False, fontsize=7, ncols=2, loc="upper left",
                    bbox_to_anchor=(0, -0.12 - 0.6 / (len(rows) + 2)))
    else:
        _empty(axes)
    return svg(figure)


def displaced(weekly: Weekly) -> str:
    """Each other federal and 287(g) category's requests week by week around a block: a
    rise after the dashed line is traffic that may have moved."""
    figure = _figure(7.0, 2.4)
    axes = figure.add_subplot()
    places = list(range(len(weekly.weeks)))
    shown = [(c, n) for c, n in weekly.counts.items() if any(n)]
    for k, (category, counts) in enumerate(shown):
        axes.plot(places, counts, label=category, color=PALETTE[k % len(PALETTE)],
                  marker="os^Dvx*"[k % 7], markersize=3, linewidth=1.2,
                  linestyle=("-", "--", ":", "-.")[k % 4])
    axes.axvline(weekly.before - 0.5, color="#404040", linestyle="--", linewidth=0.8)
    b = weekly.block
    axes.set_xticks(places, [f"{w:%m-%d}" for w in weekly.weeks], rotation=30, ha="right")
    axes.set_ylabel("requests a week")
    axes.set_title(f"Other federal and 287(g) requests around the {b.category} block of "
                   f"{b.day} ({b.how})", loc="left")
    if shown:
        axes.legend(frameon=False, fontsize=7, ncols=4, loc="upper left",
                    bbox_to_anchor=(0, -0.3))
    else:
        _empty(axes)
    return svg(figure)


def _empty(axes: Axes) -> None:
    axes.text(0.5, 0.5, "no requests in this period", ha="center", va="center",
              transform=axes.transAxes)
