"""Court orders and attestations on file: list them, put one on file, revoke an order. The
registry records each change in the history and the audit log before it takes effect."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...directory.store import Directory
from ...policy.registry import (
    COMPONENTS,
    DEFAULT_STATEMENT,
    Registry,
    RegistryError,
    Subject,
    UnknownOrder,
    parse_date,
    parse_elements,
)
from ...policy.schema import ELEMENTS
from ...policy.store import StateError, now
from ..errors import NotFound
from ..forms import Form
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import HEADERS, page


def _known_agency(board: Dashboard, ori: str) -> str:
    with Directory.open(board.data, create=False) as directory:
        agency = directory.get(ori)
    if agency is None:
        raise RegistryError(f"no agency {ori.strip().upper()} in the directory")
    return agency.ori


def _listing(board: Dashboard, visit: Visit, problem: str = "", done: str = "",
             status: int = 200, form: Form | None = None) -> Response:
    with Registry(board.data, visit.state or "") as registry:
        orders, attestations = registry.orders(), registry.attestations()
    moment = now()
    return page(visit, "orders.html", status, area="orders", moment=moment,
                orders=[(o, o.status(moment)) for o in orders],
                attestations=[(a, a.in_force(moment)) for a in attestations],
                elements=ELEMENTS, components=sorted(COMPONENTS), problem=problem, done=done,
                agencies=board.names.agencies(),
                form=form or Form({}), statement=DEFAULT_STATEMENT)


def _add_order(board: Dashboard, visit: Visit, form: Form) -> str:
    dob = form.get("dob").strip()
    subject = Subject(form.get("oln"), form.get("name"),
                      parse_date(dob, "date of birth") if dob else None, form.get("plate"),
                      form.get("vin"))
    chosen = form.all("elements")
    allowed = parse_elements(",".join(chosen) if chosen else "all")
    ori = form.get("ori").strip()
    holder = _known_agency(board, ori) if ori else ""
    with Registry(board.data, visit.state or "") as registry:
        order = registry.add_order(form.get("ref"), subject,
                                   parse_date(form.get("valid_from"), "first day"),
                                   parse_date(form.get("valid_until"), "last day"),
                                   ori=holder, component=form.get("component"),
                                   elements=allowed, who=visit.account.name)
    return f"Court order {order.reference} on file for {order.ori or order.component}."


def _add_attestation(board: Dashboard, visit: Visit, form: Form) -> str:
    agency = _known_agency(board, form.get("ori"))
    with Registry(board.data, visit.state or "") as registry:
        made = registry.add_attestation(agency, parse_date(form.get("valid_until"), "until"),
                                        form.get("statement") or DEFAULT_STATEMENT,
                                        visit.account.name)
    return f"Attestation {made.id} by {made.ori} on file until {made.valid_until}."


def _revoke(board: Dashboard, visit: Visit, reference: str) -> str:
    with Registry(board.data, visit.state or "") as registry:
        order = registry.revoke_order(reference, visit.account.name)
    return f"Court order {order.reference} revoked."


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/orders")
    def orders_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.SEE_CASES)
        return _listing(board, visit, done=request.query_params.get("done", "")[:200])

    async def act(request: Request, state: str, what: str, reference: str = "") -> Response:
        visit, form = await board.acting(request, state, Permission.ORDERS)
        try:
            if what == "order":
                done = await run_in_threadpool(_add_order, board, visit, form)
            elif what == "attestation":
                done = await run_in_threadpool(_add_attestation, board, visit, form)
            else:
                done = await run_in_threadpool(_revoke, board, visit, reference)
        except UnknownOrder as error:
            raise NotFound(str(error)) from None
        except StateError as error:  # RegistryError included: nothing was recorded
            return await run_in_threadpool(_listing, board, visit, f"Not recorded: {error}",
                                           "", 422, form)
        return RedirectResponse(f"/states/{visit.state}/orders?done={quote(done)}", 303,
                                headers=HEADERS)

    @router.post("/states/{state}/orders")
    async def add_order(request: Request, state: str) -> Response:
        return await act(request, state, "order")

    @router.post("/states/{state}/orders/{reference}/revoke")
    async def revoke(request: Request, state: str, reference: str) -> Response:
        return await act(request, state, "revoke", reference)

    @router.post("/states/{state}/attestations")
    async def add_attestation(request: Request, state: str) -> Response:
        return await act(request, state, "attestation")

    return router
