"""Reports: the state's public statistics (open to everyone under /public/, no sign-in) and,
for signed-in staff, the same reports, copies for ranges of days, and the leadership briefing.

Under /public/ only what a year's one decision covers is served: a year, a quarter or a month,
as HTML, JSON or CSV, with the schema; and what anyone needs to check them without the log:
the checkpoint reports are computed from, the log's key, and consistency proofs between any
two sizes up to its latest signed head. Everything is read from the log read-only. The
transparency room makes all of it; these pages only serve it.
"""

from __future__ import annotations

import base64
import importlib
import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ...audit.merkle import ProofError
from ...errors import Side
from ..errors import NotFound, WebError
from ..grants import Permission
from ..guard import Dashboard
from ..render import HEADERS, page


class NotAvailable(WebError):
    status, code, side = 503, "not-available", Side.SYSTEM


class NotPublished(NotFound):
    """A period the public pages do not serve: a range of days, or one with no report."""


FORMATS: dict[str, tuple[str, str]] = {
    "": ("html", "text/html; charset=utf-8"),
    ".html": ("html", "text/html; charset=utf-8"),
    ".json": ("json", "application/json"),
    ".csv": ("csv", "text/csv; charset=utf-8"),
}
"""What a report's address ends in, the form it is served in, and its media type."""

OPEN = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache"}
"""Headers of public data: any site or script may read it; a cache asks again."""

_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


def _module(name: str) -> Any:
    """A transparency module, or None where this installation has none."""
    try:
        return importlib.import_module(f"stateline.transparency.{name}")
    except ImportError:
        return None


def _needed(name: str) -> Any:
    module = _module(name)
    if module is None:
        raise NotAvailable("reports are not available in this installation")
    return module


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


def published(board: Dashboard, state: str) -> str:
    """The periods a state publishes, for a refusal to name."""
    years = periods(board, state)
    if not years:
        return f"{state} publishes no report yet"
    return (f"{state} publishes years ({', '.join(years)}), their quarters (e.g. {years[0]}-Q1) "
            f"and their months (e.g. {years[0]}-01)")


def report_text(board: Dashboard, state: str, period: str, form: str = "html",
                staff: bool = False) -> str:
    """A report in one of its forms. The public get a year, a quarter or a month; `staff`
    may also ask for a range of days, which is never published."""
    report, stats, snapshot = _needed("report"), _needed("stats"), _needed("snapshot")
    try:
        wanted = stats.parse_period(period)
    except stats.PeriodError as error:
        if staff:
            raise
        raise NotPublished(f"no {state} report for {period[:40]!r}: {error}; "
                           f"{published(board, state)}") from None
    if not staff and not wanted.published:
        raise NotPublished(f"no {state} report for {period[:40]!r}: ranges of days are not "
                           f"published, because overlapping ranges could be subtracted to work "
                           f"out counts that are withheld; {published(board, state)}")
    if str(wanted.first.year) not in periods(board, state):
        raise NotPublished(f"no {state} report for {period!r}: no requests were logged then; "
                           f"{published(board, state)}")
    try:
        built = report.build(board.data, state, wanted)
    except stats.PeriodError as error:
        raise NotPublished(f"no {state} report for {period!r}: {error}") from None
    except snapshot.SnapshotError as error:
        raise NotAvailable(f"no {state} report for {period!r} now: {error}") from None
    return _render(form, built, wanted.label, staff)


def _render(form: str, built: Any, label: str, staff: bool) -> str:
    if form == "json":
        text: str = _needed("model").dumps(built)
    elif form == "csv":
        text = _needed("csv").render(built)
    elif staff:
        text = _needed("html").render(built, staff=not built.period.published)
    else:
        text = _needed("html").render(built, {"JSON": f"{label}.json", "CSV": f"{label}.csv",
                                              "checkpoint": "checkpoint",
                                              "all reports": "/public/"})
    return text


def checkpoint_text(board: Dashboard, state: str) -> str:
    """The checkpoint reports are computed from, with its witnesses' cosignature lines."""
    snapshot = _needed("snapshot")
    try:
        text: str = snapshot.checkpoint(board.data, state).head.note()
    except snapshot.SnapshotError as error:
        raise NotAvailable(str(error)) from None
    return text


