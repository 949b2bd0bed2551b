"""A report as one HTML page: the headline, tables, charts as inline SVG, the method, the
cosigned checkpoint and how anyone checks it. No script and no outside file, so it prints and
can be published as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..audit.checkpoint import parse_time
from ..protocol import STATES
from . import charts
from .model import CHECK, DEFINITIONS, PublicReport, Shown


@dataclass(frozen=True, slots=True)
class Glance:
    label: str
    values: tuple[Shown, ...]


GLANCE = ("requests", "held", "disclosures", "photos released", "records disclosed")


def _count(value: Shown) -> Markup:
    if isinstance(value, int):
        return Markup(f"{value:,}")
    return Markup('<span class="mark">{}</span>').format(value)


def _svg(text: str) -> Markup:
    """A chart drawn here by matplotlib from published counts: trusted markup."""
    return Markup(text)


_ENV = Environment(
    loader=PackageLoader("stateline.transparency", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)
_ENV.filters.update(count=_count, svg=_svg)


def glance(report: PublicReport) -> list[Glance]:
    """Per requester: the headline numbers, each already published in one of the tables."""
    requests = report.table("requests-by-category-and-outcome")
    disclosed = report.table("disclosures-by-category-and-group")
    photos = report.table("photos-by-category-and-group")
    records = report.table("records-by-category-and-group")
    held = requests.columns.index("held")
    rows = [Glance(name, (requests.row_totals[i], requests.cells[i][held],
                          disclosed.row_totals[i], photos.row_totals[i], records.row_totals[i]))
            for i, name in enumerate(requests.rows)]
    rows.append(Glance("all requesters", (requests.total, requests.column_totals[held],
                                          disclosed.total, photos.total, records.total)))
    return rows


def render(report: PublicReport, downloads: Mapping[str, str] | None = None,
           staff: bool = False) -> str:
    """The report page; `downloads` names the JSON and CSV beside it when published. A
    `staff` copy (a range of days) says it is not for publication."""
    through = datetime.fromtimestamp(parse_time(report.as_of.time) / 1e6, UTC).date()
    return _ENV.get_template("report.html").render(
        r=report, state_name=STATES.get(report.state, report.state), through=str(through),
        glance=glance(report), glance_columns=GLANCE, definitions=DEFINITIONS,
        chart_months=charts.monthly(report), chart_categories=charts.by_category(report),
        downloads=downloads or {}, staff=staff, check=CHECK)


@dataclass(frozen=True, slots=True)
class Listed:
    """One report on the site's index page."""

    state: str
    period: str
    requests: Shown
    ice: Shown
    hsi: Shown
    files: Mapping[str, str]


def index(listed: Sequence[Listed], title: str = "Stateline public statistics") -> str:
    return _ENV.get_template("site.html").render(
        title=title, listed=listed, states=STATES)
