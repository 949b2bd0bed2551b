"""What a witness answers when it will not cosign, and what its client raises for each answer.

The first group is the witness's side of c2sp.org/tlog-witness: each refusal the spec names is
a type whose `status` is the HTTP status the spec gives it, read once by the server. The
second group is the submitting log's side: a witness that refuses, conflicts or is down is a
fault outside the log, never a reason to hold a query.
"""

from __future__ import annotations

from ..errors import NotFoundError, RequesterError, ServiceError


class SubmissionError(RequesterError):
    """An add-checkpoint body that is not an old size line, proof lines, a blank line and a
    checkpoint, or whose old size is past the checkpoint's size: the spec's 400."""

    code, status = "invalid-submission", 400


class SubmissionTooLarge(SubmissionError):
    """A body longer than any checkpoint with 63 proof lines can be."""

    code, status = "too-large", 413


class UnknownLog(NotFoundError):
    """A checkpoint from an origin the witness was not told to witness: the spec's 404."""

    code, status = "unknown-log", 404


class UntrustedCheckpoint(RequesterError):
    """No signature on the checkpoint verifies with a key listed for its log: the spec's 403."""

    code, status = "untrusted-checkpoint", 403


class SizeConflict(RequesterError):
    """The old size is not the size the witness last cosigned, or that size comes with another
    root: the spec's 409, whose body is `size` so the log can resubmit from it."""

    code, status = "size-conflict", 409

    def __init__(self, size: int, text: str) -> None:
        super().__init__(text)
        self.size = size


class InconsistentCheckpoint(RequesterError):
    """The consistency proof does not take the tree the witness holds to the new one: the
    spec's 422. The witness does not cosign; the log may have rewritten its history."""

    code, status = "inconsistent-checkpoint", 422


class WitnessFileError(RequesterError):
    """A witness's key file or logs file that cannot be used; the text names the file and
    line."""

    code, status = "invalid-witness-file", 422


class WitnessError(ServiceError):
    """A witness answered outside its protocol: cosignature lines that cannot be read, or a
    checkpoint that is not the log's."""

    code, status = "witness-error", 502


class WitnessUnreachable(WitnessError):
    """The witness could not be reached, or did not answer in time; the log tries again."""

    code, status = "witness-unreachable", 503


class WitnessRefused(WitnessError):
    """The witness answered with a refusal (`witness_status`, and its text in `answer`)."""

    code, status = "witness-refused", 502

    def __init__(self, witness_status: int, answer: str) -> None:
        super().__init__(f"the witness refused the checkpoint ({witness_status}): {answer}")
        self.witness_status, self.answer = witness_status, answer


class WitnessConflict(WitnessError):
    """The witness last cosigned the log at `size`, not at the old size sent: resubmit with a
    consistency proof from `size`."""

    code, status = "witness-conflict", 502

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness last cosigned this log at size {size}")
        self.size = size
