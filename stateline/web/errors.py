"""The dashboard's refusals as types, and the one place any StatelineError becomes a response:
an HTML page for a browser, the project's one JSON error shape (``{"error": {"code", "text"}}``)
for anything else."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ..errors import RequesterError, StatelineError


class WebError(RequesterError):
    """A dashboard request refused; its text is shown to the person."""


class LoginRequired(WebError):
    """No live session: a browser is sent to the sign-in page, and comes back after."""

    status, code = 401, "login-required"


class Forbidden(WebError):
    status, code = 403, "forbidden"


class CsrfRefused(WebError):
    """A form without this session's token, or sent from another site: nothing was done."""

    status, code = 403, "csrf"


class NotFound(WebError):
    status, code = 404, "not-found"


class Throttled(WebError):
    status, code = 429, "too-many-attempts"


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def error_response(request: Request, error: StatelineError) -> Response:
    """The one HTTP answer to any error with a code: sign-in for a browser without a session,
    a page for a browser, the JSON error shape for a program; headers the error carries (a
    bearer challenge) go with it."""
    if isinstance(error, LoginRequired) and request.method == "GET" and wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
    if wants_html(request):
        from .render import plain_page  # the templates need this module's types

        return plain_page(error.status, error.code, error.text,
                          getattr(request.state, "visit", None))
    headers = {"Cache-Control": "no-store", **getattr(error, "headers", {})}
    return JSONResponse(error.as_json(), error.status, headers=headers)
