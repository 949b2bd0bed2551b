"""Dashboard accounts in DIR/web.db: a name, a role, the state it answers for, and a password
kept only as a salted scrypt digest.

A password is compared in constant time, and a name nobody has still costs one scrypt run, so
neither the answer nor its timing says which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from ..datadir import DataDir
from ..errors import RequesterError
from ..protocol import STATES

ALL_STATES = "ALL"
"""The state of an account that answers for every state in the data folder."""

MIN_PASSWORD = 10
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt's cost: about 16 MiB and a few tens of milliseconds per check."""

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, state TEXT NOT NULL,
    password TEXT NOT NULL, created TEXT NOT NULL, changed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session (
    token TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL,
    created TEXT NOT NULL, seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_name ON session (name);
"""


class Role(Enum):
    """What an account may do; `grants.py` says which pages and actions each role reaches."""

    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    AUDITOR = "auditor"
    VIEWER = "viewer"

    @classmethod
    def parse(cls, text: str) -> Role:
        wanted = text.strip().lower()
        for role in cls:
            if role.value == wanted:
                return role
        raise AccountError(f"role {text!r} is not one of "
                           + ", ".join(role.value for role in cls))


class AccountError(RequesterError):
    """An account that cannot be made or changed as asked; nothing was changed."""

    code, status = "account-error", 422


class UnknownAccount(AccountError):
    """No account has this name."""

    code, status = "not-found", 404


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    state: str
    """A state code, or ALL."""
    created: datetime

    def covers(self, state: str) -> bool:
        return self.state == ALL_STATES or self.state == state.upper()

    def states(self, data: DataDir) -> list[str]:
        """The states of the data folder this account answers for."""
        return [s for s in data.states() if self.covers(s)]


def web_db(data: DataDir) -> sqlite3.Connection:
    """The dashboard's own database beside the nation's files (made on first use)."""
    data.root.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data.root / "web.db", isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(_SCHEMA)
    except sqlite3.Error:
        db.close()
        raise
    return db


@contextmanager
def opened(data: DataDir) -> Iterator[sqlite3.Connection]:
    db = web_db(data)
    try:
        yield db
    finally:
        db.close()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$digest`, hex; the parameters ride along so they can be raised."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                          dklen=32)


_DECOY = hash_password(secrets.token_urlsafe(16))
"""Checked against when a name is unknown, so a miss takes as long as a wrong password."""


def new_password() -> str:
    """A password to hand over once: 20 URL-safe characters, about 120 bits."""
    return secrets.token_urlsafe(15)


def check_name(name: str) -> str:
    wanted = name.strip().lower()
    if not _NAME.fullmatch(wanted):
        raise AccountError(f"account name {name!r} must be 1-64 lower-case letters, digits, "
                           "dots, dashes or underscores, starting with a letter or digit")
    return wanted


def check_state(state: str, data: DataDir) -> str:
    code = state.strip().upper()
    if code == ALL_STATES:
        return code
    if code not in STATES:
        raise AccountError(f"{state!r} is not a state code (or ALL)")
    if code not in data.states():
        raise AccountError(f"no state {code} in {data.root}")
    return code


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Accounts:
    """The accounts of one data folder. Each call opens web.db and closes it again."""

    def __init__(self, data: DataDir) -> None:
        self.data = data

    def add(self, name: str, role: Role, state: str,
            password: str | None = None) -> tuple[Account, str]:
        """A new account and its password (made when none is given)."""
        name, state = check_name(name), check_state(state, self.data)
        secret = password if password is not None else new_password()
        _check_password(secret)
        stamp = _now()
        with opened(self.data) as db:
            try:
                db.execute("INSERT INTO account VALUES (?, ?, ?, ?, ?, ?)",
                           (name, role.value, state, hash_password(secret), stamp, stamp))
            except sqlite3.IntegrityError:
                raise AccountError(f"account {name} already exists") from None
        return Account(name, role, state, datetime.fromisoformat(stamp)), secret

    def get(self, name: str) -> Account:
        with opened(self.data) as db:
            row = db.execute("SELECT name, role, state, created FROM account WHERE name = ?",
                             (name.strip().lower(),)).fetchone()
        if row is None:
            raise UnknownAccount(f"no account {name.strip()!r}")
        return _account(row)

    def all(self) -> list[Account]:
        with opened(self.data) as db:
            rows = db.execute("SELECT name, role, state, created FROM account ORDER BY name")
            return [_account(row) for row in rows.fetchall()]

    def set_password(self, name: str, password: str | None = None) -> tuple[Account, str]:
        """A new password for an account; its sessions end."""
        account = self.get(name)
        secret = password if password is not None else new_password()
        _check_password(secret)
        with opened(self.data) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE account SET password = ?, changed = ? WHERE name = ?",
                       (hash_password(secret), _now(), account.name))
            db.execute("DELETE FROM session WHERE name = ?", (account.name,))
            db.execute("COMMIT")
        return account, secret

    def remove(self, name: str) -> Account:
        """Delete an account and end its sessions."""
        account = self.get(name)
        with opened(self.data) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM session WHERE name = ?", (account.name,))
            db.execute("DELETE FROM account WHERE name = ?", (account.name,))
            db.execute("COMMIT")
        return account

    def check(self, name: str, password: str) -> Account | None:
        """The account when the password is right; None otherwise, in about the same time
        whether or not the name exists."""
        wanted = name.strip().lower()
        with opened(self.data) as db:
            row = db.execute("SELECT name, role, state, created, password FROM account "
                             "WHERE name = ?", (wanted,)).fetchone()
        stored = row[4] if row else _DECOY
        good = check_password(password, stored)
        return _account(row[:4]) if row and good else None


def _account(row: tuple[str, str, str, str]) -> Account:
    name, role, state, created = row
    return Account(name, Role(role), state, datetime.fromisoformat(created))
