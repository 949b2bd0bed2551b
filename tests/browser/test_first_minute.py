"""A coordinator's first minute in a real browser, at 1366x768 and at a 390 px phone width:
sign in, the landing sentence, the overview, the policy in plain words, a held request released
from the table, an audit entry read as fields. Every page visited must not scroll sideways,
and chart labels must stay at least 11 px. Screenshots are kept in
test-artifacts/screenshots/first-minute-<width>-<page>.png."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ..web.conftest import PASSWORD, Nation
from .conftest import screenshot

pytestmark = pytest.mark.browser

WIDTHS = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
SMALLEST_LABEL_PX = 11
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
LABELS = """() => Array.from(document.querySelectorAll('figure.chart svg')).flatMap(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Array.from(svg.querySelectorAll('text')).map(
    t => parseFloat(getComputedStyle(t).fontSize) * scale);
})"""


def fits(tab: Any, name: str, width: str) -> None:
    """The page does not scroll sideways; its screenshot is kept."""
    screenshot(tab, f"first-minute-{width}-{name}")
    extra = tab.evaluate(OVERFLOW)
    assert extra <= 0, f"{tab.url} scrolls sideways by {extra} px at {width} px"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_coordinators_first_minute(chromium: Any, server: str, nation: Nation,
                                     width: str) -> None:
    context = chromium.new_context(base_url=server, viewport=WIDTHS[width])
    try:
        tab = context.new_page()
        tab.on("dialog", lambda dialog: dialog.accept())
        tab.goto("/")
        fits(tab, "login", width)
        tab.fill("input[name=name]", "cora")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("button[type=submit]")
        tab.wait_for_url(re.compile(r"/states/WA/$"))

        sentence = tab.locator("#landing-sentence").inner_text()
        assert sentence.startswith("WA answers every agency except ICE")
        assert "photos, SSNs and credential types stay in WA" in sentence
        assert "ICE: every query denied" in tab.locator("#blocks").inner_text()
        labels = tab.evaluate(LABELS)
        assert labels and min(labels) >= SMALLEST_LABEL_PX, min(labels or [0])
        fits(tab, "overview", width)

        tab.click("header nav >> text=Policy")
        plain = tab.locator("#plain-words")
        assert plain.bounding_box()["y"] < tab.locator("table.matrix").bounding_box()["y"]
        fits(tab, "policy", width)

        tab.goto("/states/WA/traffic")
        assert "HSI, New York Field Office" in tab.locator("#live-rows").inner_text()
        fits(tab, "traffic", width)

        reference = next(r for r in nation.held if tab.goto("/states/WA/review") and
                         tab.locator(f"tr[id='{r}']").count())
        fits(tab, "review", width)
        tab.check(f"input[name=ref][value='{reference}']")
        tab.fill("#review-form input[name=note]", "Court order received; paper to follow")
        tab.click("#review-form button[value=release]")
        result = tab.locator(f"#review-results li[data-reference='{reference}']")
        result.wait_for()
        assert "released" in result.inner_text()
        fits(tab, "review-released", width)

        result.locator("a").click()
        tab.wait_for_selector("#entry-fields")
        fields = tab.locator("#entry-fields")
        # The entry names the sender as the directory had it when the request was decided.
        assert "Homeland Security Investigations, New York Field Office" in \
            fields.locator("tr[data-label=agency]").inner_text()
        assert fields.locator("tr[data-label=outcome] td").inner_text() in ("released", "partial")
        assert not tab.locator("details.raw").get_attribute("open")
        fits(tab, "audit-entry", width)

        tab.goto("/states/WA/audit")
        assert "matching entr" in tab.locator("#found-count").inner_text()
        fits(tab, "audit-search", width)
        tab.goto("/states/WA/policy/edit")
        fits(tab, "policy-edit", width)
        tab.goto("/public/")
        fits(tab, "public", width)
    finally:
        context.close()
