"""Synthetic traffic: the same for a seed, in the shares the module promises, counted under the
categories a state would count it, and well-formed except where it means not to be."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import pytest

from stateline.datadir import DataDir
from stateline.directory.categories import category
from stateline.directory.store import Directory
from stateline.dmv import open_store
from stateline.protocol import Reject, read
from stateline.sim.traffic import MALFORMED_SHARE, STREAMS, Focus, Query, Setting, traffic

STATES = ("WA", "OR", "NY")
N = 20_000


@pytest.fixture(scope="module")
def setting(small_nation: DataDir) -> Setting:
    with Directory.open(small_nation, create=False) as directory:
        agencies = tuple(directory.agencies())
    samples = {}
    for state in STATES:
        store = open_store(small_nation.dmv_url(state))
        try:
            samples[state] = store.sample(100, seed=3)
        finally:
            store.close()
    focus = Focus("VTICE0900", "OR", samples["OR"][0], 0.002, "ICE (court order)")
    return Setting(STATES, agencies, samples, (focus,))


@pytest.fixture(scope="module")
def queries(setting: Setting) -> list[Query]:
    return list(islice(traffic(setting, seed=5, rate=200.0), N))


def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic(
        setting: Setting, queries: list[Query]) -> None:
    assert list(islice(traffic(setting, seed=5, rate=200.0), 500)) == queries[:500]
    other = list(islice(traffic(setting, seed=6, rate=200.0), 500))
    assert [q.text for q in other] != [q.text for q in queries[:500]]


def test_messages_arrive_at_the_asked_rate_in_time_order(queries: list[Query]) -> None:
    times = [q.at for q in queries]
    assert times == sorted(times)
    assert times[-1] == pytest.approx(N / 200.0, rel=0.03)


def test_each_stream_has_its_share(queries: list[Query]) -> None:
    seen = Counter(q.stream for q in queries)
    expected = {s.name: s.share for s in STREAMS} | {"malformed": MALFORMED_SHARE,
                                                      "ICE (court order)": 0.002}
    assert set(seen) == set(expected)
    for name, share in expected.items():
        # Three standard deviations of a binomial count, and at least 0.2 points.
        spread = max(3 * (share * (1 - share) / N) ** 0.5, 0.002)
        assert abs(seen[name] / N - share) < spread, name
    federal = sum(seen[n] for n in ("ICE", "HSI", "CBP", "USCIS", "DHS-other", "federal-other"))
    assert 0.08 < federal / N < 0.16
    assert seen["HSI"] > seen["ICE"]


def test_a_state_counts_each_query_under_the_category_its_stream_stands_for(
        small_nation: DataDir, queries: list[Query]) -> None:
    with Directory.open(small_nation, create=False) as directory:
        snapshot = directory.snapshot()
    counted = Counter()
    for q in queries:
        if q.malformed:
            continue
        message = read(q.text)
        if len(message.destinations) != 1 or message.destinations[0] not in STATES:
            continue
        agency = snapshot.get(q.sender)
        assert agency is not None and "D" in agency.permissions
        counted[(q.stream, category(agency, message.destinations[0]))] += 1
    streams = {stream for stream, _ in counted}
    for stream in streams:
        wanted = {"in-state police": "in-state", "out-of-state police": "out-of-state",
                  "ICE (court order)": "ICE"}.get(stream, stream)
        assert {c for s, c in counted if s == stream} == {wanted}, stream


def test_every_message_parses_but_the_malformed_ones_which_are_rejected(
        queries: list[Query]) -> None:
    codes = Counter()
    for q in queries:
        try:
            message = read(q.text)
        except Reject as reject:
            assert q.malformed, q.text
            codes[reject.code.value] += 1
            continue
        assert not q.malformed, q.text
        assert message.sender == q.sender
    assert sum(codes.values()) > 50
    assert len(codes) >= 3


def test_queries_mix_keys_and_reach_several_states_at_once(queries: list[Query]) -> None:
    keys = Counter(read(q.text).key for q in queries if not q.malformed)
    assert {"DQ", "DNQ", "KQ", "RQ", "RNQ", "RPQ", "DQG"} <= set(keys)
    assert keys["RQ"] + keys["DQ"] > 0.6 * sum(keys.values())
    multi = [q for q in queries if not q.malformed and ".NL." in q.text]
    assert multi


def test_the_focused_agency_asks_about_its_subject(setting: Setting,
                                                   queries: list[Query]) -> None:
    focus = setting.focus[0]
    asked = [q for q in queries if q.stream == focus.stream]
    assert asked
    assert all(q.sender == "VTICE0900" and q.text == f"DQ.VTICE0900.OR.TXT\n"
               f"OLN/{focus.subject.oln}" for q in asked)


def test_a_setting_without_records_for_a_state_is_refused(setting: Setting) -> None:
    bare = Setting(("WA", "TX"), setting.agencies, setting.samples)
    with pytest.raises(ValueError, match="TX"):
        next(traffic(bare))
