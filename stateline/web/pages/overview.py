"""A state's overview: requests and outcomes by category over time, and what needs doing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...audit import Rollup, audit_db, audit_url, open_state_log
from ...gateway import ReviewQueue
from ...notices import NoticeBook, NoticeConfigError
from ...policy.store import history
from .. import charts
from ..grants import Permission
from ..guard import Dashboard
from ..render import page

DAYS = 90
"""How far back the overview looks."""


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    requests: int
    disclosed: int
    denied: int
    held: int
    photos: int


def category_rows(rollups: list[Rollup]) -> list[CategoryRow]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in charts.counted(rollups):
        row = sums[r.category or "(none)"]
        row[0] += r.entries
        row[1] += r.entries if r.outcome in ("released", "partial") else 0
        row[2] += r.entries if r.outcome == "denied" else 0
        row[3] += r.entries if r.outcome == "held" and r.kind == "decision" else 0
        row[4] += r.photos
    return sorted((CategoryRow(name, *values) for name, values in sums.items()),
                  key=lambda row: (-row.requests, row.category))


def has_log(board: Dashboard, state: str) -> bool:
    return audit_url(board.data, state) is not None or audit_db(board.data, state).is_file()


def rollups(board: Dashboard, state: str, days: int = DAYS) -> list[Rollup]:
    if not has_log(board, state):
        return []
    since = (datetime.now(UTC) - timedelta(days=days)).date().isoformat()
    with open_state_log(board.data, state) as log:
        return log.rollups(since)


def _to_do(board: Dashboard, state: str) -> dict[str, object]:
    """Counts only: how many held requests and notices wait, and the policy's last change."""
    with ReviewQueue(board.data, state) as queue:
        held = len(queue.pending())
    due = overdue = 0
    try:
        with NoticeBook(board.data, state) as book:
            today = book.today()
            waiting = book.notices("due", today)
            due, overdue = len(waiting), sum(n.overdue(today) for n in waiting)
    except NoticeConfigError:
        pass
    changes = history(board.data, state, "policy")
    return {"held": held, "due": due, "overdue": overdue,
            "changed": changes[-1] if changes else None}


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/")
    def overview(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        found = rollups(board, code)
        return page(visit, "overview.html", area="overview", days=DAYS,
                    rows=category_rows(found),
                    over_time=charts.volume_over_time(found, f"{code}: requests by outcome, "
                                                             f"last {DAYS} days"),
                    by_category=charts.outcomes_by_category(found, f"{code}: outcomes by "
                                                                   "requester category"),
                    to_do=_to_do(board, code), verified=board.verified.get(code))

    @router.get("/states/{state}")
    def overview_bare(request: Request, state: str) -> Response:
        return overview(request, state)

    return router
