"""The coordinator's first minute, without a browser: the landing sentence, what is blocked,
agency names beside ORIs, the review queue as a table with bulk-safe actions, audit entries as
labelled fields, and searches that count what they match."""

from __future__ import annotations

import re

from stateline.policy import store as policy_store
from stateline.policy.presets import preset

from .conftest import HSI, ICE, Browser, Nation, signed_in


def test_the_landing_page_leads_with_what_the_policy_does(browser: Browser) -> None:
    page = signed_in(browser, "cora").get("/states/WA/").text
    sentence = re.search(r'id="landing-sentence">([^<]+)<', page)
    assert sentence is not None
    assert sentence.group(1) == ("WA answers every agency except ICE and USCIS (refused) and "
                                 "HSI (held for review); photos, SSNs and credential types "
                                 "stay in WA.")
    blocks = page[page.index('id="blocks"'):]
    assert "ICE: every query denied (block-ice" in blocks
    assert "HSI: every query held for review" in blocks
    assert "this year (" in page and "<td>ICE</td>" in page


def test_an_all_states_account_lands_on_a_table_of_states(browser: Browser) -> None:
    browser.login("ally")
    home = browser.get("/").text
    assert 'id="states"' in home
    assert "NY answers every agency except USCIS (refused)" in home
    assert "WA answers every agency except ICE" in home


def test_agencies_are_named_beside_their_ori(browser: Browser) -> None:
    signed_in(browser, "cora")
    rows = browser.client.get("/states/WA/traffic/rows").text
    assert "HSI, New York Field Office" in rows and HSI in rows
    queue = browser.get("/states/WA/review").text
    assert "HSI, New York Field Office" in queue
    by_name = browser.get("/states/WA/audit?agency=homeland+security").text
    assert HSI in by_name and ICE not in by_name


def test_audit_search_counts_every_match_and_offers_choices(browser: Browser) -> None:
    signed_in(browser, "cora")
    page = browser.get("/states/WA/audit?limit=50").text
    count = re.search(r'id="found-count">([^<]+)<', page)
    assert count is not None and "matching entr" in count.group(1)
    assert '<select name="category">' in page and "<option>ICE</option>" in page
    assert "<option>DQ</option>" in page and "<option>denied</option>" in page


def test_an_audit_entry_reads_as_labelled_fields_with_its_reason(browser: Browser) -> None:
    signed_in(browser, "cora")
    search = browser.get("/states/WA/audit?agency=" + ICE + "&outcome=denied").text
    seq = re.search(r'/states/WA/audit/(\d+)">', search)
    assert seq is not None
    entry = browser.get(f"/states/WA/audit/{seq.group(1)}").text
    assert ('<tr data-label="agency"><th scope="row">agency</th><td>ICE Law Enforcement '
            f'Support Center (Williston) <small class="ori">{ICE}</small>') in entry
    reason = re.search(r'<tr data-label="block-ice"><th scope="row">block-ice</th><td>([^<]+)<',
                       entry)
    assert reason is not None and "does not answer" in reason.group(1)
    assert "court_order null" not in entry and "<summary>Raw JSON" in entry


def test_a_bulk_release_decides_each_request_again(browser: Browser, nation: Nation) -> None:
    """With HSI blocked, a release of two held requests is refused for each, and both stay
    held; with HSI reviewable again, both are released and each result is reported."""
    signed_in(browser, "cora")
    two = nation.held[1:3]
    policy_store.apply(nation.data, "WA", preset("block-ice-hsi").text(), who="test")
    try:
        refused = browser.post("/states/WA/review", {"ref": two, "action": "release",
                                                     "note": "paper order"})
        assert refused.status_code == 200
        assert refused.text.count('class="refused"') == 2 and "stays held" in refused.text
        assert all(ref in browser.get("/states/WA/review").text for ref in two)
    finally:
        policy_store.apply(nation.data, "WA", preset("block-ice-review-hsi").text(),
                           who="test")
    released = browser.post("/states/WA/review", {"ref": two, "action": "release",
                                                  "note": "paper order"})
    assert "2 of 2 requests released" in released.text
    queue = browser.get("/states/WA/review").text
    assert not any(f'id="{ref}"' in queue for ref in two)


def test_a_bulk_decision_needs_a_selection_and_a_note(browser: Browser) -> None:
    signed_in(browser, "cora")
    none = browser.post("/states/WA/review", {"action": "release", "note": "x"})
    assert none.status_code == 422 and "select at least one request" in none.text


def test_the_policy_page_puts_plain_words_before_the_matrix(browser: Browser) -> None:
    page = signed_in(browser, "vic").get("/states/WA/policy").text
    plain, matrix = page.index('id="plain-words"'), page.index('<table class="matrix">')
    assert plain < matrix
    assert page.count("ICE: every query denied") == 1  # said once, above the matrix
    assert "WA answers every agency except ICE" in page[plain:matrix]
