"""A state's witnesses: who they are (`[[audit.witness]]` in config.toml), showing them each
new signed head from a thread of its own, and how far each one lags.

A witness is run by someone other than the state; its cosignature on a checkpoint is what the
state cannot take back. Showing it a head is `tlog-witness`'s add-checkpoint: the size the
witness last cosigned, the consistency proof from there, the checkpoint. The call is made by
whoever runs this (the gateway passes the witness client's `add_checkpoint`), never while a
query waits: a witness that is down is retried with backoff and delays nothing else. The lags
are served as metrics (`stateline.operations.scrape`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..datadir import ConfigFileError, DataDir, state_config
from ..errors import StatelineError
from .checkpoint import SignedTreeHead
from .log import AuditLog
from .note import Note, NoteError, Signature, Verifier, parse_vkey, verified_by

POLL_SECONDS = 1.0
"""How often the thread looks for a head signed by another process (a command, a restart)."""
RETRY_FIRST, RETRY_MOST = 1.0, 300.0
"""Seconds before retrying a witness that failed: doubling from the first to the most."""
MAX_WITNESSES = 32

_log = logging.getLogger(__name__)


class Submit(Protocol):
    """The witness client's add-checkpoint: cosignature lines, or a StatelineError when
    refused or unreachable; on a conflict the error's `size` is the size the witness holds."""

    def __call__(self, url: str, old_size: int, proof: Sequence[bytes], checkpoint: str, *,
                 timeout: float = ...) -> tuple[Signature, ...]: ...


@dataclass(frozen=True, slots=True)
class Witness:
    """A witness the state shows its heads to: where it listens, and its verifier key."""

    url: str
    verifier: Verifier

    @property
    def name(self) -> str:
        return self.verifier.name


def configured_witnesses(data: DataDir, state: str) -> list[Witness]:
    """The `[[audit.witness]]` tables of the state's config.toml, each with `url` and `vkey`."""
    path = data.config(state)
    tables = state_config(data, state, "audit").get("witness", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigFileError(f"{path}: witnesses are [[audit.witness]] tables with url and vkey")
    if len(tables) > MAX_WITNESSES:
        raise ConfigFileError(f"{path}: at most {MAX_WITNESSES} [[audit.witness]] tables")
    found: list[Witness] = []
    for number, table in enumerate(tables, 1):
        where = f"{path}: [[audit.witness]] number {number}"
        unknown = sorted(set(table) - {"url", "vkey"})
        if unknown:
            raise ConfigFileError(f"{where}: unknown setting {unknown[0]!r} (url, vkey)")
        url, vkey = table.get("url"), table.get("vkey")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) \
                or len(url) > 2000 or any(c.isspace() for c in url):
            raise ConfigFileError(f"{where}: url must be an http:// or https:// URL")
        if not isinstance(vkey, str):
            raise ConfigFileError(f"{where}: vkey must be the witness's verifier key")
        try:
            verifier = parse_vkey(vkey)
        except NoteError as error:
            raise ConfigFileError(f"{where}: {error}") from None
        if any(w.verifier.key_id == verifier.key_id and w.name == verifier.name
               for w in found):
            raise ConfigFileError(f"{where}: {verifier.name} is listed twice")
        found.append(Witness(url.rstrip("/"), verifier))
    return found


@dataclass(frozen=True, slots=True)
class Lag:
    """How far a witness is behind the log's latest signed head."""

    witness: Witness
    signed: int
    """The log's latest signed size."""
    cosigned: int | None
    """The largest size the witness cosigned, by the lines kept; None when none."""
    cosigned_at: int | None
    """The time the witness put in that cosignature, seconds since the epoch."""
    seconds: float
    """How long the oldest head it has not cosigned has waited; 0 when it is caught up."""

    @property
    def entries(self) -> int:
        return self.signed - (self.cosigned or 0)


