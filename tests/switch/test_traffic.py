"""The traffic log: found by key, sender, destination, message id, time range and text;
older than the retention, gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.switch.traffic import Entry, Search, TrafficLog

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENTRIES = [
    Entry(NOW - timedelta(days=400), "in", "M1", "DQ", "ORPPD0000", "WA",
          "DQ.ORPPD0000.WA.TXT\nOLN/OLDONE"),
    Entry(NOW - timedelta(days=2), "in", "M2", "DQ", "ORPPD0000", "WA OR",
          "DQ.ORPPD0000.WA.OR.TXT\nNAM/DOE,JANE.DOB/19800101"),
    Entry(NOW - timedelta(days=2), "out", "M2", "DQ", "ORPPD0000", "OR", "DQ.ORPPD0000 ..."),
    Entry(NOW - timedelta(days=1), "out", "M2", "DR", "WAOLN0000", "ORPPD0000",
          "DR.WAOLN0000\n...\nWA DRIVER RESPONSE: RELEASED\nNAM/DOE,JANE"),
    Entry(NOW - timedelta(hours=1), "in", "M3", "RQ", "VTICE0900", "NL",
          "RQ.VTICE0900.NL.TXT\nVIN/1FT2K8NV9KB000430"),
]


@pytest.fixture
def log(tmp_path: Path) -> TrafficLog:
    traffic = TrafficLog(DataDir(tmp_path))
    traffic.add(ENTRIES)
    return traffic


@pytest.mark.parametrize(("search", "ids"), [
    (Search(), ["M3", "M2", "M2", "M2", "M1"]),
    (Search(key="dq"), ["M2", "M2", "M1"]),
    (Search(sender="vtice0900"), ["M3"]),
    (Search(destination="OR"), ["M2", "M2"]),
    (Search(destination="ORPPD0000"), ["M2"]),
    (Search(message_id="M2"), ["M2", "M2", "M2"]),
    (Search(since=NOW - timedelta(days=2, minutes=1), until=NOW - timedelta(hours=2)),
     ["M2", "M2", "M2"]),
    (Search(text="doe,jane"), ["M2", "M2"]),
    (Search(text="doe,jane", key="DR"), ["M2"]),
    (Search(limit=2), ["M3", "M2"]),
    (Search(text="NOBODY"), []),
])
def test_search_filters_newest_first(log: TrafficLog, search: Search, ids: list[str]) -> None:
    try:
        assert [e.message_id for e in log.search(search)] == ids
    finally:
        log.close()


def test_entries_are_read_back_as_written(log: TrafficLog) -> None:
    try:
        [found] = log.search(Search(message_id="M3"))
    finally:
        log.close()
    assert found.text == ENTRIES[-1].text and found.time == ENTRIES[-1].time.replace(tzinfo=None)
    assert found.to_json()["destination"] == "NL"


def test_entries_past_the_retention_are_purged(log: TrafficLog) -> None:
    try:
        assert log.purge(365, now=NOW) == 1
        assert log.purge(365, now=NOW) == 0
        assert "M1" not in [e.message_id for e in log.search(Search())]
        assert log.purge(1, now=NOW) == 2  # exactly one day old is kept
    finally:
        log.close()
