"""The standalone gateway taking Nlets XML: answers in XML, element by element with withheld
elements marked, the same policy as for legacy text, refusals in XML, attacks refused."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.dmv import Sample, open_store
from stateline.gateway.http import MESSAGE_ID_HEADER, create_app
from stateline.gateway.tokens import TokenBook
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import (
    format_xml,
    parse,
    read,
    read_answer,
    read_xml,
    read_xml_answer,
)
from stateline.sim.nation import build_nation

with warnings.catch_warnings():
    # As in test_http.py: Starlette's test client still works on the pinned httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

IN_STATE, OUT_OF_STATE, ICE = "WASPD0100", "ORPPD0000", "VTICE0900"
XML = {"Content-Type": "application/xml"}
TEXT = {"Content-Type": "text/plain"}
ST = "{urn:stateline:nlets-xml:1.0}"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """WA blocks ICE and keeps SSN, credential and photo from out-of-state agencies."""
    data = DataDir(tmp_path_factory.mktemp("gateway-xml"))
    build_nation(data, ("WA", "OR"), residents=200, seed=8)
    policy_store.apply(data, "WA", preset("block-ice").text(), who="test")
    return data


@pytest.fixture(scope="module")
def samples(nation: DataDir) -> list[Sample]:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(3, seed=5)
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(nation: DataDir) -> Iterator[TestClient]:
    with TokenBook(nation, "WA") as book:
        secret, _ = book.issue("test", "switch")
    app = create_app(nation, "WA", token_refresh=0.0)
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as test_client:
        yield test_client


def audit_size(data: DataDir) -> int:
    with open_state_log(data, "WA") as log:
        return log.size


def audit_body(data: DataDir, seq: int) -> dict[str, object]:
    with open_state_log(data, "WA") as log:
        return dict(log.entry(seq).body)


def as_xml(text: str) -> str:
    return format_xml(read(text))


def test_an_xml_query_gets_an_xml_answer_whose_audit_entry_is_already_written(
        client: TestClient, nation: DataDir, samples: list[Sample]) -> None:
    query = as_xml(f"DQ.{IN_STATE}.WA.*CASE7.TXT\nOLN/{samples[0].oln}")
    got = client.post("/messages", content=query, headers={**XML, MESSAGE_ID_HEADER: "X-1"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/xml")
    assert got.headers["Stateline-Outcome"] == "released"
    response = read_xml(got.text)
    assert (response.key, response.sender, response.destinations, response.control) == (
        "DR", "WAOLN0000", (IN_STATE,), "CASE7")
    answer = read_xml_answer(got.text)
    identity = {f.prefix: f.value for f in answer.records[0].sections[0].fields}
    assert identity["OLN"] == samples[0].oln
    entry = audit_body(nation, int(got.headers["Stateline-Audit-Seq"]))
    assert entry["message_id"] == "X-1" and entry["records"] == [samples[0].oln]


@pytest.mark.parametrize(("sender", "outcome"), [(IN_STATE, "released"),
                                                  (OUT_OF_STATE, "partial"), (ICE, "denied")])
def test_text_and_xml_queries_meet_the_same_policy(
        client: TestClient, nation: DataDir, samples: list[Sample], sender: str,
        outcome: str) -> None:
    text = f"DQ.{sender}.WA.TXT\nNAM/{samples[1].name}.DOB/{samples[1].dob}.IMQ/Y"
    by_text = client.post("/messages", content=text, headers=TEXT)
    by_xml = client.post("/messages", content=as_xml(text), headers=XML)
    assert by_text.headers["Stateline-Outcome"] == by_xml.headers["Stateline-Outcome"] == outcome
    assert read_xml_answer(by_xml.text) == read_answer(parse(by_text.text).body or "")
    as_text, as_xml_entry = (audit_body(nation, int(got.headers["Stateline-Audit-Seq"]))
                             for got in (by_text, by_xml))
    assert as_xml_entry["withheld"] == as_text["withheld"]
    assert bool(as_text["withheld"]) is (outcome == "partial")
    assert as_xml_entry["terms"] == as_text["terms"]


def test_withheld_elements_are_marked_in_place_and_their_data_never_leaves(
        client: TestClient, samples: list[Sample]) -> None:
    text = f"DQ.{{}}.WA.TXT\nOLN/{samples[2].oln}.IMQ/Y"
    home = client.post("/messages", content=as_xml(text.format(IN_STATE)), headers=XML)
    away = client.post("/messages", content=as_xml(text.format(OUT_OF_STATE)), headers=XML)
    released = read_xml_answer(home.text).records[0]
    ssn = next(s for s in released.sections if s.element == "ssn")
    record = ET.fromstring(away.text).find(
        f"{{http://www.nlets.org/niem/1.0}}NLETSResponseData/{ST}Answer/{ST}Record")
    assert record is not None
    marks = {e.get("name"): (e.get("withheld"), (e.text or "").strip()) for e in record}
    for element in ("ssn", "credential", "photo"):
        assert marks[element] == ("true", "WITHHELD BY WA POLICY")
    assert all(field.value not in away.text for field in ssn.fields)
    assert away.headers["Stateline-Photos"] == "0" and home.headers["Stateline-Photos"] == "1"


def test_ice_is_denied_in_xml_naming_the_policy(client: TestClient,
                                                samples: list[Sample]) -> None:
    got = client.post("/messages", content=as_xml(f"DQ.{ICE}.WA.TXT\nOLN/{samples[0].oln}"),
                      headers=XML)
    answer = read_xml_answer(got.text)
    assert (answer.outcome.value, answer.policy, answer.records) == ("denied", "block-ice", ())
    assert samples[0].name.split(",")[0] not in got.text


def error_of(body: str) -> tuple[str | None, str]:
    root = ET.fromstring(body)
    assert root.tag == f"{ST}Error"
    return root.findtext(f"{ST}Code"), root.findtext(f"{ST}Text") or ""


@pytest.mark.parametrize(("body", "code", "detail"), [
    ("<n2:NLETS", ".03.", "XML IS NOT WELL-FORMED"),
    ("", ".03.", "XML IS NOT WELL-FORMED"),
    ("DQ.WASPD0100.WA.TXT\nOLN/X1", ".03.", "XML IS NOT WELL-FORMED"),
    ("<a>" * 10_000, ".03.", "XML NESTED DEEPER"),
    (as_xml(f"DQ.{IN_STATE}.WA.TXT\nNAM/DOE,JANE.DOB/19850314").replace("1985-03-14",
                                                                           "1985-02-30"),
     ".05.", "DOB 19850230 IS NOT A REAL DATE"),
    (as_xml(f"DQ.{IN_STATE}.OR.TXT\nOLN/X1"), ".19.", "NOT ADDRESSED TO WA"),
])
def test_a_bad_xml_message_gets_its_reject_in_xml(client: TestClient, nation: DataDir,
                                                  body: str, code: str, detail: str) -> None:
    before = audit_size(nation)
    got = client.post("/messages", content=body, headers=XML)
    assert got.status_code == 422
    assert got.headers["content-type"].startswith("application/xml")
    kind, text = error_of(got.text)
    title, explained, *_ = text.split("\n")
    assert kind == "rejected" and title.startswith(code + " ") and explained.startswith(detail)
    assert audit_size(nation) == before


def test_an_external_entity_is_refused_and_its_file_never_read(
        client: TestClient, nation: DataDir, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SYNTHETIC-SECRET-GATEWAY")
    query = as_xml(f"DQ.{IN_STATE}.WA.TXT\nNAM/DOE,JANE.DOB/19850314")
    attack = query.replace("?>", f'?>\n<!DOCTYPE n2:NLETS [<!ENTITY x SYSTEM '
                                 f'"{secret.as_uri()}">]>', 1).replace(">DOE<", ">&x;<")
    before = audit_size(nation)
    got = client.post("/messages", content=attack, headers=XML)
    assert got.status_code == 422
    title, explained, *_ = error_of(got.text)[1].split("\n")
    assert title.startswith(".03. ")
    assert explained == "XML WITH A DTD OR ENTITIES IS REFUSED: DTDFORBIDDEN"
    assert "SYNTHETIC-SECRET" not in got.text
    assert audit_size(nation) == before


def test_a_key_no_state_answers_is_answered_as_not_answered(
        client: TestClient, nation: DataDir) -> None:
    alert = format_xml(read("AA.AZNLETS20.WA.TXT\nSYNTHETIC ALERT TEXT"))
    got = client.post("/messages", content=alert, headers=XML)
    assert got.status_code == 200, got.text
    assert got.headers["Stateline-Outcome"] == "error"
    assert "WA DOES NOT ANSWER AA" in (read_xml(got.text).body or "")


def test_text_xml_is_read_as_xml_and_other_refusals_answer_in_xml(
        client: TestClient, samples: list[Sample]) -> None:
    query = as_xml(f"DQ.{IN_STATE}.WA.TXT\nOLN/{samples[0].oln}")
    got = client.post("/messages", content=query, headers={"Content-Type": "text/xml"})
    assert got.status_code == 200 and read_xml(got.text).key == "DR"
    refused = client.post("/messages", content=query,
                          headers={**XML, "Authorization": "Bearer slgw_not-a-token"})
    assert refused.status_code == 401
    assert error_of(refused.text)[0] == "unauthorized"
    assert samples[0].oln not in refused.text


def test_openapi_names_the_xml_form(client: TestClient) -> None:
    post = client.get("/openapi.json").json()["paths"]["/messages"]["post"]
    assert "application/xml" in post["requestBody"]["content"]
    assert "application/xml" in post["responses"]["200"]["content"]
