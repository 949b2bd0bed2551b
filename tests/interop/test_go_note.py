"""Checkpoints and cosignatures checked by Go's reference signed-note code, both ways.

`notecheck` (beside this file) opens a note with golang.org/x/mod/sumdb/note: the log's
signature through `note.NewVerifier`, each witness's cosignature through a small
cosignature/v1 `note.Verifier`; and signs a note with `note.GenerateKey` and `note.Sign` for
Python to check. Debian's golang-go and golang-golang-x-mod-dev provide them (`make go`);
without them every test here is skipped, with the reason in the report.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import checkpoint
from stateline.audit.log import AuditLog
from stateline.audit.note import (
    COSIGNATURE,
    ED25519,
    Note,
    Signature,
    Signer,
    parse_note,
    parse_vkey,
    verified_by,
)
from stateline.witness import Witness, log_id
from stateline.witness.logs import parse_logs
from stateline.witness.store import WitnessStore

GOPATH = Path("/usr/share/gocode")
NOTE_PACKAGE = GOPATH / "src/golang.org/x/mod/sumdb/note"
SOURCE = Path(__file__).parent / "notecheck"
ORIGIN = "stateline/WA"
WITNESS = "auditor.wa.example/w1"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def notecheck(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The Go program, built once into a temporary folder (its build cache too)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("`go` is not installed: `make go` installs Debian's golang-go")
    if not NOTE_PACKAGE.is_dir():
        pytest.skip(f"{NOTE_PACKAGE} is missing: `make go` installs golang-golang-x-mod-dev")
    build = tmp_path_factory.mktemp("go")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH),
           "GOCACHE": str(build / "cache"), "GOFLAGS": ""}
    binary = build / "notecheck"
    made = subprocess.run([go, "build", "-o", str(binary), "."], cwd=SOURCE, env=env,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60)

    return run


@dataclass(frozen=True)
class Witnessed:
    head: checkpoint.SignedTreeHead
    log_vkey: str
    witness: Signer
    served: str
    """The checkpoint as the witness serves it: the log's line, then the cosignature."""

    @property
    def cosignature(self) -> Signature:
        return checkpoint.parse(self.served).cosignatures[0]


@pytest.fixture
def witnessed(tmp_path: Path) -> Witnessed:
    """A log's head at size 6, cosigned by a real witness as the log's first checkpoint."""
    log_key = Ed25519PrivateKey.generate()
    signer = Signer(WITNESS, Ed25519PrivateKey.generate(), COSIGNATURE)
    log_vkey = checkpoint.verifier_key(ORIGIN, log_key.public_key())
    witness = Witness(signer, parse_logs(log_vkey), WitnessStore(tmp_path / "witness.db"))
    with AuditLog.open(tmp_path / "audit.db", ORIGIN, log_key) as log:
        for n in range(6):
            log.append("decision", {"n": n})
        head = log.sign_head()
    witness.add_checkpoint(f"old 0\n\n{head.note()}".encode())
    served = witness.latest(log_id(ORIGIN))
    assert served is not None
    return Witnessed(head, log_vkey, signer, served)


def go_verify(notecheck: Run, tmp_path: Path, note: str, log_vkey: str, *witnesses: str
              ) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "note.txt"
    path.write_text(note)
    flags = [arg for vkey in witnesses for arg in ("-witness", vkey)]
    return notecheck("verify", "-note", str(path), "-log", log_vkey, *flags)


def test_go_verifies_the_log_signature_and_the_witness_cosignature(
        notecheck: Run, tmp_path: Path, witnessed: Witnessed) -> None:
    checked = go_verify(notecheck, tmp_path, witnessed.served, witnessed.log_vkey,
                        witnessed.witness.verifier.vkey)
    assert checked.returncode == 0, checked.stderr
    timestamp = int.from_bytes(witnessed.cosignature.blob[:8], "big")
    assert checked.stdout.splitlines() == [
        "checkpoint stateline/WA size 6",
        "log stateline/WA verified",
        f"cosignature {WITNESS} time {timestamp} verified",
    ]


