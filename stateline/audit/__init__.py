"""The audit room: an append-only RFC 6962 Merkle log of every decision, with signed heads."""

from __future__ import annotations

from pathlib import Path

from ..datadir import DataDir
from .checkpoint import NoteError, SignedTreeHead, TreeHead, load_or_create_key
from .entries import AuditEntry, EntryKind
from .log import AuditLog, LogError
from .merkle import ProofError
from .verify import Finding, Tamper, VerifyReport

__all__ = [
    "AuditEntry",
    "AuditLog",
    "EntryKind",
    "Finding",
    "LogError",
    "NoteError",
    "ProofError",
    "SignedTreeHead",
    "Tamper",
    "TreeHead",
    "VerifyReport",
    "audit_db",
    "load_or_create_key",
    "open_state_log",
    "signing_key",
]


def audit_db(data: DataDir, state: str) -> Path:
    return data.state_dir(state) / "audit.db"


def signing_key(data: DataDir, state: str) -> Path:
    return data.state_dir(state) / "audit-key.pem"


def open_state_log(data: DataDir, state: str) -> AuditLog:
    """A state's log under its folder, signed by its own key (made on first use)."""
    folder = data.state_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    key = load_or_create_key(signing_key(data, state))
    return AuditLog.open(audit_db(data, state), f"stateline/{state.upper()}", key)
