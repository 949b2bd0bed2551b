"""Signed tree heads: what is signed, what breaks a signature, and the key file."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit.checkpoint import (
    NoteError,
    TreeHead,
    format_time,
    load_or_create_key,
    parse,
    parse_time,
    sign,
    verifier_key,
    verify,
)

HEAD = TreeHead("stateline/WA", 1024, bytes(range(32)), 1_772_366_400_123_456)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_signed_head_verifies_and_reads_back(key: Ed25519PrivateKey) -> None:
    signed = sign(HEAD, key)
    assert verify(signed, key.public_key())
    note = signed.note()
    assert note.startswith("stateline/WA\n1024\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
    assert "=\n\n\u2014 stateline/WA " in note  # three body lines, no time extension
    assert parse(note) == signed
    assert sign(replace(HEAD, time_us=1), key) == signed  # the time is not signed


@pytest.mark.parametrize(
    "change",
    [
        {"size": 1025},
        {"root": bytes(32)},
        {"extensions": ("time 2026-03-01T12:00:00.000000Z",)},
        {"origin": "stateline/OR"},
    ],
)
def test_any_changed_field_breaks_the_signature(
    key: Ed25519PrivateKey, change: dict[str, object]
) -> None:
    signed = sign(HEAD, key)
    forged = replace(signed, head=replace(HEAD, **change))  # type: ignore[arg-type]
    assert not verify(forged, key.public_key())


def test_another_key_does_not_verify(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    assert not verify(sign(HEAD, other), key.public_key())
    # Even claiming our key id, the other key's signature fails.
    forged = replace(sign(HEAD, other), key_id=sign(HEAD, key).key_id)
    assert not verify(forged, key.public_key())


def test_verifier_key_names_the_key_id(key: Ed25519PrivateKey) -> None:
    name, key_hex, _ = verifier_key("stateline/WA", key.public_key()).split("+", 2)
    assert name == "stateline/WA"
    assert bytes.fromhex(key_hex) == sign(HEAD, key).key_id


@pytest.mark.parametrize(
    "note",
    [
        "",
        "stateline/WA\n1\nAAAA\n\n",
        "stateline/WA\nx\nAAAA\ntime 2026-03-01T12:00:00.000000Z\n\n\u2014 stateline/WA AAAA\n",
        "stateline/WA\n1\n" + "A" * 44 + "\ntime 2026\n\n\u2014 stateline/WA AAAA\n",
    ],
)
def test_malformed_notes_raise(note: str) -> None:
    with pytest.raises(NoteError):
        parse(note)


def test_time_round_trips_to_the_microsecond() -> None:
    for t in (0, 1, 1_772_366_400_123_456, 4_102_444_799_999_999):
        assert parse_time(format_time(t)) == t


def test_bad_heads_are_refused() -> None:
    with pytest.raises(NoteError):
        TreeHead("state line", 1, bytes(32), 0)
    with pytest.raises(NoteError):
        TreeHead("stateline/WA", 1, bytes(31), 0)


def test_key_file_is_made_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "audit-key.pem"
    key = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_key(path)
    assert verify(sign(HEAD, key), again.public_key())


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit-key.pem"
    load_or_create_key(path)
    path.chmod(0o644)
    with pytest.raises(NoteError, match="0600"):
        load_or_create_key(path)
