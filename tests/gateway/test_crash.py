"""A gateway killed with SIGKILL under load, again and again: after every restart each answer a
client received has its audit entry, no entry is half-written, and `audit verify` passes.

The server runs as `stateline gateway serve` in its own process, exactly as a state runs it;
several client threads send queries with unique message ids over HTTP while it is killed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from stateline.audit import EntryKind, LogError, open_state_log
from stateline.cli import app as cli
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway.http import MESSAGE_ID_HEADER
from stateline.gateway.tokens import TokenBook
from stateline.sim.nation import build_nation

KILLS = 4
CLIENTS = 6
ANSWERS_BEFORE_KILL = 40
"""Answers a cycle waits for before the kill, so the kill lands on a gateway under load."""
LOAD_AFTER = 0.3
"""Seconds of further load between reaching that count and the kill."""
SENDERS = ("WASPD0100", "ORPPD0000", "VTICE0900", "WA9999999")
runner = CliRunner()


@dataclass
class Load:
    """Clients sending queries until the server goes away; what they got back, by message id."""

    url: str
    token: str
    olns: list[str]
    cycle: int
    received: dict[str, int] = field(default_factory=dict)
    """Message id → audit sequence number, for every complete 200 answer."""
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, clients: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        return threads

    def _client(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=10.0) as http:
            sent = 0
            while not self.stop.is_set():
                message_id = f"K{self.cycle}-C{number}-{sent}"
                sender, oln = SENDERS[sent % len(SENDERS)], self.olns[sent % len(self.olns)]
                try:
                    got = self._send(http, number, message_id, sender, oln)
                except httpx.TransportError:
                    return  # the server was killed under this request, or is gone
                sent += 1
                with self.lock:
                    if got.status_code != 200:
                        self.refused.append(f"{message_id}: {got.status_code} {got.text}")
                        return
                    assert got.headers[MESSAGE_ID_HEADER] == message_id
                    self.received[message_id] = int(got.headers["Stateline-Audit-Seq"])

    @staticmethod
    def _send(http: httpx.Client, number: int, message_id: str, sender: str,
              oln: str) -> httpx.Response:
        headers = {MESSAGE_ID_HEADER: message_id}
        if number % 2:
            return http.post("/messages", headers=headers, json={
                "key": "DQ", "sender": sender, "destinations": ["WA"],
                "fields": [{"prefix": "OLN", "value": oln}, {"prefix": "IMQ", "value": "Y"}]})
        return http.post("/messages", headers={**headers, "Content-Type": "text/plain"},
                         content=f"DQ.{sender}.WA.TXT\nOLN/{oln}")

    def answered(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def nation(tmp_path: Path) -> DataDir:
    data = DataDir(tmp_path / "nation")
    build_nation(data, ("WA",), residents=200, seed=9)
    return data


@pytest.fixture
def token(nation: DataDir) -> str:
    with TokenBook(nation, "WA") as book:
        return book.issue("test", "crash test")[0]


@pytest.fixture
def olns(nation: DataDir) -> list[str]:
    store = open_store(nation.dmv_url("WA"))
    try:
        return [s.oln for s in store.sample(20, seed=2)] + ["WDLZZZZZZ999"]
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(nation: DataDir, tmp_path: Path) -> Iterator[Server]:
    running = Server(nation, tmp_path)
    yield running
    running.kill()


class Server:
    """`stateline gateway serve` in a process of its own, started fresh on each call."""

    def __init__(self, data: DataDir, folder: Path) -> None:
        self.data, self.folder = data, folder
        self.process: subprocess.Popen[bytes] | None = None
        self.output = folder / "serve-0.log"
        self.starts = 0

    def start(self) -> str:
        port = free_port()
        self.starts += 1
        self.output = self.folder / f"serve-{self.starts}.log"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from stateline.cli import main; main()", "gateway",
                 "serve", "--data", str(self.data.root), "--state", "WA", "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the gateway exited at start:\n{self.output.read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    return url
            except httpx.TransportError:
                time.sleep(0.05)
        pytest.fail(f"the gateway did not start:\n{self.output.read_text()}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code


def logged_ids(data: DataDir) -> list[str | None]:
    """Each entry's message id (None for entries that are not decisions), reading every entry
    whole; none may lie past the log's size."""
    with open_state_log(data, "WA") as log:
        entries = [log.entry(seq) for seq in range(log.size)]
        with pytest.raises(LogError):
            log.entry(log.size)
    return [str(e.body["message_id"]) if e.kind is EntryKind.DECISION else None
            for e in entries]


def verified(data: DataDir) -> dict[str, object]:
    done = runner.invoke(cli, ["audit", "verify", "--data", str(data.root), "--state", "WA",
                               "--json"])
    assert done.exit_code == 0, done.output
    report: dict[str, object] = json.loads(done.stdout)
    return report


def test_every_answer_received_survives_sigkill(server: Server, nation: DataDir, token: str,
                                                olns: list[str]) -> None:
    received: dict[str, int] = {}
    for cycle in range(KILLS):
        load = Load(server.start(), token, olns, cycle)
        threads = load.run(CLIENTS)
        deadline = time.monotonic() + 20
        while load.answered() < ANSWERS_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(LOAD_AFTER)
        assert server.kill() == -signal.SIGKILL
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert load.refused == []
        assert load.answered() >= ANSWERS_BEFORE_KILL
        received.update(load.received)

        ids = logged_ids(nation)
        missing = [m for m, seq in received.items() if seq >= len(ids) or ids[seq] != m]
        assert missing == [], f"answers sent without their audit entry: {missing[:5]}"
        decided = [i for i in ids if i is not None]
        assert len(set(decided)) == len(decided), "a message was logged twice"
        assert verified(nation)["ok"] is True

    # A clean stop after the crashes signs a head over everything, the crashes' entries too.
    load = Load(server.start(), token, olns, KILLS)
    threads = load.run(2)
    while load.answered() < 10:
        time.sleep(0.01)
    load.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert server.kill(signal.SIGTERM) == 0
    assert "WA gateway stopped (SIGTERM)" in server.output.read_text()
    report = verified(nation)
    assert report["unsigned"] == 0
    assert set(received) | set(load.received) <= set(logged_ids(nation))
