"""Notices owed to people whose records were asked for: due (overdue flagged), sent,
excepted; mark them mailed or excepted (audited by the notice book), print the letters."""

from __future__ import annotations

import sqlite3
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...audit import LogError, open_state_log
from ...errors import Side
from ...notices import FILTERS, Filter, NoticeBook, NoticeConfigError, NoticeError
from ...notices.letters import letters_html
from ..errors import WebError
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import HEADERS, page


class NoticesUnavailable(WebError):
    status, code, side = 503, "notices-unavailable", Side.SYSTEM


def _which(text: str) -> Filter:
    return next((name for name in FILTERS if name == text), "due")


def _book(board: Dashboard, state: str) -> NoticeBook:
    try:
        return NoticeBook(board.data, state)
    except NoticeConfigError as error:
        raise NoticesUnavailable(str(error)) from None


def _listing(board: Dashboard, visit: Visit, which: Filter, done: str = "",
             problem: str = "", status: int = 200) -> Response:
    with _book(board, visit.state or "") as book:
        today = book.today()
        found = book.notices(which, today)
        gaps = book.gaps()
        duty = book.duty
    return page(visit, "notices.html", status, area="notices", which=which, filters=FILTERS,
                notices=found, today=today, gaps=gaps, duty=duty, done=done, problem=problem,
                overdue=sum(n.overdue(today) for n in found))


def _act(board: Dashboard, visit: Visit, ids: list[str], reason: str | None,
         note: str) -> str:
    with _book(board, visit.state or "") as book, \
            open_state_log(board.data, book.state) as log:
        if reason is None:
            done = book.mark_sent(ids, visit.account.name, log)
            return f"{len(done)} notice(s) marked sent: " + ", ".join(n.id for n in done)
        one = book.mark_excepted(ids[0], reason, note, visit.account.name, log)
        return f"{one.id} excepted: {one.reason}."


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/notices")
    def notices_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.SEE_CASES)
        return _listing(board, visit, _which(request.query_params.get("status", "due")),
                        done=request.query_params.get("done", "")[:300])

    @router.get("/states/{state}/notices/letters")
    def letters(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.SEE_CASES)
        which = _which(request.query_params.get("status", "due"))
        with _book(board, visit.state or "") as book:
            today = book.today()
            text = letters_html(book.notices(which, today), book.duty, book.state, today)
        return HTMLResponse(text, headers=HEADERS)

    async def act(request: Request, state: str, excepted: bool) -> Response:
        visit, form = await board.acting(request, state, Permission.NOTICES)
        ids = form.all("id")
        try:
            done = await run_in_threadpool(_act, board, visit, ids,
                                           form.get("reason") if excepted else None,
                                           form.get("note"))
        except (NoticeError, LogError, sqlite3.Error) as error:
            return await run_in_threadpool(_listing, board, visit, "due", "",
                                           f"Nothing changed: {error}", 422)
        return RedirectResponse(f"/states/{visit.state}/notices?done={quote(done)}", 303,
                                headers=HEADERS)

    @router.post("/states/{state}/notices/sent")
    async def sent(request: Request, state: str) -> Response:
        return await act(request, state, excepted=False)

    @router.post("/states/{state}/notices/except")
    async def excepted(request: Request, state: str) -> Response:
        return await act(request, state, excepted=True)

    return router
