"""Report periods as people write them, and the tables tabulated from audit rollups."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.audit import Rollup
from stateline.directory.categories import CATEGORIES
from stateline.transparency.stats import (
    ANY,
    OTHER,
    OUTCOMES,
    Cell,
    PeriodError,
    parse_period,
    tabulate,
)


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
    ("2025-q4", date(2025, 10, 1), date(2025, 12, 31)),
    ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    (" 2025-01-15..2025-06-30 ", date(2025, 1, 15), date(2025, 6, 30)),
    ("2025-03-01..2025-03-01", date(2025, 3, 1), date(2025, 3, 1)),
])
def test_periods_people_write(text: str, first: date, last: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)
    assert period.label == text.strip().upper() if "q" in text.lower() else text.strip()


@pytest.mark.parametrize("text", ["", "25", "2025-13", "2025-Q5", "2025/03",
                                  "2025-02-30..2025-03-01", "2025-06-30..2025-01-01",
                                  "last year"])
def test_a_period_that_cannot_be_read_says_what_is_accepted(text: str) -> None:
    with pytest.raises(PeriodError, match=r"2025-Q1|ends before"):
        parse_period(text)


def test_months_cross_years_and_stop_at_a_given_day() -> None:
    period = parse_period("2024-11-15..2025-02-10")
    assert period.months() == ("2024-11", "2024-12", "2025-01", "2025-02")
    assert period.months(date(2024, 12, 31)) == ("2024-11", "2024-12")
    assert period.end_us - period.start_us == (30 - 15 + 1 + 31 + 31 + 10) * 86_400_000_000


def rollup(day: str, kind: str, category: str, group: str, outcome: str, entries: int,
           photos: int = 0, records: int = 0) -> Rollup:
    return Rollup(day, kind, category, group, outcome, entries, photos, records)


def test_requests_disclosures_reviews_photos_and_records_are_counted_apart() -> None:
    rows = [
        rollup("2025-01-03", "decision", "ICE", "driver", "denied", 12),
        rollup("2025-01-04", "decision", "ICE", "driver", "held", 3),
        rollup("2025-02-01", "review", "ICE", "driver", "released", 2, photos=1, records=2),
        rollup("2025-02-01", "decision", "in-state", "vehicle", "released", 40, records=41),
        rollup("2025-02-02", "decision", "in-state", "driver", "partial", 5, photos=5,
               records=5),
        rollup("2025-02-02", "policy-change", "", "", "", 1),
    ]
    tab = tabulate(rows, ("2025-01", "2025-02"))
    c = tab.counts
    assert c[Cell("requests", "ICE")] == 15
    assert c[Cell("requests", "ICE", outcome="held")] == 3
    assert c[Cell("requests")] == 60  # reviews and policy changes are not requests
    assert c[Cell("reviews", "ICE", outcome="released")] == 2
    assert c[Cell("disclosures", "ICE")] == 2  # after review
    assert c[Cell("disclosures", "in-state", "vehicle")] == 40
    assert c[Cell("disclosures")] == 47
    assert c[Cell("disclosures", "ICE", month="2025-02")] == 2
    assert c[Cell("photos")] == 6 and c[Cell("records", "in-state")] == 46
    assert c[Cell("requests", "HSI")] == 0  # every default category has its row
    table = tab.tables[0]
    assert table.rows == CATEGORIES and table.columns == OUTCOMES
    assert all(OTHER not in t.columns + t.rows for t in tab.tables)


def test_other_categories_and_groups_get_rows_only_when_they_occur() -> None:
    rows = [rollup("2025-05-05", "decision", "unknown", "", "error", 4),
            rollup("2025-05-05", "decision", "HSI", "history", "released", 9, records=9)]
    tab = tabulate(rows, ("2025-05",))
    assert tab.tables[0].rows == (*CATEGORIES, "unknown")
    assert tab.tables[1].columns[-1] == OTHER
    assert tab.counts[Cell("requests", "unknown", OTHER)] == 4


counts = st.integers(min_value=0, max_value=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["2025-01-01", "2025-02-11", "2025-03-30"]),
    st.sampled_from(["decision", "review"]),
    st.sampled_from(["ICE", "HSI", "in-state", "unknown"]),
    st.sampled_from(["driver", "vehicle", "history", ""]),
    st.sampled_from(OUTCOMES),
    counts, counts, counts), max_size=30))
def test_every_equation_a_reader_can_use_holds(rows: list[tuple[str, ...]]) -> None:
    """Totals are sums of their parts in every table, and shared margins agree: the
    equations handed to disclosure control are true of the published counts."""
    found: dict[tuple[str, ...], Rollup] = {}
    for day, kind, category, group, outcome, entries, photos, records in rows:
        found[(day, kind, category, group, outcome)] = rollup(
            str(day), str(kind), str(category), str(group), str(outcome), int(entries),
            int(photos), int(records))
    tab = tabulate(found.values(), ("2025-01", "2025-02", "2025-03"))
    for eq in tab.equations:
        assert tab.counts[eq.total] == sum(tab.counts[p] for p in eq.parts), eq
    keys = {k for t in tab.tables for k in t.places()}
    assert keys == set(tab.counts)
    assert all(k.measure in {"requests", "disclosures", "reviews", "photos", "records"}
               for k in keys)
    assert Cell("requests") in keys and Cell("requests", ANY, ANY, ANY, "2025-02") in keys
