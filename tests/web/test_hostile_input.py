"""Hostile input at the web edges: a lone surrogate in a JSON message (to the switch's API and
to a state's gateway alone) and any path under /public/. Each gets a 4xx in the edge's one
error shape, never a 500, and the network keeps answering."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning

from stateline.datadir import DataDir
from stateline.gateway.http import create_app as gateway_app
from stateline.gateway.tokens import TokenBook
from stateline.switch import Switch, SwitchConfig
from stateline.switch.credentials import read_tokens
from stateline.transport.inprocess import InProcessTransport
from stateline.web import create_dashboard_app
from stateline.web.app import create_app

from .conftest import Nation

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SENDER = "WASPD0100"
GOOD = {"key": "DQ", "sender": SENDER, "destinations": ["WA"], "control": "C1",
        "fields": [{"prefix": "OLN", "value": "WDL1"}]}
MEMBERS = [("key", "\ud800"), ("sender", "WASPD010\ud800"), ("destinations", ["W\udfff"]),
           ("control", "C\ud800"), ("fields", [{"prefix": "OLN", "value": "W\udcff"}]),
           ("body", "hello \ud800")]
FEW = settings(max_examples=60, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def poisoned(member: str, value: object) -> bytes:
    doc = {**GOOD, member: value}
    if member == "body":
        doc = {**doc, "key": "AM", "fields": []}
    return json.dumps(doc).encode("ascii")  # the surrogate travels as a \\udXXX escape


@pytest.fixture(scope="module")
def api(nation: Nation) -> Iterator[tuple[TestClient, str]]:
    switch = Switch(nation.data, InProcessTransport(nation.data, poll=0.05),
                    config=SwitchConfig(wait_seconds=5.0))
    with TestClient(create_app(nation.data, switch, dashboard=True)) as client:
        yield client, read_tokens(nation.data)[SENDER]


@pytest.mark.parametrize(("member", "value"), MEMBERS)
def test_the_api_rejects_a_lone_surrogate_in_any_member(api: tuple[TestClient, str],
                                                        member: str, value: object) -> None:
    client, secret = api
    got = client.post("/api/messages", content=poisoned(member, value),
                      headers={"Authorization": f"Bearer {secret}",
                               "Content-Type": "application/json"})
    assert got.status_code == 422, got.text
    assert "NOT UTF-8 TEXT" in got.json()["error"]["text"]
    message_id = got.json()["message_id"]
    polled = client.get(f"/api/messages/{message_id}",
                        headers={"Authorization": f"Bearer {secret}"})
    assert polled.status_code == 200 and polled.json()["accepted"] is False


def _gateway_client(data: DataDir) -> tuple[TestClient, str]:
    with TokenBook(data, "WA") as book:
        secret, _ = book.issue("hostile-test", "switch")
    return TestClient(gateway_app(data, "WA")), secret


@pytest.mark.parametrize(("member", "value"), MEMBERS)
def test_the_gateway_rejects_a_lone_surrogate_in_any_member(nation: Nation, member: str,
                                                            value: object) -> None:
    client, secret = _gateway_client(nation.data)
    with client:
        got = client.post("/messages", content=poisoned(member, value),
                          headers={"Authorization": f"Bearer {secret}",
                                   "Content-Type": "application/json"})
        assert got.status_code == 422, got.text
        assert got.json()["error"]["code"] == "rejected"
        assert got.json()["error"]["text"].startswith("0 ")
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("period", ["2026-01-01..9999-12-31", "9999", "0001-01-01..2026-01-01",
                                    "2026-02-30..2026-03-01", "2026-Q9", "2026-\ud800"])
def test_a_public_report_for_an_impossible_period_is_a_4xx_page(nation: Nation,
                                                                period: str) -> None:
    with TestClient(create_dashboard_app(nation.data)) as client:
        got = client.get(f"/public/WA/{quote(period, errors='surrogatepass')}",
                         headers={"accept": "text/html"})
    assert 400 <= got.status_code < 500, got.text
    assert "text/html" in got.headers["content-type"]


@pytest.fixture(scope="module")
def public(nation: Nation) -> Iterator[TestClient]:
    with TestClient(create_dashboard_app(nation.data)) as client:
        yield client


segments = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"[0-9]{4}(-[0-9Qq]{1,2}(-[0-9]{2})?)?(\.\.[0-9]{4,5}-[0-9]{2}-[0-9]{2})?",
                  fullmatch=True),
    st.binary(max_size=12).map(lambda b: quote(b, safe="")),
)


@FEW
@given(state=st.sampled_from(["WA", "wa", "ZZ", "W%00", "%ED%A0%80"]), period=segments)
def test_no_public_url_is_a_server_error(public: TestClient, state: str, period: str) -> None:
    path = f"/public/{state}/{quote(period, safe='%', errors='surrogatepass')}"
    for accept in ("text/html", "application/json"):
        got = public.get(path, headers={"accept": accept})
        assert got.status_code < 500, (path, got.status_code, got.text[:200])
