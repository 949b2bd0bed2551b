"""The witness as c2sp.org/tlog-witness defines it, over HTTP, fed by real audit logs: what it
cosigns, each refusal the spec names, and that a rolled-back or forked log is never cosigned."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import checkpoint
from stateline.audit.log import AuditLog
from stateline.audit.note import COSIGNATURE, Note, Signer, parse_note, parse_vkey, verified_by
from stateline.witness import (
    WitnessConflict,
    WitnessRefused,
    add_checkpoint,
    latest_checkpoint,
    log_id,
)

from .conftest import OTHER, WITNESS, RunningWitness, grow


def submit(url: str, old: int, proof: list[bytes], note: str) -> httpx.Response:
    body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return httpx.post(url + "/add-checkpoint", content=(body + "\n" + note).encode())


def held_size(running: RunningWitness, origin: str = "stateline/WA") -> int | None:
    note = latest_checkpoint(running.url, origin)
    return None if note is None else checkpoint.parse(note).head.size


def test_a_first_checkpoint_is_cosigned_with_a_line_the_witness_key_verifies(
        running: RunningWitness, log: AuditLog) -> None:
    head = grow(log, 5)
    before = int(time.time())
    lines = add_checkpoint(running.url, 0, [], head.note())
    (line,) = lines
    assert (line.name, len(line.blob)) == (WITNESS, 8 + 64)
    cosigned = parse_note(head.head.body() + "\n" + line.line())
    vkey = running.signer.verifier.vkey
    ((verifier, signature),) = verified_by(cosigned, [parse_vkey(vkey)])
    assert verifier.kind == COSIGNATURE
    assert before <= (verifier.timestamp(signature) or 0) <= int(time.time())
    log.add_cosignatures(head.head, lines)
    assert log.latest_head() == head.with_cosignatures(lines)


def test_the_log_grows_with_a_consistency_proof_and_the_witness_serves_its_latest(
        running: RunningWitness, log: AuditLog, log_key: Ed25519PrivateKey) -> None:
    assert latest_checkpoint(running.url, "stateline/WA") is None
    first = grow(log, 5)
    add_checkpoint(running.url, 0, [], first.note())
    for more in (3, 1, 8):
        old = log.size
        head = grow(log, more)
        (line,) = add_checkpoint(running.url, old, log.consistency_proof(old), head.note())
        served = checkpoint.parse(latest_checkpoint(running.url, "stateline/WA") or "")
        assert served.head.same_tree(head.head)
        assert checkpoint.verify(served, log_key.public_key())
        assert served.cosignatures == (line,)
    assert held_size(running) == 17


def test_the_monitoring_url_is_the_sha256_of_the_origin(running: RunningWitness,
                                                       log: AuditLog) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 2).note())
    served = httpx.get(f"{running.url}/{log_id('stateline/WA')}/checkpoint")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/plain")
    assert checkpoint.parse(served.text).head.size == 2
    for path in (f"/{log_id(OTHER)}/checkpoint", f"/{log_id('stateline/NY')}/checkpoint",
                 "/stateline%2FWA/checkpoint", "/x/checkpoint"):
        assert httpx.get(running.url + path).status_code == 404, path


def test_an_unknown_origin_is_404_and_nothing_is_kept(running: RunningWitness,
                                                     open_log: Callable[..., AuditLog]) -> None:
    stranger = open_log("stateline/NY", Ed25519PrivateKey.generate())
    answer = submit(running.url, 0, [], grow(stranger, 3).note())
    assert answer.status_code == 404
    assert "stateline/NY" in answer.text
    assert latest_checkpoint(running.url, "stateline/NY") is None


def test_a_checkpoint_without_a_valid_signature_by_the_logs_key_is_403(
        running: RunningWitness, open_log: Callable[..., AuditLog], log: AuditLog) -> None:
    impostor = open_log(key=Ed25519PrivateKey.generate(), name="impostor")
    assert submit(running.url, 0, [], grow(impostor, 3).note()).status_code == 403
    genuine = grow(log, 3)
    forged = bytearray(genuine.signature)
    forged[10] ^= 1
    bad = checkpoint.SignedTreeHead(genuine.head, genuine.key_id, bytes(forged)).note()
    assert submit(running.url, 0, [], bad).status_code == 403
    other_size = checkpoint.TreeHead("stateline/WA", 4, genuine.head.root)
    moved = checkpoint.SignedTreeHead(other_size, genuine.key_id, genuine.signature).note()
    assert submit(running.url, 0, [], moved).status_code == 403
    assert held_size(running) is None


def test_a_conflicting_old_size_is_409_with_the_witness_size_as_its_body(
        running: RunningWitness, log: AuditLog) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 5).note())
    head = grow(log, 3)
    answer = submit(running.url, 0, [], head.note())
    assert (answer.status_code, answer.text) == (409, "5\n")
    assert answer.headers["content-type"] == "text/x.tlog.size"
    with pytest.raises(WitnessConflict) as conflict:
        add_checkpoint(running.url, 2, log.consistency_proof(2), head.note())
    assert conflict.value.size == 5
    # What a log does on a conflict: resubmit from the size the witness holds.
    add_checkpoint(running.url, conflict.value.size, log.consistency_proof(5), head.note())
    assert held_size(running) == 8


def test_a_proof_that_does_not_verify_is_422_and_nothing_is_cosigned(
        running: RunningWitness, log: AuditLog) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 5).note())
    head = grow(log, 6)
    proof = log.consistency_proof(5)
    for n in range(len(proof)):
        bent = list(proof)
        bent[n] = bytes([bent[n][0] ^ 1]) + bent[n][1:]
        assert submit(running.url, 5, bent, head.note()).status_code == 422
    assert submit(running.url, 5, proof[:-1], head.note()).status_code == 422
    assert submit(running.url, 5, [*proof, proof[0]], head.note()).status_code == 422
    assert submit(running.url, 5, [], head.note()).status_code == 422
    assert held_size(running) == 5


def test_a_first_checkpoint_with_a_proof_is_422(running: RunningWitness, log: AuditLog) -> None:
    grow(log, 2)
    head = grow(log, 2)
    answer = submit(running.url, 0, log.consistency_proof(2), head.note())
    assert answer.status_code == 422
    assert held_size(running) is None


def test_the_same_size_again_is_cosigned_again_but_never_with_a_proof(
        running: RunningWitness, log: AuditLog) -> None:
    head = grow(log, 4)
    add_checkpoint(running.url, 0, [], head.note())
    assert submit(running.url, 4, [], head.note()).status_code == 200
    assert submit(running.url, 4, [log.root()], head.note()).status_code == 422
    assert held_size(running) == 4


def test_an_old_size_past_the_checkpoint_is_400(running: RunningWitness, log: AuditLog) -> None:
    head = grow(log, 3)
    answer = submit(running.url, 4, [], head.note())
    assert answer.status_code == 400
    assert "past" in answer.text


@pytest.mark.parametrize("body", [
    b"", b"old 0\n", b"old 0", b"old\n\n", b"old -1\n\n", b"old 01\n\n", b"old 0x1\n\n",
    b"OLD 0\n\n", b"old  0\n\n", b"old 0 \n\n", b"old 99999999999999999999\n\n",
    b"old 0\n\x00\n\n", b"old 0\nnot base64!\n\n", b"old 0\nAAAA\n\n", b"\xff\xfe\n\n",
    b"old 0\n\nno checkpoint here\n",
    "old 0\n\nstateline/WA\n1\n\u00e9AAA\n\n\u2014 stateline/WA AAAAAAAA\n".encode(),
    "old 0\n\nstateline/WA\n1\nAAAA\n\n\u2014 stateline/WA \u00e9AAAAAAA\n".encode(),
])
def test_a_body_the_spec_does_not_define_is_400(running: RunningWitness, body: bytes) -> None:
    answer = httpx.post(running.url + "/add-checkpoint", content=body)
    assert answer.status_code == 400, answer.text


def test_more_than_63_proof_lines_is_400(running: RunningWitness, log: AuditLog) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 1).note())
    head = grow(log, 1)
    assert submit(running.url, 1, [log.root()] * 64, head.note()).status_code == 400


def test_a_body_over_the_bound_is_refused_unread(running: RunningWitness) -> None:
    answer = httpx.post(running.url + "/add-checkpoint", content=b"old 0\n" + b"A" * 300_000)
    assert answer.status_code == 413
    assert httpx.get(running.url + "/add-checkpoint").status_code == 405


def test_a_rolled_back_log_is_never_cosigned(running: RunningWitness, log: AuditLog,
                                            open_log: Callable[..., AuditLog]) -> None:
    """The state drops its last entries and heads, then writes new ones: every submission of
    the rewritten history is refused, and the witness keeps the size it saw."""
    grow(log, 5, "kept")
    add_checkpoint(running.url, 0, [], grow(log, 3, "dropped").note())
    rolled = open_log(name="rolled-back")
    grow(rolled, 5, "kept")
    shrunk = grow(rolled, 0)
    regrown = grow(rolled, 6, "rewritten")
    assert submit(running.url, 8, [], shrunk.note()).status_code == 400
    assert submit(running.url, 5, [], shrunk.note()).text == "8\n"
    assert submit(running.url, 8, rolled.consistency_proof(8), regrown.note()
                  ).status_code == 422
    with pytest.raises(WitnessConflict):
        add_checkpoint(running.url, 5, rolled.consistency_proof(5), regrown.note())
    assert held_size(running) == 8


def test_a_forked_log_is_refused_with_409_and_the_client_calls_it_two_histories(
        running: RunningWitness, log: AuditLog, open_log: Callable[..., AuditLog]) -> None:
    head = grow(log, 5, "one")
    add_checkpoint(running.url, 0, [], head.note())
    fork = grow(open_log(name="fork"), 5, "other")
    answer = submit(running.url, 5, [], fork.note())
    assert (answer.status_code, answer.text) == (409, "5\n")
    with pytest.raises(WitnessRefused, match="two histories") as refused:
        add_checkpoint(running.url, 5, [], fork.note())
    assert refused.value.witness_status == 409
    served = checkpoint.parse(latest_checkpoint(running.url, "stateline/WA") or "")
    assert served.head.same_tree(head.head)


def test_what_it_cosigned_survives_a_restart(running: RunningWitness, log: AuditLog) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 5).note())
    before = latest_checkpoint(running.url, "stateline/WA")
    running.restart()
    assert latest_checkpoint(running.url, "stateline/WA") == before
    head = grow(log, 2)
    with pytest.raises(WitnessConflict) as conflict:
        add_checkpoint(running.url, 0, [], head.note())
    assert conflict.value.size == 5
    add_checkpoint(running.url, 5, log.consistency_proof(5), head.note())
    assert held_size(running) == 7


def test_a_checkpoint_whose_first_line_is_another_witness_is_read_and_cosigned(
        running: RunningWitness, log: AuditLog) -> None:
    head = grow(log, 3)
    elsewhere = Signer("press.example/w", Ed25519PrivateKey.generate(), COSIGNATURE)
    first = elsewhere.sign(head.head.body(), 1_800_000_000)
    reordered = Note(head.head.body(), (first, head.log_signature)).render()
    assert reordered.split("\n")[4].startswith("\u2014 press.example/w ")
    (line,) = add_checkpoint(running.url, 0, [], reordered)
    served = checkpoint.parse(latest_checkpoint(running.url, "stateline/WA") or "")
    assert served.cosignatures == (line,)  # only the lines this witness vouches for


def test_logs_are_held_apart(running: RunningWitness, log: AuditLog, other_key:
                             Ed25519PrivateKey, open_log: Callable[..., AuditLog]) -> None:
    add_checkpoint(running.url, 0, [], grow(log, 5).note())
    oregon = open_log(OTHER, other_key)
    add_checkpoint(running.url, 0, [], grow(oregon, 2).note())
    assert (held_size(running), held_size(running, OTHER)) == (5, 2)


def test_concurrent_submissions_for_one_log_take_turns(running: RunningWitness,
                                                       log: AuditLog) -> None:
    """Twelve heads of one log, all sent at once as if each were the first: exactly one is
    cosigned and every other is told that one's size, so none can roll the witness back."""
    heads = [grow(log, 1) for _ in range(12)]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda h: submit(running.url, 0, [], h.note()), heads))
    won = [h.head.size for h, a in zip(heads, answers, strict=True) if a.status_code == 200]
    assert len(won) == 1
    assert sorted(a.text for a in answers if a.status_code != 200) == [f"{won[0]}\n"] * 11
    assert held_size(running) == won[0]


def test_the_home_page_names_the_witness_and_its_logs(running: RunningWitness) -> None:
    page = httpx.get(running.url + "/").text
    assert page.startswith(running.signer.verifier.vkey + "\n")
    assert "stateline/WA+" in page and "stateline/OR+" in page