def test_go_reads_a_note_whose_first_line_is_the_witness(
        notecheck: Run, tmp_path: Path, witnessed: Witnessed) -> None:
    reordered = Note(witnessed.head.head.body(),
                     (witnessed.cosignature, witnessed.head.log_signature)).render()
    checked = go_verify(notecheck, tmp_path, reordered, witnessed.log_vkey,
                        witnessed.witness.verifier.vkey)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[1].startswith(f"cosignature {WITNESS} ")


def test_go_verifies_a_standard_checkpoint_the_log_signed(
        notecheck: Run, tmp_path: Path, witnessed: Witnessed) -> None:
    checked = go_verify(notecheck, tmp_path, witnessed.head.note(), witnessed.log_vkey)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == ["checkpoint stateline/WA size 6",
                                           "log stateline/WA verified"]


def test_go_refuses_a_changed_size(notecheck: Run, tmp_path: Path,
                                   witnessed: Witnessed) -> None:
    grown = witnessed.served.replace("\n6\n", "\n7\n", 1)
    assert grown != witnessed.served
    checked = go_verify(notecheck, tmp_path, grown, witnessed.log_vkey,
                        witnessed.witness.verifier.vkey)
    assert checked.returncode == 1
    assert "invalid signature for key stateline/WA" in checked.stderr


def test_go_refuses_a_cosignature_moved_to_another_time(
        notecheck: Run, tmp_path: Path, witnessed: Witnessed) -> None:
    line = witnessed.cosignature
    later = (int.from_bytes(line.blob[:8], "big") + 1).to_bytes(8, "big")
    moved = Signature(line.name, line.key_id, later + line.blob[8:])
    note = Note(witnessed.head.head.body(), (witnessed.head.log_signature, moved)).render()
    checked = go_verify(notecheck, tmp_path, note, witnessed.log_vkey,
                        witnessed.witness.verifier.vkey)
    assert checked.returncode == 1
    assert f"invalid signature for key {WITNESS}" in checked.stderr


def test_go_refuses_when_a_named_witness_did_not_cosign(
        notecheck: Run, tmp_path: Path, witnessed: Witnessed) -> None:
    absent = Signer("press.example/w", Ed25519PrivateKey.generate(), COSIGNATURE)
    checked = go_verify(notecheck, tmp_path, witnessed.served, witnessed.log_vkey,
                        witnessed.witness.verifier.vkey, absent.verifier.vkey)
    assert checked.returncode == 1
    assert "press.example/w did not sign" in checked.stderr
    impostor = checkpoint.verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())
    assert go_verify(notecheck, tmp_path, witnessed.served, impostor).returncode == 1


def test_python_verifies_a_checkpoint_go_signed(notecheck: Run, tmp_path: Path) -> None:
    body = checkpoint.TreeHead("example.com/go-log", 20852163, bytes(range(32))).body()
    (tmp_path / "body.txt").write_text(body)
    signed = notecheck("sign", "-name", "example.com/go-log", "-text", str(tmp_path / "body.txt"))
    assert signed.returncode == 0, signed.stderr
    vkey, note = signed.stdout.split("\n", 1)
    verifier = parse_vkey(vkey)
    assert verifier.kind == ED25519
    head = checkpoint.parse(note)
    assert (head.head.origin, head.head.size, head.head.root) == (
        "example.com/go-log", 20852163, bytes(range(32)))
    assert checkpoint.verify(head, verifier.public_key)
    assert [v.vkey for v, _ in verified_by(parse_note(note), [verifier])] == [vkey]
    lines = note.split("\n")
    blob = bytearray(base64.b64decode(lines[-2].split(" ")[-1]))
    blob[-1] ^= 1
    lines[-2] = lines[-2].rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode()
    assert not checkpoint.verify(checkpoint.parse("\n".join(lines)), verifier.public_key)
