"""The audit room: an append-only RFC 6962 Merkle log of every decision, with signed heads."""

from __future__ import annotations

from pathlib import Path

from ..datadir import ConfigFileError, DataDir, state_config
from .checkpoint import NoteError, SignedTreeHead, TreeHead, load_or_create_key
from .entries import AuditEntry, EntryKind
from .log import AuditLog, LogError
from .merkle import ProofError
from .rollups import Rollup
from .sql import is_postgres_url
from .verify import Finding, Tamper, VerifyReport

__all__ = [
    "AuditEntry",
    "AuditLog",
    "EntryKind",
    "Finding",
    "LogError",
    "NoteError",
    "ProofError",
    "Rollup",
    "SignedTreeHead",
    "Tamper",
    "TreeHead",
    "VerifyReport",
    "audit_db",
    "audit_url",
    "load_or_create_key",
    "open_state_log",
    "signing_key",
]


def audit_db(data: DataDir, state: str) -> Path:
    return data.state_dir(state) / "audit.db"


def signing_key(data: DataDir, state: str) -> Path:
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


def open_state_log(data: DataDir, state: str, url: str | None = None) -> AuditLog:
    """A state's log, signed by its own key (made on first use in the state's folder): in
    PostgreSQL when `url` or the state's config names a database, else in the folder."""
    folder = data.state_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    key = load_or_create_key(signing_key(data, state))
    target = url or audit_url(data, state) or audit_db(data, state)
    return AuditLog.open(target, f"stateline/{state.upper()}", key)
