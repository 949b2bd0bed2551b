"""The review queue: requests the policy held, each released or denied by a named reviewer
with a note. The gateway audits the review itself; the note is audited beside it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...audit import LogError
from ...errors import Side
from ...gateway import (
    Gateway,
    GatewayError,
    Held,
    Result,
    ReviewError,
    ReviewQueue,
    ReviewRefused,
)
from ...notices import NoticeBook, NoticeConfigError
from ...policy.source import PolicyError
from ...policy.store import StateError
from ...protocol import Reject, format_text, loads
from ..errors import NotFound, WebError
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import page


class ReviewFailed(WebError):
    status, code, side = 503, "review-failed", Side.SYSTEM


@dataclass(frozen=True, slots=True)
class Waiting:
    held: Held
    terms: str
    policy: str
    reason: str
    notices: int
    """Notices still due for this request (a duty may want them sent before release)."""


def _terms(held: Held) -> str:
    try:
        return " ".join(f"{f.prefix}/{f.value}" for f in loads(held.message).fields)
    except (Reject, ValueError):
        return ""


def waiting(board: Dashboard, state: str) -> list[Waiting]:
    with ReviewQueue(board.data, state) as queue:
        pending = queue.pending()
    try:
        book: NoticeBook | None = NoticeBook(board.data, state)
    except NoticeConfigError:
        book = None
    try:
        found = []
        for held in pending:
            reasons = held.decision.reasons
            found.append(Waiting(held, _terms(held), reasons[0].policy if reasons else "",
                                 reasons[0].text if reasons else "",
                                 len(book.unsent(held.reference)) if book else 0))
        return found
    finally:
        if book is not None:
            book.close()


def review(board: Dashboard, visit: Visit, reference: str, release: bool,
           note: str) -> Result:
    code, who = visit.state or "", visit.account.name
    try:
        with Gateway(board.data, code) as gateway:
            held = gateway.queue.get(reference)
            if held.status != "held":
                raise ReviewError(f"{held.reference} was already reviewed ({held.status}); "
                                  "nothing was sent")
            result = (gateway.release if release else gateway.deny)(held.reference, who, note)
    except ReviewRefused:
        raise
    except ReviewError as error:
        raise NotFound(str(error)) from None
    except (GatewayError, PolicyError, LogError, StateError, sqlite3.Error, OSError) as error:
        raise ReviewFailed(f"the review could not be completed, so nothing was sent: "
                           f"{error}") from None
    return result


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/review")
    def queue_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.SEE_CASES)
        return page(visit, "review.html", area="review",
                    waiting=waiting(board, visit.state or ""))

    @router.post("/states/{state}/review/{reference}")
    async def decide(request: Request, state: str, reference: str) -> Response:
        visit, form = await board.acting(request, state, Permission.REVIEW)
        action, note = form.get("action"), " ".join(form.get("note").split())
        if action not in ("release", "deny"):
            raise WebError("choose release or deny")
        if not note:
            found = await run_in_threadpool(waiting, board, visit.state or "")
            return page(visit, "review.html", 422, area="review", waiting=found,
                        problem=f"{reference}: write a note saying why; nothing was sent.")
        try:
            result = await run_in_threadpool(review, board, visit, reference,
                                             action == "release", note)
        except ReviewRefused as refused:
            found = await run_in_threadpool(waiting, board, visit.state or "")
            return page(visit, "review.html", 409, area="review", waiting=found,
                        problem=f"{refused}. Nothing was sent; you can still deny it.")
        return page(visit, "reviewed.html", area="review", result=result,
                    verb="released" if action == "release" else "denied",
                    response=format_text(result.response), note=note)

    return router
