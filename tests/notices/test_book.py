"""The notice book fed by real gateway entries: who gets a notice, with which address and
deadline, what happens on replays and reviews, and how sending and exceptions are audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from stateline.audit import EntryKind, open_state_log
from stateline.dmv import open_store
from stateline.gateway import Gateway
from stateline.notices import NoticeBook, NoticeDuty, NoticeError
from stateline.protocol import read
from stateline.sim.nation import state_config

from .conftest import HSI, ICE, Nation


def test_an_ice_query_queues_one_notice_to_the_person_on_record(nation: Nation) -> None:
    person = nation.samples[0]
    sent = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{person.oln}")
    assert sent.body["outcome"] in ("released", "partial")
    (notice,) = nation.queue(sent)
    store = open_store(nation.data.dmv_url("NY"))
    try:
        (hit,) = store.by_oln(person.oln)
    finally:
        store.close()
    address = {f.prefix: f.value for f in hit.elements["address"]}
    assert notice.person.oln == person.oln
    assert notice.person.name == person.name
    assert (notice.person.street, notice.person.city, notice.person.state, notice.person.zip) \
        == (address["ADR"], address["CTY"], address["STA"], address["ZIP"])
    assert notice.agency == sent.body["sender"]["name"]
    assert notice.category == "ICE"
    assert notice.record == "driver"
    assert notice.status == "due" and notice.seq == sent.seq
    assert notice.id == "NY-N000001"
    released = set(sent.body["released"])
    assert notice.disclosed and set(notice.disclosed) <= released
    assert "photo" not in notice.disclosed  # no photo was asked for, so none left
    requested = datetime.fromisoformat(sent.body["time"])
    local_day = requested.astimezone(ZoneInfo("America/New_York")).date()
    assert notice.deadline == local_day + timedelta(days=3)


def test_in_state_police_queries_queue_nothing(nation: Nation) -> None:
    sent = nation.send(f"DQ.{nation.police}.NY.TXT\nOLN/{nation.samples[0].oln}")
    assert nation.queue(sent) == []
    with NoticeBook(nation.data, "NY") as book:
        assert book.notices("all") == [] and book.gaps() == []


def test_a_vehicle_query_notifies_the_registered_owner(nation: Nation) -> None:
    owner = nation.samples[1]
    by_vin = nation.queue(nation.send(f"RQ.{ICE}.NY.TXT\nVIN/{owner.vin}"))
    by_plate = nation.queue(nation.send(
        f"RQ.{ICE}.NY.TXT\nLIC/{owner.plate}.LIY/{owner.plate_year}.LIT/{owner.plate_type}"))
    for notices in (by_vin, by_plate):
        (notice,) = notices
        assert notice.person.oln == owner.oln
        assert notice.record == "vehicle"
        assert notice.disclosed == ("vehicle", "registration")


def test_a_denied_request_still_notifies_a_person_it_names_by_licence_number(
        nation: Nation) -> None:
    nation.use("block-ice")
    person = nation.samples[2]
    sent = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{person.oln}")
    assert sent.body["outcome"] == "denied"
    (notice,) = nation.queue(sent)
    assert notice.person.oln == person.oln
    assert notice.outcome == "denied" and notice.disclosed == ()


def test_a_denied_name_query_identifies_nobody_and_is_recorded_as_a_gap(
        nation: Nation) -> None:
    nation.use("block-ice")
    person = nation.samples[2]
    by_name = nation.send(f"DQ.{ICE}.NY.TXT\nNAM/{person.name}.DOB/{person.dob}")
    unknown = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/NY000000000")
    assert nation.queue(by_name) == [] and nation.queue(unknown) == []
    with NoticeBook(nation.data, "NY") as book:
        gaps = book.gaps()
        assert book.notices("all") == []
    assert [g.seq for g in gaps] == [by_name.seq, unknown.seq]
    assert "no person could be identified" in gaps[0].why
    assert "OLN/NY000000000 is not on file" in gaps[1].why


def test_replaying_an_entry_queues_nothing_twice(nation: Nation) -> None:
    sent = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}")
    assert len(nation.queue(sent)) == 1
    assert nation.queue(sent) == []
    with NoticeBook(nation.data, "NY") as book:
        assert len(book.notices("all")) == 1


def test_one_notice_per_person_however_many_of_their_records_left(nation: Nation) -> None:
    store = open_store(nation.data.dmv_url("NY"))
    try:
        owners = [s for s in store.sample(60, seed=3)
                  if len(store.by_owner(s.name, date(int(s.dob[:4]), int(s.dob[4:6]),
                                                     int(s.dob[6:])))) > 1]
    finally:
        store.close()
    assert owners, "the seeded nation has people with more than one vehicle"
    owner = owners[0]
    sent = nation.send(f"RNQ.{ICE}.NY.TXT\nNAM/{owner.name}.DOB/{owner.dob}")
    assert len(sent.body["records"]) > 1
    (notice,) = nation.queue(sent)
    assert notice.person.oln == owner.oln


def test_a_held_request_keeps_one_notice_that_learns_what_review_released(
        nation: Nation) -> None:
    nation.use("block-ice-review-hsi")
    person = nation.samples[3]
    held = nation.send(f"DQ.{HSI}.NY.TXT\nOLN/{person.oln}")
    assert held.body["outcome"] == "held"
    (notice,) = nation.queue(held)
    reference = held.body["reference"]
    assert notice.reference == reference and notice.disclosed == ()
    with NoticeBook(nation.data, "NY") as book:
        assert [n.id for n in book.unsent(reference)] == [notice.id]
    with Gateway(nation.data, "NY") as gateway:
        result = gateway.release(reference, "tester")
        review = dict(gateway.log.entry(result.seq).body)
    assert nation.queue(type(held)(result.seq, review)) == []
    with NoticeBook(nation.data, "NY") as book:
        (after,) = book.notices("all")
    assert after.id == notice.id
    assert after.outcome == review["outcome"] and after.disclosed
    assert after.deadline == notice.deadline  # still counted from the request


def test_a_review_tells_the_notice_what_it_released_as_it_happens(nation: Nation) -> None:
    """The gateway queues notices itself: the hold's notice at once, and the review's outcome
    on it as soon as the review is audited, not at the gateway's next start."""
    nation.use("block-ice-review-hsi")
    person = nation.samples[2]
    with Gateway(nation.data, "NY") as gateway:
        gateway.policy.check()
        held = gateway.handle(read(f"DQ.{HSI}.NY.TXT\nOLN/{person.oln}"))
        assert held.reference is not None
        with NoticeBook(nation.data, "NY") as book:
            (notice,) = book.unsent(held.reference)
        assert notice.outcome == "held"
        result = gateway.release(held.reference, "tester", "checked")
        with NoticeBook(nation.data, "NY") as book:
            (after,) = book.unsent(held.reference)
    assert after.id == notice.id
    assert after.outcome == result.outcome.value == "partial" and after.disclosed


