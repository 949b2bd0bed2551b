"""The roles' own metrics: a batch counts as its queries would one by one, and under a
supervisor every process's values reach the one page /metrics serves (counters summed, a
process that is gone no longer counted in the gauges), the supervisor's own included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from stateline.operations import metrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
LATENCIES = (0.00005, 0.0001, 0.0003, 0.001, 0.0049, 0.2, 5.0, 7.0)
"""Inside buckets, on their upper edges, and past the last one."""


def samples(page: bytes) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(page.decode()) for s in family.samples}


def of_role(role: str) -> Samples:
    """This process's samples of one role, without the role label."""
    return {(name, tuple(label for label in labels if label[0] != "role")): value
            for (name, labels), value in samples(metrics.page()).items()
            if ("role", role) in labels}


def test_a_batch_counts_as_its_queries_counted_one_by_one() -> None:
    outcomes = ["released", "denied", "released", "held", "released", "no-record", "denied",
                "partial"]
    metrics.answered_all("batch-check", "WA", list(zip(outcomes, LATENCIES, strict=True)))
    for outcome, seconds in zip(outcomes, LATENCIES, strict=True):
        metrics.answered("single-check", "WA", outcome, seconds)
    batch = of_role("batch-check")
    assert batch == of_role("single-check")
    assert batch[("stateline_query_seconds_count", (("state", "WA"),))] == len(LATENCIES)
    assert batch[("stateline_queries_total", (("outcome", "released"), ("state", "WA")))] == 3


def test_an_empty_batch_counts_nothing() -> None:
    metrics.answered_all("empty-check", "WA", [])
    assert of_role("empty-check") == {}


def run(script: str, folder: Path, *, shared: bool = True) -> int:
    """Run `script` in a process of its own (sharing `folder` from its start if `shared`);
    returns its pid."""
    env = {"PATH": "/usr/bin:/bin", **({metrics.SHARED_ENV: str(folder)} if shared else {})}
    done = subprocess.run([sys.executable, "-c", "import os\n"
                           "from stateline.operations import metrics\n" + script +
                           "\nprint(os.getpid())"], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return int(done.stdout.split()[-1])


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv(metrics.SHARED_ENV, str(folder))
    return folder


def test_every_process_counts_on_one_page_and_a_gone_process_leaves_the_gauges(
        shared: Path) -> None:
    first = run("metrics.answered('gateway', 'WA', 'released', 0.002)\n"
                "metrics.queue_depth('gateway', 'WA', 3)", shared)
    run("metrics.answered_all('gateway', 'WA', [('released', 0.01), ('denied', 0.3)])\n"
        "metrics.queue_depth('gateway', 'WA', 2)", shared)
    wa = (("role", "gateway"), ("state", "WA"))
    got = samples(metrics.page())
    assert got[("stateline_queries_total", (("outcome", "released"), *wa))] == 2
    assert got[("stateline_queries_total", (("outcome", "denied"), *wa))] == 1
    assert got[("stateline_query_seconds_count", wa)] == 3
    assert got[("stateline_query_seconds_bucket", (("le", "0.25"), *wa))] == 2
    assert got[("stateline_queue_depth", wa)] == 5
    metrics.process_gone(first)
    got = samples(metrics.page())
    assert got[("stateline_queue_depth", wa)] == 2
    assert got[("stateline_queries_total", (("outcome", "released"), *wa))] == 2


def test_the_supervisor_shares_its_restarts_though_it_made_the_folder_after_starting(
        shared: Path) -> None:
    run(f"metrics.write_to(__import__('pathlib').Path({str(shared)!r}))\n"
        "metrics.restarted('gateway', 'gateway-WA')\n"
        "metrics.restarted('gateway', 'gateway-WA')", shared, shared=False)
    got = samples(metrics.page())
    assert got[("stateline_restarts_total", (("name", "gateway-WA"), ("role", "gateway")))] == 2


def test_outside_a_supervisor_the_page_is_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics.SHARED_ENV, raising=False)
    key = ("stateline_queries_total", (("outcome", "answered"), ("role", "switch"),
                                       ("state", "NL")))
    before = samples(metrics.page()).get(key, 0.0)
    metrics.switched("NL", "answered", 0.04)
    got = samples(metrics.page())
    assert got[key] == before + 1
    assert "python_gc_objects_collected_total" in {name for name, _ in got}


def test_an_update_that_fails_is_logged_once_and_never_stops_the_work(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """A metric's file gone (a /tmp cleaner) or a full disk: the gateway still answers."""
    from stateline.datadir import DataDir
    from stateline.gateway.worker import GatewayThread
    from stateline.protocol import read
    from stateline.sim.nation import build_nation

    nation = DataDir(tmp_path / "nation")
    build_nation(nation, ("WA",), residents=30, seed=2)

    def broken(*_: object) -> None:
        raise FileNotFoundError("gauge_livesum_1.db")

    monkeypatch.setattr(metrics, "_child", broken)
    metrics.answered("gateway", "WA", "released", 0.001)
    metrics.answered("gateway", "WA", "released", 0.001)
    assert [r.getMessage() for r in caplog.records].count(
        "metrics: answered failed, and is left out until it works again: "
        "gauge_livesum_1.db") == 1
    worker = GatewayThread(nation, "WA")
    worker.start()
    try:
        result = worker.submit(read("DQ.ORPPD0000.WA.TXT\nOLN/X0000001")).result(30)
        assert result.outcome.value in ("no-record", "denied", "released", "partial")
    finally:
        worker.stop()
