"""C2SP signed notes: text, a blank line, then signature lines; Ed25519 and cosignature/v1 keys.

A note's signatures are lines ``— <key name> base64(4-byte key id || signature)``. A verifier
knows some keys by their verifier key (``name+hexid+base64(type || public key)``); it ignores
lines from keys it does not know, rejects a note whose known keys all stay silent, and rejects
one where a known key's line does not verify. Two key types are spoken here:

* 0x01 Ed25519: the log's own key signs the note text.
* 0x04 Ed25519 cosignature (``tlog-cosignature``): a witness signs
  ``cosignature/v1\\ntime <seconds>\\n`` followed by the note text, and puts the 8-byte
  big-endian timestamp before the 64-byte signature.

Pure functions over text and keys; nothing here reads a file or the network.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import RequesterError

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014 "
MAX_SIGNATURES = 100
"""More lines than any real note carries; a verifier must accept at least 16."""
MAX_NOTE = 1 << 16


class NoteError(RequesterError, ValueError):
    """Text that is not a well-formed note or checkpoint, or a key that cannot be used."""

    code, status = "invalid-checkpoint", 422


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: the claimed key's name and id, and the bytes after the id."""

    name: str
    key_id: bytes
    blob: bytes

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    """Everything signed: the body, ending in a newline."""
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def check_name(name: str) -> str:
    if not name or "+" in name or any(c.isspace() or ord(c) < 0x20 for c in name):
        raise NoteError(f"key name {name!r} must be one word without '+'")
    return name


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, kind: int, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || newline || type || key)[:4]: tells a verifier which key a line claims."""
    return sha256(name.encode() + b"\n" + bytes([kind]) + _raw(public_key)).digest()[:4]


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Verifier:
    """A key a note can be checked against, read from or written as its verifier key."""

    name: str
    kind: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.kind, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + _raw(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def claims(self, signature: Signature) -> bool:
        return (signature.name, signature.key_id) == (self.name, self.key_id)

    def verify(self, text: str, signature: Signature) -> bool:
        if not self.claims(signature):
            return False
        if self.kind == ED25519:
            message, raw = text.encode(), signature.blob
        elif len(signature.blob) == 8 + 64:
            timestamp = int.from_bytes(signature.blob[:8], "big")
            message, raw = cosigned_message(text, timestamp), signature.blob[8:]
        else:
            return False
        if len(raw) != 64:
            return False
        try:
            self.public_key.verify(raw, message)
        except InvalidSignature:
            return False
        return True

    def timestamp(self, signature: Signature) -> int | None:
        """A cosignature's time, seconds since the epoch (None for a log signature)."""
        if self.kind != COSIGNATURE or len(signature.blob) < 8:
            return None
        return int.from_bytes(signature.blob[:8], "big")


def parse_vkey(vkey: str) -> Verifier:
    """Read ``name+hexid+base64(type || key)``; the id must be the one the key implies."""
    name, plus, rest = vkey.strip().partition("+")
    hex_id, plus2, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise NoteError(f"{vkey!r} is not a verifier key (name+hexid+base64)") from None
    if not plus or not plus2 or len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE):
        raise NoteError(f"{vkey!r} is not an Ed25519 or cosignature/v1 verifier key")
    verifier = Verifier(check_name(name), raw[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
    if verifier.key_id != claimed:
        raise NoteError(f"{vkey!r}: its key id does not match its key")
    return verifier


@dataclass(frozen=True, slots=True)
class Signer:
    """A private key and the name its lines carry; `kind` says log signature or cosignature."""

    name: str
    key: Ed25519PrivateKey
    kind: int = ED25519

    @property
    def verifier(self) -> Verifier:
        return Verifier(check_name(self.name), self.kind, self.key.public_key())

    def sign(self, text: str, timestamp: int = 0) -> Signature:
        """A signature line over `text` (a cosignature also over `timestamp`, in seconds)."""
        verifier = self.verifier
        if self.kind == ED25519:
            return Signature(self.name, verifier.key_id, self.key.sign(text.encode()))
        stamp = timestamp.to_bytes(8, "big")
        signed = self.key.sign(cosigned_message(text, timestamp))
        return Signature(self.name, verifier.key_id, stamp + signed)


def parse_note(message: str) -> Note:
    """Split a note into its text and signature lines, checking the form and nothing else."""
    if len(message) > MAX_NOTE:
        raise NoteError(f"a note is at most {MAX_NOTE} characters")
    if any(ord(c) < 0x20 and c != "\n" for c in message):
        raise NoteError("a note holds no control characters but newlines")
    split = message.rfind("\n\n")
    if split < 0 or not message.endswith("\n"):
        raise NoteError("a note is text, a blank line, then signature lines")
    text, lines = message[: split + 1], message[split + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signature lines")
    signatures = []
    for line in lines:
        name, space, encoded = line.removeprefix(DASH).partition(" ")
        if not line.startswith(DASH) or not space:
            raise NoteError(f"{line[:60]!r} is not a signature line")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise NoteError(f"signature of {name!r} is not base64") from None
        if len(blob) < 5:
            raise NoteError(f"signature of {name!r} is too short")
        signatures.append(Signature(check_name(name), blob[:4], blob[4:]))
    return Note(text, tuple(signatures))


def verified_by(note: Note, verifiers: list[Verifier]) -> list[tuple[Verifier, Signature]]:
    """The known keys that signed the note. Lines from unknown keys are ignored; a known key
    whose line fails, or that signs twice, rejects the note."""
    found: list[tuple[Verifier, Signature]] = []
    for signature in note.signatures:
        verifier = next((v for v in verifiers if v.claims(signature)), None)
        if verifier is None:
            continue
        if any(v is verifier for v, _ in found):
            raise NoteError(f"{signature.name} signed the note twice")
        if not verifier.verify(note.text, signature):
            raise NoteError(f"the signature of {signature.name} does not verify")
        found.append((verifier, signature))
    return found
