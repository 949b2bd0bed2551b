"""Bearer tokens that a state's own message switch presents to its standalone gateway.

Only SHA-256 digests are kept (table `gateway_token` in the state's state.db), so a copy of the
database does not hand out working credentials; a token is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from ..audit.records import CredentialRecord
from ..datadir import DataDir
from ..errors import RequesterError
from ..policy.store import StateError, audit, checked_state, connect, current_user

TOKEN_PREFIX = "slgw_"
"""Marks a string as a Stateline gateway token, so one pasted into the wrong place is spotted."""

REFRESH_SECONDS = 1.0
"""How stale a running gateway's view of the tokens may be: a revocation bites within this."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gateway_token (
    id TEXT PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    created TEXT NOT NULL,
    who TEXT NOT NULL,
    note TEXT NOT NULL,
    revoked TEXT
);
"""


class TokenError(RequesterError):
    """Tokens cannot be issued, revoked or read as asked; the message says why."""

    code = "token-error"


class NoToken(TokenError):
    """No token is in force for the state, so a gateway would have to refuse every caller."""

    code, status = "no-token", 409


@dataclass(frozen=True, slots=True)
class Token:
    """One issued token as the state keeps it: never the secret itself."""

    id: str
    created: datetime
    who: str
    note: str
    revoked: datetime | None

    @property
    def in_force(self) -> bool:
        return self.revoked is None


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).digest()


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _token(row: tuple[str, str, str, str, str | None]) -> Token:
    id_, created, who, note, revoked = row
    return Token(id_, datetime.fromisoformat(created), who, note,
                 datetime.fromisoformat(revoked) if revoked else None)


class TokenBook:
    """A state's issued tokens: issue, revoke and list them. Use as a context manager."""

    def __init__(self, data: DataDir, state: str) -> None:
        self.state = checked_state(data, state)
        self._data = data
        self._db = connect(data, self.state)
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            self._db.close()
            raise StateError(f"cannot use {data.state_db(self.state)}: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TokenBook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def issue(self, who: str, note: str = "") -> tuple[str, Token]:
        """A new random token and its record; the caller shows the token once."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token(secrets.token_hex(4), datetime.now(UTC), who, note, None)
        with self._audited("gateway-token-issued", token.id, who, note):
            self._db.execute(
                "INSERT INTO gateway_token (id, digest, created, who, note) "
                "VALUES (?, ?, ?, ?, ?)",
                (token.id, token_digest(secret), _stamp(token.created), who, note))
        return secret, token

    @contextmanager
    def _audited(self, action: str, token_id: str, who: str, note: str = "") -> Iterator[None]:
        """The change and its audit entry together: the entry is durable before the change
        commits, and a change the log cannot take is rolled back."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            record = CredentialRecord(
                time=datetime.now(UTC).isoformat(timespec="microseconds"), action=action,
                token=token_id, who=who, note=note)
            audit(self._data, self.state, *record.for_log())
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def revoke(self, token_id: str, who: str = "") -> Token:
        ident = token_id.strip().lower()
        known = {t.id: t for t in self.tokens()}
        if ident not in known:
            raise TokenError(f"no token {token_id.strip()!r} for {self.state}")
        if known[ident].revoked is not None:
            raise TokenError(f"token {ident} was already revoked")
        with self._audited("gateway-token-revoked", ident, who or current_user()):
            self._db.execute("UPDATE gateway_token SET revoked = ? WHERE id = ? "
                             "AND revoked IS NULL", (_stamp(datetime.now(UTC)), ident))
        return next(t for t in self.tokens() if t.id == ident)

    def tokens(self) -> list[Token]:
        rows = self._db.execute(
            "SELECT id, created, who, note, revoked FROM gateway_token ORDER BY created, id")
        return [_token(row) for row in rows.fetchall()]


class Credentials:
    """Checks a presented token against the digests in force, re-read at most once per
    `refresh` seconds so that issuing or revoking a token needs no restart."""

    def __init__(self, data: DataDir, state: str, refresh: float = REFRESH_SECONDS) -> None:
        self.state = checked_state(data, state)
        self._data = data
        self._refresh = refresh
        self._lock = threading.Lock()
        self._digests: tuple[bytes, ...] = ()
        self._due = 0.0
        if not self._current():
            raise NoToken(f"no gateway token is in force for {self.state}: run `stateline "
                          f"gateway token --data {data.root} --state {self.state}` and give "
                          "the token to the state's message switch")

    def _current(self) -> tuple[bytes, ...]:
        with self._lock:
            if time.monotonic() >= self._due:
                self._digests = self._read()
                self._due = time.monotonic() + self._refresh
            return self._digests

    def _read(self) -> tuple[bytes, ...]:
        try:
            with closing(connect(self._data, self.state)) as db:
                db.executescript(_SCHEMA)
                rows = db.execute("SELECT digest FROM gateway_token WHERE revoked IS NULL")
                return tuple(bytes(digest) for (digest,) in rows.fetchall())
        except (sqlite3.Error, StateError) as error:
            raise TokenError(f"cannot read {self.state}'s gateway tokens: {error}") from None

    def check(self, presented: str) -> bool:
        """True only for a token in force; every digest is compared, in constant time each."""
        digest = token_digest(presented)
        found = False
        for known in self._current():
            found |= hmac.compare_digest(known, digest)
        return found
