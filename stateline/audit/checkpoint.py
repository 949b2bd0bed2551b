"""Signed tree heads as C2SP checkpoints (signed notes) with Ed25519, and the log's key file.

A checkpoint is plain text a person can read and any signed-note tool can check::

    stateline/WA
    1024
    <base64 root hash>
    time 2026-03-01T12:00:00.000000Z

    — stateline/WA <base64 of 4-byte key id and 64-byte signature>

The time rides in an extension line so that it is covered by the signature.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import RequesterError
from .merkle import HASH_SIZE

ED25519_ALG = b"\x01"
"""Signed-note signature type byte for Ed25519."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_DASH = "\u2014 "


class NoteError(RequesterError, ValueError):
    """Text that is not a well-formed checkpoint, or a key file that cannot be used."""

    code, status = "invalid-checkpoint", 422


def format_time(time_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=time_us)).strftime(_TIME)


def parse_time(text: str) -> int:
    moment = datetime.strptime(text, _TIME).replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """What the log commits to: its name, how many entries, their Merkle root, and when."""

    origin: str
    size: int
    root: bytes
    time_us: int

    def __post_init__(self) -> None:
        if not self.origin or any(c.isspace() for c in self.origin) or "+" in self.origin:
            raise NoteError(f"origin {self.origin!r} must be one word without '+'")
        if self.size < 0 or self.time_us < 0:
            raise NoteError("size and time cannot be negative")
        if len(self.root) != HASH_SIZE:
            raise NoteError(f"root must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The signed text: origin, size, root, then the time extension line."""
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {format_time(self.time_us)}\n"


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    head: TreeHead
    key_id: bytes
    signature: bytes

    def note(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{self.head.body()}\n{_DASH}{self.head.origin} {blob}\n"


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The signed-note key hash: it lets a verifier tell which of its keys a line claims."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256(name.encode() + b"\n" + ED25519_ALG + raw).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The `name+hexid+base64key` line a state publishes so others can check its heads."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    encoded = base64.b64encode(ED25519_ALG + raw).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def sign(head: TreeHead, key: Ed25519PrivateKey) -> SignedTreeHead:
    signature = key.sign(head.body().encode())
    return SignedTreeHead(head, key_id(head.origin, key.public_key()), signature)


def verify(signed: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    if signed.key_id != key_id(signed.head.origin, public_key):
        return False
    try:
        public_key.verify(signed.signature, signed.head.body().encode())
    except InvalidSignature:
        return False
    return True


def parse(note: str) -> SignedTreeHead:
    """Read a checkpoint back; the first signature line is taken as the log's own."""
    body, sep, signatures = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) != 4 or not lines[3].startswith("time "):
        raise NoteError("a checkpoint has origin, size, root and time lines, then a blank line")
    first = signatures.split("\n", 1)[0]
    parts = first.removeprefix(_DASH).split(" ")
    if not first.startswith(_DASH) or len(parts) != 2 or parts[0] != lines[0]:
        raise NoteError("no signature line from the log's origin")
    try:
        head = TreeHead(
            lines[0],
            int(lines[1]),
            base64.b64decode(lines[2], validate=True),
            parse_time(lines[3].removeprefix("time ")),
        )
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError as exc:
        raise NoteError(f"malformed checkpoint: {exc}") from exc
    if len(blob) != 4 + 64:
        raise NoteError("an Ed25519 signature line carries a 4-byte key id and 64 bytes")
    return SignedTreeHead(head, blob[:4], blob[4:])


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The state's log key: made once, owner-only (0600), because it vouches for history."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            raise NoteError(f"{path} is readable by others; it must be 0600") from None
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoteError(f"{path} does not hold an Ed25519 key") from None
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return key
