"""Every page as each role meets it: what it shows, and what it refuses."""

from __future__ import annotations

import pytest

from .conftest import Browser, Nation, signed_in

PAGES = {
    "/states/WA/": "WA overview",
    "/states/WA/traffic": "WA live traffic",
    "/states/WA/policy": "WA sharing policy",
    "/states/WA/policy/history": "WA history",
    "/states/WA/policy/history/1": "WA change 1",
    "/states/WA/policy/edit": "Edit the WA policy",
    "/states/WA/review": "WA review queue",
    "/states/WA/orders": "WA court orders",
    "/states/WA/notices": "WA notices",
    "/states/WA/audit": "WA audit log",
    "/states/WA/audit/0": "WA audit entry 0",
    "/states/WA/audit/verify": "WA audit verification",
    "/states/WA/reports": "WA reports",
    "/users": "Accounts",
}
VIEWER_CANNOT = ("/states/WA/traffic", "/states/WA/policy/edit", "/states/WA/review",
                 "/states/WA/orders", "/states/WA/notices", "/states/WA/audit",
                 "/states/WA/audit/0", "/users")


@pytest.mark.parametrize("path", list(PAGES))
def test_a_coordinator_sees_every_page(browser: Browser, path: str) -> None:
    signed_in(browser, "cora")
    answer = browser.get(path)
    assert answer.status_code == 200, answer.text
    assert PAGES[path] in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("path", VIEWER_CANNOT)
def test_a_viewer_is_refused_pages_with_peoples_details(browser: Browser, path: str) -> None:
    signed_in(browser, "vic")
    answer = browser.get(path)
    assert answer.status_code == 403
    assert "Your account (viewer) can read the overview, the policy and reports but cannot" \
        in answer.text
    assert '<nav aria-label="Pages">' in answer.text  # the navigation stays


def test_a_refusal_says_in_plain_words_what_the_account_can_and_cannot_do(
        browser: Browser) -> None:
    signed_in(browser, "aud")
    answer = browser.get("/states/WA/policy/edit")
    assert answer.status_code == 403
    assert "Your account (auditor) can read the audit log but cannot change policy." \
        in answer.text
    assert "a auditor" not in answer.text
    assert '<nav aria-label="Pages">' in answer.text and 'href="/states/WA/audit"' in answer.text


def test_a_viewer_reads_the_overview_policy_and_reports(browser: Browser) -> None:
    signed_in(browser, "vic")
    for path in ("/states/WA/", "/states/WA/policy", "/states/WA/reports"):
        assert browser.get(path).status_code == 200
    overview = browser.get("/states/WA/").text
    assert "review queue</a>" not in overview  # no link to what a viewer cannot open


def test_an_account_sees_only_its_own_state(browser: Browser) -> None:
    signed_in(browser, "cora")
    answer = browser.get("/states/NY/")
    assert answer.status_code == 403
    assert "answers for WA, not NY" in answer.text
    assert 'href="/states/WA/policy"' in answer.text  # the navigation of its own state
    assert browser.get("/states/ZZ/").status_code == 404


def test_an_account_for_all_states_picks_one(browser: Browser) -> None:
    browser.login("ally")
    home = browser.get("/")
    assert 'href="/states/NY/"' in home.text and 'href="/states/WA/"' in home.text
    assert browser.get("/states/NY/notices").status_code == 200


def test_the_overview_charts_requests_by_outcome_and_category(browser: Browser) -> None:
    signed_in(browser, "cora")
    page = browser.get("/states/WA/").text
    assert page.count("<svg") == 2
    assert "requests by outcome" in page and "outcomes by requester category" in page
    assert "3</strong> held requests waiting for review" in page or \
        "held request" in page
    assert "<td>ICE</td>" in page and "<td>HSI</td>" in page


def test_the_policy_page_explains_the_policy_and_shows_the_matrix(browser: Browser) -> None:
    signed_in(browser, "vic")
    page = browser.get("/states/WA/policy").text
    assert "block-ice" in page and "Who can see what" in page
    assert "ICE: every query denied" in page
    assert 'class="cell denied"' in page and 'class="cell released"' in page
    assert "Edit, test and apply" not in page  # a viewer gets no edit link


def test_the_history_diff_shows_what_a_change_did(browser: Browser) -> None:
    signed_in(browser, "vic")
    changes = browser.get("/states/WA/policy/history").text
    assert "setup" in changes and "nation init" in changes
    diff = browser.get("/states/WA/policy/history/2").text
    assert '<span class="add">+' in diff and "review-hsi" in diff


def test_live_traffic_lists_the_latest_decisions(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "rey")
    page = browser.get("/states/WA/traffic").text
    assert 'data-refresh="/states/WA/traffic/rows"' in page
    rows = browser.client.get("/states/WA/traffic/rows").text
    assert "VTICE0900" in rows and "denied" in rows and "held" in rows
    assert rows.lstrip().startswith("<tr")


def test_a_missing_change_or_entry_is_a_404(browser: Browser) -> None:
    signed_in(browser, "cora")
    assert browser.get("/states/WA/policy/history/999").status_code == 404
    assert browser.get("/states/WA/audit/99999").status_code == 404
    missing = browser.client.get("/states/WA/audit/99999")
    assert missing.json() == {"error": {"code": "not-found", "text": "no entry 99999"}}


def test_the_dashboard_is_not_in_the_openapi_document(browser: Browser) -> None:
    paths = browser.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/states", "/login", "/public"))]
