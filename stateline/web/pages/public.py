"""Reports: the state's public statistics (open to everyone under /public/, no sign-in) and,
for signed-in staff, the same reports and the leadership briefing. Both are made by the
transparency room; these pages only serve them."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...errors import Side
from ..errors import NotFound, WebError
from ..grants import Permission
from ..guard import Dashboard
from ..render import HEADERS, page


class NotAvailable(WebError):
    status, code, side = 503, "not-available", Side.SYSTEM


def _module(name: str) -> Any:
    """A transparency module, or None where this installation has none."""
    try:
        return importlib.import_module(f"stateline.transparency.{name}")
    except ImportError:
        return None


def periods(board: Dashboard, state: str) -> list[str]:
    """Years the state can report on (requests below its latest signed head), newest first."""
    snapshot = _module("snapshot")
    if snapshot is None:
        return []
    try:
        with snapshot.opened(board.data, state) as db:
            years: list[str] = list(snapshot.years(db))
    except snapshot.SnapshotError:
        return []
    return sorted(years, reverse=True)


def report_html(board: Dashboard, state: str, period: str) -> str:
    report, stats, html = _module("report"), _module("stats"), _module("html")
    if report is None or stats is None or html is None:
        raise NotAvailable("reports are not available in this installation")
    if period[:4] not in periods(board, state):
        raise NotFound(f"no {state} report for {period!r}: no requests were logged then")
    try:
        built = report.build(board.data, state, stats.parse_period(period))
    except (stats.PeriodError, _module("snapshot").SnapshotError) as error:
        raise NotFound(f"no {state} report for {period!r}: {error}") from None
    text: str = html.render(built, {"all reports": "/public/"})
    return text


def briefing_html(board: Dashboard, state: str) -> str:
    briefing = _module("briefing")
    if briefing is None:
        raise NotAvailable("the briefing is not available in this installation")
    text: str = briefing.render(briefing.briefing(board.data, state))
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
    async def public_report(state: str, period: str) -> Response:
        code = board.state(state)
        text = await run_in_threadpool(report_html, board, code, period.removesuffix(".html"))
        return HTMLResponse(text, headers=HEADERS)

    @router.get("/states/{state}/reports")
    def reports_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        return page(visit, "reports.html", area="reports", periods=periods(board, code),
                    available=_module("report") is not None,
                    briefing=_module("briefing") is not None)

    @router.get("/states/{state}/briefing")
    async def briefing(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        text = await run_in_threadpool(briefing_html, board, visit.state or "")
        return HTMLResponse(text, headers=HEADERS)

    return router
