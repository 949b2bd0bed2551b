"""The witness over HTTP: c2sp.org/tlog-witness's `POST /add-checkpoint`, and
`GET /<log id>/checkpoint` for whoever checks a log against what the witness has seen.

Every refusal is the status its error type carries, with its text as the body; a size
conflict's body is the witness's size alone, typed `text/x.tlog.size` as the spec asks.
"""

from __future__ import annotations

import re

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..errors import StatelineError
from .errors import SizeConflict, SubmissionTooLarge
from .service import Witness
from .submission import MAX_BODY

_LOG_ID = re.compile(r"[0-9a-f]{64}")
TEXT = "text/plain; charset=utf-8"
SIZE = "text/x.tlog.size"


def create_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        try:
            body = await _bounded_body(request)
            answer = await anyio.to_thread.run_sync(witness.add_checkpoint, body)
        except SizeConflict as conflict:
            return Response(f"{conflict.size}\n", 409, headers={"Content-Type": SIZE})
        except StatelineError as error:
            return Response(error.text + "\n", error.status, headers={"Content-Type": TEXT})
        return Response(answer, 200, headers={"Content-Type": TEXT})

    async def checkpoint(request: Request) -> Response:
        id_ = request.path_params["log_id"]
        note = await anyio.to_thread.run_sync(witness.latest, id_) if _LOG_ID.fullmatch(
            id_) else None
        if note is None:
            return PlainTextResponse("this witness holds no checkpoint for that log\n", 404)
        return Response(note, 200, headers={"Content-Type": TEXT})

    async def home(request: Request) -> Response:
        logs = "".join(f"{k}\n" for keys in witness.logs.values() for k in (v.vkey for v in keys))
        return PlainTextResponse(f"{witness.vkey}\n\nwitnessing:\n{logs}")

    return Starlette(routes=[
        Route("/", home, methods=["GET"]),
        Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
        Route("/{log_id}/checkpoint", checkpoint, methods=["GET"]),
    ])


async def _bounded_body(request: Request) -> bytes:
    """The body, read no further than the longest a request can be."""
    too_large = SubmissionTooLarge(f"a request body is at most {MAX_BODY} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise too_large
    return bytes(body)
