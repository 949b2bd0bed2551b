"""Every entry under a signed head within seconds, whoever wrote it: a gateway signs on time when
traffic stops, signs what a crash left unsigned before it answers, and at stop; commands sign
before they exit; `stateline serve` leaves nothing unsigned after a clean stop. The gateway
shows each head to the state's witnesses, and `/metrics` says how far each lags."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import StarletteDeprecationWarning
from typer.testing import CliRunner

from stateline.audit import (
    EntryKind,
    KeyRefused,
    log_keys,
    open_state_log,
    read_state_log,
    sign_tails,
)
from stateline.audit.checkpoint import verifier_key
from stateline.audit.note import parse_vkey
from stateline.audit.trusted import check_state
from stateline.cli import app
from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.gateway import worker as worker_module
from stateline.gateway.http import create_app
from stateline.gateway.tokens import TokenBook
from stateline.gateway.worker import GatewayThread
from stateline.policy.presets import preset
from stateline.protocol import Field, Message, Outcome
from stateline.sim.nation import build_nation
from stateline.web import client
from tests.audit.witness_process import WitnessProcess

with warnings.catch_warnings():
    # As in test_http: Starlette asks for httpx2, which the pinned dependencies lack yet.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

IN_STATE = "WASPD0100"
runner = CliRunner()


@pytest.fixture
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("signing"))
    build_nation(data, ("WA", "OR"), residents=60, seed=5)
    return data


def query(data: DataDir) -> Message:
    store = open_store(data.dmv_url("WA"))
    try:
        oln = store.sample(1, seed=1)[0].oln
    finally:
        store.close()
    return Message("DQ", IN_STATE, ("WA",), None, (Field("OLN", oln),))


def unsigned(data: DataDir, state: str = "WA") -> int:
    report = check_state(data, state).report
    assert report.ok, report.finding
    return report.unsigned


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait for a condition another thread or process makes true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.02)


def test_an_idle_gateway_signs_its_last_entries_on_time(
        nation: DataDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "SIGN_EVERY_SECONDS", 0.2)
    monkeypatch.setattr(worker_module, "IDLE_SIGN_SECONDS", 0.05)
    worker = GatewayThread(nation, "WA")
    worker.start()
    try:
        assert worker.submit(query(nation)).result(timeout=10).outcome is Outcome.RELEASED
        until(lambda: unsigned(nation) == 0)  # no further query comes to trigger it
    finally:
        worker.stop()


def crash_after_appending(data: DataDir, entries: int) -> None:
    """A process that logs entries and dies before it can sign over them."""
    script = ("import os, sys\n"
              "from stateline.audit import EntryKind, open_state_log\n"
              "from stateline.datadir import DataDir\n"
              "log = open_state_log(DataDir.resolve(sys.argv[1]), 'WA')\n"
              f"log.append_many([(EntryKind.LOGIN, {{'n': n}}) for n in range({entries})])\n"
              "os._exit(9)\n")
    done = subprocess.run([sys.executable, "-c", script, str(data.root)], timeout=60)
    assert done.returncode == 9


def test_a_gateway_signs_what_a_crash_left_unsigned_before_it_answers(nation: DataDir) -> None:
    crash_after_appending(nation, 82)
    assert unsigned(nation) == 82
    worker = GatewayThread(nation, "WA")
    worker.start()
    try:
        assert unsigned(nation) == 0
    finally:
        worker.stop()


def test_a_dashboard_start_signs_every_state_a_crash_left_unsigned(nation: DataDir) -> None:
    crash_after_appending(nation, 3)
    assert sign_tails(nation, nation.states()) == 1
    assert (unsigned(nation, "WA"), unsigned(nation, "OR")) == (0, 0)


def test_a_gateway_whose_key_is_not_the_pinned_one_does_not_start(nation: DataDir,
                                                                  tmp_path: Path) -> None:
    from tests.audit.test_keys import write_key

    write_key(tmp_path / "elsewhere.pem")
    nation.config("WA").write_text(
        nation.config("WA").read_text() + f'\n[audit]\nsigning_key = "{tmp_path}/elsewhere.pem"\n')
    worker = GatewayThread(nation, "WA")
    with pytest.raises(KeyRefused, match="not the log's pinned key"):
        worker.start()
    assert not worker.running


@pytest.mark.parametrize("args", [
    ("policy", "apply", "--state", "WA", "POLICY"),
    ("orders", "add", "--state", "WA", "--ori", "VTICE0900", "--ref", "2026-CV-0142",
     "--oln", "WDL000000001", "--from", "2026-01-01", "--until", "2099-01-01"),
])
def test_a_command_that_logs_leaves_nothing_unsigned(nation: DataDir, tmp_path: Path,
                                                     args: tuple[str, ...]) -> None:
    policy = tmp_path / "policy.cedar"
    policy.write_text(preset("block-ice").text())
    before = read_state_log(nation, "WA")
    assert before is not None
    with before:
        size = before.size
    given = [str(policy) if a == "POLICY" else a for a in args]
    result = runner.invoke(app, [*given, "--data", str(nation.root)])
    assert result.exit_code == 0, result.output
    after = read_state_log(nation, "WA")
    assert after is not None
    with after:
        assert after.size > size
    assert unsigned(nation) == 0


@pytest.fixture
def witnessed(nation: DataDir, tmp_path: Path) -> WitnessProcess:
    """A witness of WA's log, named in WA's config.toml."""
    with open_state_log(nation, "WA") as log:
        log.sign_tail()
    keys = [verifier_key("stateline/WA", key) for key in log_keys(nation, "WA")]
    witness = WitnessProcess(tmp_path / "witness", keys)
    nation.config("WA").write_text(nation.config("WA").read_text() + (
        f'\n[[audit.witness]]\nurl = "{witness.url}"\nvkey = "{witness.vkey}"\n'))
    return witness


def cosigned(data: DataDir, witness: WitnessProcess) -> int | None:
    verifier = parse_vkey(witness.vkey)
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        kept = log.cosigned(verifier.name, verifier.key_id)
    return None if kept is None else kept[0]


def lag_entries(page: str, state: str = "WA") -> dict[str, float]:
    """Each witness's lag in entries for `state`, as a scraper reads /metrics."""
    return {s.labels["witness"]: s.value for family in text_string_to_metric_families(page)
            for s in family.samples
            if s.name == "stateline_witness_lag_entries" and s.labels["state"] == state}


