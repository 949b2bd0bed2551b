"""A state's gateway in proxy mode as the state runs it: `stateline gateway serve --state WA`
in front of `stateline dmv responder`, each a process of its own on real sockets, under load
from agencies the policy treats differently, while the responder is SIGKILLed and started
again. Every query is answered and audited, nothing withheld ever leaves, and the gateway
recovers by itself when its DMV is back.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from stateline.audit import EntryKind, open_state_log
from stateline.cli import app as cli
from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway.http import MESSAGE_ID_HEADER
from stateline.gateway.tokens import TokenBook
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.sim.nation import build_nation

IN_STATE, OUT_OF_STATE, ICE, HSI = "WASPD0100", "ORPPD0000", "VTICE0900", "NYHSI0100"
SENDERS = (IN_STATE, OUT_OF_STATE, ICE, HSI, OUT_OF_STATE)
CLIENTS = 4
runner = CliRunner()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Process:
    """A `stateline` command in a process of its own; killed at the end whatever happened."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args, self.log = args, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], bool]) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from stateline.cli import main; main()", *self.args],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not ready():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.05)

    def stop(self, sig: signal.Signals) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code


def listening(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return True
        return False

    return ready


def healthy(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
        return False

    return ready


@dataclass(frozen=True, slots=True)
class Answer:
    message_id: str
    sender: str
    phase: int
    status: int
    outcome: str
    seq: int
    text: str
    photos: int


@dataclass
class Load:
    """Clients sending DQs with unique message ids; every answer kept, with the phase of the
    responder's life (1 up, 2 killed, 3 back) current when the query was sent."""

    url: str
    token: str
    people: list[Sample]
    phase: int = 1
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        return threads

    def _client(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=20.0) as http:
            for sent in itertools.count():
                if self.stop.is_set():
                    return
                phase = self.phase
                message_id = f"P{number}-{sent}"
                sender = SENDERS[(number + sent) % len(SENDERS)]
                person = self.people[sent % len(self.people)]
                try:
                    answer = self._send(http, number, message_id, sender, person, phase)
                except httpx.HTTPError as error:
                    with self.lock:
                        self.failures.append(f"{message_id}: {error!r}")
                    return
                with self.lock:
                    self.answers.append(answer)

    @staticmethod
    def _send(http: httpx.Client, number: int, message_id: str, sender: str, person: Sample,
              phase: int) -> Answer:
        headers = {MESSAGE_ID_HEADER: message_id}
        if number % 2:
            got = http.post("/messages", headers=headers, json={
                "key": "DQ", "sender": sender, "destinations": ["WA"],
                "fields": [{"prefix": "OLN", "value": person.oln},
                           {"prefix": "IMQ", "value": "Y"}]})
            if got.status_code != 200:
                return Answer(message_id, sender, phase, got.status_code, "", -1, got.text, 0)
            data = got.json()
            photos = [base64.b64decode(p) for p in data["photos"]]
            return Answer(message_id, sender, phase, 200, data["outcome"], data["seq"],
                          data["response"]["body"] + "".join(p.hex() for p in photos),
                          len(photos))
        got = http.post("/messages", headers={**headers, "Content-Type": "text/plain"},
                        content=f"DQ.{sender}.WA.TXT\nOLN/{person.oln}")
        return Answer(message_id, sender, phase, got.status_code,
                      got.headers.get("Stateline-Outcome", ""),
                      int(got.headers.get("Stateline-Audit-Seq", "-1")), got.text,
                      int(got.headers.get("Stateline-Photos", "0")))

    def count(self, phase: int, outcomes: tuple[str, ...]) -> int:
        with self.lock:
            return sum(1 for a in self.answers if a.phase == phase and a.outcome in outcomes)

    def wait_for(self, phase: int, outcomes: tuple[str, ...], at_least: int) -> None:
        deadline = time.monotonic() + 60
        while self.count(phase, outcomes) < at_least:
            assert not self.failures, self.failures[:3]
            assert time.monotonic() < deadline, f"phase {phase}: too few {outcomes}"
            time.sleep(0.02)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[DataDir, DataDir, list[Sample], str]:
    """The gateway's folder (policy, audit log, no DMV records) and the DMV's folder."""
    data = DataDir(tmp_path / "gateway")
    build_nation(data, ("WA",), residents=200, seed=21)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    records = DataDir(tmp_path / "dmv")
    records.state_dir("WA").mkdir(parents=True)
    shutil.copy(data.dmv_db("WA"), records.dmv_db("WA"))
    for leftover in data.state_dir("WA").glob("dmv.db*"):
        leftover.unlink()
    store = open_store(records.dmv_url("WA"))
    try:
        people = store.sample(12, seed=3)
    finally:
        store.close()
    with TokenBook(data, "WA") as book:
        token = book.issue("test", "proxy test")[0]
    return data, records, people, token


def ssns(records: DataDir, people: list[Sample]) -> list[str]:
    """Every form in which the people's SSNs could leave: as the DMV spells it and bare."""
    store = open_store(records.dmv_url("WA"))
    try:
        found = [store.by_oln(p.oln)[0].elements["ssn"][0].value for p in people]
    finally:
        store.close()
    return found + [f"{s[:3]}-{s[3:5]}-{s[5:]}" for s in found]


def logged(data: DataDir) -> dict[int, dict[str, object]]:
    with open_state_log(data, "WA") as log:
        return {seq: dict(entry.body) for seq in range(log.size)
                if (entry := log.entry(seq)).kind is EntryKind.DECISION}


@pytest.mark.parametrize(("layout", "wire"), [("labeled", "tcp"), ("prefixed", "http")])
def test_a_sigkilled_responder_costs_no_entry_and_leaks_nothing(
        setup: tuple[DataDir, DataDir, list[Sample], str], tmp_path: Path, layout: str,
        wire: str) -> None:
    data, records, people, token = setup
    dmv_port, gateway_port = free_port(), free_port()
    upstream = f"{wire}://127.0.0.1:{dmv_port}" + ("/dmv" if wire == "http" else "")
    with data.config("WA").open("a") as config:
        config.write(f'\n[dmv]\nupstream = "{upstream}"\ntimeout = 1.0\n'
                     f'connections = 4\nfield_map = "{layout}"\n')
    responder = Process(["dmv", "responder", "--data", str(records.root), "--state", "WA",
                         "--port", str(dmv_port), "--format", layout,
                         *(["--tcp"] if wire == "tcp" else [])], tmp_path / "responder.log")
    gateway = Process(["gateway", "serve", "--data", str(data.root), "--state", "WA",
                       "--port", str(gateway_port)], tmp_path / "gateway.log")
    url = f"http://127.0.0.1:{gateway_port}"
    load = Load(url, token, people)
    threads: list[threading.Thread] = []
    try:
        responder.start(listening(dmv_port))
        gateway.start(healthy(url))
        threads = load.run()
        load.wait_for(1, ("released", "partial"), 40)
        assert responder.stop(signal.SIGKILL) == -signal.SIGKILL  # under load
        load.phase = 2
        load.wait_for(2, ("error",), 20)
        load.phase = 3
        responder.start(listening(dmv_port))
        load.wait_for(3, ("released", "partial"), 40)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        gateway_code = gateway.stop(signal.SIGTERM)
        responder.stop(signal.SIGKILL)
    assert gateway_code == 0, (tmp_path / "gateway.log").read_text()[-3000:]

    answers = load.answers
    assert load.failures == [] and {a.status for a in answers} == {200}, \
        "every query answered, whatever the DMV did"
    secrets = ssns(records, people)
    for answer in answers:
        if answer.sender != IN_STATE:
            assert answer.photos == 0 and "SOC/" not in answer.text, answer
            assert not any(secret in answer.text for secret in secrets), answer
    in_state = [a for a in answers if a.sender == IN_STATE and a.outcome == "released"]
    assert any("SOC/" in a.text for a in in_state), "the in-state answers carry the SSN"
    assert any(a.photos for a in in_state), "and photos, where asked"
    assert {a.outcome for a in answers if a.sender == ICE} == {"denied"}
    assert {a.outcome for a in answers if a.sender == HSI} == {"held"}
    assert load.count(2, ("error",)) >= 20
    assert load.count(3, ("released", "partial")) >= 40

    entries = logged(data)
    assert len(entries) == len(answers), "one audit entry per query, none lost, none doubled"
    for answer in answers:
        body = entries[answer.seq]
        assert (body["message_id"], body["outcome"]) == (answer.message_id, answer.outcome)
        if answer.outcome == "error":
            assert str(body["error"]).startswith(("UpstreamUnreachable:", "UpstreamTimeout:"))
        if answer.outcome in ("released", "partial"):
            assert body["records"] == [next(p.oln for p in people
                                            if f"OLN/{p.oln}" in answer.text)]
    done = runner.invoke(cli, ["audit", "verify", "--data", str(data.root), "--state", "WA",
                               "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["ok"] is True
    assert not data.dmv_db("WA").exists(), "the gateway needed no DMV store of its own"