def test_without_a_notices_section_nothing_is_queued(nation: Nation) -> None:
    nation.data.config("NY").write_text(state_config("NY"))
    sent = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}")
    assert nation.queue(sent) == []


class BrokenStore:
    def by_oln(self, oln: str, *, photo: bool = False) -> list[Any]:
        raise RuntimeError("disk on fire")


def test_a_failed_lookup_is_recorded_not_lost(nation: Nation) -> None:
    sent = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}")
    with NoticeBook(nation.data, "NY") as book:
        assert book.queue_for(sent.seq, sent.body, BrokenStore(),  # type: ignore[arg-type]
                              datetime.now(UTC)) == []
        (gap,) = book.gaps()
    assert "disk on fire" in gap.why and gap.category == "ICE"


def test_overdue_is_a_due_notice_past_its_deadline(nation: Nation) -> None:
    old = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}")
    new = nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[1].oln}")
    (late,) = nation.queue(old, days_ago=10)
    (fresh,) = nation.queue(new)
    with NoticeBook(nation.data, "NY") as book:
        today = book.today()
        assert [n.id for n in book.notices("overdue")] == [late.id]
        assert [n.id for n in book.notices("due")] == [late.id, fresh.id]
        assert late.overdue(today) and late.days_late(today) == 7
        assert not fresh.overdue(today)
        assert not fresh.overdue(fresh.deadline)  # the deadline day itself is still in time
        assert fresh.overdue(fresh.deadline + timedelta(days=1))
        with open_state_log(nation.data, "NY") as log:
            book.mark_sent([late.id], "clerk", log)
        assert book.notices("overdue") == []
        assert not book.get(late.id).overdue(today)


