"""`stateline report check` as a journalist runs it, with no data folder: reports built from a
real log, cosigned by a witness, checked against the state's public site (the real app, with
real consistency proofs); and what a state that cheats cannot get past it."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.exceptions import StarletteDeprecationWarning
from typer.core import TyperGroup
from typer.testing import CliRunner

from stateline.audit.note import COSIGNATURE, Signer
from stateline.commands import report as report_command
from stateline.datadir import DataDir
from stateline.transparency.check import Finding, Named, check, fetcher
from stateline.transparency.model import loads
from stateline.transparency.verify import verify
from stateline.web import create_dashboard_app

from .synthetic_log import Writer, decision, many

with warnings.catch_warnings():
    # As tests/web/conftest.py: the pinned httpx still serves Starlette's test client.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

root = typer.Typer()
root.add_typer(report_command.app, name="report")
runner = CliRunner()
WITNESS = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE)
"""A witness run by someone other than the state."""


@dataclass
class State:
    """A state's data folder, its log written at chosen days and cosigned by the witness."""

    data: DataDir
    writer: Writer

    @classmethod
    def made(cls, folder: Path, witness: Signer | None = WITNESS) -> State:
        data = DataDir(folder)
        data.state_dir("WA").mkdir(parents=True, exist_ok=True)
        if witness is not None:
            data.config("WA").write_text(
                f'[[audit.witness]]\nurl = "http://witness.example"\n'
                f'vkey = "{witness.verifier.vkey}"\n')
        return cls(data, Writer(data))

    def traffic(self, day: date, ice: int = 30, hsi: int = 12) -> None:
        self.writer.at(day, [*many(decision("ICE", "denied"), ice),
                             *many(decision("HSI", "released"), hsi),
                             *many(decision("in-state", "released"), 40)])

    def signed(self, day: date, witness: Signer | None = WITNESS) -> int:
        """A signed head, cosigned by `witness`; its size."""
        size = self.writer.sign(day)
        with self.writer.open() as log:
            head = log.latest_head()
            assert head is not None
            if witness is not None:
                log.add_cosignatures(head.head, [witness.sign(head.head.body(), 1_790_000_000)])
        return size

    def app(self) -> TestClient:
        return TestClient(create_dashboard_app(self.data))

    def report(self, out: Path, period: str = "2026") -> Path:
        with self.app() as client:
            answer = client.get(f"/public/WA/{period}.json")
        assert answer.status_code == 200, answer.text
        out.write_text(answer.text)
        return out


@pytest.fixture
def state(tmp_path: Path) -> State:
    made = State.made(tmp_path / "state")
    made.traffic(date(2026, 3, 2))
    made.signed(date(2026, 3, 2))
    return made


