"""Check a state's log as a whole: opened to read (nothing is created, a missing or empty
database included), against its pinned key chain and any checkpoint the state cannot take back
(a witness's, or one kept from earlier). What `stateline audit verify` and the dashboard run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..datadir import DataDir
from ..errors import Side
from . import audit_db, audit_url, origin_of, read_state_log
from .checkpoint import TreeHead, parse
from .keys import KeyPlace, KeyRefused, key_place, log_chain, pinned_path
from .log import AuditLog, LogError
from .note import COSIGNATURE, MAX_NOTE, NoteError, Signature, Verifier
from .verify import Finding, Tamper, TrustedCheckpoint, VerifyReport
from .witnessing import Lag, Witness, configured_witnesses, lags


class NoLog(LogError):
    """A state with no audit log yet, and nothing (a pinned key, a trusted checkpoint) that
    says it ever had one."""

    code, status, side = "not-found", 404, Side.REQUESTER


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A cosignature line on a trusted checkpoint: whose, when, and whether it verifies with
    the key the state's config lists for that witness (None: no such witness listed)."""

    name: str
    timestamp: int | None
    verified: bool | None


@dataclass(frozen=True, slots=True)
class Seen:
    """A trusted checkpoint as the check shows it."""

    source: str
    size: int
    root: bytes
    cosigners: tuple[Cosigner, ...]


@dataclass(frozen=True, slots=True)
class StateCheck:
    state: str
    report: VerifyReport
    place: KeyPlace
    pinned: tuple[str, ...]
    """The pinned verifier keys, first key first."""
    seen: tuple[Seen, ...]
    lags: tuple[Lag, ...]

    @property
    def key_beside_log(self) -> bool:
        """Whoever holds the data folder holds the key: only a trusted checkpoint or a
        witness makes the check independent of them."""
        return self.place.beside_log


def read_checkpoint(text: str, source: str, origin: str) -> TrustedCheckpoint:
    """A checkpoint given as trusted; it must be a well-formed checkpoint of this log."""
    try:
        signed = parse(text)
    except NoteError as error:
        raise NoteError(f"{source}: {error}") from None
    if signed.head.origin != origin:
        raise NoteError(f"{source} is a checkpoint of {signed.head.origin}, not {origin}")
    return TrustedCheckpoint(signed, source)


def read_checkpoint_file(path: Path, origin: str) -> TrustedCheckpoint:
    try:
        with path.open("rb") as held:
            raw = held.read(MAX_NOTE + 1)
    except OSError as error:
        raise NoteError(f"cannot read the trusted checkpoint {path}: {error.strerror}") from None
    if len(raw) > MAX_NOTE:
        raise NoteError(f"{path} is longer than any checkpoint")
    return read_checkpoint(raw.decode("utf-8", "replace"), str(path), origin)


def check_state(data: DataDir, state: str, trusted: Sequence[TrustedCheckpoint] = (), *,
                rollups: bool = True, now: float | None = None) -> StateCheck:
    """Verify a state's log read-only against its pinned keys and the trusted checkpoints;
    a missing or empty database is a finding when the pinned keys or a checkpoint say the log
    held something."""
    origin = origin_of(state)
    place = key_place(data, state)
    chain = log_chain(data, state, origin)
    witnesses = configured_witnesses(data, state)
    seen = tuple(_seen(t, witnesses) for t in trusted)
    pinned = tuple(v.vkey for v in chain)
    log = read_state_log(data, state)
    if log is None:
        report = VerifyReport(0, 0, 0, 0.0, _gone(data, state, trusted), keys=len(chain),
                              trusted=len(trusted), rollups=rollups)
        return StateCheck(state, report, place, pinned, seen, ())
    with log:
        if not chain:
            raise KeyRefused(f"{state} has no pinned key ({pinned_path(data, state)}) and no "
                             f"signing key at {place.path}: its signed heads cannot be checked")
        report = log.verify([v.public_key for v in chain], trusted, rollups=rollups)
        behind = tuple(lags(log, witnesses, now))
        if report.finding is None:
            report = replace(report, finding=witnessed_elsewhere(log, witnesses))
    return StateCheck(state, report, place, pinned, seen, behind)


def witnessed_elsewhere(log: AuditLog, witnesses: Sequence[Witness]) -> Finding | None:
    """The cosignatures the log keeps are evidence too: a tree a listed witness cosigned (its
    line verifying with the witness's key) that the log no longer holds, or holds with another
    root, is a rollback or a rewrite even with no trusted checkpoint given. For a log verify
    found nothing wrong with, whose every head has the root the entries give."""
    rows = log.select("SELECT size, root, name, key_id, signature FROM cosignatures "
                      "ORDER BY size DESC").fetchall()
    for size, root, name, key_id, blob in rows:
        line = Signature(name, bytes(key_id), bytes(blob))
        head = TreeHead(log.origin, size, bytes(root))
        witness = next((w for w in witnesses if w.verifier.verify(head.body(), line)), None)
        if witness is None:
            continue
        if size > log.size:
            return Finding(Tamper.ROLLED_BACK, f"the log holds {log.size} entries, but the "
                           f"witness {witness.name} cosigned {size}: entries it saw are gone",
                           seq=log.size)
        if not _a_head_has(log, head) and log.root(size) != head.root:
            return Finding(Tamper.REWRITTEN, f"the tree of size {size} the witness "
                           f"{witness.name} cosigned has another root now", seq=size)
        return None  # the largest cosigned tree is held; the verified tree holds the rest
    return None


def _a_head_has(log: AuditLog, head: TreeHead) -> bool:
    """Whether a signed head has this tree: verify has just rebuilt it, so it need not be
    rebuilt again from every leaf (which takes longer than all of verify on a long log)."""
    return log.select("SELECT 1 FROM heads WHERE size = ? AND root = ? LIMIT 1",
                      (head.size, head.root)).fetchone() is not None


def _gone(data: DataDir, state: str, trusted: Sequence[TrustedCheckpoint]) -> Finding:
    """The finding for a log that is not there, or NoLog when nothing says there was one."""
    url = audit_url(data, state)
    path = audit_db(data, state)
    if url is not None:
        what = f"schema audit_{state.lower()} holds no log"
    elif not path.exists():
        what = f"{path} is missing"
    elif path.is_file() and path.stat().st_size == 0:
        what = f"{path} is a zero-byte file"
    else:
        what = f"{path} holds no log"
    if trusted:
        largest = max(trusted, key=lambda t: t.checkpoint.head.size)
        why = f"{largest.source} shows {largest.checkpoint.head.size} entries"
    elif pinned_path(data, state).is_file():
        why = f"its key was pinned ({pinned_path(data, state)}) when it first wrote"
    else:
        raise NoLog(f"{state} has no audit log yet in {data.root}")
    return Finding(Tamper.TRUNCATED, f"{what}, but {why}", seq=0)


def _seen(trusted: TrustedCheckpoint, witnesses: Sequence[Witness]) -> Seen:
    head = trusted.checkpoint.head
    cosigners = []
    for line in trusted.checkpoint.cosignatures:
        known: Verifier | None = next(
            (w.verifier for w in witnesses if w.verifier.claims(line)), None)
        timestamp = int.from_bytes(line.blob[:8], "big") if len(line.blob) == 72 else None
        verified = None if known is None else known.verify(head.body(), line)
        if known is not None and known.kind != COSIGNATURE:
            timestamp = None
        cosigners.append(Cosigner(line.name, timestamp, verified))
    return Seen(trusted.source, head.size, head.root, tuple(cosigners))
