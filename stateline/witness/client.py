"""What a log uses to reach a witness: submit a checkpoint for cosigning, and read back the
latest checkpoint the witness cosigned for a log.

The witness's answer is hostile until read: it is bounded in size, its lines must be note
signature lines, and the caller checks them with the witness's verifier key
(`stateline.audit.note.verified_by`) before keeping them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import httpx

from ..audit.checkpoint import parse_body
from ..audit.note import Signature, parse_note
from .errors import WitnessConflict, WitnessError, WitnessRefused, WitnessUnreachable
from .service import log_id

MAX_ANSWER = 1 << 16
_SIZE = re.compile(r"(0|[1-9][0-9]{0,18})\n?")


def add_checkpoint(url: str, old_size: int, proof: Sequence[bytes], checkpoint: str, *,
                   timeout: float = 5.0) -> tuple[Signature, ...]:
    """The witness's cosignature lines for `checkpoint` (a signed note), which extends the
    tree of `old_size` the witness last cosigned by `proof`. Raises WitnessConflict (with the
    witness's size) when it last cosigned another size, WitnessRefused for any other refusal,
    WitnessUnreachable when it cannot be reached in `timeout` seconds."""
    try:
        text = parse_note(checkpoint).text
    except ValueError as error:  # a NoteError, or base64 that is not ASCII
        raise WitnessError(f"not a checkpoint to submit: {error}") from None
    body = "".join([f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof),
                    "\n", checkpoint])
    status, answer = _exchange("POST", url.rstrip("/") + "/add-checkpoint", timeout,
                               body.encode())
    size = _SIZE.fullmatch(answer) if status == 409 else None
    if size is not None and int(size.group(1)) == old_size:
        raise WitnessRefused(409, f"the witness cosigned another tree of this log at size "
                                  f"{old_size}: the log has two histories")
    if size is not None:
        raise WitnessConflict(int(size.group(1)))
    if status != 200:
        raise WitnessRefused(status, answer.strip()[:300])
    try:
        cosigned = parse_note(text + "\n" + answer)
    except ValueError as error:
        raise WitnessError(f"{url} answered 200 without cosignature lines: {error}") from None
    if cosigned.text != text:
        raise WitnessError(f"{url} answered 200 with more than signature lines")
    return cosigned.signatures


def latest_checkpoint(url: str, origin: str, timeout: float = 5.0) -> str | None:
    """The latest checkpoint of `origin` the witness cosigned, as a signed note (unchecked:
    verify the log's signature and the witness's cosignature), or None when it holds none."""
    status, answer = _exchange("GET", f"{url.rstrip('/')}/{log_id(origin)}/checkpoint", timeout)
    if status == 404:
        return None
    if status != 200:
        raise WitnessRefused(status, answer.strip()[:300])
    try:
        held = parse_body(parse_note(answer).text).origin
    except ValueError as error:
        raise WitnessError(f"{url} served no checkpoint for {origin}: {error}") from None
    if held != origin:
        raise WitnessError(f"{url} served a checkpoint of {held!r} for {origin!r}")
    return answer


def _exchange(method: str, url: str, timeout: float, body: bytes | None = None
              ) -> tuple[int, str]:
    """One request; the status and at most MAX_ANSWER bytes of the answer, as text."""
    headers = {"Content-Type": "text/plain; charset=utf-8"} if body is not None else {}
    try:
        with httpx.stream(method, url, content=body, headers=headers, timeout=timeout) as answer:
            received = bytearray()
            for chunk in answer.iter_bytes():
                received += chunk
                if len(received) > MAX_ANSWER:
                    raise WitnessError(f"{url} answered with more than {MAX_ANSWER} bytes")
            return answer.status_code, received.decode("utf-8", "replace")
    except httpx.InvalidURL as error:
        raise WitnessUnreachable(f"{url} is not a witness URL: {error}") from None
    except httpx.HTTPError as error:
        raise WitnessUnreachable(f"{url}: {type(error).__name__}: {error}") from None