@contextmanager
def served(data: DataDir) -> Iterator[str]:
    """The state's public site on a real port, as `--url` reaches it. The socket listens
    before the server starts, so a request waits for it rather than failing."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server = uvicorn.Server(uvicorn.Config(create_dashboard_app(data), log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        host, port = sock.getsockname()
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["report", "check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def checked(state: State, *reports: Path, witness_keys: tuple[str, ...] = (),
            key: str | None = None) -> list[Finding]:
    """`check` against the app through its test client (the same requests `--url` makes)."""
    named = [Named(p.name, loads(p.read_text())) for p in reports]
    with state.app() as client:
        return check(named, [key] if key else [], witness_keys,
                     fetcher("http://testserver", client=client))


def failures(found: list[Finding]) -> list[str]:
    return [f.text for f in found if not f.ok]


def edited(path: Path, change: Any) -> Path:
    document = json.loads(path.read_text())
    change(document)
    out = path.with_name("edited-" + path.name)
    out.write_text(json.dumps(document))
    return out


def test_a_journalist_checks_two_releases_against_the_live_site(state: State,
                                                                tmp_path: Path) -> None:
    first = state.report(tmp_path / "wa-march.json")
    state.traffic(date(2026, 4, 6), ice=7)
    state.signed(date(2026, 4, 6))
    second = state.report(tmp_path / "wa-april.json")
    key = json.loads(second.read_text())["as_of"]["verifier_key"]  # as a trusted source has it
    with served(state.data) as url:
        code, out, err = run(str(second), str(first), "--url", url, "--key", key,
                             "--witness-key", WITNESS.verifier.vkey)
    assert code == 0, out + err
    assert "checked with the key you gave" in out
    assert "cosigned by the witness auditor.example at 2026-" in out
    assert "wa-march.json" in out and "the log only grew (consistency proof of" in out
    assert "the checkpoint the site serves now" in out and out.rstrip().endswith("passed")
    assert verify(state.data, loads(second.read_text())).ok  # and the state's own recount


def test_check_needs_no_data_folder() -> None:
    group = typer.main.get_command(report_command.app)
    assert isinstance(group, TyperGroup)
    names = {p.name for p in group.commands["check"].params}
    assert "data" not in names and {"url", "key", "witness_key"} <= names


def test_without_keys_it_says_whose_keys_it_used(state: State, tmp_path: Path) -> None:
    first = state.report(tmp_path / "wa.json")
    code, out, _ = run(str(first))
    assert code == 0
    assert "the key the report names itself (give --key" in out
    assert "the witnesses the report names (give --witness-key" in out
    state.traffic(date(2026, 4, 6))
    state.signed(date(2026, 4, 6))
    second = state.report(tmp_path / "wa-later.json")
    code, _, err = run(str(second), str(first))
    assert code == 1 and "not proved; give --url" in err


def test_a_changed_count_does_not_matter_to_check_but_a_changed_checkpoint_does(
        state: State, tmp_path: Path) -> None:
    report = state.report(tmp_path / "wa.json")

    def count(document: dict[str, Any]) -> None:
        document["tables"][0]["total"] = 1

    assert not failures(checked(state, edited(report, count)))

    def checkpoint(document: dict[str, Any]) -> None:
        lines = document["as_of"]["checkpoint"].split("\n")
        lines[1] = str(int(lines[1]) + 1)
        document["as_of"]["checkpoint"] = "\n".join(lines)
        document["as_of"]["size"] += 1

    found = failures(checked(state, edited(report, checkpoint)))
    assert any("the log's signature does not verify" in f for f in found), found


def test_a_cosignature_from_an_unknown_witness_fails(state: State, tmp_path: Path) -> None:
    report = state.report(tmp_path / "wa.json")
    stranger = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE)

    def forged(document: dict[str, Any]) -> None:
        text = document["as_of"]["checkpoint"]
        body = text.split("\n\n")[0] + "\n"
        document["as_of"]["checkpoint"] = text + stranger.sign(body, 1_790_000_000).line()

    found = failures(checked(state, edited(report, forged)))
    assert any("a cosignature line from an unknown witness auditor.example" in f
               for f in found), found
    found = failures(checked(state, report, witness_keys=(stranger.verifier.vkey,)))
    assert any("not cosigned by the witness auditor.example" in f for f in found), found


def test_a_report_from_a_forked_log_fails(state: State, tmp_path: Path) -> None:
    first = state.report(tmp_path / "wa.json")
    fork = State.made(tmp_path / "fork")
    shutil.copy(state.data.state_dir("WA") / "audit-key.pem", fork.data.state_dir("WA"))
    fork.traffic(date(2026, 3, 2), ice=31)  # history told differently, under the same key
    fork.traffic(date(2026, 4, 6))
    fork.signed(date(2026, 4, 6))
    second = fork.report(tmp_path / "wa-fork.json")
    found = failures(checked(fork, second, first))
    assert any("the log was rewritten or forked between them" in f for f in found), found


def test_a_log_that_shrank_fails(state: State, tmp_path: Path) -> None:
    state.traffic(date(2026, 4, 6))
    state.signed(date(2026, 4, 6))
    later = state.report(tmp_path / "wa.json")
    rolled = State.made(tmp_path / "rolled")
    shutil.copy(state.data.state_dir("WA") / "audit-key.pem", rolled.data.state_dir("WA"))
    rolled.traffic(date(2026, 3, 2))
    rolled.signed(date(2026, 3, 2))
    smaller = rolled.report(tmp_path / "wa-rolled.json")
    found = failures(checked(rolled, later))
    assert any("the log shrank" in f for f in found), found
    found = failures(checked(rolled, smaller, later))
    assert any("the log shrank" in f for f in found), found
