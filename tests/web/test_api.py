"""The agencies' HTTP API as an agency meets it: queries answered through the switch and the
states' gateways, answers that come later read by polling, and refusals that all share one
JSON error shape and never leak whether someone else's message exists."""

from __future__ import annotations

import importlib.util
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import format_xml, parse, read, read_xml
from stateline.sim.nation import build_nation
from stateline.switch import Service, Switch, SwitchConfig
from stateline.switch.credentials import read_tokens
from stateline.transport.inprocess import InProcessTransport
from stateline.web.api import BODY_LIMIT
from stateline.web.app import create_app
from stateline.web.shapes import RejectedShape, SubmissionShape

with warnings.catch_warnings():
    # Starlette 1.10 asks for httpx2, which the pinned dependencies do not carry yet; its test
    # client still works on httpx, so only this import's notice is silenced.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

LOCAL, WA_LOCAL, HSI = "ORPPD0000", "WASPD0100", "NYHSI0100"
TEXT = {"Content-Type": "text/plain"}


@dataclass
class Network:
    data: DataDir
    client: TestClient
    switch: Switch
    tokens: dict[str, str]
    people: dict[str, list[Sample]]

    def auth(self, ori: str = LOCAL) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[ori]}"}

    def send(self, text: str, ori: str = LOCAL, **params: Any) -> httpx.Response:
        return self.client.post("/api/messages", content=text, params=params,
                                headers={**self.auth(ori), **TEXT})

    def poll(self, message_id: str, ori: str = LOCAL) -> httpx.Response:
        return self.client.get(f"/api/messages/{message_id}", headers=self.auth(ori))

    def settled(self, message_id: str, ori: str = LOCAL) -> dict[str, Any]:
        """The message once no state owes it an answer (up to 10 s)."""
        for _ in range(200):
            got: dict[str, Any] = self.poll(message_id, ori).json()
            if not got["pending"]:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{message_id} still pending: {got['pending']}")


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    """WA, OR and NY on a switch that retries held traffic every 0.1 s; WA holds HSI's
    queries for review."""
    data = DataDir(tmp_path_factory.mktemp("api-nation"))
    build_nation(data, ("WA", "OR", "NY"), residents=200, seed=11)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    people = {}
    for state in ("WA", "OR", "NY"):
        store = open_store(data.dmv_url(state))
        try:
            people[state] = store.sample(6, seed=4)
        finally:
            store.close()
    switch = Switch(data, InProcessTransport(data, poll=0.05),
                    config=SwitchConfig(wait_seconds=10.0, retry_seconds=0.1))
    with TestClient(create_app(data, switch)) as client:
        yield Network(data, client, switch, read_tokens(data), people)


def answer_fields(response: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["prefix"], f["value"]) for f in response["fields"] if not f.get("withheld")}


def test_a_text_dq_is_answered_by_the_state(network: Network) -> None:
    person = network.people["WA"][0]
    got = network.send(f"DQ.{LOCAL}.WA.*CASE7.TXT\nOLN/{person.oln}")
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["accepted"] is True and body["pending"] == []
    [answer] = body["responses"]
    assert (answer["key"], answer["state"], answer["late"]) == ("DR", "WA", False)
    assert answer["outcome"] in ("released", "partial")
    assert ("OLN", person.oln) in answer_fields(answer)
    delivered = parse(answer["text"])
    assert delivered.control == "CASE7" and delivered.header is not None
    assert network.poll(body["message_id"]).json() == body


def test_the_json_form_gets_the_same_kind_of_answer(network: Network) -> None:
    person = network.people["OR"][1]
    message = {"key": "DQ", "sender": LOCAL, "destinations": ["OR"],
               "fields": [{"prefix": "OLN", "value": person.oln}]}
    got = network.client.post("/api/messages", json=message, headers=network.auth())
    assert got.status_code == 200, got.text
    [answer] = got.json()["responses"]
    assert answer["state"] == "OR" and ("OLN", person.oln) in answer_fields(answer)


