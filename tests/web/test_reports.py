"""The state's published reports open to anyone without signing in; staff also get the
briefing; overview charts are the same bytes for the same counts."""

from __future__ import annotations

from stateline.audit import Rollup
from stateline.web import charts

from .conftest import Browser, needs_briefing, needs_reports, signed_in


@needs_reports
def test_published_reports_need_no_login(browser: Browser) -> None:
    index = browser.get("/public/")
    assert index.status_code == 200
    assert 'href="/public/WA/' in index.text
    year = index.text.split('href="/public/WA/')[1].split('"')[0]
    report = browser.client.get(f"/public/WA/{year}")
    assert report.status_code == 200
    assert f"Requests for Washington driver and vehicle records, {year}" in report.text
    assert browser.client.get("/public/WA/1999").status_code == 404
    assert browser.client.get("/public/ZZ/2026").status_code == 404


@needs_reports
@needs_briefing
def test_staff_get_the_reports_list_and_the_briefing(browser: Browser) -> None:
    signed_in(browser, "vic")
    reports = browser.get("/states/WA/reports")
    assert "Leadership briefing" in reports.text and 'href="/public/WA/' in reports.text
    briefing = browser.get("/states/WA/briefing")
    assert briefing.status_code == 200
    assert "coordinator's briefing on driver and vehicle data sharing" in briefing.text
    assert '<a href="/states/WA/">&larr; Back to WA&#39;s dashboard</a>' in briefing.text or \
        '<a href="/states/WA/">&larr; Back to WA\'s dashboard</a>' in briefing.text


def test_the_briefing_needs_a_login(browser: Browser) -> None:
    assert browser.client.get("/states/WA/briefing").status_code == 401


def test_charts_are_the_same_bytes_for_the_same_counts() -> None:
    rows = [Rollup("2026-03-01", "decision", "ICE", "driver", "denied", 12, 0, 0),
            Rollup("2026-03-02", "decision", "in-state", "driver", "released", 40, 3, 40),
            Rollup("2026-03-02", "login", "", "", "ok", 5, 0, 0)]
    one = charts.volume_over_time(rows, "t"), charts.outcomes_by_category(rows, "t")
    two = charts.volume_over_time(rows, "t"), charts.outcomes_by_category(rows, "t")
    assert one == two
    assert one[0].startswith("<svg") and "<script" not in one[0]
    assert "in-state" in one[1] and ">login<" not in one[1]  # sign-ins are not requests