def test_a_gateway_shows_its_heads_to_its_witness_and_metrics_say_how_far_behind(
        nation: DataDir, witnessed: WitnessProcess) -> None:
    try:
        TokenBook(nation, "WA").issue("test", "")
        with TestClient(create_app(nation, "WA")) as gateway:
            until(lambda: cosigned(nation, witnessed) is not None)
            witnessed.stop()
            worker = GatewayThread(nation, "WA")  # answers while the witness is down
            worker.start()
            worker.submit(query(nation)).result(timeout=10)
            worker.stop()
            assert lag_entries(gateway.get("/metrics").text) == {"auditor.example/witness": 1}
            witnessed.start()
            until(lambda: lag_entries(gateway.get("/metrics").text)
                  == {"auditor.example/witness": 0})
    finally:
        witnessed.stop()
    assert check_state(nation, "WA").lags[0].entries == 0


def test_a_clean_stop_of_serve_leaves_nothing_unsigned(nation: DataDir) -> None:
    """A sign-in of an all-states account goes into every state's log."""
    added = runner.invoke(app, ["users", "add", "admin", "--role", "coordinator", "--state",
                                "ALL", "--password-stdin", "--data", str(nation.root)],
                          input="correct horse battery staple\n")
    assert added.exit_code == 0, added.output
    process = subprocess.Popen(
        [sys.executable, "-c", "from stateline.cli import main; main()", "serve", "--data",
         str(nation.root), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        until(lambda: process.poll() is not None or client.running(nation) is not None, 60)
        served = client.running(nation)
        assert served is not None, process.communicate()
        with httpx.Client(base_url=served.url, timeout=30) as browser:
            form = browser.get("/login", headers={"accept": "text/html"}).text
            token = re.search(r'name="token" value="([^"]+)"', form)
            assert token is not None
            signed_in = browser.post("/login", data={
                "token": token.group(1), "name": "admin",
                "password": "correct horse battery staple", "next": "/"},
                headers={"accept": "text/html"})
            assert signed_in.status_code == 303
            metrics = browser.get("/metrics")  # no witness named: the gauges, no samples
            assert "# TYPE stateline_witness_lag_entries gauge" in metrics.text
            assert lag_entries(metrics.text) == {}
        os.kill(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    for state in ("WA", "OR"):
        log = read_state_log(nation, state)
        assert log is not None
        with log:
            assert log.events([EntryKind.LOGIN])
        assert unsigned(nation, state) == 0
