"""A witness's cosigning key on disk, in the signed-note private key form Go's tools read:
``PRIVATE+KEY+<name>+<hexid>+base64(0x04 || 32-byte seed)`` on one line, so the key's name
travels with it and its id tells whether name and key still belong together.

The file is the witness's whole identity: made once, owner-only (0600), never overwritten.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..audit.note import COSIGNATURE, NoteError, Signer, check_name
from .errors import WitnessFileError

PREFIX = "PRIVATE+KEY+"
MAX_KEY_FILE = 1024


def create_key(path: Path, name: str) -> Signer:
    """Write a new cosigning key named `name` to `path`, which must not exist yet."""
    try:
        signer = Signer(check_name(name), Ed25519PrivateKey.generate(), COSIGNATURE)
    except NoteError as error:
        raise WitnessFileError(f"--name: {error}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessFileError(f"{path} already exists; a witness key is never "
                               "overwritten") from None
    with os.fdopen(fd, "w") as out:
        out.write(format_key(signer) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return signer


def read_key(path: Path) -> Signer:
    """The cosigning key at `path`, refused when others may read it or its id does not fit."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise WitnessFileError(f"{path} is readable by others ({mode & 0o777:o}); it must "
                                   "be 0600")
        with path.open("rb") as source:
            raw = source.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise WitnessFileError(f"{path}: no such key file (`stateline witness init` makes "
                               "one)") from None
    if len(raw) > MAX_KEY_FILE:
        raise WitnessFileError(f"{path} is not a witness key: longer than {MAX_KEY_FILE} bytes")
    try:
        return parse_key(raw.decode("ascii"))
    except (UnicodeDecodeError, WitnessFileError) as error:
        raise WitnessFileError(f"{path}: {error}") from None


def format_key(signer: Signer) -> str:
    seed = signer.key.private_bytes(serialization.Encoding.Raw,
                                    serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    encoded = base64.b64encode(bytes([signer.kind]) + seed).decode()
    return f"{PREFIX}{signer.name}+{signer.verifier.key_id.hex()}+{encoded}"


def parse_key(text: str) -> Signer:
    """Read the one-line private key form; its id must be the one its name and key imply."""
    line = text.strip()
    name, _, rest = line.removeprefix(PREFIX).partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        if not line.startswith(PREFIX) or len(hex_id) != 8:
            raise ValueError(line)
        raw = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(hex_id)
        check_name(name)
    except (binascii.Error, ValueError):
        raise WitnessFileError("not a witness key (PRIVATE+KEY+name+hexid+base64)") from None
    if len(raw) != 33 or raw[0] != COSIGNATURE:
        raise WitnessFileError("not a cosignature/v1 key (type 0x04 and a 32-byte seed)")
    signer = Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]), COSIGNATURE)
    if signer.verifier.key_id != claimed:
        raise WitnessFileError("the key id does not match the name and key it is stored with")
    return signer
