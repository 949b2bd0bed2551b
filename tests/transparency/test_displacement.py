"""The displaced-traffic rule on daily counts a test writes: a block found in imported history
or made by a policy change, a category that rises past the factor (flagged), one that stays
flat, and one whose rise is too small to count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from stateline.audit import AuditEntry, EntryKind, Rollup
from stateline.datadir import DataDir
from stateline.directory.store import Directory, Snapshot
from stateline.policy.presets import preset
from stateline.transparency.displacement import DisplacedTraffic, logged_blocks
from stateline.transparency.flag_rules import Block, Period, Settings
from stateline.transparency.recorded import micros

FIRST, BLOCK, LAST = date(2025, 1, 6), date(2025, 6, 4), date(2025, 12, 28)
"""Days of history; ICE denied from a Wednesday on."""


def days(first: date, last: date) -> Iterable[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def daily(category: str, per_week_before: int, per_week_after: int, kind: str = "imported",
          block: date = BLOCK, outcome_after: str = "released") -> list[Rollup]:
    """Requests each Monday (a week's worth), so weekly sums are exact."""
    found = []
    for day in days(FIRST, LAST):
        if day.weekday():
            continue
        after = day >= block
        n = per_week_after if after else per_week_before
        outcome = outcome_after if after else "released"
        if n:
            found.append(Rollup(day.isoformat(), kind, category, "driver", outcome, n, 0,
                                n if outcome == "released" else 0))
    return found


def ice_blocked(kind: str = "imported") -> list[Rollup]:
    """ICE answered, then denied from the block's week on (its Monday is before the block,
    so the denials start the Monday after)."""
    return daily("ICE", 14, 14, kind, block=BLOCK + timedelta(days=5), outcome_after="denied")


def rule(rollups: list[Rollup], settings: Settings | None = None,
         blocks: tuple[Block, ...] = ()) -> DisplacedTraffic:
    until = micros(datetime(2026, 1, 1, tzinfo=UTC)) or 0
    return DisplacedTraffic("displaced-traffic", settings or Settings(),
                            Period(until - 365 * 86_400_000_000, until, 0, tuple(rollups),
                                   blocks))


def test_a_rise_past_the_factor_is_flagged_with_its_weeks() -> None:
    found = rule([*ice_blocked(), *daily("CBP", 7, 21), *daily("HSI", 5, 5)])
    [flag] = found.flags()
    assert (flag.category, flag.name, flag.count) == ("CBP", "CBP after the ICE block", 168)
    assert "ICE blocked from 2025-06-09 (imported records: 0% of its requests denied" in \
        flag.detail
    assert "(3.0 times)" in flag.detail and flag.imported == 8 * 7 + 8 * 21
    [weekly] = found.weekly
    assert weekly.counts["HSI"] == (5,) * 16 and weekly.weeks[weekly.before] == date(2025, 6, 16)


def test_nothing_rising_is_not_flagged() -> None:
    found = rule([*ice_blocked(), *daily("CBP", 7, 8), *daily("HSI", 5, 4)])
    assert found.flags() == [] and len(found.weekly) == 1 and found.note == ""


def test_a_rise_below_the_minimum_count_is_not_flagged() -> None:
    rollups = [*ice_blocked(), *daily("USCIS", 1, 3)]
    assert rule(rollups).flags() == []  # three times as many, but 24 in eight weeks
    lower = rule(rollups, Settings(displaced_minimum=20)).flags()
    assert [f.category for f in lower] == ["USCIS"]


def test_the_factor_is_a_setting() -> None:
    rollups = [*ice_blocked(), *daily("CBP", 20, 35)]
    assert rule(rollups).flags() != []
    assert rule(rollups, Settings(displaced_factor=2.0)).flags() == []


def test_a_category_never_answered_has_no_block() -> None:
    always = daily("ICE", 14, 14, outcome_after="denied", block=FIRST)
    found = rule([*always, *daily("CBP", 7, 21)])
    assert found.weekly == () and found.flags() == []


def test_live_denials_are_left_to_policy_changes() -> None:
    """Live decisions refused from a day on are not a block found in history: the policy
    change that made them is."""
    found = rule([*ice_blocked("decision"), *daily("CBP", 7, 21, "decision")])
    assert found.weekly == ()
    logged = Block("ICE", BLOCK, "policy change", "policy version 0123456789ab")
    flagged = rule([*ice_blocked("decision"), *daily("CBP", 7, 21, "decision")],
                   blocks=(logged,))
    assert [f.category for f in flagged.flags()] == ["CBP"]
    assert "ICE blocked from 2025-06-04 (policy change: policy version" in \
        flagged.flags()[0].detail
    assert flagged.flags()[0].imported == 0


def test_a_block_too_recent_to_compare_says_so() -> None:
    late = Block("ICE", date(2025, 12, 17), "policy change", "policy version 0123456789ab")
    found = rule(daily("CBP", 7, 7), blocks=(late,))
    assert found.flags() == [] and "ICE on 2025-12-17" in found.note


def change(day: date, name: str | None, failed: bool = False) -> AuditEntry:
    body = {"text": preset(name).text() if name else "", "new_version": name or "",
            **({"failed": "did not compile"} if failed else {})}
    return AuditEntry(0, micros(day) or 0, EntryKind.POLICY_CHANGE, body, b"")


@pytest.fixture(scope="module")
def directory(small_nation: DataDir) -> Snapshot:
    with Directory.open(small_nation, create=False) as found:
        return found.snapshot()


def test_a_policy_change_that_refuses_a_category_is_a_block(directory: Snapshot) -> None:
    answered = [*daily("ICE", 14, 14, "decision"), *daily("HSI", 7, 7, "decision")]
    changes = [change(date(2025, 1, 1), "cj-baseline"), change(BLOCK, "block-ice")]
    blocks = logged_blocks(changes, directory, "WA", answered, Settings())
    assert [(b.category, b.day, b.how) for b in blocks] == [("ICE", BLOCK, "policy change")]
    assert "block-ice" in blocks[0].detail
    both = logged_blocks([*changes, change(date(2025, 8, 1), "block-ice-hsi")], directory,
                         "WA", answered, Settings())
    assert [(b.category, b.day) for b in both] == [("ICE", BLOCK), ("HSI", date(2025, 8, 1))]
    failed = logged_blocks([changes[0], change(BLOCK, "block-ice", failed=True)], directory,
                           "WA", answered, Settings())
    assert failed == ()
    unasked = logged_blocks(changes, directory, "WA", daily("HSI", 7, 7, "decision"),
                            Settings())
    assert unasked == ()  # ICE asked nothing before: no traffic to move


def test_a_first_policy_is_a_block_only_where_the_category_was_answered(
        directory: Snapshot) -> None:
    """Stateline installed in September blocking ICE, which the switch already refused
    from June: no new block. Had ICE been answered up to then, the install is the block. A
    second change refusing ICE again, after months of refusals, is no block either."""
    first = [change(date(2025, 9, 1), "block-ice")]
    assert logged_blocks(first, directory, "WA", ice_blocked(), Settings()) == ()
    answered = daily("ICE", 14, 14)
    assert [b.category for b in logged_blocks(first, directory, "WA", answered,
                                              Settings())] == ["ICE"]
    again = [change(date(2025, 9, 1), "cj-baseline"), change(date(2025, 9, 2), "block-ice")]
    assert logged_blocks(again, directory, "WA", ice_blocked(), Settings()) == ()
