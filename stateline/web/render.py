"""Pages from Jinja2 templates with one base layout; every response carries headers that keep
it out of frames and caches and allow no script but the dashboard's own file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..directory.names import display_name

if TYPE_CHECKING:
    from .guard import Visit

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Inline SVG charts carry style attributes, hence 'unsafe-inline' for styles only."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def when_us(time_us: int) -> str:
    return f"{_EPOCH + timedelta(microseconds=time_us):%Y-%m-%d %H:%M:%S}"


def stamp(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def _svg(text: str) -> Markup:
    """A chart made here by matplotlib from counts: trusted markup, not user text."""
    return Markup(text)


environment = Environment(
    loader=PackageLoader("stateline.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(when_us=when_us, stamp=stamp, svg=_svg,
                           agency_name=display_name)


def render(name: str, **context: Any) -> str:
    return environment.get_template(name).render(**context)


def page(visit: Visit | None, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(name, visit=visit, **context), status, headers=HEADERS)


def fragment(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(render(name, **context), headers=HEADERS)


def plain_page(status: int, code: str, text: str, visit: Visit | None = None) -> HTMLResponse:
    """An error page; with the visit that was refused, its navigation too."""
    return page(visit, "error.html", status, code=code, text=text, http_status=status,
                area="")
