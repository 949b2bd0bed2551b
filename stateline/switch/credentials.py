"""Agency credentials: API tokens bound to one ORI each, kept only as SHA-256 digests in
DIR/switch.db, so a copy of the database hands out no working credential.

A synthetic nation also keeps every agency's token in DIR/credentials.json (mode 0600) so that
`stateline send --from ORI` can act as any agency: a simulation convenience, never for a real
network.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..datadir import DataDir
from ..directory.agency import DirectoryError, normalise_ori
from .db import Store
from .errors import CredentialError

TOKEN_PREFIX = "slag_"
"""Marks a string as a Stateline agency token, so one pasted into the wrong place is spotted."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS credential (
    id TEXT PRIMARY KEY,
    ori TEXT NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    created TEXT NOT NULL,
    who TEXT NOT NULL,
    note TEXT NOT NULL,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS credential_ori ON credential (ori);
CREATE TABLE IF NOT EXISTS refusal (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    credential TEXT,
    credential_ori TEXT,
    claimed_ori TEXT,
    reason TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Credential:
    """One issued credential as the switch keeps it: never the token itself."""

    id: str
    ori: str
    created: datetime
    who: str
    note: str
    revoked: datetime | None

    @property
    def in_force(self) -> bool:
        return self.revoked is None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "ori": self.ori, "created": self.created.isoformat(),
                "who": self.who, "note": self.note,
                "revoked": self.revoked.isoformat() if self.revoked else None}


