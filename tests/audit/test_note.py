"""Signed notes as C2SP defines them: any order of lines, unknown keys ignored, cosignatures."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit.checkpoint import TreeHead, parse, sign, verify
from stateline.audit.note import (
    COSIGNATURE,
    Note,
    NoteError,
    Signer,
    parse_note,
    parse_vkey,
    verified_by,
)

SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJ"
    "sX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
"""The cosigned checkpoint printed in c2sp.org/tlog-cosignature."""

HEAD = TreeHead("stateline/WA", 7, bytes(range(32)))


def test_the_specs_cosigned_checkpoint_reads_with_its_witness_line_kept() -> None:
    signed = parse(SPEC_CHECKPOINT)
    assert (signed.head.origin, signed.head.size) == ("example.com/behind-the-sofa", 20852163)
    (witness,) = signed.cosignatures
    assert witness.name == "witness.example.com/w1"
    assert int.from_bytes(witness.blob[:8], "big") == 1679315147  # the spec's timestamp
    assert signed.note() == SPEC_CHECKPOINT


def test_a_note_whose_first_line_is_a_witness_still_names_the_log() -> None:
    log, witness = Ed25519PrivateKey.generate(), Signer("auditor.example", Ed25519PrivateKey
                                                         .generate(), COSIGNATURE)
    signed = sign(HEAD, log)
    cosigned = witness.sign(HEAD.body(), 1_800_000_000)
    text = Note(HEAD.body(), (cosigned, signed.log_signature)).render()
    again = parse(text)
    assert verify(again, log.public_key())
    assert again.cosignatures == (cosigned,)
    found = verified_by(parse_note(text), [witness.verifier])
    assert [(v.vkey, v.timestamp(s)) for v, s in found] == [(witness.verifier.vkey,
                                                             1_800_000_000)]


def test_a_cosignature_over_another_time_or_tree_fails() -> None:
    witness = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE)
    line = witness.sign(HEAD.body(), 5)
    forged = type(line)(line.name, line.key_id, (6).to_bytes(8, "big") + line.blob[8:])
    assert not witness.verifier.verify(HEAD.body(), forged)
    assert not witness.verifier.verify(TreeHead("stateline/WA", 8, HEAD.root).body(), line)


def test_unknown_keys_are_ignored_and_a_failing_known_key_rejects() -> None:
    log = Signer("stateline/WA", Ed25519PrivateKey.generate())
    stranger = Signer("stateline/WA", Ed25519PrivateKey.generate())  # same name, other key
    note = Note(HEAD.body(), (stranger.sign(HEAD.body()), log.sign(HEAD.body())))
    assert [v for v, _ in verified_by(note, [log.verifier])] == [log.verifier]
    assert verified_by(note, []) == []
    bad = Note(HEAD.body(), (log.sign("other text\n"),))
    with pytest.raises(NoteError, match="does not verify"):
        verified_by(bad, [log.verifier])


def test_verifier_keys_round_trip_and_a_wrong_id_is_refused() -> None:
    signer = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE)
    vkey = signer.verifier.vkey
    assert parse_vkey(vkey) == signer.verifier
    name, key_hex, encoded = vkey.split("+", 2)  # base64 may hold "+" too
    with pytest.raises(NoteError, match="key id"):
        parse_vkey(f"{name}+{'00000000' if key_hex != '00000000' else '11111111'}+{encoded}")
    for bad in ("", "name", "name+zz+AAAA", f"{name}+{key_hex}+AAAA", f"a b+{key_hex}+{encoded}"):
        with pytest.raises(NoteError):
            parse_vkey(bad)


@pytest.mark.parametrize("text", [
    "no blank line\n\u2014 a AAAAAAA=\n",
    "body\n\n",
    "body\n\n\u2014 a AAAAAAA=",
    "body\n\n- a AAAAAAA=\n",
    "body\n\n\u2014 a !!!!\n",
    "body\n\n\u2014 a AAAA\n",
    "tab\there\n\n\u2014 a AAAAAAA=\n",
    "body\n\n" + "\u2014 a AAAAAAA=\n" * 101,
])
def test_malformed_notes_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        parse_note(text)


@pytest.mark.parametrize("body", [
    "o\n01\n" + "A" * 43 + "=\n",
    "o\n1\n" + "A" * 43 + "=\n\nx\n",
    "o\n1\nAAAA\n",
    "o\n-1\n" + "A" * 43 + "=\n",
])
def test_checkpoint_bodies_are_held_to_the_spec(body: str) -> None:
    key = Signer("o", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError):
        parse(Note(body, (key.sign(body),)).render())


def test_extension_lines_are_kept_and_signed() -> None:
    key = Signer("o", Ed25519PrivateKey.generate())
    body = "o\n1\n" + "A" * 43 + "=\nextension line\n"
    signed = parse(Note(body, (key.sign(body),)).render())
    assert signed.head.extensions == ("extension line",)
    assert verify(signed, key.key.public_key())
