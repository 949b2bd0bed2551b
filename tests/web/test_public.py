"""The public statistics as the live server serves them, to anyone without signing in: every
published period as HTML, JSON and CSV, the schema, the checkpoint the reports count up to, the
log's key and consistency proofs; ranges of days refused under /public/, kept for staff."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import jsonschema_rs

from stateline.audit import read_state_log
from stateline.audit.checkpoint import parse
from stateline.audit.merkle import verify_consistency
from stateline.audit.note import parse_vkey

from .conftest import IN_STATE, Browser, Nation, TestClient, needs_reports, signed_in

YEAR = str(datetime.now(UTC).year)


@needs_reports
def test_each_published_period_is_served_in_every_form(app_client: TestClient) -> None:
    schema = app_client.get("/public/report.schema.json")
    assert schema.status_code == 200 and "json" in schema.headers["content-type"]
    validator = jsonschema_rs.validator_for(schema.json())
    for period in (YEAR, f"{YEAR}-Q{(datetime.now(UTC).month + 2) // 3}",
                   f"{YEAR}-{datetime.now(UTC).month:02d}"):
        page = app_client.get(f"/public/WA/{period}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert app_client.get(f"/public/WA/{period}.html").text == page.text
        assert "stateline report check" in page.text
        document = app_client.get(f"/public/WA/{period}.json")
        assert document.headers["content-type"] == "application/json"
        validator.validate(document.json())
        assert (document.json()["headline"] is None) == (period != YEAR)
        table = app_client.get(f"/public/WA/{period}.csv")
        assert table.headers["content-type"].startswith("text/csv")
        assert table.text.startswith("table,measure,row_dimension,row,")
    year = app_client.get(f"/public/WA/{YEAR}.json").json()
    assert year["headline"]["categories"][:2] == ["ICE", "HSI"]
    assert f'href="{YEAR}.json"' in app_client.get(f"/public/WA/{YEAR}").text


@needs_reports
def test_ranges_of_days_are_refused_in_public_naming_what_is_published(
        browser: Browser) -> None:
    for period in (f"{YEAR}-11-02..{YEAR}-11-02", f"{YEAR}-11-02..{YEAR}-11-03",
                   f"{YEAR}-11-03..{YEAR}-11-03"):
        for ending in ("", ".json", ".csv"):
            answer = browser.client.get(f"/public/WA/{period}{ending}")
            assert answer.status_code == 404, (period, ending)
            text = answer.json()["error"]["text"]
            assert "ranges of days are not published" in text
            assert f"WA publishes years ({YEAR}" in text
    assert browser.client.get("/public/WA/2026-13").status_code == 404
    assert browser.client.get("/public/WA/1999-Q1.json").status_code == 404
    assert browser.client.get("/states/WA/reports?period=2026-01-01..2026-01-02"
                              ).status_code == 401  # staff only
    signed_in(browser, "vic")
    staff = browser.get(f"/states/WA/reports?period={YEAR}-01-01..{YEAR}-12-31")
    assert staff.status_code == 200 and "Staff copy, not for publication" in staff.text
    assert "A range of days (staff only)" in browser.get("/states/WA/reports").text


@needs_reports
def test_the_checkpoint_and_key_are_served_and_agree(app_client: TestClient,
                                                     nation: Nation) -> None:
    answer = app_client.get("/public/WA/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    head = parse(answer.text)
    keys = [parse_vkey(line) for line in app_client.get("/public/WA/key").text.splitlines()]
    assert any(k.verify(head.head.body(), head.log_signature) for k in keys)
    document = app_client.get(f"/public/WA/{YEAR}.json").json()
    assert document["as_of"]["checkpoint"] == answer.text
    assert document["as_of"]["verifier_key"] in [k.vkey for k in keys]
    assert app_client.get("/public/ZZ/checkpoint").status_code == 404


@needs_reports
def test_consistency_proofs_between_signed_sizes_verify(app_client: TestClient,
                                                        nation: Nation) -> None:
    nation.ask(IN_STATE)  # one more signed head
    log = read_state_log(nation.data, "WA")
    assert log is not None
    with log:
        heads = log.heads()
        roots = {h.head.size: h.head.root for h in heads}
    old, new = heads[0].head.size, heads[-1].head.size
    assert old < new
    answer = app_client.get(f"/public/WA/proof/consistency?old={old}&new={new}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    proof = [base64.b64decode(line) for line in answer.text.splitlines()]
    assert proof and verify_consistency(old, new, proof, roots[old], roots[new])
    assert app_client.get(f"/public/WA/proof/consistency?old={new}&new={new}").text == ""


def test_a_bad_proof_request_is_a_clear_refusal(app_client: TestClient) -> None:
    signed = parse(app_client.get("/public/WA/checkpoint").text).head.size
    for query, status, words in (
            ("", 400, "old must be a size"), ("?old=1", 400, "new must be a size"),
            ("?old=abc&new=2", 400, "old must be a size"), ("?old=-1&new=2", 400, "old must"),
            ("?old=01&new=2", 400, "without leading zeros"),
            ("?old=1&new=" + "9" * 40, 400, "new must be a size"),
            ("?old=3&new=2", 400, "must not be larger than new"),
            (f"?old=1&new={signed + 1}", 404, f"latest signed checkpoint has {signed}")):
        answer = app_client.get(f"/public/WA/proof/consistency{query}")
        assert answer.status_code == status, query
        assert words in json.dumps(answer.json()), (query, answer.text)