def test_the_xml_form_gets_its_answers_and_rejects_in_xml(network: Network) -> None:
    person = network.people["WA"][2]
    query = format_xml(read(f"DQ.{LOCAL}.WA.*CASE8.TXT\nOLN/{person.oln}"))
    got = network.client.post("/api/messages", content=query,
                              headers={**network.auth(), "Content-Type": "application/xml"})
    assert got.status_code == 200, got.text
    body = got.json()
    [answer] = body["responses"]
    assert read_xml(answer["text"]).control == "CASE8"
    assert ("OLN", person.oln) in answer_fields(answer)
    polled = network.client.get(f"/api/messages/{body['message_id']}", params={"form": "xml"},
                                headers=network.auth()).json()
    assert polled == body
    assert parse(network.poll(body["message_id"]).json()["responses"][0]["text"]) == \
        read_xml(answer["text"])
    bad = network.client.post("/api/messages", content="<n2:NLETS",
                              headers={**network.auth(), "Content-Type": "application/xml"})
    assert bad.status_code == 422
    assert bad.json()["error"]["text"].startswith(".03. TXT NOT FOUND\nXML IS NOT WELL-FORMED")
    assert read_xml(bad.json()["responses"][0]["text"]).key == "ER"


def test_an_rq_by_vin_finds_the_vehicle(network: Network) -> None:
    car = network.people["OR"][2]
    got = network.send(f"RQ.{LOCAL}.OR.TXT\nVIN/{car.vin}")
    [answer] = got.json()["responses"]
    assert (answer["key"], answer["state"]) == ("RR", "OR")
    assert ("VIN", car.vin) in answer_fields(answer)


def test_an_nl_query_comes_back_under_one_summary(network: Network) -> None:
    person = network.people["NY"][0]
    got = network.send(f"DQ.{LOCAL}.NL.TXT\nNAM/{person.name}.DOB/{person.dob}")
    assert got.status_code == 200
    summary, *answers = got.json()["responses"]
    assert (summary["state"], summary["key"]) == ("NL", "DR")
    assert summary["summary"]["sent_to"] == ["NY", "OR", "WA"]
    assert summary["summary"]["hit"] == ["NY"]
    assert summary["summary"]["no_record"] == ["OR", "WA"]
    assert "HIT: NY" in summary["text"]
    assert [a["state"] for a in answers] == ["NY"]


def test_a_state_out_of_service_gets_02_and_the_answer_follows(network: Network) -> None:
    person = network.people["WA"][1]
    network.switch.stores.status.set("WA", Service.OUT, "test operator")
    try:
        got = network.send(f"DQ.{LOCAL}.WA.TXT\nOLN/{person.oln}").json()
    finally:
        network.switch.stores.status.set("WA", Service.IN, "test operator")
    [status] = got["responses"]
    assert (status["key"], status["state"], status["outcome"]) == ("SM", "WA", "held")
    assert ".02. USER OUT OF SERVICE FOR MSG TYPE, SWITCH WILL FORWARD" in status["text"]
    assert got["pending"] == ["WA"]
    later = network.settled(got["message_id"])
    held, answer = later["responses"]
    assert held == status
    assert (answer["key"], answer["state"], answer["late"]) == ("DR", "WA", True)
    assert ("OLN", person.oln) in answer_fields(answer)


def test_a_state_on_remove_status_gets_04(network: Network) -> None:
    network.switch.stores.status.set("NY", Service.REMOVED, "test operator")
    try:
        got = network.send(f"DQ.{LOCAL}.NY.TXT\nOLN/{network.people['NY'][1].oln}").json()
    finally:
        network.switch.stores.status.set("NY", Service.IN, "test operator")
    [status] = got["responses"]
    assert (status["key"], status["outcome"]) == ("SM", "rejected")
    assert ".04." in status["text"] and got["pending"] == []


def test_with_no_wait_the_answer_is_polled_for(network: Network) -> None:
    person = network.people["OR"][3]
    got = network.send(f"DQ.{LOCAL}.OR.TXT\nOLN/{person.oln}", wait=0).json()
    assert got["accepted"] is True
    later = network.settled(got["message_id"])
    assert ("OLN", person.oln) in answer_fields(later["responses"][-1])


