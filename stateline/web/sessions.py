"""Signed-in sessions, kept server-side in web.db so signing out or a password change ends them.

The browser holds only a random token (HttpOnly, SameSite=Strict cookie); web.db holds its
SHA-256, so a copy of the database opens no session. Each session has its own CSRF token,
which every form that changes anything must send back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..datadir import DataDir
from .accounts import Account, Accounts, UnknownAccount, opened

COOKIE = "stateline_session"
LOGIN_COOKIE = "stateline_login"
"""The sign-in form's own CSRF token (double submit): there is no session yet to hold one."""
IDLE = timedelta(minutes=30)
LONGEST = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Session:
    account: Account
    csrf: str
    created: datetime

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


class Sessions:
    def __init__(self, data: DataDir) -> None:
        self.data = data
        self.accounts = Accounts(data)

    def start(self, account: Account) -> str:
        """A new session for the account; returns the token for the cookie."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with opened(self.data) as db:
            db.execute("INSERT INTO session VALUES (?, ?, ?, ?, ?)",
                       (_digest(token), account.name, secrets.token_urlsafe(32), _stamp(now),
                        _stamp(now)))
            db.execute("DELETE FROM session WHERE seen < ? OR created < ?",
                       (_stamp(now - IDLE), _stamp(now - LONGEST)))
        return token

    def find(self, token: str | None) -> Session | None:
        """The live session a cookie names, touched; None when absent, expired or its account
        is gone."""
        if not token:
            return None
        now = datetime.now(UTC)
        with opened(self.data) as db:
            row = db.execute("SELECT name, csrf, created, seen FROM session WHERE token = ?",
                             (_digest(token),)).fetchone()
            if row is None:
                return None
            name, csrf, created, seen = row
            began = datetime.fromisoformat(created)
            if datetime.fromisoformat(seen) < now - IDLE or began < now - LONGEST:
                db.execute("DELETE FROM session WHERE token = ?", (_digest(token),))
                return None
            db.execute("UPDATE session SET seen = ? WHERE token = ?",
                       (_stamp(now), _digest(token)))
        try:
            account = self.accounts.get(name)
        except UnknownAccount:
            return None
        return Session(account, csrf, began)

    def end(self, token: str | None) -> None:
        if token:
            with opened(self.data) as db:
                db.execute("DELETE FROM session WHERE token = ?", (_digest(token),))
