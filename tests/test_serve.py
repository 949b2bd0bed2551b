"""`stateline serve` as an operator runs it: a process that serves the whole network over HTTP,
records where it listens, refuses a second server on the same folder, and stops cleanly on
SIGTERM with every gateway's log signed to its end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.sim.nation import build_nation
from stateline.switch.credentials import read_tokens
from stateline.web import client

SENDER = "ORPPD0000"
STATES = ("WA", "OR")
runner = CliRunner()


@dataclass
class Served:
    data: DataDir
    process: subprocess.Popen[str]
    url: str


def stateline(*args: str) -> list[str]:
    return [sys.executable, "-c", "from stateline.cli import main; main()", *args]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = DataDir(tmp_path_factory.mktemp("serve"))
    build_nation(data, STATES, residents=100, seed=9)
    process = subprocess.Popen(stateline("serve", "--data", str(data.root), "--port", "0",
                                         "--no-dashboard"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (found := client.running(data)) is None:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "stateline serve did not come up in 60 s"
            time.sleep(0.1)
        yield Served(data, process, found.url)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def sample(data: DataDir, state: str) -> Sample:
    store = open_store(data.dmv_url(state))
    try:
        return store.sample(1, seed=1)[0]
    finally:
        store.close()


def test_the_server_records_where_it_listens(served: Served) -> None:
    record = json.loads(client.serve_file(served.data).read_text())
    assert record["pid"] == served.process.pid
    assert record["url"] == served.url and served.url.startswith("http://127.0.0.1:")
    health = httpx.get(f"{served.url}/api/health").json()
    assert health["gateways"] == sorted(STATES)


def test_a_dq_over_http_is_answered(served: Served) -> None:
    person = sample(served.data, "WA")
    token = read_tokens(served.data)[SENDER]
    got = httpx.post(f"{served.url}/api/messages", content=f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}",
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
                     timeout=30)
    assert got.status_code == 200, got.text
    [answer] = got.json()["responses"]
    assert (answer["key"], answer["state"]) == ("DR", "WA")
    assert any(f.get("value") == person.oln for f in answer["fields"])


def test_the_client_reads_the_same_answers_the_switch_gives(served: Served) -> None:
    person = sample(served.data, "OR")
    agency = client.Client(served.url, read_tokens(served.data)[SENDER])
    sent = agency.send(f"DQ.{SENDER}.NL.TXT\nOLN/{person.oln}")
    assert sent.accepted and sent.responses[0].summary is not None
    assert sent.responses[0].summary.groups["hit"] == ("OR",)
    assert agency.submission(sent.message_id) == sent
    rejected = agency.send(f"DQ.{SENDER}.WA.TXT\nNAM/DOE,JANE")
    assert not rejected.accepted and rejected.responses[0].key == "ER"


def test_stateline_send_goes_through_the_running_server(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stateline.commands import send

    def no_embedded_network(*_: object, **__: object) -> None:
        raise AssertionError("send ran its own network beside a running server")

    monkeypatch.setattr(send, "embedded", no_embedded_network)
    person = sample(served.data, "WA")
    folder = str(served.data.root)
    sent = runner.invoke(app, ["send", "--data", folder, "--from", SENDER, "--json",
                               f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}"])
    assert sent.exit_code == 0, sent.output
    answer = json.loads(sent.stdout)
    assert [(r["key"], r["state"]) for r in answer["responses"]] == [("DR", "WA")]
    shown = runner.invoke(app, ["messages", "show", answer["message_id"], "--data", folder,
                                "--from", SENDER, "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["message_id"] == answer["message_id"]
    unreachable = runner.invoke(app, ["send", "--data", folder, "--from", SENDER,
                                      "--url", "http://127.0.0.1:9",
                                      f"DQ.{SENDER}.WA.TXT\nOLN/{person.oln}"])
    assert unreachable.exit_code == 1 and "cannot reach the server" in unreachable.stderr


def test_a_second_server_on_the_same_folder_is_refused(served: Served) -> None:
    result = runner.invoke(app, ["serve", "--data", str(served.data.root), "--port", "0"])
    assert result.exit_code == 1
    assert f"already served at {served.url}" in result.output


def test_sigterm_stops_it_cleanly_with_every_log_signed(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    out, err = served.process.communicate(timeout=60)
    assert served.process.returncode == 0, err
    assert "Stopped" in out and "Traceback" not in err
    assert not client.serve_file(served.data).exists()
    assert client.running(served.data) is None
    for state in STATES:
        result = runner.invoke(app, ["audit", "verify", "--state", state, "--json",
                                     "--data", str(served.data.root)])
        report = json.loads(result.stdout)
        assert result.exit_code == 0 and report["ok"], report
        assert report["entries"] > 0 and report["unsigned"] == 0


def test_serve_without_a_nation_says_so(tmp_path: os.PathLike[str]) -> None:
    result = runner.invoke(app, ["serve", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "no nation" in result.output and "Traceback" not in result.output
