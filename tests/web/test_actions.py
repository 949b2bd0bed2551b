"""Changing things from the dashboard: policy through check, tests and what-if to apply; the
review queue; court orders; notices; verification. Each needs the right role and the form's
token, and each lands in the audit log."""

from __future__ import annotations

import re

import pytest

from stateline.audit import EntryKind, open_state_log
from stateline.gateway import ReviewQueue
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry

from .conftest import HSI, ICE, Browser, Nation, signed_in


def events(nation: Nation, kind: EntryKind, state: str = "WA") -> list[dict[str, object]]:
    with open_state_log(nation.data, state) as log:
        return [dict(e.body) for e in log.events([kind])]


def test_a_bad_policy_is_refused_with_its_line_numbers(browser: Browser) -> None:
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit")
    text = '@id("x")\n@reason("r")\npermit (principal, action, resource)\nwhen { nonsense };\n'
    answer = browser.post("/states/WA/policy/check", {"text": text})
    assert answer.status_code == 422
    assert "cannot be put in force" in answer.text
    assert re.search(r"<li>line \d+", answer.text)
    assert 'class="ln bad"' in answer.text


def test_a_preset_is_tested_with_its_own_cases_and_replayed(browser: Browser) -> None:
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit?preset=block-ice-hsi")
    answer = browser.post("/states/WA/policy/check", {"text": preset("block-ice-hsi").text()})
    assert answer.status_code == 200, answer.text
    assert "preset block-ice-hsi: its own cases" in answer.text and "passed" in answer.text
    assert "What-if" in answer.text
    assert "td class=\"cell denied changed\"" in answer.text  # HSI now denied, not held
    assert 'name="note" required' in answer.text


def test_cases_written_in_the_form_run_against_the_nation(browser: Browser) -> None:
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit")
    cases = f"cases:\n  - name: ICE allowed\n    ori: {ICE}\n    key: DQ\n    expect: allow\n"
    answer = browser.post("/states/WA/policy/check",
                          {"text": preset("block-ice").text(), "cases": cases})
    assert "the cases written here: <span class=\"bad\">1 of 1 failed" in answer.text
    assert "Apply although tests fail" in answer.text


def test_a_viewer_cannot_apply_a_policy(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "vic")
    before = policy_store.current_text(nation.data, "WA")
    answer = browser.post("/states/WA/policy/apply", {"text": "x", "note": "n"})
    assert answer.status_code == 403
    assert policy_store.current_text(nation.data, "WA") == before


