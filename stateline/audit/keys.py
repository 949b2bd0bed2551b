"""Where a state's log key lives, and the public keys its signed heads are checked against.

Whoever holds the private key can rewrite the log and sign it again, so the key can live
outside the data folder: `[audit] signing_key` in the state's config.toml, or the folder named
by $STATELINE_AUDIT_KEYS holding `XX.pem` per state. The data folder then keeps only public
keys, pinned in `audit-key.pub`: one verifier key per line, the first key first, a line more
for each rotation. A key that is not the newest pinned one is refused, never used. Where
neither is set (the demo, a laptop) the key stays in the folder beside the log, as
`audit-key.pem`; only a trusted checkpoint or a witness then makes a check independent of it.

A rotation is an entry (`key-rotation`, `{"vkey": ...}`) signed under the old key; key i of the
chain signs the heads from the entry announcing it up to the head covering the next one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..datadir import DataDir, state_config
from ..errors import RequesterError
from .checkpoint import load_or_create_key, log_verifier
from .note import ED25519, NoteError, Verifier, parse_vkey
from .records import KeyRotationRecord, RecordError

KEYS_ENV = "STATELINE_AUDIT_KEYS"
"""A folder holding each state's log key as XX.pem, outside the data folder."""
PINNED = "audit-key.pub"
BESIDE_LOG = "audit-key.pem"
MAX_PINNED = 1 << 16
"""Bytes of audit-key.pub read at most: hundreds of rotations' worth."""


class KeyRefused(RequesterError):
    """A signing key the log will not use (not the pinned key, missing, or one a rotation has
    replaced), or pinned keys that cannot be read. Nothing is written until it is fixed."""

    code, status = "audit-key", 409


@dataclass(frozen=True, slots=True)
class KeyPlace:
    """Where the log's private key is read from, and how that place was named."""

    path: Path
    source: str
    beside_log: bool
    """The key is inside the data folder: whoever holds the folder holds the key."""


def key_place(data: DataDir, state: str) -> KeyPlace:
    """`[audit] signing_key` (relative to the state's folder), else $STATELINE_AUDIT_KEYS/XX.pem,
    else the key beside the log."""
    audit = state_config(data, state, "audit")
    configured = audit.get("signing_key")
    folder = os.environ.get(KEYS_ENV, "").strip()
    if configured is not None:
        if not isinstance(configured, str) or not configured.strip():
            raise KeyRefused(f"{data.config(state)}: [audit] signing_key must name a key file")
        path = Path(configured.strip()).expanduser()
        path = path if path.is_absolute() else data.state_dir(state) / path
        source = f"[audit] signing_key in {data.config(state)}"
    elif folder:
        path = Path(folder).expanduser() / f"{state.upper()}.pem"
        source = f"${KEYS_ENV}"
    else:
        return KeyPlace(data.state_dir(state) / BESIDE_LOG, "the data folder", True)
    return KeyPlace(path, source, _inside(path, data.root))


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def pinned_path(data: DataDir, state: str) -> Path:
    return data.state_dir(state) / PINNED


def read_pinned(path: Path) -> list[Verifier]:
    """The pinned chain, first key first; [] when the file is absent."""
    try:
        with path.open("rb") as held:
            raw = held.read(MAX_PINNED + 1)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise KeyRefused(f"cannot read the log's pinned keys {path}: {error}") from None
    if len(raw) > MAX_PINNED:
        raise KeyRefused(f"{path} is longer than {MAX_PINNED} bytes: not a list of keys")
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise KeyRefused(f"{path} is not UTF-8 text") from None
    chain = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            verifier = parse_vkey(line)
        except NoteError as error:
            raise KeyRefused(f"{path} line {number}: {error}") from None
        if verifier.kind != ED25519:
            raise KeyRefused(f"{path} line {number}: a log's key is an Ed25519 key")
        chain.append(verifier)
    return chain


def write_pinned(path: Path, chain: Sequence[Verifier]) -> None:
    """Replace the pinned chain in one rename, so a crash leaves the old list or the new."""
    text = "".join(f"{v.vkey}\n" for v in chain)
    fd, temporary = tempfile.mkstemp(prefix=".audit-key-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_key(place: KeyPlace, *, create: bool) -> Ed25519PrivateKey:
    """The private key at its place; made there only when `create` (a key beside the log,
    before any key is pinned)."""
    if not place.path.is_file() and not create:
        raise KeyRefused(f"no signing key at {place.path} ({place.source})")
    return load_or_create_key(place.path)


def place_key(place: KeyPlace, key: Ed25519PrivateKey) -> None:
    """Put a key where the log reads it (owner-only, in one rename), replacing the key there."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        if place.path.read_bytes() == pem:
            return
    except FileNotFoundError:
        pass
    fd, temporary = tempfile.mkstemp(prefix=".audit-key-", dir=place.path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, place.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def signing_key_for(data: DataDir, state: str, origin: str) -> Ed25519PrivateKey:
    """The key the state's log signs with, checked against the newest pinned key; pinned on
    first use when no key is pinned yet."""
    place = key_place(data, state)
    pinned_file = pinned_path(data, state)
    chain = read_pinned(pinned_file)
    key = load_key(place, create=place.beside_log and not chain)
    mine = log_verifier(origin, key.public_key())
    if not chain:
        write_pinned(pinned_file, [mine])
        return key
    if chain[-1].vkey != mine.vkey:
        raise KeyRefused(
            f"the key at {place.path} ({place.source}) is {mine.vkey}, not the log's pinned key "
            f"{chain[-1].vkey} ({pinned_file}); the log will not sign with it")
    return key


def log_chain(data: DataDir, state: str, origin: str) -> list[Verifier]:
    """The keys a reader checks the log's heads with: the pinned chain, else (a folder from
    before keys were pinned) the key at its place, read without making or pinning anything."""
    chain = read_pinned(pinned_path(data, state))
    if chain:
        return chain
    place = key_place(data, state)
    if not place.path.is_file():
        return []
    return [log_verifier(origin, load_key(place, create=False).public_key())]


def announcement(new: Verifier) -> dict[str, Any]:
    """The body of the entry that announces the log's next key."""
    return KeyRotationRecord(vkey=new.vkey).body()


def announced(body: Mapping[str, Any] | str, origin: str) -> Verifier:
    """The key a key-rotation entry announces; NoteError when it names none of this log's."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            raise NoteError("the entry's body is not JSON") from None
    if not isinstance(body, Mapping):
        raise NoteError("the entry's body is not an object")
    try:
        vkey = KeyRotationRecord.from_body(body).vkey
    except RecordError as error:
        raise NoteError(f"the entry names no vkey: {error}") from None
    verifier = parse_vkey(vkey)
    if verifier.kind != ED25519 or verifier.name != origin:
        raise NoteError(f"{vkey[:80]!r} is not an Ed25519 key of {origin}")
    return verifier


def keys_for_size(chain_length: int, announced_at: Sequence[int], size: int) -> list[int]:
    """Which keys of the chain may sign a head of `size`: key i from the entry announcing it
    (at `announced_at[i - 1]`) up to the head just covering the entry announcing key i + 1,
    which the rotation signs with key i."""
    return [i for i in range(chain_length)
            if (i == 0 or (i <= len(announced_at) and announced_at[i - 1] < size))
            and (i >= len(announced_at) or size <= announced_at[i] + 1)]
