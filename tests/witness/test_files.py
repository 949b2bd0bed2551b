"""The witness's two files: its private key (Go's signed-note form, owner-only, never
overwritten) and the list of logs it witnesses (a bad line stops it, named by number)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit.checkpoint import verifier_key
from stateline.audit.note import COSIGNATURE, ED25519, Signer, parse_vkey
from stateline.witness.errors import WitnessFileError
from stateline.witness.keys import create_key, format_key, parse_key, read_key
from stateline.witness.logs import parse_logs, read_logs

WA = Ed25519PrivateKey.generate()
OR = Ed25519PrivateKey.generate()


def test_a_new_key_is_owner_only_names_itself_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    made = create_key(path, "auditor.wa.example/w1")
    assert os.stat(path).st_mode & 0o777 == 0o600
    line = path.read_text()
    assert line.startswith(f"PRIVATE+KEY+auditor.wa.example/w1+{made.verifier.key_id.hex()}+")
    assert base64.b64decode(line.strip().split("+", 4)[4])[0] == COSIGNATURE
    again = read_key(path)
    assert again.verifier.vkey == made.verifier.vkey
    assert parse_vkey(made.verifier.vkey).kind == COSIGNATURE


def test_a_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    first = create_key(path, "w1")
    with pytest.raises(WitnessFileError, match="already exists"):
        create_key(path, "w2")
    assert read_key(path).verifier.vkey == first.verifier.vkey


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    create_key(path, "w1")
    path.chmod(0o640)
    with pytest.raises(WitnessFileError, match="0600"):
        read_key(path)


def _with_key(line: str, raw: bytes) -> str:
    return "+".join(line.split("+", 4)[:4]) + "+" + base64.b64encode(raw).decode()


@pytest.mark.parametrize("edit", [
    lambda s: s.replace("+w1+", "+w2+"),  # renamed: the id no longer fits
    lambda s: s.replace("PRIVATE+KEY+", "PRIVATE+KEY+x"),
    lambda s: s.replace("PRIVATE+KEY+", ""),
    lambda s: s[:-8] + "!!!!!!!\n",
    lambda s: _with_key(s, b"\x01" + bytes(32)),  # a log's key type, not a cosigner's
    lambda s: _with_key(s, b"\x04" + bytes(31)),
    lambda s: "",
    lambda s: s * 20,
])
def test_a_key_file_that_does_not_hold_together_is_refused(tmp_path: Path, edit: object) -> None:
    path = tmp_path / "witness.key"
    create_key(path, "w1")
    path.write_text(edit(path.read_text()))  # type: ignore[operator]
    with pytest.raises(WitnessFileError, match=str(path)):
        read_key(path)


def test_a_missing_key_or_a_bad_name_says_so(tmp_path: Path) -> None:
    with pytest.raises(WitnessFileError, match="witness init"):
        read_key(tmp_path / "absent.key")
    for name in ("", "two words", "a+b"):
        with pytest.raises(WitnessFileError, match="--name"):
            create_key(tmp_path / "w.key", name)
    assert not (tmp_path / "w.key").exists()


def test_the_key_form_round_trips() -> None:
    signer = Signer("w", Ed25519PrivateKey.generate(), COSIGNATURE)
    assert parse_key(format_key(signer)).verifier.vkey == signer.verifier.vkey


def test_the_logs_file_takes_comments_blank_lines_and_several_keys_per_log(
        tmp_path: Path) -> None:
    rotated = Ed25519PrivateKey.generate()
    path = tmp_path / "logs"
    path.write_text("# witnessed for the legislature\n\n"
                    f"{verifier_key('stateline/WA', WA.public_key())}\n"
                    f"  {verifier_key('stateline/OR', OR.public_key())}  \n"
                    f"{verifier_key('stateline/WA', rotated.public_key())}\n"
                    f"{verifier_key('stateline/WA', rotated.public_key())}\n")
    logs = read_logs(path)
    assert sorted(logs) == ["stateline/OR", "stateline/WA"]
    assert [v.kind for v in logs["stateline/WA"]] == [ED25519, ED25519]


@pytest.mark.parametrize(("text", "problem"), [
    ("# nothing\n", "lists no log keys"),
    (f"{verifier_key('stateline/WA', WA.public_key())}\nstateline/OR+1234\n", ":2:"),
    (f"\n\n{verifier_key('stateline/WA', WA.public_key())[:-4]}AAAA\n", ":3:"),
    ("x" * 1000 + "\n", "too long"),
])
def test_a_bad_logs_file_is_refused_naming_the_line(text: str, problem: str) -> None:
    with pytest.raises(WitnessFileError, match=problem):
        parse_logs(text, "logs.txt")


def test_a_witness_key_is_not_a_log_key() -> None:
    cosigner = Signer("stateline/WA", WA, COSIGNATURE).verifier.vkey
    with pytest.raises(WitnessFileError, match=r"logs\.txt:1: .*cosignature key"):
        parse_logs(cosigner + "\n", "logs.txt")


def test_a_logs_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "logs").write_bytes(b"\xff\xfe")
    with pytest.raises(WitnessFileError, match="UTF-8"):
        read_logs(tmp_path / "logs")
    with pytest.raises(WitnessFileError, match="no such"):
        read_logs(tmp_path / "absent")
