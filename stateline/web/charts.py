"""Overview charts drawn by matplotlib as inline SVG: no script, readable printed, and the same
counts always give the same bytes (fixed hash salt, no date in the metadata)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

from ..audit import Rollup
from ..transparency.charts import svg as page_svg

OUTCOMES = ("released", "partial", "no-record", "held", "denied", "error")
COLOURS = {"released": "#1b7837", "partial": "#7fbf7b", "no-record": "#bababa",
           "held": "#2166ac", "denied": "#b2182b", "error": "#404040"}
"""Colour-blind-safe pairs; the legend names every colour."""
COUNTED = ("decision", "imported", "review")
"""Rollup kinds that are requests answered: first-hand (live, or imported from the state
switch's records on the day they were made) or after review."""
MOST_DAYS = 62
"""More days than this are drawn as weeks."""

_RC: dict[Any, Any] = {"svg.hashsalt": "stateline", "svg.fonttype": "none", "font.size": 9,
       "axes.spines.top": False, "axes.spines.right": False}


def svg(figure: Figure) -> str:
    """Call it inside the rc_context the figure was drawn in."""
    return page_svg(figure, {}, tight=True)


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def counted(rollups: Iterable[Rollup]) -> list[Rollup]:
    return [r for r in rollups if r.kind in COUNTED and r.outcome]


def _buckets(days: Sequence[str]) -> dict[str, str]:
    """Each day to the label it is drawn under: itself, or its week's Monday."""
    if len(set(days)) <= MOST_DAYS:
        return {day: day for day in days}
    return {day: (date.fromisoformat(day) - timedelta(days=date.fromisoformat(day).weekday())
                  ).isoformat() for day in days}


def volume_over_time(rollups: Iterable[Rollup], title: str) -> str:
    """Requests per day (or week), stacked by outcome."""
    with rc_context(_RC):
        return _volume_over_time(rollups, title)


def _volume_over_time(rollups: Iterable[Rollup], title: str) -> str:
    rows = counted(rollups)
    bucket = _buckets([r.day for r in rows])
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for r in rows:
        if r.outcome in OUTCOMES:
            totals[bucket[r.day]][r.outcome] += r.entries
    labels = sorted(totals)
    figure = _figure(7.5, 2.8)
    axes = figure.add_subplot()
    bottom = [0] * len(labels)
    for outcome in OUTCOMES:
        heights = [totals[label][outcome] for label in labels]
        if any(heights):
            axes.bar(range(len(labels)), heights, bottom=bottom, color=COLOURS[outcome],
                     label=outcome, width=0.85)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    step = max(1, len(labels) // 10)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=30, ha="right")
    axes.set_ylabel("requests" + (" per week" if labels != sorted(set(bucket)) else ""))
    axes.set_title(title, loc="left")
    if labels:
        axes.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    else:
        axes.text(0.5, 0.5, "no requests yet", ha="center", va="center",
                  transform=axes.transAxes)
    return svg(figure)


def outcomes_by_category(rollups: Iterable[Rollup], title: str) -> str:
    """Requests per requester category, stacked by outcome, largest first."""
    with rc_context(_RC):
        return _outcomes_by_category(rollups, title)


def _outcomes_by_category(rollups: Iterable[Rollup], title: str) -> str:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    for r in counted(rollups):
        if r.outcome in OUTCOMES:
            totals[r.category or "(none)"][r.outcome] += r.entries
    names = sorted(totals, key=lambda c: (sum(totals[c].values()), c))
    figure = _figure(7.5, 0.6 + 0.32 * max(len(names), 1))
    axes = figure.add_subplot()
    left = [0] * len(names)
    for outcome in OUTCOMES:
        widths = [totals[name][outcome] for name in names]
        if any(widths):
            axes.barh(range(len(names)), widths, left=left, color=COLOURS[outcome],
                      label=outcome, height=0.7)
            left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_yticks(range(len(names)), names)
    axes.set_xlabel("requests")
    axes.set_title(title, loc="left")
    if names:
        axes.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    return svg(figure)
