"""The gateway queues notices itself once an entry is durable, and catches up after a crash."""

from __future__ import annotations

from stateline.gateway import Gateway
from stateline.notices import NoticeBook
from stateline.protocol import read

from .conftest import ICE, Nation


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
        assert book.examined() is not None and book.examined() >= result.seq
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
