"""Accounts, for coordinators: those of their own state (every account, for a coordinator of
all states); add one (its password is shown once), set a new password, remove one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...policy.store import StateError
from .. import roster
from ..accounts import ALL_STATES, Account, AccountError, Accounts, Role, UnknownAccount
from ..errors import Forbidden, NotFound
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import page


def _mine(visit: Visit, account: Account) -> bool:
    """A coordinator manages accounts of its own state; one of all states manages every one."""
    return visit.account.state == ALL_STATES or account.state == visit.account.state


def _listing(board: Dashboard, visit: Visit, done: str = "", problem: str = "",
             secret: str = "", status: int = 200) -> Response:
    shown = [a for a in Accounts(board.data).all() if _mine(visit, a)]
    states = ([ALL_STATES, *board.data.states()] if visit.account.state == ALL_STATES
              else [visit.account.state])
    return page(visit, "users.html", status, area="users", accounts=shown, roles=list(Role),
                states=states, done=done, problem=problem, secret=secret)


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/users")
    def users_page(request: Request) -> Response:
        visit = board.visit(request, None, Permission.USERS)
        return _listing(board, visit)

    @router.post("/users")
    async def change(request: Request) -> Response:
        visit, form = await board.acting(request, None, Permission.USERS)
        action, name = form.get("action"), form.get("name")
        by = visit.account.name
        try:
            if action == "add":
                state = form.get("state").strip().upper()
                if visit.account.state not in (ALL_STATES, state):
                    raise Forbidden(f"account {by} cannot make accounts for {state}")
                made, secret = await run_in_threadpool(
                    roster.add, board.data, name, Role.parse(form.get("role")), state, by)
                done = f"Account {made.name} ({made.role.value}, {made.state}) added."
            else:
                target = Accounts(board.data).get(name)
                if not _mine(visit, target):
                    raise Forbidden(f"account {by} cannot change {target.name}")
                if action == "passwd":
                    made, secret = await run_in_threadpool(roster.set_password, board.data,
                                                           target.name, by)
                    done = f"New password for {made.name}; its sessions have ended."
                elif action == "remove" and target.name != by:
                    await run_in_threadpool(roster.remove, board.data, target.name, by)
                    done, secret = f"Account {target.name} removed.", ""
                else:
                    raise Forbidden("remove another account, not your own")
        except UnknownAccount as error:
            raise NotFound(str(error)) from None
        except (AccountError, StateError) as error:
            return _listing(board, visit, problem=f"Nothing changed: {error}", status=422)
        return _listing(board, visit, done=done, secret=secret)

    return router
