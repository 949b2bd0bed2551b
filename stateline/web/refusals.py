"""The HTTP API's refusals as types, and the one JSON error shape every 4xx and 5xx answer
takes, `{"error": {"code", "text"}}`, whoever raised it: the API, FastAPI's request validation,
Starlette's routing (404, 405) or an unexpected failure (500)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

log = logging.getLogger("stateline.web")


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    """A short word for programs: `unauthorized`, `not-found`, `too-large`, `rejected`, ..."""
    text: str
    """What went wrong, for a person."""


class ErrorBody(BaseModel):
    """The one error shape of the API (the same as the gateway's and the CLI's `--json`)."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class Refusal(Exception):
    """A request turned away; subclasses fix the status and the code."""

    status = 400
    code = "invalid-request"

    def __init__(self, text: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.headers = dict(headers or {})


class Unauthorized(Refusal):
    """No bearer token, or one not in force: nothing was read or routed."""

    status, code = 401, "unauthorized"

    def __init__(self, text: str) -> None:
        super().__init__(text, {"WWW-Authenticate": 'Bearer realm="stateline"'})


class NotFound(Refusal):
    """No such message for this credential (whether it exists is not said)."""

    status, code = 404, "not-found"


class TooLarge(Refusal):
    status, code = 413, "too-large"


class UnsupportedMediaType(Refusal):
    status, code = 415, "unsupported-media-type"


class Unavailable(Refusal):
    """The switch cannot take messages now (not started, or its stores fail)."""

    status, code = 503, "unavailable"


def error_json(code: str, text: str) -> dict[str, object]:
    return {"error": {"code": code, "text": text}}


def install(app: FastAPI) -> None:
    """Route every refusal and failure of `app` through the one error shape."""

    async def refused(_: Request, error: Exception) -> Response:
        assert isinstance(error, Refusal)
        return JSONResponse(error_json(error.code, error.text), error.status,
                            headers=error.headers)

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

    app.add_exception_handler(Refusal, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(Exception, failed)


__all__ = ["ErrorBody", "ErrorDetail", "NotFound", "Refusal", "TooLarge", "Unauthorized",
           "Unavailable", "UnsupportedMediaType", "error_json", "install"]
