"""A coordinator at the dashboard in a real browser: signs in, changes the policy through
tests and what-if, watches a blocked query arrive as denied, releases a held request, opens a
report. Screenshots of the main pages are kept in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stateline.policy import store as policy_store
from stateline.policy.presets import preset

from ..web.conftest import ICE, PASSWORD, Nation, needs_briefing, needs_reports
from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(chromium: Any, server: str) -> Any:
    """One signed-in coordinator's tab, kept across the module's steps."""
    context = chromium.new_context(base_url=server, viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    tab.goto("/states/WA/policy")
    assert "/login?next=" in tab.url
    screenshot(tab, "login")
    tab.fill("input[name=name]", "cora")
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(re.compile(r"/states/WA/policy$"))
    yield tab
    context.close()


def test_signed_in_the_coordinator_sees_the_overview(page: Any) -> None:
    page.goto("/states/WA/")
    assert page.locator("h1").inner_text() == "WA overview"
    assert page.locator("figure.chart svg").count() == 2
    screenshot(page, "overview")


def test_a_policy_change_goes_through_what_if_and_apply(page: Any, nation: Nation) -> None:
    page.goto("/states/WA/policy")
    screenshot(page, "policy")
    page.click("text=Edit, test and apply")
    page.click("a[href$='preset=block-ice-hsi']")
    assert "forbid" in page.locator("#policy-text").input_value()
    page.click("text=Check, test and what-if")
    page.wait_for_selector("text=What-if: the last 365 days replayed")
    assert page.locator("h3", has_text="preset block-ice-hsi: its own cases").count() == 1
    assert page.locator("td.changed").count() > 0
    screenshot(page, "policy-what-if")
    page.fill("#apply input[name=note]", "HSI blocked after the legislature's letter")
    page.click("#apply button[type=submit]")
    page.wait_for_selector("text=applied")
    assert policy_store.current_text(nation.data, "WA") == preset("block-ice-hsi").text()
    assert policy_store.history(nation.data, "WA", "policy")[-1].who == "cora"


def test_a_blocked_query_appears_as_denied_in_live_traffic(page: Any, nation: Nation) -> None:
    page.goto("/states/WA/traffic")
    before = page.locator("#live-rows tr").first.get_attribute("data-seq")
    result = nation.ask(ICE, n=3)
    row = page.locator(f"#live-rows tr[data-seq='{result.seq}']")
    row.wait_for(timeout=10_000)  # the page fetches its rows every two seconds
    assert before != str(result.seq)
    assert "VTICE0900" in row.inner_text() and row.locator("td.outcome").inner_text() == "denied"
    screenshot(page, "live-traffic")


def test_a_held_request_is_released_with_a_note(page: Any, nation: Nation) -> None:
    """HSI has been blocked since the policy step above: the release is refused with the
    reason and the request stays held; once HSI is reviewable again it is released."""
    reference = nation.held[0]
    page.goto("/states/WA/review")
    screenshot(page, "review-queue")
    note = "Court order received by phone; paper to follow"

    def release() -> None:
        page.check(f"input[name=ref][value='{reference}']")
        page.fill("#review-form input[name=note]", note)
        page.click("#review-form button[value=release]")

    release()
    refused = page.locator(f"#review-results li[data-reference='{reference}']")
    refused.wait_for()
    assert "the policy in force now denies it" in refused.inner_text()
    assert "stays held" in refused.inner_text()
    screenshot(page, "review-refused")
    policy_store.apply(nation.data, "WA", preset("block-ice-review-hsi").text(), who="test")
    page.goto("/states/WA/review")
    release()
    page.wait_for_selector("text=1 of 1 request released by cora")
    screenshot(page, "review-released")


def test_an_audit_entry_shows_its_verified_inclusion_proof(page: Any) -> None:
    page.goto("/states/WA/audit?category=ICE")
    screenshot(page, "audit-search")
    page.locator("tbody a").first.click()
    assert page.locator("#proof-verdict strong").inner_text() == "Verified"
    screenshot(page, "audit-entry")


@needs_briefing
def test_the_briefing_opens_for_the_coordinator(page: Any) -> None:
    page.goto("/states/WA/reports")
    page.click("text=Leadership briefing")
    page.wait_for_selector("h1")
    assert "coordinator's briefing" in page.locator("h1").inner_text()
    screenshot(page, "briefing")


def test_court_orders_and_notices_pages(page: Any) -> None:
    page.goto("/states/WA/orders")
    assert page.locator("h1").inner_text().startswith("WA court orders")
    screenshot(page, "court-orders")
    page.goto("/states/WA/notices")
    screenshot(page, "notices")


@needs_reports
def test_a_report_opens_without_signing_in(chromium: Any, server: str) -> None:
    context = chromium.new_context(base_url=server)
    try:
        tab = context.new_page()
        tab.goto("/public/")
        assert tab.locator("h1").inner_text() == "Published reports"
        tab.locator("a[href^='/public/WA/']").first.click()
        tab.wait_for_selector("h1")
        assert "/login" not in tab.url
        assert tab.locator("h1").inner_text().startswith(
            "Requests for Washington driver and vehicle records")
        screenshot(tab, "public-report")
    finally:
        context.close()