def test_marking_sent_is_audited_and_happens_once(nation: Nation) -> None:
    (notice,) = nation.queue(nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}"))
    with NoticeBook(nation.data, "NY") as book, open_state_log(nation.data, "NY") as log:
        size = log.size
        (done,) = book.mark_sent([notice.id], "clerk", log)
        assert done.status == "sent" and done.closed_by == "clerk" and done.sent_at
        entry = log.entry(size)
        assert entry.kind is EntryKind.NOTICE
        assert entry.body["action"] == "notice-sent"
        assert entry.body["notice"] == notice.id and entry.body["entry"] == notice.seq
        assert "outcome" not in entry.body and "category" not in entry.body
        assert notice.person.street not in str(entry.body)
        with pytest.raises(NoticeError, match="already sent"):
            book.mark_sent([notice.id], "clerk", log)
        assert log.size == size + 1


def test_one_bad_id_changes_nothing(nation: Nation) -> None:
    (notice,) = nation.queue(nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}"))
    with NoticeBook(nation.data, "NY") as book, open_state_log(nation.data, "NY") as log:
        size = log.size
        for bad in ("NY-N000099", "WA-N000001", "N-1", "0", ""):
            with pytest.raises(NoticeError):
                book.mark_sent([notice.id, bad], "clerk", log)
        assert book.get(notice.id).status == "due"
        assert log.size == size
        assert book.get("1").id == book.get("ny-n000001").id == notice.id


def test_only_configured_exceptions_with_a_note_are_accepted(nation: Nation) -> None:
    (notice,) = nation.queue(nation.send(f"DQ.{ICE}.NY.TXT\nOLN/{nation.samples[0].oln}"))
    with NoticeBook(nation.data, "NY") as book, open_state_log(nation.data, "NY") as log:
        size = log.size
        with pytest.raises(NoticeError, match="not an exception reason NY allows"):
            book.mark_excepted(notice.id, "too-busy", "backlog", "clerk", log)
        with pytest.raises(NoticeError, match="needs a note"):
            book.mark_excepted(notice.id, "court-order-sealed", "  ", "clerk", log)
        assert log.size == size and book.get(notice.id).status == "due"
        done = book.mark_excepted(notice.id, "court-order-sealed", "Order 26-MJ-0042 seals it",
                                  "clerk", log)
        assert (done.status, done.reason, done.note) == \
            ("excepted", "court-order-sealed", "Order 26-MJ-0042 seals it")
        body = log.entry(size).body
        assert body["action"] == "notice-excepted"
        assert body["reason"] == "court-order-sealed" and body["note"].startswith("Order")
        with pytest.raises(NoticeError, match="already excepted"):
            book.mark_sent([notice.id], "clerk", log)


def test_a_duty_can_be_given_directly(nation: Nation) -> None:
    duty = NoticeDuty("NY", frozenset({"in-state"}), 5)
    sent = nation.send(f"DQ.{nation.police}.NY.TXT\nOLN/{nation.samples[0].oln}")
    store = open_store(nation.data.dmv_url("NY"))
    try:
        with NoticeBook(nation.data, "NY", duty) as book:
            (notice,) = book.queue_for(sent.seq, sent.body, store, datetime.now(UTC))
    finally:
        store.close()
    assert notice.category == "in-state"
    assert notice.deadline == datetime.fromisoformat(sent.body["time"]).date() + \
        timedelta(days=5)


def test_a_held_name_query_is_a_gap_until_its_release_names_the_person(
        nation: Nation) -> None:
    nation.use("block-ice-review-hsi")
    person = nation.samples[0]
    held = nation.send(f"DQ.{HSI}.NY.TXT\nNAM/{person.name}.DOB/{person.dob}")
    assert nation.queue(held) == []
    with NoticeBook(nation.data, "NY") as book:
        assert [g.request for g in book.gaps()] == [held.body["reference"]]
    with Gateway(nation.data, "NY") as gateway:  # its own queueing puts the review through
        result = gateway.release(held.body["reference"], "tester")
        review = dict(gateway.log.entry(result.seq).body)
    assert nation.queue(type(held)(result.seq, review)) == []  # and only once
    with NoticeBook(nation.data, "NY") as book:
        (notice,) = book.notices("all")
        assert notice.person.oln == person.oln and notice.seq == result.seq
        assert book.gaps() == []
        assert [n.id for n in book.unsent(review["request_id"])] == [notice.id]
        assert [n.id for n in book.unsent(held.body["reference"])] == [notice.id]
