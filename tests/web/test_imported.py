"""The dashboard and the public site after a state imported its switch's records: the overview's
numbers and 90-day chart count them like live requests, the audit search finds them by when
they were made, an imported entry reads with where it came from, and the public reports for
those years say so."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import jsonschema_rs
import pytest

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.sim.nation import build_nation
from stateline.web import create_dashboard_app
from stateline.web.accounts import Accounts, Role

from ..transparency.history_log import File, daily, entries
from .conftest import PASSWORD, Browser, TestClient, needs_reports

TODAY = datetime.now(UTC).date()
RECENT = TODAY - timedelta(days=40)
"""The first day of the recent imported history: inside the overview's 90 days."""
FILE = File.named("WA-switch-export.txt")
ICE_2025 = daily(date(2025, 3, 1), date(2025, 3, 31), "ICE", 2)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """A nation whose WA log holds, besides its first policy change, only history: ICE and
    CBP requests of March 2025 and of the last forty days, imported today."""
    data = DataDir(tmp_path_factory.mktemp("web-imported"))
    build_nation(data, ("WA", "OR"), residents=100, seed=5)
    policy_store.apply(data, "WA", preset("block-ice").text(), who="setup")
    Accounts(data).add("cora", Role.COORDINATOR, "WA", PASSWORD)
    recent = [*daily(RECENT, TODAY - timedelta(days=1), "ICE", 1),
              *daily(RECENT, TODAY - timedelta(days=1), "CBP", 2, "denied")]
    with open_state_log(data, "WA") as log:  # as the import writes: signed when it closes
        log.append_many(entries([*ICE_2025, *recent], FILE, TODAY))
    return data


@pytest.fixture(scope="module")
def imported_on(imported: DataDir) -> date:
    """The day the history went into the log, as the log's own clock wrote it (a run that
    crosses midnight imports on a later day than TODAY)."""
    with open_state_log(imported, "WA") as log:
        written = log.entry(log.size - 1).time_us
    return datetime.fromtimestamp(written / 1e6, UTC).date()


@pytest.fixture
def browser(imported: DataDir) -> Iterator[Browser]:
    with TestClient(create_dashboard_app(imported)) as client:
        found = Browser(client)
        assert found.login("cora").status_code == 303
        yield found


def test_the_overview_counts_imported_requests_this_year(browser: Browser) -> None:
    page = browser.get("/states/WA/").text
    days = (TODAY - RECENT).days
    year = sum(1 for d in range(days) if (RECENT + timedelta(days=d)).year == TODAY.year)
    assert f'<td>ICE</td><td class="n">0</td><td class="n">0</td><td class="n">{year:,}</td>' \
           in page
    assert "no requests yet" not in page  # the 90-day chart draws them


def test_the_audit_search_finds_imported_requests_by_when_they_were_made(
        browser: Browser) -> None:
    page = browser.get("/states/WA/audit?since=2025-03-01&until=2025-03-31&limit=200").text
    assert f"{len(ICE_2025)} matching entries, newest first." in page
    assert "2025-03-31 09:00:00" in page and "<td>imported</td>" in page
    none = browser.get("/states/WA/audit?since=2025-04-01&until=2025-04-30").text
    assert "0 matching entries" in none


def test_an_imported_entry_reads_with_where_it_came_from(browser: Browser,
                                                        imported_on: date) -> None:
    page = browser.get("/states/WA/audit?since=2025-03-01&until=2025-03-01").text
    seqs = re.findall(r'href="/states/WA/audit/(\d+)"', page)
    assert len(seqs) == 2  # 08:00 and 09:00, newest first
    entry = browser.get(f"/states/WA/audit/{seqs[-1]}").text
    assert "a request made 2025-03-01 08:00:00 UTC, imported into the log at" in entry
    assert f"{FILE.name} line 1 ({FILE.sha256[:12]})" in entry
    assert FILE.sha256 in entry
    assert f"{imported_on}: the agency and its category as the directory had them" in entry
    assert "no policy in this log decided it" in entry
    assert "default-deny" not in entry
    assert 'id="proof-verdict"><strong>Verified</strong>' in entry


@needs_reports
def test_the_public_report_of_an_imported_year_says_where_it_came_from(
        browser: Browser, imported_on: date) -> None:
    said = (f"from the state switch&#39;s records, imported on {imported_on} "
            f"({FILE.sha256[:12]})")
    page = browser.client.get("/public/WA/2025")
    assert page.status_code == 200 and f"{len(ICE_2025)} requests {said}" in page.text
    document = browser.client.get("/public/WA/2025.json").json()
    schema = browser.client.get("/public/report.schema.json").json()
    jsonschema_rs.validator_for(schema).validate(document)
    assert document["sources"][0]["sha256"] == FILE.sha256
    assert "source_1_sha256" in browser.client.get("/public/WA/2025.csv").text
    listing = browser.client.get("/public/").text
    assert "2025" in listing


def test_the_briefing_says_it_was_built_partly_from_imported_records(
        browser: Browser) -> None:
    page = browser.get("/states/WA/briefing").text
    assert "Built partly from imported records" in page
    assert json.dumps(FILE.sha256[:12])[1:-1] in page


def test_live_traffic_does_not_list_imported_history(browser: Browser) -> None:
    rows = browser.get("/states/WA/traffic/rows").text
    assert "VTICE0900" not in rows and "No decisions logged yet." in rows