def test_apply_without_the_form_token_changes_nothing(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    before = policy_store.current_text(nation.data, "WA")
    answer = browser.post("/states/WA/policy/apply",
                          {"text": preset("block-ice").text(), "note": "n"}, csrf=False)
    assert answer.status_code == 403 and "nothing was done" in answer.text
    assert policy_store.current_text(nation.data, "WA") == before


def test_failing_tests_block_apply_unless_overridden(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    before = policy_store.current_text(nation.data, "WA")
    cases = f"cases:\n  - ori: {ICE}\n    key: DQ\n    expect: allow\n"
    answer = browser.post("/states/WA/policy/apply", {"text": preset("block-ice").text(),
                                                      "cases": cases, "note": "try"})
    assert answer.status_code == 422 and "tick the box" in answer.text
    assert policy_store.current_text(nation.data, "WA") == before


def test_a_coordinator_applies_a_policy_with_a_note(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    text = preset("block-ice-review-hsi").text() + "\n// reviewed by legal\n"
    answer = browser.post("/states/WA/policy/apply", {"text": text, "note": "legal review"})
    assert answer.status_code == 303
    assert policy_store.current_text(nation.data, "WA") == text
    last = policy_store.history(nation.data, "WA", "policy")[-1]
    assert (last.who, last.note) == ("cora", "legal review")
    entry = events(nation, EntryKind.POLICY_CHANGE)[-1]
    assert entry["who"] == "cora" and entry["note"] == "legal review"
    page = browser.get(answer.headers["location"])
    assert f"Change {last.seq} applied" in page.text


def test_apply_needs_a_note(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    before = policy_store.current_text(nation.data, "WA")
    answer = browser.post("/states/WA/policy/apply",
                          {"text": preset("block-ice").text(), "note": " "})
    assert answer.status_code == 422 and "Say why" in answer.text
    assert policy_store.current_text(nation.data, "WA") == before


def test_a_reviewer_releases_a_held_request_with_a_note(browser: Browser,
                                                       nation: Nation) -> None:
    signed_in(browser, "rey")
    reference = nation.held[0]
    queue = browser.get("/states/WA/review").text
    assert reference in queue and "NYHSI0100" in queue
    answer = browser.post(f"/states/WA/review/{reference}",
                          {"action": "release", "note": "court asked"})
    assert answer.status_code == 200, answer.text
    assert f"{reference} released by rey" in answer.text
    review = events(nation, EntryKind.REVIEW)[-1]
    assert review["reviewer"] == "rey" and review["reference"] == reference
    assert review["note"] == "court asked"
    with ReviewQueue(nation.data, "WA") as held:
        assert held.get(reference).status == "released"
    again = browser.post(f"/states/WA/review/{reference}", {"action": "deny", "note": "x"})
    assert again.status_code == 404 and "already reviewed" in again.text


def test_a_reviewer_denies_and_a_note_is_required(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "rey")
    reference = nation.held[1]
    bare = browser.post(f"/states/WA/review/{reference}", {"action": "deny", "note": ""})
    assert bare.status_code == 422 and "write a note" in bare.text
    answer = browser.post(f"/states/WA/review/{reference}", {"action": "deny", "note": "no"})
    assert f"{reference} denied by rey" in answer.text


def test_an_auditor_sees_the_queue_but_cannot_release(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "aud")
    assert nation.held[2] in browser.get("/states/WA/review").text
    answer = browser.post(f"/states/WA/review/{nation.held[2]}",
                          {"action": "release", "note": "x"})
    assert answer.status_code == 403
    with ReviewQueue(nation.data, "WA") as held:
        assert held.get(nation.held[2]).status == "held"


def test_court_orders_are_added_and_revoked(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    browser.get("/states/WA/orders")
    answer = browser.post("/states/WA/orders", {
        "ref": "2026-CV-0142", "ori": ICE, "oln": nation.samples[0].oln,
        "valid_from": "2026-01-01", "valid_until": "2030-12-31",
        "elements": ["identity", "license"]})
    assert answer.status_code == 303
    page = browser.get(answer.headers["location"]).text
    assert "Court order 2026-CV-0142 on file for VTICE0900" in page
    assert '<span class="agency">ICE Law Enforcement Support Center' in page  # named by the ORI
    with Registry(nation.data, "WA") as registry:
        order = registry.order("2026-CV-0142")
    assert order.entered_by == "cora" and order.elements == ("identity", "license")
    bad = browser.post("/states/WA/orders", {"ref": "X-1", "ori": ICE,
                                             "valid_from": "2026-01-01",
                                             "valid_until": "2026-12-31"})
    assert bad.status_code == 422 and "must name its subject" in bad.text
    revoked = browser.post("/states/WA/orders/2026-CV-0142/revoke", {})
    assert revoked.status_code == 303
    with Registry(nation.data, "WA") as registry:
        assert registry.order("2026-CV-0142").revoked_by == "cora"
    kinds = [e["note"] for e in events(nation, EntryKind.COURT_ORDER)]
    assert kinds[-2:] == ["court order 2026-CV-0142 added for VTICE0900",
                          "court order 2026-CV-0142 revoked"]


def test_a_reviewer_cannot_add_a_court_order(browser: Browser) -> None:
    signed_in(browser, "rey")
    answer = browser.post("/states/WA/orders", {"ref": "R-1", "ori": ICE, "oln": "X1",
                                                "valid_from": "2026-01-01",
                                                "valid_until": "2026-12-31"})
    assert answer.status_code == 403


def test_notices_are_listed_and_marked_sent(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "nyla")
    page = browser.get("/states/NY/notices").text
    found = re.search(r'name="id" value="(NY-N\d+)"', page)
    assert found is not None
    answer = browser.post("/states/NY/notices/sent", {"id": found.group(1)})
    assert answer.status_code == 303
    assert "marked sent" in browser.get(answer.headers["location"]).text
    entry = events(nation, EntryKind.NOTICE, "NY")[-1]
    assert entry["action"] == "notice-sent" and entry["by"] == "nyla"
    again = browser.post("/states/NY/notices/sent", {"id": found.group(1)})
    assert again.status_code == 422 and "already sent" in again.text
    letters = browser.client.get("/states/NY/notices/letters?status=sent")
    assert letters.status_code == 200 and "<html" in letters.text.lower()


def test_audit_search_entry_proof_and_verification(browser: Browser) -> None:
    signed_in(browser, "aud")
    found = browser.get("/states/WA/audit?category=ICE&outcome=denied").text
    assert "VTICE0900" in found and "HSI" not in found.split("<tbody>")[1]
    seq = re.search(r'/states/WA/audit/(\d+)">', found)
    assert seq is not None
    entry = browser.get(f"/states/WA/audit/{seq.group(1)}").text
    assert "<strong>Verified</strong>" in entry
    assert browser.get("/states/WA/audit/verify").text.count("Not verified") == 1
    ran = browser.post("/states/WA/audit/verify", {})
    assert ran.status_code == 303
    status = browser.get("/states/WA/audit/verify").text
    assert "<strong>OK</strong>" in status
    every = browser.get("/states/WA/audit?kind=all&limit=1000").text
    assert "login" in every and "policy-change" in every


POSTS = ("/logout", "/states/WA/policy/edit", "/states/WA/policy/check",
         "/states/WA/policy/apply", "/states/WA/review/WA-0000000000", "/states/WA/orders",
         "/states/WA/orders/X/revoke", "/states/WA/attestations", "/states/WA/notices/sent",
         "/states/WA/notices/except", "/states/WA/audit/verify", "/users")


@pytest.mark.parametrize("path", POSTS)
def test_every_form_post_needs_the_sessions_token(browser: Browser, path: str) -> None:
    signed_in(browser, "cora")
    answer = browser.post(path, {"text": "x", "note": "n", "action": "release"}, csrf=False)
    assert answer.status_code == 403
    assert "nothing was done" in answer.text
    forged = browser.post(path, {"note": "n"} | {"csrf": "forged"}, csrf=False)
    assert forged.status_code == 403


@pytest.mark.parametrize("path", POSTS[1:])
def test_a_form_post_from_another_site_is_refused(browser: Browser, path: str) -> None:
    signed_in(browser, "cora")
    answer = browser.client.post(path, data={"csrf": browser.csrf, "note": "n"},
                                 headers={"origin": "https://evil.example",
                                          "accept": "text/html"})
    assert answer.status_code == 403


def test_a_form_post_without_a_session_is_refused_in_the_json_shape(browser: Browser) -> None:
    answer = browser.client.post("/states/WA/policy/apply", data={"text": "x"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "login-required"


def test_a_release_the_policy_in_force_now_denies_is_refused_and_stays_held(
        browser: Browser, nation: Nation) -> None:
    """The state blocked HSI after the request was held: the reviewer is told why nothing was
    sent, the refusal is audited, and the request can still be denied."""
    reference = nation.ask(HSI, n=3).reference
    assert reference is not None
    signed_in(browser, "rey")
    policy_store.apply(nation.data, "WA", preset("block-ice-hsi").text(), who="test")
    try:
        answer = browser.post(f"/states/WA/review/{reference}",
                              {"action": "release", "note": "court asked"})
        assert answer.status_code == 409, answer.text
        assert "policy in force now denies it" in answer.text
        assert "Nothing was sent; you can still deny it." in answer.text
        refusal = events(nation, EntryKind.REVIEW)[-1]
        assert (refusal["reference"], refusal["outcome"]) == (reference, "refused")
        with ReviewQueue(nation.data, "WA") as held:
            assert held.get(reference).status == "held"
        denied = browser.post(f"/states/WA/review/{reference}", {"action": "deny", "note": "no"})
        assert f"{reference} denied by rey" in denied.text
    finally:
        policy_store.apply(nation.data, "WA", preset("block-ice-review-hsi").text(), who="test")
