"""A state's gateway alone over HTTP, so the state's existing message switch can call it.

`POST /messages` takes one message as legacy text (`text/plain`), in the protocol's JSON form
(`application/json`) or as Nlets XML (`application/xml`), and answers in the same form, only
after the query's audit entry is durable. The caller authenticates with a bearer token
(`stateline gateway token`); without one in force the app refuses to be built. `GET /health`
and `GET /metrics` (Prometheus text: counts only, the `stateline_*` metrics of
`stateline.operations`) need no token.
"""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..datadir import DataDir
from ..errors import RequesterError, Side, StatelineError
from ..operations import metrics as operations_metrics
from ..operations.scrape import DataFolder
from ..policy.store import checked_state
from ..protocol import (
    MULTI_STATE,
    Message,
    Reject,
    RejectCode,
    format_text,
    format_xml,
    format_xml_error,
    read,
    read_json,
    read_xml,
)
from ..protocol import to_json as message_json
from ..protocol.places import is_state
from .pipeline import Result
from .tokens import REFRESH_SECONDS, Credentials, TokenError
from .worker import GatewayClosed, GatewayThread

log = logging.getLogger("stateline.gateway")

BODY_LIMIT = 64 * 1024
"""Bytes: far above any real query (Nlets' largest stated message is 14,400 characters)."""

MESSAGE_ID_HEADER = "Stateline-Message-Id"
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,128}")
TEXT, JSON, XML = "text/plain", "application/json", "application/xml"
XML_ALIASES = {"text/xml": XML}
"""Media types read as another: RFC 7303 names text/xml beside application/xml."""
_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


BEARER = HTTPBearer(auto_error=False, description="A token from `stateline gateway token`.")
"""Module level, so FastAPI can resolve the annotation that names it."""


