"""Signed tree heads as C2SP checkpoints (signed notes) with Ed25519, and the log's key file.

A checkpoint is plain text a person can read and any signed-note tool can check::

    stateline/WA
    1024
    <base64 root hash>

    — stateline/WA <base64 of 4-byte key id and 64-byte signature>
    — auditor.wa.gov <base64 of key id, timestamp and cosignature>

The body is the three lines `tlog-checkpoint` defines and nothing more: extension lines are
NOT RECOMMENDED there, because no monitor can audit them. When a head was signed is kept beside
it in the log's database, unsigned; what vouches for time is each witness's cosignature, which
signs its own timestamp, and the newest entry's time, which the root commits to.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .merkle import HASH_SIZE
from .note import ED25519, Note, NoteError, Signature, Signer, Verifier, check_name, parse_note

__all__ = ["NoteError", "SignedTreeHead", "TreeHead", "parse", "sign", "verifier_key", "verify"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


def format_time(time_us: int) -> str:
    return (_EPOCH + timedelta(microseconds=time_us)).strftime(_TIME)


def parse_time(text: str) -> int:
    moment = datetime.strptime(text, _TIME).replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """What the log commits to: its name, how many entries and their Merkle root. `time_us`
    is when the log signed it, as the log's database records it: not signed, not compared, and
    0 for a checkpoint read from text. `extensions` are any extra body lines of a checkpoint
    read from elsewhere; this log writes none."""

    origin: str
    size: int
    root: bytes
    time_us: int = field(default=0, compare=False)
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.origin)
        if self.size < 0 or self.time_us < 0:
            raise NoteError("size and time cannot be negative")
        if len(self.root) != HASH_SIZE:
            raise NoteError(f"root must be {HASH_SIZE} bytes")

    def body(self) -> str:
        """The signed text: origin, size and root, one per line (and any extension lines)."""
        root = base64.b64encode(self.root).decode()
        return "".join(f"{line}\n" for line in (self.origin, self.size, root, *self.extensions))

    def same_tree(self, other: TreeHead) -> bool:
        return (self.origin, self.size, self.root) == (other.origin, other.size, other.root)


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A head with the log's signature and any witnesses' cosignatures (unchecked here:
    `note.verified_by` checks them against the witnesses a reader trusts)."""

    head: TreeHead
    key_id: bytes
    signature: bytes
    cosignatures: tuple[Signature, ...] = ()

    @property
    def log_signature(self) -> Signature:
        return Signature(self.head.origin, self.key_id, self.signature)

    def as_note(self) -> Note:
        return Note(self.head.body(), (self.log_signature, *self.cosignatures))

    def note(self) -> str:
        return self.as_note().render()

    def with_cosignatures(self, lines: tuple[Signature, ...]) -> SignedTreeHead:
        return SignedTreeHead(self.head, self.key_id, self.signature, lines)


def log_verifier(name: str, public_key: Ed25519PublicKey) -> Verifier:
    return Verifier(name, ED25519, public_key)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The signed-note key hash: it lets a verifier tell which of its keys a line claims."""
    return log_verifier(name, public_key).key_id


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The `name+hexid+base64key` line a state publishes so others can check its heads."""
    return log_verifier(name, public_key).vkey


def sign(head: TreeHead, key: Ed25519PrivateKey) -> SignedTreeHead:
    line = Signer(head.origin, key).sign(head.body())
    return SignedTreeHead(head, line.key_id, line.blob)


def verify(signed: SignedTreeHead, public_key: Ed25519PublicKey) -> bool:
    """The log's own signature, by the log's key; cosignatures are not looked at."""
    return log_verifier(signed.head.origin, public_key).verify(
        signed.head.body(), signed.log_signature)


def parse_body(text: str) -> TreeHead:
    """A checkpoint body: origin, decimal size, base64 root, then optional extension lines."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint body is origin, size and root lines (then any "
                        "extension lines), with no empty line among them")
    origin, size, root, *extensions = lines[:-1]
    if not _SIZE.fullmatch(size):
        raise NoteError(f"size {size[:30]!r} is not a decimal number without leading zeros")
    try:
        raw = base64.b64decode(root, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        raise NoteError("the root hash is not base64") from None
    return TreeHead(origin, int(size), raw, 0, tuple(extensions))


def parse(note: str) -> SignedTreeHead:
    """Read any checkpoint: its log's signature is the line named for the origin, wherever it
    stands; every other line is kept as a cosignature."""
    parsed = parse_note(note)
    head = parse_body(parsed.text)
    own = [s for s in parsed.signatures if s.name == head.origin and len(s.blob) == 64]
    if not own:
        raise NoteError(f"no Ed25519 signature line from the log {head.origin!r}")
    others = tuple(s for s in parsed.signatures if s is not own[0])
    return SignedTreeHead(head, own[0].key_id, own[0].blob, others)


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
