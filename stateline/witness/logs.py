"""The logs a witness witnesses: one log verifier key per line (``origin+hexid+base64(0x01 ||
key)``; a log's key is named for its origin), blank lines and ``#`` comments allowed.

An origin may be listed with more than one key (a log rotating its key); a log not listed is
an unknown origin, which the witness refuses with 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..audit.note import ED25519, NoteError, Verifier, parse_vkey
from .errors import WitnessFileError

LogKeys = Mapping[str, tuple[Verifier, ...]]
"""Each witnessed origin and the keys its checkpoints may be signed with."""

MAX_LOGS_FILE = 1 << 20
MAX_VKEY = 400
"""A name of up to ~340 characters, an id and a 33-byte key: longer is not a key."""


def read_logs(path: Path) -> LogKeys:
    try:
        with path.open("rb") as source:
            raw = source.read(MAX_LOGS_FILE + 1)
    except FileNotFoundError:
        raise WitnessFileError(f"{path}: no such logs file") from None
    if len(raw) > MAX_LOGS_FILE:
        raise WitnessFileError(f"{path} is over {MAX_LOGS_FILE} bytes: not a logs file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessFileError(f"{path} is not UTF-8 text") from None
    return parse_logs(text, str(path))


def parse_logs(text: str, source: str = "logs") -> LogKeys:
    """Every log key in `text`; a line that is not a log's Ed25519 verifier key is an error
    naming `source` and the line number, so a witness never starts with a log half-listed."""
    found: dict[str, list[Verifier]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_VKEY:
            raise WitnessFileError(f"{source}:{number}: {len(line)} characters is too long "
                                   "for a verifier key")
        try:
            verifier = parse_vkey(line)
        except NoteError as error:
            raise WitnessFileError(f"{source}:{number}: {error}") from None
        if verifier.kind != ED25519:
            raise WitnessFileError(f"{source}:{number}: {verifier.name} is a cosignature "
                                   "key; a log's key is Ed25519 (type 0x01)")
        keys = found.setdefault(verifier.name, [])
        if verifier.vkey not in (k.vkey for k in keys):
            keys.append(verifier)
    if not found:
        raise WitnessFileError(f"{source} lists no log keys")
    return {origin: tuple(keys) for origin, keys in found.items()}
