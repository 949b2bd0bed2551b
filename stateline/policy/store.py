"""The policy in force for each state, its history, and the engine a running gateway decides with.

The text lives at DIR/states/WA/policy.cedar; every change is a row in DIR/states/WA/state.db
(SQLite, WAL), which the registry of court orders and attestations shares. A text is compiled
before it is installed, so a bad file is refused and the old policy stays in force.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from ..audit import EntryKind, LogError, open_state_log
from ..audit.records import (
    AttestationRecord,
    ChangeRecord,
    CourtOrderRecord,
    PolicyChangeRecord,
)
from ..datadir import DataDir
from ..directory.store import Directory, NoNation, Snapshot
from ..errors import RequesterError
from ..protocol import STATES
from .names import vetted
from .source import PolicySource, compile_policies

log = logging.getLogger("stateline.policy")

NO_POLICY = """\
@id("no-policy")
@reason("No sharing policy is in force for this state: every query is denied until one is applied.")
forbid (principal, action, resource);
"""
"""What a state without a policy file decides by: nothing leaves it (fail closed)."""

BASELINE = """\
// Criminal-justice baseline (built in): criminal-justice agencies with DMV permission may
// query; standard elements go to them; photos stay in the state; card type and SSN never leave.

@id("cj-query")
@reason("Criminal-justice agencies with DMV permission (D) may query driver, vehicle, history.")
permit (principal, action in Action::"query", resource)
when { principal.criminal_justice && principal.permissions.contains("D") };

@id("cj-release-standard")
@reason("Standard elements (identity to history) go to criminal-justice agencies.")
permit (principal, action == Action::"release", resource in ElementGroup::"standard")
when { principal.criminal_justice };

@id("photo-in-state")
@reason("License photos go only to criminal-justice agencies in this state.")
permit (principal in Category::"in-state", action == Action::"release",
        resource == Element::"photo")
when { principal.criminal_justice };
"""
"""The default when the presets package has no `cj-baseline.cedar`."""

PRESET = "cj-baseline.cedar"

KINDS = ("policy", "court-order", "attestation")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS change (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, kind TEXT NOT NULL,
    who TEXT NOT NULL, old_version TEXT NOT NULL, new_version TEXT NOT NULL,
    old_text TEXT NOT NULL, new_text TEXT NOT NULL, note TEXT NOT NULL
);
"""


class StateError(RequesterError):
    """A state's policy files cannot be used as asked; the message says what to do."""

    code, status = "state-error", 422


class NoState(StateError):
    """The state code is wrong, or the data folder has no folder for it."""

    code, status = "no-state", 404


class NoChange(StateError):
    """No change has this sequence number."""

    code, status = "not-found", 404


@dataclass(frozen=True, slots=True)
class Change:
    """One row of a state's history: a policy applied, or a court order or attestation edited.

    Versions are SHA-256 digests of the policy text ("" where there was none, or for a
    registry change); texts are the policy (or the registry record as JSON) before and after.
    """

    seq: int
    time: datetime
    kind: str
    who: str
    old_version: str
    new_version: str
    old_text: str
    new_text: str
    note: str


def checked_state(data: DataDir, state: str) -> str:
    """The state's code, once its folder is known to exist in the data folder."""
    code = state.strip().upper()
    if code not in STATES:
        raise NoState(f"{state!r} is not a state code")
    if not data.state_dir(code).is_dir():
        here = ", ".join(data.states()) or "none"
        raise NoState(f"no state {code} in {data.root} (states here: {here})")
    return code


def current_user() -> str:
    """Who an edit is recorded under when nobody is named: the OS user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def now() -> datetime:
    return datetime.now(UTC)


class StateDb(sqlite3.Connection):
    """A connection to a state's state.db that knows whose it is, so `record` can find the
    state's audit log."""

    data: DataDir
    state: str


AUDITED: dict[str, type[ChangeRecord]] = {
    "policy": PolicyChangeRecord, "court-order": CourtOrderRecord,
    "attestation": AttestationRecord}
"""History kinds and the audit records that account for them."""


def connect(data: DataDir, state: str, schema: str = "") -> StateDb:
    """The state's database (made if absent), with its history table and any other room's
    `schema`; synchronous=FULL, since a row there must be on disk before what it records takes
    effect."""
    code = checked_state(data, state)
    path = data.state_db(code)
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                             factory=StateDb)
    except sqlite3.Error as error:
        raise StateError(f"cannot use {path}: {error}") from None
    db.data, db.state = data, code
    try:
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(_SCHEMA + schema)
    except sqlite3.Error as error:
        db.close()
        raise StateError(f"cannot use {path}: {error}") from None
    return db


