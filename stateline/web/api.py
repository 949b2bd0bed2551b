"""The agencies' HTTP API to the switch: send one message as legacy text, in its JSON form or
as Nlets XML, with the agency's bearer token, and get back what the states answered within the
wait (each answer's text in XML for a message sent in XML); poll for what came later (held
traffic delivered when a state returns, a reviewed request).

Every sender is authenticated before its body is read, and an answer is shown only to the
credential's own agency: any other caller gets the same 404 as for a message that never was.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Annotated, Literal, Protocol, runtime_checkable

from fastapi import APIRouter, Path, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..datadir import DataDir
from ..gateway.http import content_kind, read_body
from ..protocol import Form, Reject, parse, parse_xml
from ..switch import AuthenticationError, Service, SwitchConfig, SwitchError, UnknownMessage
from ..switch.credentials import CredentialBook
from ..switch.views import Submission
from .refusals import (
    ErrorBody,
    NotFound,
    Refusal,
    Unauthorized,
    Unavailable,
)
from .shapes import (
    JSON,
    MESSAGE_BODY,
    TEXT,
    XML,
    HealthShape,
    RejectedShape,
    SubmissionShape,
)

BODY_LIMIT = 64 * 1024
"""Bytes: far above any real query (Nlets' largest stated message is 14,400 characters)."""
LONGEST_WAIT = 3600.0
"""The most `wait` a request may name; the switch's own wait (switch.toml) caps it further."""

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="stateline"'}
"""What a 401 asks for, as RFC 6750 has it."""

BEARER = HTTPBearer(auto_error=False, scheme_name="agency token",
                    description="The agency's switch token (`stateline credentials issue`).")

_REFUSALS = {
    400: "A parameter is not valid or not documented, or a JSON message carries a header",
    401: "No bearer token, or one not in force; nothing was read or routed",
    404: "No such message sent with this credential",
    413: f"Body larger than {BODY_LIMIT} bytes",
    415: f"Content type other than {TEXT}, {JSON} or {XML} in UTF-8",
    503: "The switch cannot take messages now",
}


class _Status(Protocol):
    def current(self) -> Mapping[str, Service]: ...


class _Stores(Protocol):
    @property
    def credentials(self) -> CredentialBook: ...
    @property
    def status(self) -> _Status: ...


@runtime_checkable
class _Gateways(Protocol):
    def running(self, state: str) -> bool: ...


class SwitchFront(Protocol):
    """What the API needs of a switch: the `Switch` itself, with its gateways in this process,
    or the web front's handle on a switch in a process of its own."""

    data: DataDir
    config: SwitchConfig

    @property
    def stores(self) -> _Stores: ...
    @property
    def transport(self) -> object: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def submit(self, raw: str, token: str, *, form: Form = "text",
                     wait: float | None = None) -> Submission: ...
    async def show(self, message_id: str, token: str | None = None, *,
                   form: Form = "text") -> Submission: ...


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {status: {"model": ErrorBody, "description": _REFUSALS[status]}
            for status in statuses}


def api_router(switch: SwitchFront) -> APIRouter:
    """POST /api/messages, GET /api/messages/{message_id}, GET /api/health over `switch`."""
    router = APIRouter(prefix="/api", tags=["messages"])

    @router.post(
        "/messages", response_model=SubmissionShape, openapi_extra=MESSAGE_BODY,
        responses={422: {"model": RejectedShape,
                         "description": "The switch rejected the message: its ER reject"},
                   **_errors(400, 401, 413, 415, 503)})
    async def send(
        request: Request,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
        wait: Annotated[float | None, Query(
            ge=0, le=LONGEST_WAIT, allow_inf_nan=False,
            description="Seconds to wait for state answers (default and most: the switch's "
                        "wait_seconds); what comes later is read with GET")] = None,
    ) -> JSONResponse:
        """Send one message through the switch as the token's agency. The answers that came
        within the wait are returned; `pending` names the states that still owe one."""
        token = _authenticated(switch, authorization)
        _documented_only(request)
        form = _form(request)
        raw = await _body(request)
        if form == "json":
            _unstamped(raw)
        cap = switch.config.wait_seconds
        try:
            submission = await switch.submit(raw, token, form=form,
                                             wait=cap if wait is None else min(wait, cap))
        except AuthenticationError as error:  # revoked since the check above
            raise Unauthorized(str(error), CHALLENGE) from None
        except SwitchError as error:
            raise Unavailable(str(error)) from None
        if not submission.accepted:
            return JSONResponse(_rejected(submission), 422)
        return JSONResponse(submission.to_json())

    @router.get("/messages/{message_id}", response_model=SubmissionShape,
                responses=_errors(400, 401, 404, 503))
    async def poll(
        request: Request,
        message_id: Annotated[str, Path(max_length=64, examples=["M20261125-FCDE9E58D9"])],
        authorization: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
        form: Annotated[Literal["text", "xml"], Query(
            description="`xml`: each answer's text as Nlets XML, as for a message sent in "
                        "XML")] = "text",
    ) -> JSONResponse:
        """A message's answers so far, late ones included; only to the agency that sent it."""
        token = _authenticated(switch, authorization)
        _documented_only(request)
        try:
            submission = await switch.show(message_id, token, form=form)
        except (AuthenticationError, UnknownMessage):
            raise NotFound(f"no message {message_id!r} was sent with this credential") from None
        except SwitchError as error:
            raise Unavailable(str(error)) from None
        return JSONResponse(submission.to_json())

    @router.get("/health", response_model=HealthShape, responses=_errors(503))
    async def health(request: Request) -> HealthShape:
        """Whether the switch takes messages, each network state's service status, and which
        states' gateways run here. No token needed."""
        _documented_only(request)
        try:
            down = switch.stores.status.current()
        except SwitchError as error:
            raise Unavailable(str(error)) from None
        members = sorted(switch.config.members(switch.data))
        here = switch.transport
        running = [s for s in members if isinstance(here, _Gateways) and here.running(s)]
        return HealthShape(status="ok",
                           states={s: down.get(s, Service.IN).value for s in members},
                           gateways=running)

    return router


def _authenticated(switch: SwitchFront, given: HTTPAuthorizationCredentials | None) -> str:
    """The bearer token, once the switch holds it in force; refused attempts are logged."""
    try:
        book = switch.stores.credentials
    except SwitchError as error:
        raise Unavailable(str(error)) from None
    token = given.credentials if given is not None else ""
    if token and book.check(token) is not None:
        return token
    book.refuse("unknown or revoked token" if token else "no token")
    raise Unauthorized("a bearer token in force for an agency is required", CHALLENGE)


def _documented_only(request: Request) -> None:
    """Refuse a query parameter the route does not document, as its OpenAPI says: a misspelt
    `wait` is an error, not a silent wait of the switch's full time."""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if isinstance(route, APIRoute) \
        else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        named = ", ".join(repr(name) for name in unknown)
        raise Refusal(f"query parameter {named} is not one this API takes "
                      f"(it takes: {', '.join(sorted(known)) or 'none'})")


def _unstamped(raw: str) -> None:
    """A JSON message must leave `header` out or null, as its schema says: the output header is
    the switch's to stamp. Bodies that are not JSON objects are the switch's to reject."""
    try:
        message = json.loads(raw)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("header") is not None:
        raise Refusal("header: leave it out or null; the switch stamps the output header")


def _rejected(submission: Submission) -> dict[str, object]:
    """A rejected submission with its ER as the API's error too, so a client that only reads
    errors still sees why."""
    text = next((view.text for view in submission.responses), "")
    with contextlib.suppress(Reject):
        text = (parse_xml if text.startswith("<") else parse)(text).body or text
    return {**submission.to_json(), "error": {"code": "rejected", "text": text or "rejected"}}


_FORMS: dict[str, Form] = {TEXT: "text", JSON: "json", XML: "xml"}


def _form(request: Request) -> Form:
    """Text, JSON or XML, read as a state's gateway reads it (415 for anything else)."""
    return _FORMS[content_kind(request.headers.get("content-type", ""), tuple(_FORMS))]


async def _body(request: Request, limit: int = BODY_LIMIT) -> str:
    return await read_body(request, limit)


__all__ = ["BEARER", "BODY_LIMIT", "LONGEST_WAIT", "SwitchFront", "api_router"]
