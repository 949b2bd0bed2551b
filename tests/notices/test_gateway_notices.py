"""The gateway queues notices itself once an entry is durable, and catches up after a crash."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from stateline.gateway import Gateway
from stateline.notices import NoticeBook
from stateline.notices import book as book_module
from stateline.protocol import read

from .conftest import HSI, ICE, Nation


def test_the_gateway_queues_a_notice_for_an_ice_query(nation: Nation) -> None:
    person = nation.samples[0]
    with Gateway(nation.data, "NY") as gateway:
        result = gateway.handle(read(f"DQ.{ICE}.NY.TXT\nOLN/{person.oln}"))
        gateway.handle(read(f"DQ.{nation.police}.NY.TXT\nOLN/{person.oln}"))
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
    assert (notice.seq, notice.person.oln, notice.category) == (result.seq, person.oln, "ICE")


def test_entries_whose_notices_were_lost_are_put_through_at_the_next_start(
    nation: Nation,
) -> None:
    person = nation.samples[0]
    with Gateway(nation.data, "NY") as gateway:
        gateway.notices.duty = None  # as if the process died before queueing
        result = gateway.handle(read(f"DQ.{ICE}.NY.TXT\nOLN/{person.oln}"))
    with NoticeBook(nation.data, "NY") as book:
        assert book.notices("all") == []
    with Gateway(nation.data, "NY"):
        pass
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
        examined = book.examined()
        assert examined is not None and examined >= result.seq
    assert notice.seq == result.seq
    with Gateway(nation.data, "NY"):
        pass  # a second start queues nothing twice
    with NoticeBook(nation.data, "NY") as book:
        assert len(book.notices("all")) == 1


def test_a_state_without_a_duty_keeps_no_progress(nation: Nation) -> None:
    nation.data.config("NY").write_text(nation.data.config("NY").read_text().split("[notices]")[0])
    with Gateway(nation.data, "NY") as gateway:
        gateway.handle(read(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}"))
    with NoticeBook(nation.data, "NY") as book:
        assert book.duty is None and book.examined() is None and book.notices("all") == []


def _lock_state_db(nation: Nation) -> sqlite3.Connection:
    """Another writer on state.db, as a dashboard's review holds it."""
    blocker = sqlite3.connect(nation.data.state_db("NY"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def test_a_notice_that_met_a_locked_database_is_queued_once_the_lock_is_gone(
    nation: Nation, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book_module, "LOCK_WAIT_SECONDS", 0.05)
    first, second = nation.samples[0], nation.samples[1]
    with Gateway(nation.data, "NY") as gateway:
        blocker = _lock_state_db(nation)
        try:
            missed = gateway.handle(read(f"DQ.{ICE}.NY.TXT\nOLN/{first.oln}"))
        finally:
            blocker.rollback()
            blocker.close()
        gateway.handle(read(f"DQ.{nation.police}.NY.TXT\nOLN/{second.oln}"))
        with NoticeBook(nation.data, "NY") as book:
            (notice,) = book.notices("all")  # queued by the next batch, not the next start
        requested = gateway.log.entry(missed.seq).body["time"]
    assert (notice.seq, notice.person.oln) == (missed.seq, first.oln)
    assert notice.requested == datetime.fromisoformat(str(requested))


def test_a_notice_owed_when_the_gateway_stops_is_queued_as_it_closes(
    nation: Nation, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(book_module, "LOCK_WAIT_SECONDS", 0.05)
    person = nation.samples[0]
    with Gateway(nation.data, "NY") as gateway:
        blocker = _lock_state_db(nation)
        try:
            missed = gateway.handle(read(f"DQ.{ICE}.NY.TXT\nOLN/{person.oln}"))
        finally:
            blocker.rollback()
            blocker.close()
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
    assert notice.seq == missed.seq


def test_a_released_request_is_noticed_with_the_time_it_was_asked(nation: Nation) -> None:
    """A held name query identifies no one until its release; the notice the release queues
    is still dated, and its deadline counted, from the request, not from the release."""
    nation.use("block-ice-review-hsi")
    person = nation.samples[0]
    with Gateway(nation.data, "NY") as gateway:
        gateway.policy.check()
        held = gateway.handle(read(f"DQ.{HSI}.NY.TXT\nNAM/{person.name}.DOB/{person.dob}"))
        assert held.reference is not None
        asked = datetime.fromisoformat(str(gateway.log.entry(held.seq).body["time"]))
        gateway.release(held.reference, "tester")
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
    assert notice.requested == asked


def test_a_release_whose_hold_left_no_trace_is_noticed_with_the_held_time(
    nation: Nation,
) -> None:
    """The hold's notice was never queued (its process died first, say); the release's notice
    is still dated from when the request was held, not from the release."""
    nation.use("block-ice-review-hsi")
    person = nation.samples[1]
    with Gateway(nation.data, "NY") as gateway:
        gateway.policy.check()
        gateway.notices.duty, duty = None, gateway.notices.duty
        held = gateway.handle(read(f"DQ.{HSI}.NY.TXT\nOLN/{person.oln}"))
        gateway.notices.mark_examined(held.seq)
        gateway.notices.duty = duty
        assert held.reference is not None
        filed = gateway.queue.get(held.reference).time
        gateway.release(held.reference, "tester")
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
    assert notice.requested == filed
