"""`stateline witness init` and `stateline witness serve` as an operator runs them."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from stateline.audit.checkpoint import parse, verifier_key
from stateline.audit.log import AuditLog
from stateline.audit.note import COSIGNATURE, parse_note, parse_vkey, verified_by
from stateline.cli import app
from stateline.witness import add_checkpoint, latest_checkpoint

from .conftest import ORIGIN, grow

runner = CliRunner()
STATELINE = [sys.executable, "-c", "from stateline.cli import main; main()"]


def test_init_writes_a_key_and_prints_the_verifier_key(tmp_path: Path) -> None:
    key = tmp_path / "auditor.key"
    done = runner.invoke(app, ["witness", "init", "--key", str(key), "--name",
                               "auditor.wa.example/w1"])
    assert done.exit_code == 0, done.output
    vkey = done.stdout.strip()
    assert vkey.startswith("auditor.wa.example/w1+")
    assert parse_vkey(vkey).kind == COSIGNATURE
    assert key.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(app, ["witness", "init", "--key", str(key), "--name", "other"])
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert not (tmp_path / "auditor.db").exists()


def test_serve_refuses_a_bad_logs_file_naming_the_line(tmp_path: Path) -> None:
    key = tmp_path / "w.key"
    runner.invoke(app, ["witness", "init", "--key", str(key), "--name", "w"])
    logs = tmp_path / "logs.txt"
    logs.write_text(f"# WA\n{verifier_key(ORIGIN, Ed25519PrivateKey.generate().public_key())}\n"
                    "stateline/OR+00000000+AAAA\n")
    done = runner.invoke(app, ["witness", "serve", "--key", str(key), "--logs", str(logs),
                               "--port", "0"])
    assert done.exit_code == 1
    assert f"{logs}:3:" in done.stderr


class Process:
    """`stateline witness serve` in a process of its own; a thread reads what it prints."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen([*STATELINE, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._printed: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for line in self.proc.stdout:
                self._printed.put(line)
        self._printed.put("")

    def wait_for(self, text: str, seconds: float = 20) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._printed.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if not line:
                break
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"never printed {text!r}: {''.join(self.lines)}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Process, Ed25519PrivateKey, Path]]:
    log_key = Ed25519PrivateKey.generate()
    key = tmp_path / "w.key"
    runner.invoke(app, ["witness", "init", "--key", str(key), "--name", "press.example/w"])
    (tmp_path / "logs.txt").write_text(verifier_key(ORIGIN, log_key.public_key()) + "\n")
    process = Process(["witness", "serve", "--key", str(key), "--logs",
                       str(tmp_path / "logs.txt"), "--port", "0"])
    yield process, log_key, tmp_path
    if process.proc.poll() is None:
        process.proc.kill()
        process.proc.wait(10)


def test_serve_prints_its_key_and_address_cosigns_and_stops_on_sigterm(
        served: tuple[Process, Ed25519PrivateKey, Path]) -> None:
    process, log_key, folder = served
    vkey = process.wait_for("Witness ").split()[1]
    url = process.wait_for("Listening at").split()[-1]
    with AuditLog.open(folder / "audit.db", ORIGIN, log_key) as log:
        head = grow(log, 4)
        lines = add_checkpoint(url, 0, [], head.note())
    cosigned = parse_note(head.head.body() + "\n" + "".join(s.line() for s in lines))
    assert [v.vkey for v, _ in verified_by(cosigned, [parse_vkey(vkey)])] == [vkey]
    assert parse(latest_checkpoint(url, ORIGIN) or "").head.size == 4
    process.proc.send_signal(signal.SIGTERM)
    assert process.proc.wait(20) == 0
    process.wait_for("Witness stopped")
    assert (folder / "w.db").is_file()
