"""The gateway as an agency and an auditor notice it: answers, withheld marks, denials, holds,
and one durable, verifiable audit entry per query."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from stateline.audit import load_or_create_key, open_state_log, signing_key
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import Sample, open_store
from stateline.gateway import Gateway, Result, ReviewError
from stateline.gateway.pipeline import request_id
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.policy.registry import Registry, Subject
from stateline.protocol import Field, Message, Outcome, read_answer
from stateline.sim.nation import build_nation

IN_STATE = "WASPD0100"
OUT_OF_STATE = "ORPPD0000"
ICE = "VTICE0900"
HSI = "NYHSI0100"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("gateway-nation"))
    build_nation(data, ("WA", "OR"), residents=300, seed=5)
    return data


@pytest.fixture(scope="module")
def samples(nation: DataDir) -> list[Sample]:
    store = open_store(nation.dmv_url("WA"))
    try:
        return store.sample(5, seed=1)
    finally:
        store.close()


def use_policy(data: DataDir, name: str) -> None:
    text = preset(name).text()
    with contextlib.suppress(policy_store.NoChange):
        policy_store.apply(data, "WA", text, who="test")


@pytest.fixture
def gateway(nation: DataDir) -> Iterator[Gateway]:
    use_policy(nation, "cj-baseline")
    with Gateway(nation, "WA") as gw:
        gw.policy.check()
        yield gw


def dq(sender: str, *fields: Field, key: str = "DQ") -> Message:
    return Message(key, sender, ("WA",), "C1", fields)


def answer_of(result: Result) -> str:
    assert result.response.body is not None
    return result.response.body


def test_in_state_driver_query_is_released(gateway: Gateway, samples: list[Sample]) -> None:
    result = gateway.handle(dq(IN_STATE, Field("OLN", samples[0].oln)), message_id="M1")
    assert result.outcome is Outcome.RELEASED
    assert result.response.key == "DR"
    assert result.response.sender == "WAOLN0000"
    assert result.response.destinations == (IN_STATE,)
    text = answer_of(result)
    assert f"OLN/{samples[0].oln}" in text and f"NAM/{samples[0].name}" in text
    assert "WITHHELD" not in text


def test_out_of_state_gets_sensitive_elements_withheld(gateway: Gateway,
                                                       samples: list[Sample]) -> None:
    result = gateway.handle(dq(OUT_OF_STATE, Field("OLN", samples[0].oln), Field("IMQ", "Y")))
    assert result.outcome is Outcome.PARTIAL
    text = answer_of(result)
    for element in ("CREDENTIAL", "SSN", "PHOTO"):
        assert f"{element}: WITHHELD BY WA POLICY" in text
    assert "SOC/" not in text and result.photos == ()
    assert read_answer(text).records[0].withheld == ("credential", "ssn", "photo")


def test_in_state_photo_released_only_when_asked(gateway: Gateway,
                                                 samples: list[Sample]) -> None:
    asked = gateway.handle(dq(IN_STATE, Field("OLN", samples[1].oln), Field("IMQ", "Y")))
    plain = gateway.handle(dq(IN_STATE, Field("OLN", samples[1].oln)))
    assert len(asked.photos) == 1 and asked.photos[0].startswith(b"\x89PNG")
    assert "PHOTO: IMG/" in answer_of(asked)
    assert plain.photos == () and "PHOTO" not in answer_of(plain)
    assert gateway.log.entry(asked.seq).body["photo_released"] is True


def test_unknown_oln_is_not_on_file(gateway: Gateway) -> None:
    result = gateway.handle(dq(IN_STATE, Field("OLN", "WDLZZZZZZ999")))
    assert result.outcome is Outcome.NO_RECORD
    assert "NOT ON FILE" in answer_of(result)


def test_vehicle_query_by_plate_and_by_vin(gateway: Gateway, samples: list[Sample]) -> None:
    s = samples[2]
    by_plate = gateway.handle(Message("RQ", IN_STATE, ("WA",), None, (
        Field("LIC", s.plate), Field("LIY", s.plate_year), Field("LIT", s.plate_type))))
    by_vin = gateway.handle(Message("RQ", OUT_OF_STATE, ("WA",), None, (Field("VIN", s.vin),)))
    for result in (by_plate, by_vin):
        assert result.outcome is Outcome.RELEASED
        assert result.response.key == "RR" and result.response.sender == "WALIC0000"
        text = answer_of(result)
        assert f"VIN/{s.vin}" in text and "REGISTRATION: LIC/" in text


def test_unknown_agency_is_denied(gateway: Gateway, samples: list[Sample]) -> None:
    result = gateway.handle(dq("WA9999999", Field("OLN", samples[0].oln)))
    assert result.outcome is Outcome.DENIED
    assert "POLICY: unknown-agency" in answer_of(result)


def test_non_query_key_is_an_error_and_audited(gateway: Gateway) -> None:
    result = gateway.handle(Message("AM", IN_STATE, ("WA",), None, body="HELLO"))
    assert result.outcome is Outcome.ERROR
    assert "DOES NOT ANSWER AM" in answer_of(result)
    assert gateway.log.entry(result.seq).body["outcome"] == "error"


def test_ice_is_denied_under_block_ice(nation: DataDir, samples: list[Sample]) -> None:
    use_policy(nation, "block-ice")
    try:
        with Gateway(nation, "WA") as gw:
            result = gw.handle(dq(ICE, Field("OLN", samples[0].oln)))
            entry = gw.log.entry(result.seq)
    finally:
        use_policy(nation, "cj-baseline")
    assert result.outcome is Outcome.DENIED
    text = answer_of(result)
    assert "POLICY: block-ice" in text
    assert "Immigration and Customs Enforcement" in text
    assert entry.body["outcome"] == "denied"
    assert entry.body["records"] == [] and entry.body["released"] == []
    assert entry.body["policies"][0] == "block-ice"
    assert entry.body["category"] == "ICE"
    assert entry.body["sender"]["component"] == "ICE"


def test_hsi_is_held_then_released_by_a_reviewer(nation: DataDir,
                                                 samples: list[Sample]) -> None:
    use_policy(nation, "block-ice-review-hsi")
    try:
        with Gateway(nation, "WA") as gw:
            held = gw.handle(dq(HSI, Field("OLN", samples[3].oln)))
            assert held.outcome is Outcome.HELD and held.reference
            assert f"REFERENCE: {held.reference}" in answer_of(held)
            assert [h.reference for h in gw.queue.pending()] == [held.reference]
            late = gw.release(held.reference, "coordinator")
            review = gw.log.entry(late.seq)
    finally:
        use_policy(nation, "cj-baseline")
    assert late.outcome is Outcome.PARTIAL
    assert late.response.destinations == (HSI,)
    assert f"OLN/{samples[3].oln}" in answer_of(late)
    assert review.kind.value == "review" and review.body["reviewer"] == "coordinator"
    assert review.body["category"] == "HSI" and review.body["sender"]["component"] == "HSI"
    assert review.body["records"] == [samples[3].oln]


def test_every_query_is_one_committed_verifiable_entry(nation: DataDir, gateway: Gateway,
                                                       samples: list[Sample]) -> None:
    before = gateway.log.size
    queries = [dq(IN_STATE, Field("OLN", s.oln)) for s in samples]
    results = gateway.handle_many(queries, [f"M{i}" for i in range(len(queries))])
    assert gateway.log.size == before + len(queries)
    assert [r.seq for r in results] == list(range(before, before + len(queries)))
    with open_state_log(nation, "WA") as reopened:
        entry = reopened.entry(results[0].seq)
        key = load_or_create_key(signing_key(nation, "WA"))
        assert reopened.verify(key.public_key()).ok
    assert entry.body["message_id"] == "M0"
    assert entry.body["records"] == [samples[0].oln]
    assert entry.body["outcome"] == "released" and entry.body["key"] == "DQ"
    assert entry.body["terms"] == [f"OLN/{samples[0].oln}"]
    assert entry.body["policy_version"] == gateway.policy.version


def test_store_failure_is_an_audited_error(gateway: Gateway, samples: list[Sample],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(gateway.store, "by_oln", broken)
    result = gateway.handle(dq(IN_STATE, Field("OLN", samples[0].oln)))
    assert result.outcome is Outcome.ERROR
    assert "WA COULD NOT ANSWER" in answer_of(result)
    entry = gateway.log.entry(result.seq).body
    assert entry["outcome"] == "error" and entry["records"] == []
    assert "disk gone" in entry["error"]


def test_reviewer_denial_is_final_and_audited(nation: DataDir, samples: list[Sample]) -> None:
    use_policy(nation, "block-ice-review-hsi")
    try:
        with Gateway(nation, "WA") as gw:
            held = gw.handle(dq(HSI, Field("OLN", samples[4].oln)))
            assert held.reference is not None
            refused = gw.deny(held.reference, "coordinator")
            with pytest.raises(ReviewError):
                gw.release(held.reference, "someone else")
            entry = gw.log.entry(refused.seq).body
    finally:
        use_policy(nation, "cj-baseline")
    assert refused.outcome is Outcome.DENIED
    assert "POLICY: review-denied" in answer_of(refused)
    assert entry["outcome"] == "denied" and entry["reviewer"] == "coordinator"
    assert entry["records"] == []


def test_a_closed_gateway_leaves_every_entry_under_a_signed_head(
    nation: DataDir, samples: list[Sample]
) -> None:
    with Gateway(nation, "WA") as gw:
        gw.handle(dq(IN_STATE, Field("OLN", samples[0].oln)))
    log = open_state_log(nation, "WA")
    try:
        heads = log.heads()
        assert heads and heads[-1].head.size == log.head().size
    finally:
        log.close()


def test_a_directory_change_reaches_the_next_audit_entry(nation: DataDir, gateway: Gateway,
                                                         samples: list[Sample]) -> None:
    before = gateway.handle(dq(OUT_OF_STATE, Field("OLN", samples[0].oln)))
    with Directory.open(nation, create=False) as directory:
        portland = directory.get(OUT_OF_STATE)
        assert portland is not None
        directory.put(replace(portland, programs=frozenset({"287g"})))
    try:
        gateway.policy.check()
        after = gateway.handle(dq(OUT_OF_STATE, Field("OLN", samples[0].oln)))
    finally:
        with Directory.open(nation, create=False) as directory:
            directory.put(portland)
        gateway.policy.check()
    first, second = gateway.log.entry(before.seq).body, gateway.log.entry(after.seq).body
    assert first["category"] == "out-of-state" and first["sender"]["programs"] == []
    assert second["category"] == "287(g) partner" and second["sender"]["programs"] == ["287g"]


def test_a_court_order_filed_elsewhere_counts_from_the_next_query(
    nation: DataDir, samples: list[Sample]
) -> None:
    use_policy(nation, "block-ice-review-hsi")
    today = date.today()
    try:
        with Gateway(nation, "WA") as gw, Registry(nation, "WA") as coordinator:
            held = gw.handle(dq(HSI, Field("OLN", samples[2].oln)))
            coordinator.add_order("2026-CV-PIPE", Subject(oln=samples[2].oln), today,
                                  today + timedelta(days=1), ori=HSI)
            try:
                opened = gw.handle(dq(HSI, Field("OLN", samples[2].oln)))
                other = gw.handle(dq(HSI, Field("OLN", samples[1].oln)))
            finally:
                coordinator.revoke_order("2026-CV-PIPE")
            entry = gw.log.entry(opened.seq).body
    finally:
        use_policy(nation, "cj-baseline")
    assert held.outcome is Outcome.HELD and other.outcome is Outcome.HELD
    assert opened.outcome is Outcome.PARTIAL
    assert entry["court_order"] == "2026-CV-PIPE"


def test_request_ids_are_version_4_uuids() -> None:
    ids = {request_id() for _ in range(1000)}
    assert len(ids) == 1000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.hex == value and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


class AuditDown(Exception):
    """The audit log refuses the commit (a full disk, say)."""


def refuse_appends(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_: object, **__: object) -> list[int]:
        raise AuditDown("disk full")

    monkeypatch.setattr(gateway.log, "append_many", refused)


def pending_references(gateway: Gateway) -> list[str]:
    return [h.reference for h in gateway.queue.pending()]


def test_a_hold_whose_audit_entry_fails_is_not_put_on_file(
    nation: DataDir, samples: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_policy(nation, "block-ice-review-hsi")
    try:
        with Gateway(nation, "WA") as gw:
            before = pending_references(gw)
            with monkeypatch.context() as patch:
                refuse_appends(gw, patch)
                with pytest.raises(AuditDown):
                    gw.handle(dq(HSI, Field("OLN", samples[3].oln)))
            assert pending_references(gw) == before
    finally:
        use_policy(nation, "cj-baseline")


def test_a_hold_that_cannot_be_filed_is_answered_as_an_audited_error(
    nation: DataDir, samples: list[Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_: object, **__: object) -> None:
        raise OSError("state.db gone")

    use_policy(nation, "block-ice-review-hsi")
    try:
        with Gateway(nation, "WA") as gw:
            before, size = pending_references(gw), gw.log.size
            monkeypatch.setattr(gw.queue, "hold_many", refused)
            result = gw.handle(dq(HSI, Field("OLN", samples[3].oln)))
            held, failed = gw.log.entry(size).body, gw.log.entry(result.seq).body
            assert pending_references(gw) == before
    finally:
        use_policy(nation, "cj-baseline")
    assert result.outcome is Outcome.ERROR and result.reference is None
    assert "WA COULD NOT ANSWER" in answer_of(result)
    assert result.seq == size + 1
    assert held["outcome"] == "held" and failed["outcome"] == "error"
    assert failed["reference"] == held["reference"] and "state.db gone" in failed["error"]
    assert failed["request_id"] == held["request_id"] == result.request_id


@pytest.mark.parametrize("review", ["release", "deny"])
def test_a_review_whose_audit_entry_fails_leaves_the_request_held(
    nation: DataDir, samples: list[Sample], monkeypatch: pytest.MonkeyPatch, review: str
) -> None:
    use_policy(nation, "block-ice-review-hsi")
    try:
        with Gateway(nation, "WA") as gw:
            held = gw.handle(dq(HSI, Field("OLN", samples[4].oln)))
            assert held.reference is not None
            act = gw.release if review == "release" else gw.deny
            with monkeypatch.context() as patch:
                refuse_appends(gw, patch)
                with pytest.raises(AuditDown):
                    act(held.reference, "coordinator")
            assert held.reference in pending_references(gw)
            done = act(held.reference, "coordinator")
            assert held.reference not in pending_references(gw)
            assert gw.queue.get(held.reference).status == {"release": "released",
                                                          "deny": "denied"}[review]
            entry = gw.log.entry(done.seq)
    finally:
        use_policy(nation, "cj-baseline")
    assert entry.kind.value == "review" and entry.body["reference"] == held.reference