@dataclass(frozen=True, slots=True)
class Refusal:
    """A logged attempt the switch turned away: unknown token, or the wrong ORI for it."""

    time: datetime
    credential: str | None
    credential_ori: str | None
    claimed_ori: str | None
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"time": self.time.isoformat(), "credential": self.credential,
                "credential_ori": self.credential_ori, "claimed_ori": self.claimed_ori,
                "reason": self.reason}


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CredentialBook(Store):
    """Issue, list, revoke and check credentials; log refused attempts."""

    def __init__(self, data: DataDir, *, share: Store | None = None,
                 before: Store | None = None) -> None:
        super().__init__(data.switch_db, SCHEMA, full=True, share=share, before=before)
        self._known: dict[bytes, Credential] = {}
        self._known_at: tuple[int, int] = (-1, -1)

    def issue(self, ori: str, who: str, note: str = "") -> tuple[str, Credential]:
        """A new token for the ORI and its record; the caller shows the token once."""
        return self.issue_many([ori], who, note)[0]

    def issue_many(self, oris: Iterable[str], who: str,
                   note: str = "") -> list[tuple[str, Credential]]:
        """One new token per ORI, all in one transaction."""
        issued = []
        created = datetime.now(UTC).replace(microsecond=0)
        for ori in oris:
            try:
                code = normalise_ori(ori)
            except DirectoryError as error:
                raise CredentialError(str(error)) from None
            issued.append((new_token(), Credential(secrets.token_hex(5), code, created, who,
                                                   note, None)))
        rows = [(c.id, c.ori, digest(t), c.created.isoformat(), c.who, c.note)
                for t, c in issued]
        with self.transaction() as db:
            db.executemany("INSERT INTO credential (id, ori, digest, created, who, note)"
                           " VALUES (?, ?, ?, ?, ?, ?)", rows)
        return issued

    def revoke(self, credential_id: str) -> Credential:
        ident = credential_id.strip().lower()
        with self.transaction() as db:
            cursor = db.execute("UPDATE credential SET revoked = ? WHERE id = ? AND revoked IS"
                                " NULL", (_now(), ident))
            if cursor.rowcount != 1:
                found = self._get(ident)
                if found is not None:
                    raise CredentialError(f"credential {ident} was already revoked")
                raise CredentialError(f"no credential {credential_id.strip()!r}")
        found = self._get(ident)
        assert found is not None
        return found

    def credentials(self, ori: str | None = None) -> list[Credential]:
        where, args = ("WHERE ori = ?", (ori.strip().upper(),)) if ori else ("", ())
        with self.lock:
            rows = self.db.execute("SELECT id, ori, created, who, note, revoked FROM credential "
                                   f"{where} ORDER BY ori, created, id", args).fetchall()
        return [_credential(row) for row in rows]

    def check(self, token: str) -> Credential | None:
        """The credential in force for a token, or None. The lookup is by digest, so the
        comparison leaks nothing about how much of a token was right. Tokens in force are
        remembered until anyone writes to the database (a revocation from another process
        included), so a revocation takes effect on the next message."""
        key = digest(token)
        with self.lock:
            version = self.version()
            if version != self._known_at:
                self._known.clear()
                self._known_at = version
            known = self._known.get(key)
            if known is not None:
                return known
            row = self.db.execute("SELECT id, ori, created, who, note, revoked FROM credential"
                                  " WHERE digest = ? AND revoked IS NULL", (key,)).fetchone()
            if row is None:
                return None
            known = self._known[key] = _credential(row)
        return known

    def refuse(self, reason: str, credential: Credential | None = None,
               claimed_ori: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO refusal (time, credential, credential_ori, claimed_ori,"
                       " reason) VALUES (?, ?, ?, ?, ?)",
                       (datetime.now(UTC).isoformat(timespec="microseconds"),
                        credential.id if credential else None,
                        credential.ori if credential else None, claimed_ori, reason))

    def refusals(self, limit: int = 100) -> list[Refusal]:
        with self.lock:
            rows = self.db.execute("SELECT time, credential, credential_ori, claimed_ori, reason"
                                   " FROM refusal ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [Refusal(datetime.fromisoformat(r[0]), *r[1:]) for r in rows]

    def _get(self, ident: str) -> Credential | None:
        with self.lock:
            row = self.db.execute("SELECT id, ori, created, who, note, revoked FROM credential"
                                  " WHERE id = ?", (ident,)).fetchone()
        return _credential(row) if row else None


def _credential(row: sqlite3.Row | tuple[str, str, str, str, str, str | None]) -> Credential:
    id_, ori, created, who, note, revoked = row
    return Credential(id_, ori, datetime.fromisoformat(created), who, note,
                      datetime.fromisoformat(revoked) if revoked else None)


def save_tokens(data: DataDir, tokens: dict[str, str]) -> None:
    """Add tokens to DIR/credentials.json (created with mode 0600), replacing any for the same
    ORI. Simulation only: a real agency keeps its own token."""
    known = read_tokens(data)
    known.update(tokens)
    body = json.dumps({"note": "Synthetic nation only: each agency's switch token, so the CLI "
                               "can send as any agency. Never keep tokens like this for real.",
                       "tokens": dict(sorted(known.items()))}, indent=1)
    path = data.credentials_file
    temporary = path.with_suffix(".json.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(body)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read_tokens(data: DataDir) -> dict[str, str]:
    path = data.credentials_file
    if not path.exists():
        return {}
    try:
        tokens = json.loads(path.read_text())["tokens"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CredentialError(f"{path}: cannot read tokens ({error})") from None
    if not isinstance(tokens, dict):
        raise CredentialError(f"{path}: \"tokens\" is not an object")
    return {str(k): str(v) for k, v in tokens.items()}


def token_for(data: DataDir, ori: str) -> str:
    """The saved token of a synthetic agency, for sending as it from the command line."""
    code = ori.strip().upper()
    token = read_tokens(data).get(code)
    if token is None:
        raise CredentialError(f"no token for {code} in {data.credentials_file}: issue one with "
                              f"`stateline credentials issue {code} --save`")
    return token


def issue_for_nation(data: DataDir, oris: Iterable[str]) -> int:
    """One credential per agency of a new synthetic nation, tokens saved for the CLI."""
    with CredentialBook(data) as book:
        issued = book.issue_many(oris, who="nation init", note="synthetic agency")
    save_tokens(data, {credential.ori: token for token, credential in issued})
    return len(issued)
