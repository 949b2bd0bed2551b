"""Reports: the state's public statistics (open to everyone under /public/, no sign-in) and,
for signed-in staff, the same reports and the leadership briefing."""

from __future__ import annotations

import importlib
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..errors import NotFound
from ..grants import Permission
from ..guard import Dashboard
from ..render import HEADERS, page
from .overview import rollups

_PERIOD = re.compile(r"\d{4}(-\d{2})?")


def _module(name: str) -> Any:
    try:
        return importlib.import_module(f"stateline.transparency.{name}")
    except ImportError:
        return None


def periods(board: Dashboard, state: str) -> list[str]:
    """Years with recorded requests, newest first."""
    days = {r.day[:4] for r in rollups(board, state, days=366 * 5)}
    return sorted(days, reverse=True)


def report_html(board: Dashboard, state: str, period: str) -> str | None:
    module = _module("report")
    if module is None or not _PERIOD.fullmatch(period):
        return None
    text: str = module.report_html(board.data, state, period)
    return text


def briefing_html(board: Dashboard, state: str) -> str | None:
    module = _module("briefing")
    if module is None:
        return None
    text: str = module.briefing_html(board.data, state)
    return text


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/public/")
    def public_index() -> Response:
        listed = [(code, periods(board, code)) for code in board.data.states()]
        return page(None, "public.html", states=listed)

    @router.get("/public")
    def public_bare() -> Response:
        return public_index()

    @router.get("/public/{state}/{period}")
    def public_report(state: str, period: str) -> Response:
        code = board.state(state)
        text = report_html(board, code, period)
        if text is None:
            raise NotFound(f"no published {code} report for {period}")
        return HTMLResponse(text, headers=HEADERS)

    @router.get("/states/{state}/reports")
    def reports_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        return page(visit, "reports.html", area="reports", periods=periods(board, code),
                    available=_module("report") is not None,
                    briefing=_module("briefing") is not None)

    @router.get("/states/{state}/briefing")
    def briefing(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        text = briefing_html(board, visit.state or "")
        if text is None:
            raise NotFound("the briefing is not available in this installation")
        return HTMLResponse(text, headers=HEADERS)

    return router
