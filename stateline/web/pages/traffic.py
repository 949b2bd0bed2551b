"""Live traffic: the state's latest decisions from its audit log, and the switch's traffic log
to and from the state where the switch keeps one. The page fetches its rows again every two
seconds (a few lines of script); without script it has a refresh link."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...audit import EntryKind, open_state_log
from ...audit.records import RecordError, request_of
from ...switch.errors import SwitchError
from ...switch.traffic import Search, TrafficLog
from ..grants import Permission
from ..guard import Dashboard
from ..render import fragment, page, when_us
from .overview import has_log

SHOWN = 40
KINDS = (EntryKind.DECISION, EntryKind.REVIEW)
"""Live traffic only: requests imported from the state switch's records are history, shown
by the charts and the audit search at the time they were made."""


@dataclass(frozen=True, slots=True)
class Decided:
    seq: int
    time: str
    kind: str
    ori: str
    category: str
    key: str
    outcome: str
    policy: str
    reference: str


@dataclass(frozen=True, slots=True)
class Carried:
    time: str
    direction: str
    key: str
    sender: str
    destination: str
    message_id: str


def latest(board: Dashboard, state: str, limit: int = SHOWN) -> list[Decided]:
    if not has_log(board, state):
        return []
    found: list[Decided] = []
    with open_state_log(board.data, state) as log:
        for entry in log.scan(KINDS, chunk=limit):
            try:
                r = request_of(entry)
            except RecordError:
                continue  # a damaged entry; the audit page and `verify` name it
            found.append(Decided(entry.seq, when_us(entry.time_us), entry.kind.value, r.ori,
                                 r.category, r.key, r.outcome,
                                 r.policies[0] if r.policies else "", r.reference or ""))
            if len(found) >= limit:
                break
    return found


def switch_traffic(board: Dashboard, state: str, limit: int = 20) -> list[Carried] | None:
    """The switch's log to and from the state; None when this data folder has no switch."""
    if not board.data.traffic_db.is_file():
        return None
    try:
        with TrafficLog(board.data) as log:
            rows = log.search(Search(destination=state, limit=limit))
    except SwitchError:
        return None
    return [Carried(f"{row.time:%Y-%m-%d %H:%M:%S}", row.direction, row.key, row.sender,
                    row.destination, row.message_id) for row in rows]


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/traffic")
    def traffic_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.TRAFFIC)
        code = visit.state or ""
        return page(visit, "traffic.html", area="traffic", rows=latest(board, code),
                    carried=switch_traffic(board, code), every=2000,
                    agencies=board.names.agencies())

    @router.get("/states/{state}/traffic/rows")
    def traffic_rows(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.TRAFFIC)
        return fragment("traffic_rows.html", visit=visit, rows=latest(board, visit.state or ""),
                        agencies=board.names.agencies())

    return router
