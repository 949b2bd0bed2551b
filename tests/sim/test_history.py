"""Synthetic history: a state switch's export that the protocol reads back, over the years the
demo covers, shaped by the calendar, in the live demo's federal shares, with Washington's
block of ICE splitting its outcomes and CBP asking more after it, and nothing else moving."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import mean

import pytest

from stateline.datadir import DataDir
from stateline.directory.categories import category
from stateline.directory.store import Directory
from stateline.dmv import open_store
from stateline.protocol import Answer, Message, Outcome, format_text, parse, read_answer, spec_for
from stateline.sim import history, scenario
from stateline.sim.history import (
    BLOCKS,
    Span,
    imported_through,
    span_for,
    transactions,
    write_and_import,
    write_history,
)
from stateline.sim.nation import NationError
from stateline.sim.traffic import STREAMS

TODAY = date(2026, 12, 7)
SPAN = Span(date(2024, 1, 1), date(2026, 12, 6))
BLOCK = BLOCKS["WA"]
ANSWERED = (Outcome.RELEASED, Outcome.PARTIAL, Outcome.NO_RECORD)


@dataclass(frozen=True, slots=True)
class Seen:
    """One transaction as the protocol reads it back."""

    at: datetime
    sender: str
    category: str
    query: Message
    reply: Message
    answer: Answer

    @property
    def day(self) -> date:
        return self.at.date()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("history") / "data")
    scenario.prepare(data, residents=300)
    return data


def read_back(data: DataDir, state: str, path: Path) -> list[Seen]:
    """Every transaction of a file, parsed by the protocol's own reader; each message must be
    exactly what `format_text` writes for it."""
    with Directory.open(data, create=False) as directory:
        agencies = {a.ori: a for a in directory.agencies()}
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and not text.endswith("\n\n")
    seen = []
    for block in text.rstrip("\n").split("\n\n"):
        lines = block.split("\n")
        query, reply = parse("\n".join(lines[:5])), parse("\n".join(lines[5:]))
        assert f"{format_text(query)}\n{format_text(reply)}" == block
        assert query.header is not None and reply.header is not None
        seen.append(Seen(query.header.sent.at, query.sender,
                         category(agencies[query.sender], state), query, reply,
                         read_answer(reply.body or "")))
    return seen


@pytest.fixture(scope="module")
def washington(demo: DataDir, tmp_path_factory: pytest.TempPathFactory) -> list[Seen]:
    written = write_history(demo, "WA", SPAN, tmp_path_factory.mktemp("files"))
    assert written.path.name == "WA-2024-01-01-to-2026-12-06.txt"
    seen = read_back(demo, "WA", written.path)
    assert len(seen) == written.requests
    return seen


@pytest.fixture(scope="module")
def oregon(demo: DataDir, tmp_path_factory: pytest.TempPathFactory) -> list[Seen]:
    written = write_history(demo, "OR", SPAN, tmp_path_factory.mktemp("files"))
    return read_back(demo, "OR", written.path)


def test_each_transaction_is_a_delivered_query_and_the_states_answer_to_it(
        washington: list[Seen]) -> None:
    for seen in washington:
        spec = spec_for(seen.query.key)
        assert spec is not None and spec.response == seen.reply.key
        assert seen.query.header is not None and seen.reply.header is not None
        assert seen.reply.header.receiving_ori == seen.sender
        assert seen.reply.sender == seen.query.header.receiving_ori
        assert seen.reply.header.sent.at == seen.at
        assert seen.answer.state == "WA" and seen.answer.group == spec.group
    times = [(s.at, s.query.header.sent.counter) for s in washington if s.query.header]
    assert times == sorted(times)


def test_it_covers_two_full_years_and_this_year_to_yesterday(washington: list[Seen]) -> None:
    assert span_for(TODAY) == SPAN
    days = {s.day for s in washington}
    assert min(days) == SPAN.first and max(days) == SPAN.last
    assert len(days) == SPAN.days  # not a day without requests


def test_a_span_picks_up_the_day_after_the_last_imported_and_ends_yesterday() -> None:
    assert span_for(TODAY, covered=date(2026, 11, 30)) == Span(date(2026, 12, 1),
                                                               date(2026, 12, 6))
    assert span_for(TODAY, covered=date(2026, 12, 6)) is None


def test_weekends_and_holidays_are_quieter_and_summer_busier(washington: list[Seen]) -> None:
    per_day = Counter(s.day for s in washington if s.day < BLOCK.day)
    weekdays = mean(n for d, n in per_day.items() if d.weekday() < 5
                    and d not in history.holidays(d.year))
    weekends = mean(n for d, n in per_day.items() if d.weekday() >= 5)
    assert weekends < 0.75 * weekdays
    july = mean(n for d, n in per_day.items() if d.month == 7)
    january = mean(n for d, n in per_day.items() if d.month == 1)
    assert july > 1.15 * january
    thanksgiving = [date(2024, 11, 28), date(2025, 11, 27)]
    assert thanksgiving == sorted(d for d in history.holidays(2024) | history.holidays(2025)
                                  if d.month == 11 and d.weekday() == 3)
    thursdays = [d + timedelta(weeks=k) for d in thanksgiving for k in (-3, -2, -1, 1, 2, 3)]
    assert mean(per_day[d] for d in thanksgiving) < 0.8 * mean(per_day[d] for d in thursdays)


def test_requests_come_in_the_states_working_day(washington: list[Seen]) -> None:
    hours = Counter((s.at.hour - 8) % 24 for s in washington)  # Pacific standard time
    assert sum(hours[h] for h in range(9, 17)) > 3 * sum(hours[h] for h in range(0, 8))


def test_federal_shares_are_the_live_demos(oregon: list[Seen]) -> None:
    """ICE 2% and HSI 4% of requests: the published 0.1% and 0.2% raised twentyfold, as the
    live demo raises them."""
    counts = Counter(s.category for s in oregon)
    total = sum(counts.values())
    shares = {s.name.removesuffix(" police"): s.share for s in STREAMS}
    assert shares["ICE"] == 0.02 and shares["HSI"] == 0.04
    present = sum(shares.values())
    for name, share in shares.items():
        p = share / present  # within four standard deviations of a binomial count
        assert abs(counts[name] / total - p) < 4 * math.sqrt(p * (1 - p) / total), name


def test_washingtons_block_splits_ices_outcomes_on_its_day(washington: list[Seen]) -> None:
    ice = [s for s in washington if s.category == "ICE"]
    before = [s.answer for s in ice if s.day < BLOCK.day]
    after = [s.answer for s in ice if s.day >= BLOCK.day]
    assert len(before) > 300 and len(after) > 150
    assert all(a.outcome in ANSWERED for a in before)
    assert all(a.outcome is Outcome.DENIED and a.policy == "block-ice" for a in after)
    cbp = [s.answer.outcome for s in washington if s.category == "CBP" and s.day >= BLOCK.day]
    assert cbp and all(outcome in ANSWERED for outcome in cbp)


def unmoved(seen: list[Seen], day: date, *, but: str = "") -> None:
    """Each category asks as often per week after the day as before, within four standard
    deviations of its counts (`but` excepted)."""
    first, last = min(s.day for s in seen), max(s.day for s in seen)
    weeks = ((day - first).days / 7, ((last - day).days + 1) / 7)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in seen:
        counts[s.category][s.day >= day] += 1
    for name, (before, after) in counts.items():
        if name != but:
            ratio = (after / weeks[1]) / (before / weeks[0])
            assert abs(ratio - 1) < 4 * math.sqrt(1 / before + 1 / after), name


def test_cbp_asks_washington_more_after_the_block_and_no_one_else_moves(
        washington: list[Seen], oregon: list[Seen]) -> None:
    cbp = Counter(s.day >= BLOCK.day for s in washington if s.category == "CBP")
    weeks = (BLOCK.day - SPAN.first).days / 7, ((SPAN.last - BLOCK.day).days + 1) / 7
    rise = (cbp[True] / weeks[1]) / (cbp[False] / weeks[0])
    assert rise == pytest.approx(BLOCK.rises["CBP"], rel=0.2)
    unmoved(washington, BLOCK.day, but="CBP")
    unmoved(oregon, BLOCK.day)


def test_answers_are_cut_by_the_states_policy_with_withheld_elements_marked(
        demo: DataDir, washington: list[Seen]) -> None:
    by = defaultdict(Counter)
    for s in washington:
        by[s.category][s.answer.outcome] += 1
    assert by["in-state"][Outcome.RELEASED] > 0 and by["in-state"][Outcome.PARTIAL] == 0
    assert by["out-of-state"][Outcome.PARTIAL] > 0 and by["out-of-state"][Outcome.RELEASED] > 0
    drivers = Counter(s.answer.outcome for s in washington
                      if s.category == "out-of-state" and s.query.key == "DQ")
    assert drivers[Outcome.PARTIAL] > 0 and drivers[Outcome.RELEASED] == 0  # SSN stays home
    assert by["USCIS"][Outcome.DENIED] == sum(by["USCIS"].values()) > 0  # not criminal justice
    assert all(n > 0 for n in (by["in-state"][Outcome.NO_RECORD],
                               by["out-of-state"][Outcome.NO_RECORD]))
    partial = next(s.answer for s in washington if s.answer.outcome is Outcome.PARTIAL
                   and s.query.key == "DQ" and s.query.value("IMQ") == "Y")
    assert {"ssn", "credential", "photo"} <= set(partial.records[0].withheld)
    store = open_store(demo.dmv_url("WA"))
    try:
        for s in [s for s in washington if s.answer.outcome is Outcome.RELEASED][:200]:
            record = s.answer.records[0]
            ids = [f.value for section in record.sections for f in section.fields
                   if f.prefix in ("OLN", "VIN")]
            assert ids and (store.by_oln(ids[0]) or store.by_vin(ids[0]))
    finally:
        store.close()


def test_the_same_seed_writes_the_same_days_whatever_the_span(demo: DataDir) -> None:
    week = Span(date(2025, 11, 17), date(2025, 11, 23))
    again = list(transactions(demo, "WA", week))
    assert list(transactions(demo, "WA", week)) == again
    one_day = Span(date(2025, 11, 19), date(2025, 11, 19))
    inside = [t for t in again if "11/19/2025" in t.split("\n")[2]]
    assert list(transactions(demo, "WA", one_day)) == inside
    assert list(transactions(demo, "WA", week, seed=2)) != again


def test_federal_holidays_fall_on_their_days() -> None:
    assert {date(2025, 1, 20), date(2025, 2, 17), date(2025, 5, 26), date(2025, 9, 1),
            date(2025, 10, 13), date(2025, 11, 27), date(2025, 7, 4)} <= history.holidays(2025)
    assert len(history.holidays(2026)) == 11


def test_a_state_outside_the_demo_has_no_history(demo: DataDir) -> None:
    with pytest.raises(NationError, match="not one of the demo's states"):
        next(transactions(demo, "UT", SPAN))


def test_a_span_is_imported_once_and_the_log_says_how_far_it_reaches(demo: DataDir) -> None:
    week = Span(date(2026, 11, 30), date(2026, 12, 6))
    assert imported_through(demo, "AZ") is None
    done = write_and_import(str(demo.root), "AZ", week, TODAY)
    assert done.requests == done.written.requests > 0
    assert done.written.path == demo.root / "history" / "AZ-2026-11-30-to-2026-12-06.txt"
    assert imported_through(demo, "AZ") == week.last
    assert span_for(TODAY, imported_through(demo, "AZ")) is None
    assert write_and_import(str(demo.root), "AZ", week, TODAY).requests == 0  # same bytes


def test_a_refused_history_names_its_state_and_adds_nothing(demo: DataDir) -> None:
    week = Span(date(2026, 11, 30), date(2026, 12, 6))
    with pytest.raises(NationError, match="TX's synthetic history was refused"):
        write_and_import(str(demo.root), "TX", week, date(2026, 12, 3))  # days still to come
    assert imported_through(demo, "TX") is None