class Refusal(RequesterError):
    """A request turned away before or instead of an answer; subclasses fix the status and the
    code, and the answer takes the project's one error shape, `{"error": {"code", "text"}}`."""

    code = "invalid-request"

    def __init__(self, text: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(text)
        self.headers = dict(headers or {})


class Rejected(Refusal):
    """The message broke the protocol: its ER reject text, whose first word is the ER code."""

    code, status = "rejected", 422

    def __init__(self, reject: Reject) -> None:
        super().__init__(reject.text)


class Unauthorized(Refusal):
    code, status = "unauthorized", 401


class TooLarge(Refusal):
    code, status = "too-large", 413


class UnsupportedMediaType(Refusal):
    code, status = "unsupported-media-type", 415


class Unavailable(Refusal):
    """The gateway is stopped, or its token book cannot be read."""

    code, status, side = "unavailable", 503, Side.SYSTEM


class AuditFailed(Refusal):
    """The audit entry did not become durable, so nothing was released."""

    code, status, side = "audit-failed", 503, Side.SYSTEM


class InvalidMessageId(Refusal):
    code = "invalid-message-id"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    text: str


class ErrorBody(BaseModel):
    """The one error shape of every HTTP answer and of the CLI's `--json`."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class Answered(BaseModel):
    """The JSON form of an answer; the text form is `response` written as legacy text."""

    message_id: str
    response: dict[str, Any]
    outcome: str
    seq: int
    request_id: str
    reference: str | None
    photos: list[str]
    """Released photos as base64 PNG."""


class Health(BaseModel):
    state: str
    status: str
    audit_entries: int
    policy_version: str
    policy_problem: str | None


_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "sender"],
    "properties": {
        "key": {"type": "string", "example": "DQ"},
        "sender": {"type": "string", "example": "WASPD0100"},
        "destinations": {"type": "array", "items": {"type": "string"}, "example": ["WA"]},
        "control": {"type": ["string", "null"]},
        "fields": {"type": "array", "items": {
            "type": "object", "required": ["prefix", "value"],
            "properties": {"prefix": {"type": "string"}, "value": {"type": "string"}}}},
        "body": {"type": ["string", "null"]},
        "header": {"type": ["object", "null"]},
    },
}
_REQUEST_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    TEXT: {"schema": {"type": "string"}, "example": "DQ.WASPD0100.WA.TXT\nOLN/WDL0000000AB"},
    JSON: {"schema": _MESSAGE_SCHEMA},
    XML: {"schema": {"type": "string", "description": "One n2:NLETS document (Nlets XML on "
                     "NIEM): no DTD, no entities, at most 24 levels deep"}},
}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in (
        (400, "A header the gateway cannot take (Stateline-Message-Id)"),
        (401, "Missing or unknown bearer token; nothing was processed"),
        (413, f"Body larger than {BODY_LIMIT} bytes"),
        (415, "Content type other than text/plain, application/json or application/xml"),
        (422, "The message breaks the protocol or is addressed to another state: its ER "
              "reject (the text form answers with the reject's text alone, the XML form with "
              "st:Error holding st:Code and st:Text)"),
        (503, "The gateway cannot answer now (stopped, or its audit log cannot be written)"),
    )
}
_ANSWERED: dict[int | str, dict[str, Any]] = {200: {
    "model": Answered,
    "description": "The gateway's response, in the form of the request",
    "content": {TEXT: {"schema": {"type": "string"}}, XML: {"schema": {"type": "string"}}},
}}


def create_app(data: DataDir, state: str, *, gateway: GatewayThread | None = None,
               limit: int = BODY_LIMIT, token_refresh: float = REFRESH_SECONDS) -> FastAPI:
    """The ASGI app for one state. Raises NoToken when no token is in force (fail closed).

    A `gateway` passed in may already be running (so a caller can report a store that will not
    open before serving); the app starts it otherwise, and always stops it on shutdown, which
    signs a tree head over everything the gateway logged.
    """
    code = checked_state(data, state)
    credentials = Credentials(data, code, token_refresh)
    worker = gateway or GatewayThread(data, code)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not worker.running:
            await run_in_threadpool(worker.start)
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    app = FastAPI(title=f"Stateline gateway: {code}", lifespan=lifespan,
                  description=__doc__, version="1")

    @app.exception_handler(StatelineError)
    async def refused(request: Request, refusal: StatelineError) -> Response:
        headers = dict(getattr(refusal, "headers", {}))
        if request.headers.get(MESSAGE_ID_HEADER):
            headers.setdefault(MESSAGE_ID_HEADER, request.headers[MESSAGE_ID_HEADER])
        media = _media_type(request)
        if media == TEXT:
            return PlainTextResponse(refusal.text, refusal.status, headers=headers)
        if XML_ALIASES.get(media, media) == XML:
            return Response(format_xml_error(refusal.code, refusal.text), refusal.status,
                            headers=headers, media_type=XML)
        return JSONResponse(refusal.as_json(), refusal.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> Response:
        code_word = str(error.detail).lower().replace(" ", "-")
        return JSONResponse({"error": {"code": code_word, "text": str(error.detail)}},
                            error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> Response:
        return JSONResponse({"error": {"code": "invalid-request", "text": str(error)}}, 400)

    @app.post("/messages", response_class=Response, openapi_extra=_REQUEST_BODY,
              responses={**_ANSWERED, **_ERRORS})
    async def messages(
        request: Request,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> Response:
        """Answer one message addressed to this state, in the form it came in."""
        _authenticate(credentials, authorization, code)
        form = _form(request)
        raw = await read_body(request, limit)
        given = _message_id(request)
        message = _read(raw, form)
        _addressed_here(message, code, raw)
        message_id = given or message.control or uuid.uuid4().hex
        try:
            result = await worker.answer(message, message_id)
        except GatewayClosed as error:
            raise Unavailable(str(error)) from None
        except Exception as error:  # the audit entry is not durable: nothing may leave
            log.exception("%s gateway failed on message %s", code, message_id)
            raise AuditFailed(f"the {code} gateway could not write the audit entry, so nothing "
                              f"was released: {type(error).__name__}") from None
        return _answer(result, form, message_id)

    @app.get("/health", response_model=Health)
    async def health() -> Health:
        """Whether the gateway runs, how long its audit log is and which policy is in force."""
        try:
            running = worker.gateway
        except GatewayClosed:
            raise Unavailable(f"the {code} gateway is not running") from None
        return Health(state=code, status="ok", audit_entries=running.log.size,
                      policy_version=running.policy.version,
                      policy_problem=running.policy.problem)

    folder = DataFolder(data, [code])

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Queries by outcome and their latency, the queue, unsigned audit entries, each
        witness's lag and in proxy mode the DMV responder's answers by result and the fields
        the field map does not know (Prometheus text)."""
        page = await run_in_threadpool(operations_metrics.page, folder)
        return Response(page, media_type=operations_metrics.CONTENT_TYPE)

    return app


def _authenticate(credentials: Credentials, given: HTTPAuthorizationCredentials | None,
                  state: str) -> None:
    try:
        good = given is not None and credentials.check(given.credentials)
    except TokenError as error:
        raise Unavailable(str(error)) from None
    if not good:
        raise Unauthorized("a bearer token in force for this gateway is required",
                           headers={"WWW-Authenticate": f'Bearer realm="stateline-{state}"'})


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def content_kind(header: str, kinds: tuple[str, ...] = (TEXT, JSON)) -> str:
    """One of `kinds` (TEXT or JSON unless told; text/xml reads as XML), from a Content-Type
    header; any other type, or a charset other than UTF-8, is refused (415) rather than
    guessed at. The switch's API reads bodies this way too."""
    kind, *params = (part.strip().lower() for part in header.split(";"))
    kind = XML_ALIASES.get(kind, kind)
    charset = next((p.split("=", 1)[1].strip('" ') for p in params
                    if p.startswith("charset=")), "utf-8")
    if kind not in kinds or charset not in _CHARSETS:
        named = " or ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)
        raise UnsupportedMediaType(f"send {named} in UTF-8, not {header or 'no content type'}")
    return kind


READERS = {TEXT: read, JSON: read_json, XML: read_xml}
"""The reader for each media type the gateway takes."""
WRITERS = {TEXT: format_text, XML: format_xml}
"""The writer for each media type answered with the response alone (JSON wraps it)."""


def _form(request: Request) -> str:
    return content_kind(request.headers.get("content-type", ""), tuple(READERS))


async def read_body(request: Request, limit: int) -> str:
    """The body as text, read no further than `limit` bytes (413 past it); bytes that are not
    UTF-8 become U+FFFD, so a reject can quote them."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"a message may be at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"a message may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _message_id(request: Request) -> str | None:
    given = request.headers.get(MESSAGE_ID_HEADER)
    if given is None:
        return None
    if not _MESSAGE_ID.fullmatch(given):
        raise InvalidMessageId(f"{MESSAGE_ID_HEADER} must be 1-128 visible ASCII characters")
    return given


def _read(raw: str, form: str) -> Message:
    try:
        return READERS[form](raw)
    except Reject as reject:
        raise Rejected(reject) from None


def _addressed_here(message: Message, state: str, raw: str) -> None:
    """A gateway answers for its own state only. Region codes pass: only the switch that
    delivered the message knows which states a region holds."""
    if message.header is not None:
        if message.header.receiving_ori.startswith(state):
            return
    elif any(d in (state, MULTI_STATE) or (len(d) == 2 and not is_state(d))
             or (len(d) == 9 and d.startswith(state)) for d in message.destinations):
        return
    reject = Reject(RejectCode.DESTINATION, f"NOT ADDRESSED TO {state}; THIS IS THE {state} "
                    "GATEWAY", key=message.key, original=raw)
    raise Rejected(reject)


def _answer(result: Result, form: str, message_id: str) -> Response:
    headers = {MESSAGE_ID_HEADER: message_id, "Stateline-Outcome": result.outcome.value,
               "Stateline-Audit-Seq": str(result.seq)}
    if result.reference:
        headers["Stateline-Reference"] = result.reference
    if form in WRITERS:  # photos travel in the JSON form only; the count says to ask for it
        headers["Stateline-Photos"] = str(len(result.photos))
        return Response(WRITERS[form](result.response), headers=headers, media_type=form)
    return JSONResponse({
        "message_id": message_id, "response": message_json(result.response),
        "outcome": result.outcome.value, "seq": result.seq, "request_id": result.request_id,
        "reference": result.reference,
        "photos": [base64.b64encode(photo).decode("ascii") for photo in result.photos],
    }, headers=headers)
