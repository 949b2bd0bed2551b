"""A state's landing page: one sentence on what the policy in force does, what it blocks, the
day's and the year's numbers by category, what needs doing, and charts of the last 90 days.
An account for several states lands on a table of them, each with its sentence and numbers."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...audit import Rollup, audit_db, audit_url, open_state_log
from ...audit.entries import FIRST_HAND_KINDS
from ...directory.store import Directory
from ...gateway import ReviewQueue
from ...notices import NoticeBook, NoticeConfigError
from ...policy.engine import PolicyEngine
from ...policy.explain import CategoryView, Explanation, explain
from ...policy.store import history
from ...transparency.recorded import ordered
from .. import charts
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..headline import blocked, headline
from ..render import page
from .policy import text_in_force

DAYS = 90
"""How far back the overview's charts look."""
DISCLOSED = ("released", "partial")


@dataclass(frozen=True, slots=True)
class Tally:
    """One category's requests (first-hand decisions, live or imported from the state switch's
    records) and disclosures (answered with records, first-hand or after review), today and
    this year."""

    category: str
    requests_today: int = 0
    disclosed_today: int = 0
    requests_year: int = 0
    disclosed_year: int = 0
    denied_year: int = 0
    held_year: int = 0


@dataclass(frozen=True, slots=True)
class Landing:
    state: str
    sentence: str
    blocked: tuple[CategoryView, ...]
    tallies: tuple[Tally, ...]
    total: Tally
    held: int
    problems: tuple[str, ...]
    """Why the policy file does not compile; the sentence is then about no policy at all."""


def has_log(board: Dashboard, state: str) -> bool:
    return audit_url(board.data, state) is not None or audit_db(board.data, state).is_file()


def rollups(board: Dashboard, state: str, since: date) -> list[Rollup]:
    if not has_log(board, state):
        return []
    with open_state_log(board.data, state) as log:
        return log.rollups(since.isoformat())


def in_force(board: Dashboard, state: str) -> tuple[Explanation, tuple[str, ...]]:
    """The explanation of the policy in force (the briefing's own), and its problems."""
    _, source, problems = text_in_force(board.data, state)
    with Directory.open(board.data, create=False) as directory:
        snapshot = directory.snapshot()
    return explain(PolicyEngine(state, source, snapshot)), problems


def held_count(board: Dashboard, state: str) -> int:
    with ReviewQueue(board.data, state) as queue:
        return len(queue.pending())


def landing(board: Dashboard, state: str, today: date, found: list[Rollup]) -> Landing:
    explanation, problems = in_force(board, state)
    rows = tallies(found, today)
    return Landing(state, headline(explanation), tuple(blocked(explanation)), rows,
                   total(rows), held_count(board, state), problems)


def _to_do(board: Dashboard, state: str) -> dict[str, object]:
    """Counts only: how many notices wait, and the policy's last change."""
    due = overdue = 0
    try:
        with NoticeBook(board.data, state) as book:
            today = book.today()
            waiting = book.notices("due", today)
            due, overdue = len(waiting), sum(n.overdue(today) for n in waiting)
    except NoticeConfigError:
        pass
    changes = history(board.data, state, "policy")
    return {"due": due, "overdue": overdue, "changed": changes[-1] if changes else None}


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/")
    def overview(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        today = datetime.now(UTC).date()
        found = rollups(board, code, first_day(today))
        recent = [r for r in found if r.day >= (today - timedelta(days=DAYS)).isoformat()]
        return page(visit, "overview.html", area="overview", days=DAYS,
                    landing=landing(board, code, today, found), today=today,
                    over_time=charts.volume_over_time(recent, f"{code}: requests by outcome, "
                                                              f"last {DAYS} days"),
                    by_category=charts.outcomes_by_category(recent, f"{code}: outcomes by "
                                                                    "requester category"),
                    to_do=_to_do(board, code), verified=board.verified.get(code))

    @router.get("/states/{state}")
    def overview_bare(request: Request, state: str) -> Response:
        return overview(request, state)

    return router


def states_page(board: Dashboard, visit: Visit) -> Response:
    """An account for several states lands here: each state's sentence and numbers."""
    today = datetime.now(UTC).date()
    found = [landing(board, code, today, rollups(board, code, date(today.year, 1, 1)))
             for code in visit.states]
    return page(visit, "states.html", landings=found, today=today)


def first_day(today: date) -> date:
    """The earliest day the page counts: this year's first, or the charts' first."""
    return min(date(today.year, 1, 1), today - timedelta(days=DAYS))


def tallies(found: list[Rollup], today: date) -> tuple[Tally, ...]:
    """Each category's numbers, in report order, from request (live and imported) and review
    rollups."""
    day, year = today.isoformat(), f"{today.year:04d}-"
    sums: dict[str, list[int]] = {}
    for r in found:
        if r.kind not in charts.COUNTED or not r.outcome or not r.day.startswith(year):
            continue
        counts = sums.setdefault(r.category or "(none)", [0] * 6)
        first_hand = r.kind in FIRST_HAND_KINDS
        disclosed = r.entries if r.outcome in DISCLOSED else 0
        is_today = r.day == day
        counts[0] += r.entries if first_hand and is_today else 0
        counts[1] += disclosed if is_today else 0
        counts[2] += r.entries if first_hand else 0
        counts[3] += disclosed
        counts[4] += r.entries if r.outcome == "denied" else 0
        counts[5] += r.entries if first_hand and r.outcome == "held" else 0
    return tuple(Tally(name, *sums[name]) for name in ordered(sums))


def total(rows: tuple[Tally, ...]) -> Tally:
    counted = [f.name for f in fields(Tally) if f.name != "category"]
    return Tally("all", *(sum(getattr(row, name) for row in rows) for name in counted))