def lags(log: AuditLog, witnesses: Iterable[Witness], now: float | None = None) -> list[Lag]:
    """Each witness's lag, read from the heads and cosignature lines the log keeps."""
    moment = time.time() if now is None else now
    latest = log.latest_head()
    signed = latest.head.size if latest is not None else 0
    found = []
    for witness in witnesses:
        kept = log.cosigned(witness.name, witness.verifier.key_id)
        size, at = kept if kept is not None else (None, None)
        waiting = log.first_head_after(size if size is not None else -1)
        behind = waiting is not None and signed > (size or 0)
        seconds = max(moment - waiting.head.time_us / 1e6, 0.0) if behind and waiting else 0.0
        found.append(Lag(witness, signed, size, at, seconds))
    return found


@dataclass(slots=True)
class _Progress:
    size: int | None = None
    """The size the witness last cosigned, as far as this process knows; None: not asked."""
    failures: int = 0
    next_try: float = 0.0


class Witnessing:
    """Shows one log's newest signed head to each of its witnesses, from a thread of its own,
    and keeps the cosignature lines that verify with each witness's key."""

    def __init__(self, open_log: Callable[[], AuditLog], witnesses: Sequence[Witness],
                 submit: Submit, *, poll: float = POLL_SECONDS, timeout: float = 5.0) -> None:
        self._open_log, self._submit = open_log, submit
        self._progress = [(w, _Progress()) for w in witnesses]
        self._poll, self._timeout = poll, timeout
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, name: str = "witnessing") -> None:
        if self._progress and self._thread is None:
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """A head was just signed: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, grace: float = 2.0) -> None:
        """One last round for witnesses not in backoff, waiting at most `grace` seconds; a
        witness slower than that is left behind (the thread never holds the process up)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(grace)

    def _run(self) -> None:
        try:
            log = self._open_log()
        except Exception as error:
            _log.error("witnessing cannot open the log: %s", error)
            return
        try:
            while True:
                last = self._stopping.is_set()
                self._round(log)
                if last:
                    return
                self._wake.wait(self._poll)
                self._wake.clear()
        finally:
            log.close()

    def _round(self, log: AuditLog) -> None:
        try:
            latest = log.latest_head()
        except Exception as error:
            _log.error("%s: cannot read the latest head to witness: %s", log.origin, error)
            return
        if latest is None:
            return
        for witness, progress in self._progress:
            if time.monotonic() >= progress.next_try:
                self._show(log, witness, progress, latest)

    def _show(self, log: AuditLog, witness: Witness, progress: _Progress,
              latest: SignedTreeHead) -> None:
        try:
            if progress.size is None:
                kept = log.cosigned(witness.name, witness.verifier.key_id)
                progress.size = kept[0] if kept is not None else 0
            lines = None
            for _ in range(2):  # a conflict names the witness's size: once more from there
                if progress.size == latest.head.size:
                    return
                try:
                    lines = self._cosigned(log, witness, progress.size, latest)
                    break
                except StatelineError as error:
                    size = getattr(error, "size", None)
                    if not isinstance(size, int) or size == progress.size:
                        raise
                    progress.size = size
            if lines is None:
                raise NoteError(f"the witness's size moved twice, now {progress.size}")
        except (StatelineError, NoteError, OSError) as error:
            progress.failures += 1
            delay = min(RETRY_FIRST * 2 ** (progress.failures - 1), RETRY_MOST)
            progress.next_try = time.monotonic() + delay
            _log.warning("%s: witness %s did not cosign size %d (retry in %.0f s): %s",
                         log.origin, witness.url, latest.head.size, delay, error)
            return
        log.add_cosignatures(latest.head, lines)
        progress.size, progress.failures, progress.next_try = latest.head.size, 0, 0.0

    def _cosigned(self, log: AuditLog, witness: Witness, old: int,
                  latest: SignedTreeHead) -> list[Signature]:
        """The witness's lines for the head, those that verify with its key; NoteError when
        none do."""
        if old > latest.head.size:
            raise NoteError(f"the witness cosigned size {old}, past the log's latest head "
                            f"({latest.head.size}): the log has lost signed history")
        proof = log.growth_proof(old, latest.head.size)
        bare = latest.with_cosignatures(())
        answered = self._submit(witness.url, old, proof, bare.note(), timeout=self._timeout)
        good = verified_by(Note(latest.head.body(), answered), [witness.verifier])
        if not good:
            raise NoteError(f"no line of the answer is {witness.name}'s cosignature")
        return [line for _, line in good]
