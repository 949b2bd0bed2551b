"""The audit room: an append-only RFC 6962 Merkle log of every decision, with signed heads."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..datadir import ConfigFileError, DataDir, state_config
from .checkpoint import NoteError, SignedTreeHead, TreeHead, load_or_create_key
from .entries import AuditEntry, EntryKind
from .keys import KeyPlace, KeyRefused, key_place, log_chain, signing_key_for
from .log import AuditLog, LogError, ReadOnly
from .merkle import ProofError
from .rollups import Rollup
from .sql import is_postgres_url
from .verify import Finding, Tamper, TrustedCheckpoint, VerifyReport

__all__ = [
    "AuditEntry",
    "AuditLog",
    "EntryKind",
    "Finding",
    "KeyPlace",
    "KeyRefused",
    "LogError",
    "NoteError",
    "ProofError",
    "ReadOnly",
    "Rollup",
    "SignedTreeHead",
    "Tamper",
    "TreeHead",
    "TrustedCheckpoint",
    "VerifyReport",
    "audit_db",
    "audit_url",
    "key_place",
    "load_or_create_key",
    "log_keys",
    "open_state_log",
    "origin_of",
    "read_state_log",
    "sign_tails",
    "signing_key",
]

_log = logging.getLogger(__name__)


def origin_of(state: str) -> str:
    return f"stateline/{state.upper()}"


def audit_db(data: DataDir, state: str) -> Path:
    return data.state_dir(state) / "audit.db"


def signing_key(data: DataDir, state: str) -> Path:
    """Where the key is kept when it is kept beside the log (see `key_place` for where the
    state keeps it)."""
    return data.state_dir(state) / "audit-key.pem"


def audit_url(data: DataDir, state: str) -> str | None:
    """A PostgreSQL URL from the state's config.toml `[audit] url`, if it names one."""
    try:
        audit = state_config(data, state, "audit")
    except ConfigFileError as error:
        raise LogError(error.text) from None
    url = audit.get("url")
    if url is not None and not (isinstance(url, str) and is_postgres_url(url)):
        raise LogError(f"{data.config(state)}: [audit] url must be a postgresql:// URL")
    return url if isinstance(url, str) else None


def _target(data: DataDir, state: str, url: str | None) -> Path | str:
    return url or audit_url(data, state) or audit_db(data, state)


def open_state_log(data: DataDir, state: str, url: str | None = None) -> AuditLog:
    """A state's log, in PostgreSQL when `url` or the state's config names a database, else
    in the folder. Its key is read where the state keeps it (`key_place`) on the first write,
    and must be the newest pinned key."""
    folder = data.state_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    origin = origin_of(state)
    return AuditLog.open(_target(data, state, url), origin,
                         lambda: signing_key_for(data, state, origin))


def read_state_log(data: DataDir, state: str, url: str | None = None) -> AuditLog | None:
    """A state's log opened to read, creating nothing; None when there is none."""
    return AuditLog.open_to_read(_target(data, state, url), origin_of(state))


def log_keys(data: DataDir, state: str) -> list[Ed25519PublicKey]:
    """The public keys the state's heads are checked with, first key first: the pinned chain
    (or, in a folder from before keys were pinned, the key itself)."""
    return [v.public_key for v in log_chain(data, state, origin_of(state))]


def sign_tails(data: DataDir, states: Iterable[str]) -> int:
    """At a start: sign over the entries a crash left unsigned in each state's log (a log
    that cannot sign is logged and skipped). Returns how many heads were signed."""
    signed = 0
    for state in states:
        try:
            existing = read_state_log(data, state)
            if existing is None:
                continue
            existing.close()
            with open_state_log(data, state) as log:
                signed += log.sign_tail() is not None
        except Exception as error:
            _log.warning("%s: unsigned audit entries left unsigned at start: %s", state, error)
    return signed
