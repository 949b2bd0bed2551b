"""The add-checkpoint body read on its own, and fuzzed against the parser and the real server:
whatever arrives is read or refused with the spec's status, never a server error."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stateline.audit.checkpoint import parse, verifier_key
from stateline.audit.log import AuditLog
from stateline.audit.merkle import EMPTY_ROOT
from stateline.witness import add_checkpoint, latest_checkpoint
from stateline.witness.errors import SubmissionError
from stateline.witness.keys import create_key
from stateline.witness.submission import MAX_PROOF, parse_submission

from .conftest import ORIGIN, WITNESS, RunningWitness, grow

KEY = Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def heads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditLog, list[str]]]:
    """A log's signed notes at sizes 1 to 6, and the log to prove consistency with."""
    with AuditLog.open(tmp_path_factory.mktemp("log") / "audit.db", ORIGIN, KEY) as log:
        yield log, [grow(log, 1).note() for _ in range(6)]


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWitness]:
    folder = tmp_path_factory.mktemp("witness")
    create_key(folder / "w.key", WITNESS)
    running = RunningWitness(folder / "w.key", verifier_key(ORIGIN, KEY.public_key()),
                             folder / "w.db")
    yield running
    running.stop()


def test_a_body_reads_as_old_size_proof_and_checkpoint(
        heads: tuple[AuditLog, list[str]]) -> None:
    log, notes = heads
    proof = log.consistency_proof(2, 6)
    body = "old 2\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    read = parse_submission((body + "\n" + notes[5]).encode())
    assert (read.old_size, read.proof, read.head.size) == (2, tuple(proof), 6)
    assert read.note.render() == notes[5]
    assert parse_submission(f"old 0\n\n{notes[0]}".encode()).proof == ()


def test_the_spec_bounds_proofs_at_63_lines(heads: tuple[AuditLog, list[str]]) -> None:
    line = base64.b64encode(EMPTY_ROOT).decode() + "\n"
    note = heads[1][5]
    assert len(parse_submission(f"old 1\n{line * MAX_PROOF}\n{note}".encode()).proof) == 63
    with pytest.raises(SubmissionError, match="at most 63"):
        parse_submission(f"old 1\n{line * 64}\n{note}".encode())


def _mutated(draw: st.DrawFn, text: str) -> str:
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 4))
        text = text[:at] + draw(st.text(max_size=6)) + text[at + cut:]
    return text


@st.composite
def bodies(draw: st.DrawFn, notes: list[str], proof: list[bytes]) -> bytes:
    """Bodies near the protocol: sizes in and out of range, proof lines true, bent or not
    base64 at all, checkpoints signed then edited, and plain noise."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.binary(max_size=300))
    old = draw(st.one_of(st.integers(0, 7).map(str), st.text(max_size=22)))
    hashes = draw(st.lists(st.one_of(
        st.sampled_from(proof or [EMPTY_ROOT]).map(lambda h: base64.b64encode(h).decode()),
        st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
        st.text(max_size=50)), max_size=5))
    note = _mutated(draw, draw(st.sampled_from(notes)))
    text = "old " + old + "\n" + "".join(h + "\n" for h in hashes) + "\n" + note
    return _mutated(draw, text).encode("utf-8", "surrogatepass")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_parser_reads_or_refuses_as_400_and_nothing_else(
        heads: tuple[AuditLog, list[str]], data: st.DataObject) -> None:
    log, notes = heads
    body = data.draw(bodies(notes, log.consistency_proof(3, 6)))
    try:
        read = parse_submission(body)
    except SubmissionError as error:
        assert error.status == 400
    else:
        assert read.old_size >= 0 and len(read.proof) <= MAX_PROOF


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow],
          deadline=None)
@given(data=st.data())
def test_the_server_never_answers_with_a_server_error(
        witness: RunningWitness, heads: tuple[AuditLog, list[str]],
        data: st.DataObject) -> None:
    log, notes = heads
    body = data.draw(bodies(notes, log.consistency_proof(3, 6)))
    answer = httpx.post(witness.url + "/add-checkpoint", content=body)
    assert answer.status_code in (200, 400, 403, 404, 409, 413, 422), answer.text
    if answer.status_code == 409:
        assert answer.headers["content-type"] == "text/x.tlog.size"
        assert answer.text.rstrip("\n").isdigit()


def test_the_fuzzed_witness_still_only_grows(witness: RunningWitness,
                                             heads: tuple[AuditLog, list[str]]) -> None:
    """After all the noise, the witness holds a tree of the log it can still be moved on from
    with an honest proof."""
    log, notes = heads
    held = latest_checkpoint(witness.url, ORIGIN)
    size = parse(held).head.size if held else 0
    add_checkpoint(witness.url, size, log.consistency_proof(size, 6), notes[5])
    assert parse(latest_checkpoint(witness.url, ORIGIN) or "").head.size == 6
