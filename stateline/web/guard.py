"""Who is asking, and whether they may: every page starts here.

A page names the permission it needs; a form post also needs the session's CSRF token and must
not come from another site. The state in the URL must be one the account answers for.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from ..audit import EntryKind
from ..datadir import DataDir
from ..policy.store import audit
from ..protocol import STATES
from .accounts import Account
from .errors import CsrfRefused, Forbidden, LoginRequired, NotFound, Throttled
from .forms import Form, read_form
from .grants import Permission, allowed, refusal
from .names import AgencyNames
from .sessions import COOKIE, Session, Sessions

FAILURE_WINDOW = 15 * 60
"""Seconds over which failed sign-ins are counted."""
MOST_FAILURES = {"name": 5, "ip": 20}
"""Failed sign-ins allowed per name and per address in the window, before attempts are
refused unchecked until the window clears."""


@dataclass(frozen=True, slots=True)
class Visit:
    """A signed-in request: the session, the state in the URL (if any) and the data folder."""

    session: Session
    state: str | None
    data: DataDir

    @property
    def account(self) -> Account:
        return self.session.account

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def states(self) -> list[str]:
        return self.account.states(self.data)

    def can(self, permission: str) -> bool:
        return allowed(self.account.role, Permission(permission))


@dataclass
class Throttle:
    """Failed sign-ins by name and by address, in memory: a restart forgives them."""

    failures: dict[str, deque[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self.failures.setdefault(key, deque())
        while found and found[0] < now - FAILURE_WINDOW:
            found.popleft()
        return found

    def check(self, name: str, ip: str) -> None:
        now = time.monotonic()
        with self.lock:
            for kind, key in (("name", name), ("ip", ip)):
                if len(self._recent(f"{kind}:{key}", now)) >= MOST_FAILURES[kind]:
                    raise Throttled("too many failed sign-ins; wait 15 minutes and try again")

    def failed(self, name: str, ip: str) -> None:
        now = time.monotonic()
        with self.lock:
            for kind, key in (("name", name), ("ip", ip)):
                self._recent(f"{kind}:{key}", now).append(now)

    def cleared(self, name: str) -> None:
        with self.lock:
            self.failures.pop(f"name:{name}", None)


class Dashboard:
    """What every page shares: the data folder, sessions, sign-in throttle, cached results."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self.sessions = Sessions(data)
        self.throttle = Throttle()
        self.verified: dict[str, Any] = {}
        """The last audit verification per state, with when it ran."""
        self.names = AgencyNames(data)

    def state(self, state: str) -> str:
        code = state.strip().upper()
        if code not in STATES or not self.data.state_dir(code).is_dir():
            raise NotFound(f"no state {state!r} here")
        return code

    def visit(self, request: Request, state: str | None, permission: Permission) -> Visit:
        """The signed-in visit, or a refusal; a refused visit is kept on the request so the
        refusal page keeps the navigation of the states the account does answer for."""
        session = self.sessions.find(request.cookies.get(COOKIE))
        if session is None:
            raise LoginRequired("sign in first")
        code = self.state(state) if state is not None else None
        account = session.account
        if code is not None and not account.covers(code):
            own = account.states(self.data)
            request.state.visit = Visit(session, own[0] if len(own) == 1 else None, self.data)
            raise Forbidden(f"Your account ({account.name}) answers for {account.state}, "
                            f"not {code}: an account for {code} can open this page.")
        visit = Visit(session, code, self.data)
        if not allowed(account.role, permission):
            own = account.states(self.data)
            request.state.visit = Visit(session, code or (own[0] if len(own) == 1 else None),
                                        self.data)
            raise Forbidden(refusal(account.role, permission))
        request.state.visit = visit
        return visit

    async def acting(self, request: Request, state: str | None,
                     permission: Permission) -> tuple[Visit, Form]:
        """A form post: from this site, by a session allowed to act, with its CSRF token."""
        same_site(request)
        visit = self.visit(request, state, permission)
        form = await read_form(request)
        if not visit.session.csrf_ok(form.get("csrf") or None):
            raise CsrfRefused("this form has expired or did not come from this dashboard; "
                              "reload the page and try again (nothing was done)")
        return visit, form

    def audit_all(self, states: list[str], kind: EntryKind, body: dict[str, Any]) -> None:
        """One entry in each state's log; raises StateError at the first that cannot take it."""
        for code in states:
            audit(self.data, code, kind, body)


def same_site(request: Request) -> None:
    """Refuse a post a browser says came from elsewhere (the token check follows anyway)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise CsrfRefused("a form from another site was refused (nothing was done)")
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfRefused("a form from another origin was refused (nothing was done)")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""