def test_a_held_request_released_after_review_reaches_the_sender(network: Network) -> None:
    person = network.people["WA"][2]
    got = network.send(f"DQ.{HSI}.WA.TXT\nOLN/{person.oln}", ori=HSI).json()
    [held] = got["responses"]
    assert held["outcome"] == "held" and held["reference"]
    assert got["pending"] == ["WA"]
    with Gateway(network.data, "WA") as gateway:
        gateway.release(held["reference"], "J. Rivera")
    later = network.settled(got["message_id"], HSI)
    answer = later["responses"][-1]
    assert (answer["late"], answer["reference"]) == (True, held["reference"])
    assert answer["outcome"] in ("released", "partial")
    assert ("OLN", person.oln) in answer_fields(answer)


def test_only_the_sending_agency_reads_a_message(network: Network) -> None:
    sent = network.send(f"DQ.{LOCAL}.WA.TXT\nOLN/{network.people['WA'][3].oln}").json()
    someone_else = network.poll(sent["message_id"], WA_LOCAL)
    never_sent = network.poll("M20260101-0000000000", WA_LOCAL)
    assert someone_else.status_code == never_sent.status_code == 404
    assert someone_else.json()["error"]["code"] == never_sent.json()["error"]["code"]
    assert network.people["WA"][3].oln not in someone_else.text
    anonymous = network.client.get(f"/api/messages/{sent['message_id']}")
    assert anonymous.status_code == 401


def test_a_malformed_message_is_a_422_carrying_its_er(network: Network) -> None:
    got = network.send(f"DQ.{LOCAL}.WA.TXT\nNAM/DOE,JANE")
    assert got.status_code == 422
    body = got.json()
    RejectedShape.model_validate(body)
    assert body["accepted"] is False
    [er] = body["responses"]
    assert (er["key"], er["state"], er["outcome"]) == ("ER", "NL", "rejected")
    assert body["error"]["code"] == "rejected"
    assert body["error"]["text"].startswith(".05. DOB INVALID OR MISSING")
    assert body["error"]["text"].endswith("NAM/DOE,JANE")


def test_a_message_sent_as_another_agency_is_rejected(network: Network) -> None:
    got = network.send(f"DQ.{WA_LOCAL}.WA.TXT\nOLN/{network.people['WA'][0].oln}")
    assert got.status_code == 422
    assert got.json()["accepted"] is False


@pytest.mark.parametrize("authorization", [None, "Bearer slag_not-a-token", "Bearer ",
                                           "Basic dXNlcjpwdw=="])
def test_no_token_in_force_is_a_401_and_nothing_is_routed(network: Network,
                                                          authorization: str | None) -> None:
    refused = len(network.switch.stores.credentials.refusals(1000))
    headers = {**TEXT, **({"Authorization": authorization} if authorization else {})}
    got = network.client.post("/api/messages", headers=headers,
                              content=f"DQ.{LOCAL}.WA.TXT\nOLN/{network.people['WA'][0].oln}")
    assert got.status_code == 401
    assert got.headers["WWW-Authenticate"].startswith("Bearer")
    assert got.json()["error"]["code"] == "unauthorized"
    assert len(network.switch.stores.credentials.refusals(1000)) == refused + 1


def test_a_body_over_the_limit_is_a_413(network: Network) -> None:
    got = network.send("DQ." + "X" * BODY_LIMIT)
    assert got.status_code == 413 and got.json()["error"]["code"] == "too-large"


@pytest.mark.parametrize("kind", ["text/html", "application/yaml", "text/plain; charset=latin-1",
                                  "application/x-www-form-urlencoded", ""])
def test_another_content_type_is_a_415(network: Network, kind: str) -> None:
    got = network.client.post("/api/messages", content=b"DQ.ORPPD0000.WA.TXT",
                              headers={**network.auth(), "Content-Type": kind})
    assert got.status_code == 415
    assert got.json()["error"]["code"] == "unsupported-media-type"


@pytest.mark.parametrize(("method", "path", "status"), [
    ("POST", "/api/messages?wait=-1", 400), ("POST", "/api/messages?wait=soon", 400),
    ("POST", "/api/messages?wait=nan", 400), ("GET", "/api/nothing-here", 404),
    ("DELETE", "/api/messages", 405), ("GET", "/api/messages/x/y", 404),
])
def test_every_refusal_has_the_one_error_shape(network: Network, method: str, path: str,
                                               status: int) -> None:
    got = network.client.request(method, path, content=b"DQ", headers={**network.auth(), **TEXT})
    assert got.status_code == status
    body = got.json()
    assert list(body) == ["error"] and sorted(body["error"]) == ["code", "text"]
    assert body["error"]["text"]


