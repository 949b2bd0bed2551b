"""The HTTP API's refusals as types, and the one JSON error shape every 4xx and 5xx answer
takes, `{"error": {"code", "text"}}`, whoever raised it: the API, any room's StatelineError
(its own code and status), FastAPI's request validation, Starlette's routing (404, 405) or an
unexpected failure (500)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ..errors import StatelineError
from ..gateway.http import (
    ErrorBody,
    ErrorDetail,
    Refusal,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)
from .errors import error_response

log = logging.getLogger("stateline.web")


class NotFound(Refusal):
    """No such message for this credential (whether it exists is not said)."""

    status, code = 404, "not-found"


def error_json(code: str, text: str) -> dict[str, object]:
    return {"error": {"code": code, "text": text}}


def install(app: FastAPI) -> None:
    """Route every refusal and failure of `app` through the one error shape."""

    async def refused(request: Request, error: Exception) -> Response:
        assert isinstance(error, StatelineError)
        return error_response(request, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = str(error.detail).lower().replace(" ", "-")
        text = {404: f"nothing at {request.url.path}",
                405: f"{request.method} is not allowed on {request.url.path}"
                     f" (allowed: {(error.headers or {}).get('Allow', 'none')})"}
        return JSONResponse(error_json(code, text.get(error.status_code, str(error.detail))),
                            error.status_code, headers=error.headers)

    async def invalid(_: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{' '.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in error.errors())
        return JSONResponse(error_json("invalid-request", problems or "invalid request"), 400)

    async def failed(request: Request, error: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return JSONResponse(error_json("internal-error", "the server failed on this request; "
                                       "the failure is logged"), 500)

    app.add_exception_handler(StatelineError, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, failed)


__all__ = ["ErrorBody", "ErrorDetail", "NotFound", "Refusal", "TooLarge", "Unauthorized",
           "Unavailable", "UnsupportedMediaType", "error_json", "install"]
