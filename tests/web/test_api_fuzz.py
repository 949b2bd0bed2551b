"""The API against its own OpenAPI schema, with requests Schemathesis generates from it, valid
and invalid: never a 5xx, every response as documented, every invalid request a 4xx. Then
message text from Hypothesis, which the schema cannot describe: never a 5xx, always an answer
or the ER reject."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.exceptions import StarletteDeprecationWarning

from stateline.datadir import DataDir
from stateline.sim.nation import build_nation
from stateline.switch import Switch, SwitchConfig
from stateline.switch.credentials import read_tokens
from stateline.transport.inprocess import InProcessTransport
from stateline.web.app import create_app

with warnings.catch_warnings():
    # Starlette 1.10 asks for httpx2, which the pinned dependencies do not carry yet; its test
    # client still works on httpx, so only this import's notice is silenced.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

SENDER = "ORPPD0000"
"""The ORI of the schema's example message, so the examples are accepted and answered."""


def small_network(root: DataDir) -> Switch:
    """A switch over WA and OR; nothing is opened until it starts."""
    return Switch(root, InProcessTransport(root, ("WA", "OR")),
                  config=SwitchConfig(wait_seconds=5.0))


def build(root: DataDir) -> None:
    build_nation(root, ("WA", "OR"), residents=100, seed=3)


FUZZED = DataDir(Path(tempfile.gettempdir()) / f"stateline-api-fuzz-{os.getpid()}")
"""Where the fuzzed app's nation is built, by the fixture, only when the test runs."""
APP = create_app(FUZZED, small_network(FUZZED), dashboard=False)
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.app = APP  # as `from_asgi` does: cases are sent to the app in process
schema.config.generation.update(max_examples=80, deterministic=os.environ.get("CI") == "true")
"""Under CI=true the same cases every run, as conftest's Hypothesis profile does for the rest;
elsewhere new draws each run, extra query parameters included (the API refuses them)."""


@pytest.fixture(scope="module")
def token() -> Iterator[str]:
    """An agency's token on the fuzzed app's nation. Schemathesis starts the app's lifespan on
    its first request and keeps it for the process, so it is ended here (stopping the
    gateways) before the nation is removed."""
    build(FUZZED)
    try:
        yield read_tokens(FUZZED)[SENDER]
    finally:
        asgi.shutdown_lifespans()
        shutil.rmtree(FUZZED.root, ignore_errors=True)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers_and_never_a_5xx(
        case: schemathesis.Case, token: str) -> None:
    # A message the schema allows may still break the protocol's rules (a DOB, a plate year,
    # the sender's own ORI), and the switch rightly answers it with an ER reject (422): the
    # schema describes the envelope, not the message, so valid data is not required to be
    # accepted. Every other check runs, including that invalid data is refused with a 4xx.
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           excluded_checks=[positive_data_acceptance])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    data = DataDir(tmp_path_factory.mktemp("api-text-fuzz"))
    build(data)
    app = create_app(data, small_network(data), dashboard=False)
    with TestClient(app) as test_client:
        yield test_client, read_tokens(data)[SENDER]


PIECES = st.sampled_from(["DQ", "RQ", "KQ", "NL", "WA", "OR", "R8", SENDER, "VTICE0900",
                          "TXT", ".", "\n", "/", "OLN", "NAM", "DOB", "LIC", "VIN", "*",
                          "DOE,JANE", "19800101", "WDL", "2026", "PC", "🚓", "\x00", " "])
MESSAGES = st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=40).map("".join))


@given(text=MESSAGES, kind=st.sampled_from(["text/plain", "application/json", "application/xml"]))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_message_text_gets_an_answer_or_its_er(client: tuple[TestClient, str], text: str,
                                                   kind: str) -> None:
    test_client, token = client
    got = test_client.post("/api/messages", content=text.encode("utf-8", "surrogatepass"),
                           headers={"Authorization": f"Bearer {token}", "Content-Type": kind})
    assert got.status_code in (200, 422), got.text
    body = got.json()
    assert body["accepted"] is (got.status_code == 200)
    if got.status_code == 422:
        assert body["error"]["code"] == "rejected" and body["error"]["text"]