def key_text(board: Dashboard, state: str) -> str:
    """The log's verifier keys, one a line, oldest first (more than one after a rotation)."""
    snapshot = _needed("snapshot")
    try:
        keys = snapshot.log_keys(board.data, state)
    except snapshot.SnapshotError as error:
        raise NotAvailable(str(error)) from None
    return "".join(f"{key.vkey}\n" for key in keys)


def proof_text(board: Dashboard, state: str, old: str | None, new: str | None) -> str:
    """The RFC 6962 consistency proof from size `old` to `new`, one base64 hash a line;
    `new` at most the latest signed size, so nothing unsigned is vouched for."""
    sizes = []
    for name, given in (("old", old), ("new", new)):
        if given is None or not _SIZE.fullmatch(given):
            raise ProofError(f"{name} must be a size: a whole number without leading "
                                  "zeros, e.g. ?old=100&new=250")
        sizes.append(int(given))
    first, second = sizes
    if first > second:
        raise ProofError(f"old ({first}) must not be larger than new ({second})")
    snapshot, audit = _needed("snapshot"), importlib.import_module("stateline.audit")
    try:
        signed = snapshot.signed_size(board.data, state)
    except snapshot.SnapshotError as error:
        raise NotAvailable(str(error)) from None
    if second > signed:
        raise NotFound(f"{state}'s latest signed checkpoint has {signed} entries; new must "
                       "not be larger")
    log = audit.read_state_log(board.data, state)
    if log is None:
        raise NotAvailable(f"{state} has no audit log")
    with log:
        proof: list[bytes] = log.growth_proof(first, second)
    return "".join(base64.b64encode(node).decode() + "\n" for node in proof)


def briefing_html(board: Dashboard, state: str) -> str:
    briefing = _module("briefing")
    if briefing is None:
        raise NotAvailable("the briefing is not available in this installation")
    text: str = briefing.render(briefing.briefing(board.data, state), f"/states/{state}/")
    return text


def _split(name: str) -> tuple[str, str]:
    """A report's address as its period and its ending (.html, .json, .csv or none)."""
    for ending in (".html", ".json", ".csv"):
        if name.endswith(ending):
            return name.removesuffix(ending), ending
    return name, ""


async def _served(make: Callable[..., str], *args: Any, media: str) -> Response:
    text = await run_in_threadpool(make, *args)
    return Response(text, media_type=media, headers=OPEN)


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/public/")
    def public_index() -> Response:
        listed = [(code, periods(board, code)) for code in board.data.states()]
        return page(None, "public.html", states=listed)

    @router.get("/public")
    def public_bare() -> Response:
        return public_index()

    @router.get("/public/report.schema.json")
    def schema() -> Response:
        text = _needed("model").schema_text()
        return Response(text, media_type="application/schema+json", headers=OPEN)

    @router.get("/public/{state}/checkpoint")
    async def checkpoint(state: str) -> Response:
        return await _served(checkpoint_text, board, board.state(state),
                             media="text/plain; charset=utf-8")

    @router.get("/public/{state}/key")
    async def key(state: str) -> Response:
        return await _served(key_text, board, board.state(state),
                             media="text/plain; charset=utf-8")

    @router.get("/public/{state}/proof/consistency")
    async def consistency(request: Request, state: str) -> Response:
        code = board.state(state)
        asked = request.query_params
        return await _served(proof_text, board, code, asked.get("old"), asked.get("new"),
                             media="text/plain; charset=utf-8")

    @router.get("/public/{state}/{name}")
    async def public_report(state: str, name: str) -> Response:
        code = board.state(state)
        period, ending = _split(name)
        form, media = FORMATS[ending]
        text = await run_in_threadpool(report_text, board, code, period, form)
        headers = HEADERS if form == "html" else OPEN
        return Response(text, media_type=media, headers=headers)

    @router.get("/states/{state}/reports")
    async def reports_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        period = request.query_params.get("period")
        if period:
            text = await run_in_threadpool(report_text, board, code, period, "html", True)
            return HTMLResponse(text, headers=HEADERS)
        return page(visit, "reports.html", area="reports", periods=periods(board, code),
                    available=_module("report") is not None,
                    briefing=_module("briefing") is not None)

    @router.get("/states/{state}/briefing")
    async def briefing(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        text = await run_in_threadpool(briefing_html, board, visit.state or "")
        return HTMLResponse(text, headers=HEADERS)

    return router