def record(db: sqlite3.Connection, kind: str, who: str, note: str = "", *,
           old_version: str = "", new_version: str = "", old_text: str = "",
           new_text: str = "") -> Change:
    """Add a history row in the caller's transaction, and its audit entry before the caller
    commits: a change the audit log cannot take is not made."""
    if not isinstance(db, StateDb):
        raise TypeError("record() needs a connection from policy.store.connect")
    when = now()
    row = (when.isoformat(timespec="microseconds"), kind, who, old_version, new_version,
           old_text, new_text, note)
    cursor = db.execute("INSERT INTO change (time, kind, who, old_version, new_version, "
                        "old_text, new_text, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    assert cursor.lastrowid is not None
    done = Change(cursor.lastrowid, when, kind, who, old_version, new_version, old_text,
                  new_text, note)
    audit(db.data, db.state, *change_record(done).for_log())
    return done


def change_record(change: Change, failed: str | None = None) -> ChangeRecord:
    """An audit entry's account of a change: who, when, what, and the text now in force."""
    return AUDITED[change.kind](
        time=change.time.isoformat(timespec="microseconds"), change=change.seq,
        change_kind=change.kind, who=change.who, note=change.note,
        old_version=change.old_version, new_version=change.new_version,
        text=change.new_text, failed=failed)


def audit(data: DataDir, state: str, kind: EntryKind, body: dict[str, Any]) -> int:
    """One entry in the state's audit log, durable when this returns."""
    try:
        with open_state_log(data, state) as log:
            return log.append(kind, body)
    except (LogError, sqlite3.Error, OSError) as error:
        raise StateError(f"cannot write {state}'s audit log, so nothing was changed: "
                         f"{error}") from None


def history(data: DataDir, state: str, kind: str | None = None) -> list[Change]:
    """Every change to the state's policy and registry, oldest first (one kind if given)."""
    return _changes(data, state, "WHERE kind = ?" if kind else "", (kind,) if kind else ())


def change(data: DataDir, state: str, seq: int) -> Change:
    found = _changes(data, state, "WHERE seq = ?", (seq,))
    if not found:
        raise NoChange(f"no change {seq} in {state.strip().upper()}'s history")
    return found[0]


def current_text(data: DataDir, state: str) -> str | None:
    """The policy text on disk, or None when the state has none (every query denied)."""
    try:
        return data.policy(checked_state(data, state)).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StateError(f"cannot read {data.policy(state)}: {error}") from None


def load_source(data: DataDir, state: str) -> PolicySource:
    """The compiled policy in force; the deny-all policy when there is no file. A file that
    does not compile raises PolicyError (the CLI shows it; a gateway keeps its old engine)."""
    text = current_text(data, state)
    return compile_policies(NO_POLICY if text is None else text)


def default_policy() -> str:
    """The policy a new nation's states start with: the `cj-baseline` preset when present."""
    preset = resources.files("stateline.policy").joinpath("presets", PRESET)
    return preset.read_text(encoding="utf-8") if preset.is_file() else BASELINE


def apply(data: DataDir, state: str, text: str, who: str | None = None,
          note: str = "") -> Change:
    """Put a policy text in force: compiled and its names checked against the directory first
    (PolicyError, nothing touched), then written beside the old file, recorded in the history,
    and swapped in with one rename."""
    code = checked_state(data, state)
    vetted(text, directory_snapshot(data))
    target = data.policy(code)
    with _locked(data.policy_lock(code)):
        old = _installed_text(target)
        temp = _written_beside(target, text)
        try:
            db = connect(data, code)
            try:
                return _install(db, temp, target, who or current_user(), note, old, text)
            except sqlite3.Error as error:
                raise StateError(f"cannot record the change in {data.state_db(code)}: "
                                 f"{error}") from None
            finally:
                db.close()
        finally:
            temp.unlink(missing_ok=True)


def directory_snapshot(data: DataDir) -> Snapshot | None:
    """The directory policies name agencies from; None when the data folder has none yet."""
    try:
        with Directory.open(data, create=False) as directory:
            return directory.snapshot()
    except NoNation:
        return None


def _install(db: StateDb, temp: Path, target: Path, who: str, note: str,
             old: str | None, new: str) -> Change:
    """The history row committed, then the rename; a failed rename takes the row back."""
    db.execute("BEGIN IMMEDIATE")
    done = record(db, "policy", who, note, old_version="" if old is None else digest(old),
                  new_version=digest(new), old_text=old or "", new_text=new)
    db.execute("COMMIT")
    try:
        os.replace(temp, target)
    except OSError as error:
        db.execute("DELETE FROM change WHERE seq = ?", (done.seq,))
        failed = change_record(done, f"cannot install {target}: {error.strerror}")
        with suppress(StateError):  # the failure itself is already being reported
            audit(db.data, db.state, *failed.for_log())
        raise StateError(f"cannot install {target}: {error.strerror}") from None
    _sync_folder(target.parent)
    return done


def _installed_text(path: Path) -> str | None:
    """The text being replaced, readable or not: a damaged file must never block its fix."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(f"cannot read {path}: {error.strerror}") from None


def _changes(data: DataDir, state: str, where: str, given: tuple[object, ...]) -> list[Change]:
    db = connect(data, state)
    try:
        rows = db.execute(f"SELECT * FROM change {where} ORDER BY seq", given).fetchall()
    except sqlite3.Error as error:
        raise StateError(f"cannot read {data.state_db(state)}: {error}") from None
    finally:
        db.close()
    return [Change(seq, datetime.fromisoformat(when), *rest) for seq, when, *rest in rows]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _written_beside(target: Path, text: str) -> Path:
    """The text in a synced temporary file in the target's folder, so a rename is atomic."""
    handle, name = tempfile.mkstemp(prefix=".policy-", suffix=".cedar", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except OSError as error:
        Path(name).unlink(missing_ok=True)
        raise StateError(f"cannot write in {target.parent}: {error.strerror}") from None
    return Path(name)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; the change is already in force, so a failure is only logged."""
    try:
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
    except OSError as error:
        log.warning("cannot sync %s after a policy change: %s", folder, error.strerror)
