"""The add-checkpoint request of c2sp.org/tlog-witness and the witness's checks on it, as pure
functions: bytes in, a `Submission` or a typed refusal out, nothing read or written.

    old 20852014
    <base64 proof hash, up to 63 lines>

    <checkpoint: origin, size, root, blank line, signature lines>

The checks run in the spec's order: a body that cannot be read is 400, an origin not listed
404, no valid signature by the log's key 403, an old size past the checkpoint's 400; then,
against what the witness last cosigned, an old size that is not its size 409 (as is the same
size with another root), and a proof that does not lead from its tree to the new one 422.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from ..audit.checkpoint import TreeHead, parse_body
from ..audit.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from ..audit.note import MAX_NOTE, Note, NoteError, Signature, parse_note, verified_by
from .errors import (
    InconsistentCheckpoint,
    SizeConflict,
    SubmissionError,
    UnknownLog,
    UntrustedCheckpoint,
)
from .logs import LogKeys

MAX_PROOF = 63
"""The spec's bound: no tree a 64-bit size can describe needs a longer consistency proof."""
MAX_BODY = 4 * MAX_NOTE + 4096
"""A note of MAX_NOTE characters in UTF-8, with the old size line and 63 proof lines."""
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})")
_MAX_SIZE = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Submission:
    old_size: int
    proof: tuple[bytes, ...]
    note: Note
    head: TreeHead


@dataclass(frozen=True, slots=True)
class Cosigned:
    """What a witness holds for a log: the latest tree it cosigned, as the note it served."""

    size: int
    root: bytes
    note: str


def parse_submission(body: bytes) -> Submission:
    """Read a request body, checking its form and nothing it claims."""
    if len(body) > MAX_BODY:
        raise SubmissionError(f"a request body is at most {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError("the request body is not UTF-8") from None
    header, blank, checkpoint = text.partition("\n\n")
    if not blank:
        raise SubmissionError("no blank line between the old size and proof lines and the "
                              "checkpoint")
    old_line, *proof_lines = header.split("\n")
    old = _OLD.fullmatch(old_line)
    if old is None or int(old.group(1)) > _MAX_SIZE:
        raise SubmissionError(f"the first line must be `old <size>`, not {old_line[:40]!r}")
    if len(proof_lines) > MAX_PROOF:
        raise SubmissionError(f"{len(proof_lines)} proof lines; at most {MAX_PROOF}")
    proof = tuple(_proof_hash(line) for line in proof_lines)
    try:
        note = parse_note(checkpoint)
        head = parse_body(note.text)
    except ValueError as error:  # a NoteError, or base64 that is not ASCII
        raise SubmissionError(f"the checkpoint: {error}") from None
    if head.size > _MAX_SIZE:
        raise SubmissionError(f"a tree size is below 2^63, not {head.size}")
    return Submission(int(old.group(1)), proof, note, head)


def _proof_hash(line: str) -> bytes:
    try:
        raw = base64.b64decode(line, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raw = b""
    if len(raw) != HASH_SIZE:
        raise SubmissionError(f"proof line {line[:60]!r} is not a base64 {HASH_SIZE}-byte hash")
    return raw


def log_signatures(submission: Submission, logs: LogKeys) -> tuple[Signature, ...]:
    """The checkpoint's signatures by its log's listed keys: 404 for an origin not listed,
    403 when none verifies (or a listed key's line fails). Other lines are ignored."""
    keys = logs.get(submission.head.origin)
    if keys is None:
        raise UnknownLog(f"this witness does not witness {submission.head.origin!r}")
    try:
        found = verified_by(submission.note, list(keys))
    except NoteError as error:
        raise UntrustedCheckpoint(str(error)) from None
    if not found:
        raise UntrustedCheckpoint(f"no signature by a key listed for {submission.head.origin}")
    return tuple(signature for _, signature in found)


def check_growth(submission: Submission, latest: Cosigned | None) -> None:
    """Refuse unless the checkpoint extends the tree the witness last cosigned (the empty tree
    when it never has): 400 for an old size past the checkpoint's, 409 for another old size
    or the same size with another root, 422 for a proof that does not lead from that tree to
    the new one."""
    size, root = (latest.size, latest.root) if latest else (0, EMPTY_ROOT)
    head = submission.head
    if submission.old_size > head.size:
        raise SubmissionError(f"old size {submission.old_size} is past the checkpoint's size "
                              f"{head.size}")
    if submission.old_size != size:
        raise SizeConflict(size, f"this witness last cosigned {head.origin} at size {size}, "
                                 f"not {submission.old_size}")
    if latest is not None and head.size == size and head.root != root:
        raise SizeConflict(size, f"this witness cosigned another tree of {head.origin} at size "
                                 f"{size}: the log has two histories")
    if not verify_consistency(size, head.size, submission.proof, root, head.root):
        raise InconsistentCheckpoint(
            f"the proof does not show {head.origin} at size {head.size} extends the tree this "
            f"witness cosigned at size {size}")


def cosigned_note(submission: Submission, log_lines: tuple[Signature, ...],
                  cosignature: Signature) -> str:
    """The checkpoint as the witness serves it: the log's verified lines, then its own."""
    return Note(submission.note.text, (*log_lines, cosignature)).render()
