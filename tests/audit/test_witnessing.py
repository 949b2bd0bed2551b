"""A state's witnesses: read from config.toml, shown each new head by a thread of their own
(a real witness, `stateline witness serve`, in its own process), their cosignatures kept and
checked, their lag reported, and the log checked against what a witness saw."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from stateline.audit import EntryKind, audit_db, log_keys, open_state_log, read_state_log
from stateline.audit.checkpoint import verifier_key
from stateline.audit.note import COSIGNATURE, Signer, parse_vkey, verified_by
from stateline.audit.witnessing import (
    Witnessing,
    configured_witnesses,
    lags,
)
from stateline.commands import audit
from stateline.datadir import ConfigFileError, DataDir
from stateline.witness.client import add_checkpoint

from .test_keys import write_key
from .test_trusted import Attacker
from .witness_process import WitnessProcess

ORIGIN = "stateline/WA"
root = typer.Typer()
root.add_typer(audit.app, name="audit")
runner = CliRunner()
A_VKEY = Signer("a.example", Ed25519PrivateKey.generate(), COSIGNATURE).verifier.vkey


@pytest.mark.parametrize("config, message", [
    ('[audit]\nwitness = "x"', "witnesses are [[audit.witness]] tables"),
    ('[[audit.witness]]\nurl = "ftp://w"\nvkey = "{v}"', "url must be an http"),
    ('[[audit.witness]]\nurl = "http://w"', "vkey must be the witness's verifier key"),
    ('[[audit.witness]]\nurl = "http://w"\nvkey = "nope"',
     "'nope' is not an Ed25519 or cosignature/v1"),
    ('[[audit.witness]]\nurl = "http://w"\nvkey = "{v}"\nkey = 1', "unknown setting 'key'"),
    ('[[audit.witness]]\nurl = "http://w"\nvkey = "{v}"\n'
     '[[audit.witness]]\nurl = "http://v"\nvkey = "{v}"', "a.example is listed twice"),
])
def test_a_witness_setting_that_cannot_be_used_is_refused(tmp_path: Path, config: str,
                                                          message: str) -> None:
    data = DataDir(tmp_path)
    data.state_dir("WA").mkdir(parents=True)
    data.config("WA").write_text(config.replace("{v}", A_VKEY))
    with pytest.raises(ConfigFileError, match=re.escape(message)):
        configured_witnesses(data, "WA")


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """WA with its log key pinned, 10 entries under a head."""
    folder = DataDir(tmp_path / "data")
    folder.state_dir("WA").mkdir(parents=True)
    write_key(folder.state_dir("WA") / "audit-key.pem")
    with open_state_log(folder, "WA") as log:
        log.append_many([(EntryKind.LOGIN, {"n": n}) for n in range(10)])
    return folder


@pytest.fixture
def witness(data: DataDir, tmp_path: Path) -> Iterator[WitnessProcess]:
    running = WitnessProcess(tmp_path / "witness",
                             [verifier_key(ORIGIN, key) for key in log_keys(data, "WA")])
    data.config("WA").write_text(
        f'[[audit.witness]]\nurl = "{running.url}"\nvkey = "{running.vkey}"\n')
    yield running
    running.stop()


@pytest.fixture
def witnessing(data: DataDir, witness: WitnessProcess) -> Iterator[Witnessing]:
    shown = Witnessing(lambda: open_state_log(data, "WA"), configured_witnesses(data, "WA"),
                       add_checkpoint, poll=0.05, timeout=2)
    shown.start()
    yield shown
    shown.stop()


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait for a condition another thread or process makes true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.02)


def cosigned(data: DataDir, witness: WitnessProcess) -> int | None:
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        kept = log.cosigned(*_witness_id(witness))
    return None if kept is None else kept[0]


def _witness_id(witness: WitnessProcess) -> tuple[str, bytes]:
    verifier = parse_vkey(witness.vkey)
    return verifier.name, verifier.key_id


def grow(data: DataDir, entries: int) -> int:
    with open_state_log(data, "WA") as log:
        log.append_many([(EntryKind.LOGIN, {"n": n}) for n in range(entries)])
        return log.size  # closing signs a head over them


def test_each_new_head_is_cosigned_and_the_lines_kept_verify(
        data: DataDir, witness: WitnessProcess, witnessing: Witnessing) -> None:
    witnessing.poke()
    until(lambda: cosigned(data, witness) == 10)
    size = grow(data, 7)  # proved from the frontier kept at size 10 to a real witness
    witnessing.poke()
    until(lambda: cosigned(data, witness) == size)
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        latest = log.latest_head()
        assert latest is not None and latest.head.size == 17
        found = verified_by(latest.as_note(), [parse_vkey(witness.vkey)])
        assert [v.vkey for v, _ in found] == [witness.vkey]
        (lag,) = lags(log, configured_witnesses(data, "WA"))
    assert (lag.entries, lag.seconds, lag.cosigned) == (0, 0.0, 17)


def test_a_witness_that_is_down_is_caught_up_once_back(
        data: DataDir, witness: WitnessProcess, witnessing: Witnessing) -> None:
    until(lambda: cosigned(data, witness) == 10)
    witness.stop()
    started = time.monotonic()
    size = grow(data, 5)
    assert time.monotonic() - started < 2  # writing and signing never wait for a witness
    witnessing.poke()
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        (lag,) = lags(log, configured_witnesses(data, "WA"))
    assert (lag.entries, lag.cosigned) == (5, 10) and lag.seconds >= 0
    witness.start()
    until(lambda: cosigned(data, witness) == size)


def test_a_witness_ahead_of_what_the_log_kept_names_its_size(
        data: DataDir, witness: WitnessProcess, witnessing: Witnessing) -> None:
    """Cosignature lines lost (a crash before they were kept): the witness's 409 names the
    size it holds, and the next head is shown from there."""
    until(lambda: cosigned(data, witness) == 10)
    witnessing.stop()
    with sqlite3.connect(audit_db(data, "WA")) as db:
        db.execute("DROP TRIGGER cosignatures_no_delete")
        db.execute("DELETE FROM cosignatures")
    size = grow(data, 3)
    again = Witnessing(lambda: open_state_log(data, "WA"), configured_witnesses(data, "WA"),
                       add_checkpoint, poll=0.05, timeout=2)
    again.start()
    try:
        until(lambda: cosigned(data, witness) == size)
    finally:
        again.stop()


def verify(data: DataDir, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["audit", "verify", "--data", str(data.root), "--state", "WA",
                                  *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def test_verify_reports_the_lag_and_checks_against_the_witness(
        data: DataDir, witness: WitnessProcess, witnessing: Witnessing) -> None:
    until(lambda: cosigned(data, witness) == 10)
    witnessing.stop()
    grow(data, 4)
    code, out, _ = verify(data, "--witness", witness.url, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["ok"]
    (lag,) = shown["witnesses"]
    assert (lag["name"], lag["signed"], lag["cosigned"], lag["lag_entries"]) == (
        "auditor.example/witness", 14, 10, 4)
    (seen,) = shown["trusted"]
    assert seen["size"] == 10
    assert [(c["name"], c["verified"]) for c in seen["cosigners"]] == [
        ("auditor.example/witness", True)]
    attacker = Attacker(data)  # roll the log back to before what the witness saw
    attacker.db.execute("DELETE FROM entries WHERE seq >= 8")
    attacker.db.execute("DELETE FROM heads")
    attacker.settle()
    attacker.close()
    code, _, err = verify(data)  # the cosignature the log kept is evidence on its own
    assert code == 1 and "rolled back" in err
    code, _, err = verify(data, "--witness", witness.url)
    assert code == 1 and "entry 8: rolled back: the log holds 8 entries" in err
    assert f"the checkpoint witness {witness.url} cosigned shows 10" in err


def test_a_witness_that_saw_nothing_is_said_so(data: DataDir, witness: WitnessProcess) -> None:
    code, out, err = verify(data, "--witness", witness.url)
    assert code == 0 and "has cosigned no checkpoint of stateline/WA" in err
    assert "witness auditor.example/witness" in out and "has cosigned nothing yet" in out

