"""Sign in and out. Every attempt that is checked is audited, success or not, in the log of each
state the account answers for (a failure in every state's); the answer never says
whether a name exists."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...audit.records import LoginRecord
from ...policy.store import StateError
from ..accounts import Account
from ..errors import CsrfRefused, Forbidden, Throttled
from ..forms import read_form
from ..grants import Permission
from ..guard import Dashboard, client_ip, same_site
from ..render import HEADERS, page
from ..sessions import COOKIE, LOGIN_COOKIE, LONGEST
from .overview import states_page

FAILED_PAUSE = 0.3
"""Seconds a failed sign-in waits before it is answered."""


def _local(target: str) -> str:
    """Only a path on this site is followed after sign-in, never another site's address."""
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/"


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def login_form(request: Request, problem: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(None, "login.html", status, token=token, problem=problem,
                        next=_local(request.query_params.get("next", "/")))
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https",
                            path="/login")
        return response

    @router.get("/login")
    def login_page(request: Request) -> Response:
        return login_form(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        same_site(request)
        form = await read_form(request)
        given, cookie = form.get("token"), request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
            raise CsrfRefused("the sign-in form has expired; reload it and try again")
        name, ip = form.get("name").strip().lower()[:64], client_ip(request)
        try:
            board.throttle.check(name, ip)
        except Throttled as error:
            return login_form(request, error.text, 429)
        account = await run_in_threadpool(board.sessions.accounts.check, name,
                                          form.get("password"))
        try:
            await run_in_threadpool(_audit_login, board, account, name, ip)
        except StateError as error:
            return login_form(request, f"Sign-in is unavailable: {error}", 503)
        if account is None:
            board.throttle.failed(name, ip)
            await asyncio.sleep(FAILED_PAUSE)
            return login_form(request, "That name and password do not match an account.", 401)
        board.throttle.cleared(name)
        token = await run_in_threadpool(board.sessions.start, account)
        response = RedirectResponse(_local(form.get("next", "/")), 303, headers=HEADERS)
        response.set_cookie(COOKIE, token, max_age=int(LONGEST.total_seconds()), httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        visit, _ = await board.acting(request, None, Permission.READ)
        record = _record(visit.account, visit.account.name, "signed-out", client_ip(request))
        await run_in_threadpool(board.audit_all, visit.states, *record.for_log())
        await run_in_threadpool(board.sessions.end, request.cookies.get(COOKIE))
        response = RedirectResponse("/login", 303, headers=HEADERS)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/")
    def home(request: Request) -> Response:
        visit = board.visit(request, None, Permission.READ)
        states = visit.states
        if len(states) == 1:
            return RedirectResponse(f"/states/{states[0]}/", 303)
        if not states:
            raise Forbidden(f"account {visit.account.name} answers for no state here")
        return states_page(board, visit)

    return router


def _record(account: Account | None, name: str, outcome: str, ip: str) -> LoginRecord:
    return LoginRecord(time=datetime.now(UTC).isoformat(timespec="microseconds"), user=name,
                       role=account.role.value if account else "", outcome=outcome, ip=ip)


def _audit_login(board: Dashboard, account: Account | None, name: str, ip: str) -> None:
    """In the logs of the account's states; a failure in every state's log, whatever the name,
    so the time it takes cannot tell which names exist."""
    states = account.states(board.data) if account else board.data.states()
    record = _record(account, name, "ok" if account else "failed", ip)
    board.audit_all(states, *record.for_log())
