"""What an operator's tools see of a running network: /metrics a Prometheus scraper parses
(queries by outcome, held traffic, unsigned entries), /healthz while the process answers, and
/readyz that turns 503 naming the state whose gateway stopped. None of them asks for a token."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import StarletteDeprecationWarning

from stateline.datadir import DataDir
from stateline.dmv import open_store
from stateline.sim.nation import build_nation
from stateline.switch import Service, Switch, SwitchConfig
from stateline.switch.credentials import read_tokens
from stateline.transport.inprocess import InProcessTransport
from stateline.web import operations
from stateline.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

LOCAL = "ORPPD0000"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Network:
    data: DataDir
    client: TestClient
    switch: Switch
    transport: InProcessTransport
    token: str

    def send(self, state: str) -> httpx.Response:
        store = open_store(self.data.dmv_url(state))
        try:
            oln = store.sample(1, seed=3)[0].oln
        finally:
            store.close()
        return self.client.post("/api/messages", content=f"DQ.{LOCAL}.{state}.TXT\nOLN/{oln}",
                                headers={"Authorization": f"Bearer {self.token}",
                                         "Content-Type": "text/plain"})

    def scrape(self) -> Samples:
        page = self.client.get("/metrics")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(page.text)
                for s in family.samples}


@pytest.fixture(autouse=True)
def always_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scrape here reads anew (a served page is kept FRESH_SECONDS otherwise)."""
    monkeypatch.setattr(operations, "FRESH_SECONDS", 0.0)


@contextmanager
def serving(folder: Path) -> Iterator[Network]:
    data = DataDir(folder)
    build_nation(data, ("WA", "OR"), residents=40, seed=7)
    transport = InProcessTransport(data, poll=0.05)
    switch = Switch(data, transport, config=SwitchConfig(wait_seconds=10.0, retry_seconds=0.1))
    with TestClient(create_app(data, switch, dashboard=False)) as client:
        yield Network(data, client, switch, transport, read_tokens(data)[LOCAL])


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with serving(tmp_path_factory.mktemp("operations")) as running:
        yield running


def until(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.02)


def test_a_query_is_counted_by_role_state_and_outcome(network: Network) -> None:
    before = network.scrape()
    sent = network.send("WA")
    assert sent.status_code == 200, sent.text
    [answer] = sent.json()["responses"]
    after = network.scrape()
    wa = (("role", "gateway"), ("state", "WA"))
    counted = ("stateline_queries_total", (("outcome", answer["outcome"]), *wa))
    assert after[counted] == before.get(counted, 0) + 1
    timed = ("stateline_query_seconds_count", wa)
    assert after[timed] == before.get(timed, 0) + 1
    assert after[("stateline_audit_unsigned_entries", (("state", "WA"),))] >= 0
    assert after[("stateline_queue_depth", wa)] == 0


def test_traffic_held_for_a_state_out_of_service_is_counted_until_delivered(
        network: Network) -> None:
    held = ("stateline_held_messages", (("state", "OR"),))
    assert network.scrape()[held] == 0
    network.switch.stores.status.set("OR", Service.OUT, "test operator")
    try:
        sent = network.send("OR")
        assert [r["outcome"] for r in sent.json()["responses"]] == ["held"]
        assert network.scrape()[held] == 1
    finally:
        network.switch.stores.status.set("OR", Service.IN, "test operator")
    until(lambda: network.scrape()[held] == 0)


def test_healthz_and_readyz_need_no_token_and_say_alive_and_ready(network: Network) -> None:
    alive = network.client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    ready = network.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "problems": []})
    assert {"/metrics", "/healthz", "/readyz"}.isdisjoint(
        network.client.get("/openapi.json").json()["paths"])


def test_readyz_names_a_stopped_gateway_with_503(tmp_path: Path) -> None:
    with serving(tmp_path) as network:
        network.transport.stop_state("OR")
        got = network.client.get("/readyz")
        assert got.status_code == 503
        assert got.json() == {"status": "not ready", "problems": ["gateway OR: not running"]}
        assert network.client.get("/healthz").status_code == 200


def test_readyz_asks_the_readiness_it_is_given(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    build_nation(data, ("WA",), residents=20, seed=2)
    switch = Switch(data, InProcessTransport(data))
    app = create_app(data, switch, dashboard=False, ready=lambda: ["switch: not up"])
    with TestClient(app) as client:
        got = client.get("/readyz")
    assert (got.status_code, got.json()["problems"]) == (503, ["switch: not up"])


def test_a_page_asked_for_again_at_once_is_served_as_it_was(
        network: Network, monkeypatch: pytest.MonkeyPatch) -> None:
    """No sign-in is needed, and a scrape reads every state's log: asking without end costs
    one reading a second, not one per request."""
    monkeypatch.setattr(operations, "FRESH_SECONDS", 3600.0)
    first = network.client.get("/metrics").text
    assert network.send("OR").status_code == 200
    assert network.client.get("/metrics").text == first
    monkeypatch.setattr(operations, "FRESH_SECONDS", 0.0)
    assert network.client.get("/metrics").text != first
