"""The review queue: requests the policy held, in one compact table with filters, each released
or denied by a named reviewer with a note, one at a time or several at once. Every release is
decided again under the policy in force (nothing is released that it now denies), and each
request's result is reported. The gateway audits the review itself; the note beside it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...audit import LogError
from ...directory.categories import DEFAULT_RULES
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


AGES = {"": None, "1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}
"""The age filter: held at least this long."""
MOST_AT_ONCE = 200
"""Requests one bulk decision may name; more is refused unread."""


@dataclass(frozen=True, slots=True)
class Waiting:
    held: Held
    terms: str
    policy: str
    reason: str
    notices: int
    """Notices still due for this request (a duty may want them sent before release)."""
    category: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request of a bulk decision came to."""

    reference: str
    done: bool
    text: str
    seq: int | None = None


def _terms(held: Held) -> str:
    try:
        return " ".join(f"{f.prefix}/{f.value}" for f in loads(held.message).fields)
    except (Reject, ValueError):
        return ""


def waiting(board: Dashboard, state: str) -> list[Waiting]:
    agencies = board.names.agencies()
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
            agency = agencies.get(held.ori)
            found.append(Waiting(held, _terms(held), reasons[0].policy if reasons else "",
                                 reasons[0].text if reasons else "",
                                 len(book.unsent(held.reference)) if book else 0,
                                 DEFAULT_RULES.category(agency, state) if agency else "unknown"))
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


def decide_many(board: Dashboard, visit: Visit, references: list[str], release: bool,
                note: str) -> list[Outcome]:
    """Each request decided on its own: a refusal or a failure for one stops none of the
    others, and each says what came of it."""
    found = []
    for reference in references:
        try:
            result = review(board, visit, reference, release, note)
        except ReviewRefused as refused:
            found.append(Outcome(reference, False, f"{refused}; it stays held"))
        except (NotFound, ReviewFailed) as error:
            found.append(Outcome(reference, False, str(error)))
        else:
            found.append(Outcome(reference, True, f"{'released' if release else 'denied'}: "
                                 f"{result.outcome.value}", result.seq))
    return found


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def queue(visit: Visit, query: dict[str, str], status: int = 200,
              **context: object) -> Response:
        found = waiting(board, visit.state or "")
        shown = filtered(found, query, datetime.now(UTC))
        return page(visit, "review.html", status, area="review", waiting=shown,
                    total=len(found), query=query, agencies=board.names.agencies(),
                    categories=sorted({w.category for w in found}),
                    keys=sorted({w.held.key for w in found}), ages=AGES, **context)

    @router.get("/states/{state}/review")
    def queue_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.SEE_CASES)
        return queue(visit, dict(request.query_params))

    @router.post("/states/{state}/review")
    async def decide_selected(request: Request, state: str) -> Response:
        visit, form = await board.acting(request, state, Permission.REVIEW)
        action, note = form.get("action"), " ".join(form.get("note").split())
        references = list(dict.fromkeys(r.strip() for r in form.all("ref") if r.strip()))
        if action not in ("release", "deny"):
            raise WebError("choose release or deny")
        if len(references) > MOST_AT_ONCE:
            raise WebError(f"decide at most {MOST_AT_ONCE} requests at once; nothing was sent")
        problem = ("select at least one request; nothing was sent." if not references else
                   "write a note saying why; nothing was sent." if not note else "")
        if problem:
            return await run_in_threadpool(queue, visit, {}, 422, problem=problem)
        outcomes = await run_in_threadpool(decide_many, board, visit, references,
                                           action == "release", note)
        return page(visit, "reviewed_many.html", area="review", outcomes=outcomes,
                    verb="release" if action == "release" else "deny", note=note)

    @router.post("/states/{state}/review/{reference}")
    async def decide(request: Request, state: str, reference: str) -> Response:
        visit, form = await board.acting(request, state, Permission.REVIEW)
        action, note = form.get("action"), " ".join(form.get("note").split())
        if action not in ("release", "deny"):
            raise WebError("choose release or deny")
        if not note:
            return await run_in_threadpool(
                queue, visit, {}, 422,
                problem=f"{reference}: write a note saying why; nothing was sent.")
        try:
            result = await run_in_threadpool(review, board, visit, reference,
                                             action == "release", note)
        except ReviewRefused as refused:
            return await run_in_threadpool(
                queue, visit, {}, 409,
                problem=f"{refused}. Nothing was sent; you can still deny it.")
        return page(visit, "reviewed.html", area="review", result=result,
                    verb="released" if action == "release" else "denied",
                    response=format_text(result.response), note=note)

    return router


def filtered(found: list[Waiting], query: dict[str, str], now: datetime) -> list[Waiting]:
    """The rows the filters keep: category, key, and held at least so long."""
    category, key = query.get("category", ""), query.get("key", "").upper()
    age = AGES.get(query.get("age", ""))
    return [w for w in found
            if (not category or w.category == category) and (not key or w.held.key == key)
            and (age is None or now - _aware(w.held.time) >= age)]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
