"""A witness: its cosigning key, the logs it witnesses and what it last cosigned for each.

`add_checkpoint` is the whole of c2sp.org/tlog-witness's add-checkpoint behind any transport:
it reads the body, refuses as the spec says, and cosigns only a checkpoint it has stored as
the log's latest. Requests for one log take turns; different logs do not wait on each other.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from functools import partial

from ..audit.note import Signature, Signer
from .logs import LogKeys
from .store import WitnessStore
from .submission import (
    Cosigned,
    Submission,
    check_growth,
    cosigned_note,
    log_signatures,
    parse_submission,
)


def log_id(origin: str) -> str:
    """How a log is named in the witness's URLs: the hex SHA-256 of its origin line, which
    needs no escaping whatever the origin holds."""
    return hashlib.sha256(origin.encode()).hexdigest()


class Witness:
    def __init__(self, signer: Signer, logs: LogKeys, store: WitnessStore,
                 clock: Callable[[], float] = time.time) -> None:
        self.signer, self.logs, self.store, self._clock = signer, logs, store, clock
        self._by_id = {log_id(origin): origin for origin in logs}
        self._turns = {origin: threading.Lock() for origin in logs}

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for the checkpoint in `body`, once stored as the log's latest;
        otherwise the spec's refusal, raised as its type."""
        submission = parse_submission(body)
        log_lines = log_signatures(submission, self.logs)
        origin = submission.head.origin
        with self._turns[origin]:
            cosignature = self.signer.sign(submission.note.text, int(self._clock()))
            self.store.advance(origin, partial(_grown, submission, log_lines, cosignature))
        return cosignature.line()

    def latest(self, id_: str) -> str | None:
        """The latest checkpoint cosigned for the log whose `log_id` is `id_`, as a note."""
        origin = self._by_id.get(id_)
        held = self.store.latest(origin) if origin is not None else None
        return held.note if held else None


def _grown(submission: Submission, log_lines: tuple[Signature, ...], cosignature: Signature,
           latest: Cosigned | None) -> Cosigned:
    check_growth(submission, latest)
    head = submission.head
    return Cosigned(head.size, head.root, cosigned_note(submission, log_lines, cosignature))
