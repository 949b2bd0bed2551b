"""Proxy-query flags on six months of real gateway traffic: each rule finds the pattern it is
for, names the agency, and leaves the clean background alone; flags never change anything."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from stateline.audit import open_state_log
from stateline.datadir import DataDir
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.sim.nation import build_nation
from stateline.transparency.flags import RULES, FlagReport, Settings, find_flags, to_json

from .traffic import (
    OUT_OF_STATE,
    POLICE,
    SEARCHER,
    STATE,
    SURGE,
    WORDS,
    Story,
    fresh_log,
    six_months,
)

END = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataDir, Story]:
    data = DataDir(tmp_path_factory.mktemp("flags"))
    build_nation(data, (STATE, "OR"), residents=200, seed=5)
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, STATE, preset("block-ice-review-hsi").text(), who="test")
    fresh_log(data)
    return data, six_months(data, END)


def flagged(report: FlagReport) -> dict[str, set[str]]:
    return {r.rule.name: {f.ori for f in r.flags} for r in report.results}


def test_each_rule_flags_its_pattern_and_nothing_else(story: tuple[DataDir, Story]) -> None:
    data, told = story
    report = find_flags(data, STATE, until=END)
    assert flagged(report) == {
        "287g-partner": {told.partner},
        "after-federal-refusal": {POLICE, OUT_OF_STATE},
        "baseline-departure": {SURGE, SEARCHER},
        "immigration-words": {WORDS},
        "displaced-traffic": set(),
    }
    assert all(not r.note for r in report.results)


def test_flags_say_what_was_seen(story: tuple[DataDir, Story]) -> None:
    data, told = story
    flags = {(f.rule, f.ori): f for f in find_flags(data, STATE, until=END).flags}
    partner = flags["287g-partner", told.partner]
    assert partner.count == 3 and partner.detail == "3 requests, 3 answered"
    assert len(partner.examples) == 3 and partner.first_us < partner.last_us
    police = flags["after-federal-refusal", POLICE]
    assert police.count == 1 and "ICE was refused or held" in police.detail
    assert len(police.examples) == len(police.before) == 1
    assert police.examples[0] != police.before[0]
    assert "HSI" in flags["after-federal-refusal", OUT_OF_STATE].detail
    assert "241 queries in 30 days" in flags["baseline-departure", SURGE].detail
    searcher = flags["baseline-departure", SEARCHER].detail
    assert "name-only and partial-plate queries 50% of recent queries against 0%" in searcher
    assert "queries in 30 days" not in searcher
    assert flags["immigration-words", WORDS].detail == "ATN/ICE ERO"


def test_clean_traffic_is_not_flagged(story: tuple[DataDir, Story]) -> None:
    """Up to a month before the patterns begin there is only the background: a full baseline,
    and no flag at all."""
    data, _ = story
    report = find_flags(data, STATE, until=END - timedelta(days=31))
    assert report.flags == ()
    assert all(not r.note for r in report.results)


def test_a_short_log_says_it_cannot_compare(story: tuple[DataDir, Story]) -> None:
    data, _ = story
    report = find_flags(data, STATE, since=END - timedelta(days=60), until=END)
    baseline = next(r for r in report.results if r.rule.name == "baseline-departure")
    assert baseline.flags == () and "does not reach back the 120 days" in baseline.note


def test_settings_change_what_is_flagged(story: tuple[DataDir, Story]) -> None:
    data, _ = story
    near = find_flags(data, STATE, until=END, settings=Settings(within_days=1))
    assert flagged(near)["after-federal-refusal"] == set()
    wide = find_flags(data, STATE, until=END, settings=Settings(within_days=12))
    police = next(f for f in wide.flags if (f.rule, f.ori) == ("after-federal-refusal", POLICE))
    assert police.count == 2
    coded = find_flags(data, STATE, until=END,
                       settings=Settings(reason_codes=frozenset({"I"})))
    assert flagged(coded)["immigration-words"] == {WORDS, SURGE}
    calm = find_flags(data, STATE, until=END, settings=Settings(factor=10, mix_jump=0.6))
    assert flagged(calm)["baseline-departure"] == set()


def test_flags_change_nothing(story: tuple[DataDir, Story]) -> None:
    data, _ = story
    policy = data.policy(STATE).read_bytes()
    with open_state_log(data, STATE) as log:
        size = log.size
    find_flags(data, STATE, until=END)
    with open_state_log(data, STATE) as log:
        assert log.size == size
    assert data.policy(STATE).read_bytes() == policy


def test_every_rule_explains_itself_with_its_parameters(story: tuple[DataDir, Story]) -> None:
    data, _ = story
    settings = replace(Settings(), within_days=5)
    found = to_json(find_flags(data, STATE, until=END, settings=settings))
    assert [r["rule"] for r in found["rules"]] == [rule.name for rule in RULES]
    words = {r["rule"]: r["explanation"] for r in found["rules"]}
    assert "within 5 days" in words["after-federal-refusal"]
    assert "last 30 days" in words["baseline-departure"] and "3 times" in words[
        "baseline-departure"]
    assert all(len(text) > 80 for text in words.values())
    assert found["settings"]["reason_codes"] == []