def test_a_garbage_body_is_a_4xx_with_the_er(network: Network) -> None:
    for kind in ("text/plain", "application/json", "application/xml"):
        for garbage in (b"", b"\x00\xff\xfe", b"[1, 2]", b'{"key": 5}', b"{", "🚓".encode()):
            got = network.client.post("/api/messages", content=garbage,
                                      headers={**network.auth(), "Content-Type": kind})
            assert got.status_code == 422, (kind, garbage, got.text)
            assert got.json()["error"]["code"] == "rejected"


def test_answers_match_the_documented_shape(network: Network) -> None:
    got = network.send(f"DQ.{LOCAL}.NL.TXT\nOLN/{network.people['WA'][4].oln}").json()
    SubmissionShape.model_validate(got)
    assert got["responses"][0]["summary"] is not None


def test_openapi_documents_the_api(network: Network) -> None:
    spec = network.client.get("/openapi.json").json()
    assert {"/api/messages", "/api/messages/{message_id}", "/api/health"} <= set(spec["paths"])
    send = spec["paths"]["/api/messages"]["post"]
    assert set(send["requestBody"]["content"]) == {"text/plain", "application/json",
                                                   "application/xml"}
    assert {"200", "401", "413", "415", "422"} <= set(send["responses"])
    assert spec["components"]["securitySchemes"]["agency token"]["scheme"] == "bearer"
    assert not [path for path in spec["paths"] if not path.startswith("/api/")]


def test_health_lists_the_states_and_their_gateways(network: Network) -> None:
    got = network.client.get("/api/health").json()
    assert got["status"] == "ok"
    assert got["states"] == {"NY": "in-service", "OR": "in-service", "WA": "in-service"}
    assert got["gateways"] == ["NY", "OR", "WA"]


@pytest.mark.skipif(importlib.util.find_spec("stateline.web.pages") is None,
                    reason="the dashboard is not in this tree")
def test_the_dashboard_is_served_beside_the_api(network: Network) -> None:
    page = network.client.get("/login", headers={"accept": "text/html"})
    assert page.status_code == 200 and "<form" in page.text


@pytest.mark.parametrize(("method", "path", "unknown"), [
    ("POST", "/api/messages?wiat=1", "wiat"), ("POST", "/api/messages?wait=1&x=", "x"),
    ("GET", "/api/messages/M20261125-FCDE9E58D9?verbose=1", "verbose"),
    ("GET", "/api/health?full=yes", "full"),
])
def test_a_query_parameter_the_api_does_not_document_is_a_400(network: Network, method: str,
                                                              path: str, unknown: str) -> None:
    """What OpenAPI does not name is refused rather than ignored: a misspelt `wait` would
    otherwise silently wait the switch's full time."""
    got = network.client.request(method, path, content=b"DQ", headers={**network.auth(), **TEXT})
    assert got.status_code == 400, got.text
    assert got.json()["error"]["code"] == "invalid-request"
    assert repr(unknown) in got.json()["error"]["text"]


@pytest.mark.parametrize("header", [{}, {"received": None}, "stamped"])
def test_a_json_message_carrying_a_header_is_refused_as_its_schema_says(
        network: Network, header: object) -> None:
    """The output header is the switch's to stamp: the schema allows only null, and the API
    refuses anything else with the same 4xx, whatever its shape."""
    spec = network.client.get("/openapi.json").json()
    schema = spec["paths"]["/api/messages"]["post"]["requestBody"]["content"]
    assert schema["application/json"]["schema"]["properties"]["header"] == {
        "type": "null", "description": schema["application/json"]["schema"]["properties"]
        ["header"]["description"]}
    message = {"key": "DQ", "sender": LOCAL, "destinations": ["OR"], "header": header,
               "fields": [{"prefix": "OLN", "value": network.people["OR"][1].oln}]}
    got = network.client.post("/api/messages", json=message, headers=network.auth())
    assert got.status_code == 400, got.text
    assert "header" in got.json()["error"]["text"]
