"""Audit entries as typed records, as an auditor and an outside reader notice them: the log's
bytes are the ones the code wrote before records existed, every body ever written reads back
and writes out byte for byte, a body that does not fit is named by kind and field, and every
entry a real gateway run writes validates against its kind's published JSON Schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stateline.audit import AuditEntry, EntryKind
from stateline.audit.entries import canonical_json, leaf_data
from stateline.audit.merkle import leaf_hash
from stateline.audit.records import (
    RECORDS,
    DecisionRecord,
    KeyRotationRecord,
    Part,
    RecordError,
    RequestRecord,
    ReviewRecord,
    keys_of,
    parse,
    published,
    request_of,
    schema,
    schema_text,
)
from stateline.audit.records.base import specs
from stateline.audit.records.schema import FOLDER
from stateline.datadir import DataDir
from tests.gateway import every_kind

AS_WRITTEN = every_kind.golden()
"""Bodies written by the code before entries had records, run through `every_kind`."""


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[AuditEntry]:
    data = DataDir(tmp_path_factory.mktemp("every-kind") / "nation")
    every_kind.build(data)
    return every_kind.written(data)


def test_every_kind_of_entry_has_a_record_and_a_published_schema() -> None:
    assert set(RECORDS) == set(EntryKind)
    assert sorted(p.name for p in FOLDER.glob("*.schema.json")) == \
        sorted(f"{kind.value}.schema.json" for kind in EntryKind)


@pytest.mark.parametrize("kind", list(EntryKind), ids=lambda k: k.value)
def test_the_published_schema_is_the_one_the_record_gives(kind: EntryKind) -> None:
    assert published(kind) == schema_text(kind), \
        "run `.venv/bin/python -m stateline.audit.records` to write the schemas again"
    assert jsonschema_rs.meta.is_valid(schema(kind))


def test_the_gateway_writes_the_bodies_it_wrote_before_records(
        written: list[AuditEntry]) -> None:
    """Key for key and value for value, bar clock readings and random ids: so logs written
    before still verify, and SQL reading bodies by key reads the same."""
    found = [every_kind.comparable(e.kind.value, dict(e.body)) for e in written]
    assert len(found) == len(AS_WRITTEN)
    for now, before in zip(found, AS_WRITTEN, strict=True):
        assert now == before


def test_every_entry_of_a_real_run_reads_back_to_its_own_leaf(
        written: list[AuditEntry]) -> None:
    for entry in written:
        again = canonical_json(entry.record.body())
        assert leaf_hash(leaf_data(entry.time_us, entry.kind.value, again)) == entry.leaf


def test_every_entry_of_a_real_run_fits_its_kinds_schema(written: list[AuditEntry]) -> None:
    assert {e.kind for e in written} == set(EntryKind) - {EntryKind.KEY_ROTATION}
    validators = {kind: jsonschema_rs.validator_for(schema(kind)) for kind in EntryKind}
    for entry in written:
        errors = [str(e) for e in validators[entry.kind].iter_errors(dict(entry.body))]
        assert errors == [], f"entry {entry.seq} ({entry.kind.value})"


def test_a_schema_refuses_a_body_its_record_would_not_write(
        written: list[AuditEntry]) -> None:
    decision = next(dict(e.body) for e in written if e.kind is EntryKind.DECISION)
    review = next(dict(e.body) for e in written if e.kind is EntryKind.REVIEW)
    refused = [
        (EntryKind.DECISION, {**decision, "photo_released": "yes"}),
        (EntryKind.DECISION, {k: v for k, v in decision.items() if k != "request_id"}),
        (EntryKind.DECISION, {**decision, "outcome": "maybe"}),
        (EntryKind.DECISION, {**decision, "sender": {**decision["sender"], "level": "galactic"}}),
        (EntryKind.REVIEW, {**review, "reference": None}),
        (EntryKind.KEY_ROTATION, {"vkey": 5}),
    ]
    for kind, body in refused:
        assert not jsonschema_rs.validator_for(schema(kind)).is_valid(body), body
    rotation = KeyRotationRecord(vkey="stateline/WA+0a1b2c3d+AQID")
    assert jsonschema_rs.validator_for(schema(EntryKind.KEY_ROTATION)).is_valid(rotation.body())


@pytest.mark.parametrize("body", AS_WRITTEN, ids=lambda b: str(b["kind"]))
def test_a_body_as_written_reads_back_to_the_same_bytes(body: dict[str, Any]) -> None:
    kind, stored = body["kind"], {k: v for k, v in body.items() if k != "kind"}
    record = parse(kind, stored)
    assert type(record).kind.value == kind
    assert canonical_json(record.body()) == canonical_json(stored)


OLDER = [
    ("decision", {"time": "2025-01-02T03:04:05.000006+00:00", "request_id": "ab" * 16,
                  "message_id": "", "ori": "WASPD0100", "sender": None, "category": "unknown",
                  "key": "DQ", "reason": "", "destination": "WA", "terms": ["OLN/X"],
                  "outcome": "denied", "policies": [], "released": [], "withheld": [],
                  "records": [], "photo_released": False, "policy_version": "",
                  "court_order": None}),
    ("review", {"ref": "H1", "by": "j.doe"}),
    ("review", {"reviewer": "j.doe", "reference": "WA-1", "outcome": "denied", "policies": []}),
    ("login", {"user": "reviewer"}),
    ("policy-change", {"version": 2}),
    ("decision", {"n": 1, "records": ["R1"], "later": {"nested": [1, 2.5, None]}}),
]
"""Shapes older versions and other tools wrote: fields missing, keys nobody knows now."""


@pytest.mark.parametrize(("kind", "body"), OLDER)
def test_an_older_body_reads_back_with_what_it_lacks_left_out(kind: str,
                                                              body: dict[str, Any]) -> None:
    record = parse(kind, body)
    assert record.body() == body
    assert canonical_json(record.body()) == canonical_json(body)


def test_what_an_older_body_lacks_reads_as_empty_and_what_it_has_as_typed() -> None:
    review = parse("review", {"reviewer": "j.doe", "reference": "WA-1", "outcome": "denied",
                              "terms": ["OLN/X"], "shade": "blue"})
    assert isinstance(review, ReviewRecord)
    assert review.review == "" and review.note == "" and review.sender is None
    assert review.terms == ("OLN/X",) and review.extra == {"shade": "blue"}
    assert "review" in review.absent and review.body()["shade"] == "blue"


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("decision", {"terms": "OLN/X"}, "terms"),
    ("decision", {"terms": ["OLN/X", 5]}, "terms"),
    ("decision", {"photo_released": 1}, "photo_released"),
    ("decision", {"undisclosed": True}, "undisclosed"),
    ("decision", {"undisclosed": None}, "undisclosed"),
    ("decision", {"request_id": None}, "request_id"),
    ("decision", {"sender": "VTICE0900"}, "sender"),
    ("decision", {"sender": {"ori": "VTICE0900", "criminal_justice": "yes"}},
     "sender.criminal_justice"),
    ("notice", {"entry": "12"}, "entry"),
    ("login", ["not", "an", "object"], "body"),
    ("gossip", {}, "kind"),
])
def test_a_body_that_does_not_fit_is_named_by_kind_and_field(kind: str, body: Any,
                                                             field: str) -> None:
    with pytest.raises(RecordError) as raised:
        parse(kind, body)
    assert (raised.value.kind, raised.value.field) == (kind, field)
    assert raised.value.code == "audit-error" and field in raised.value.text


def test_code_that_reads_bodies_by_key_names_fields_that_exist() -> None:
    assert keys_of(RequestRecord, "category", "photo_released") == ("category",
                                                                    "photo_released")
    assert keys_of(DecisionRecord, "sender.component") == ("sender.component",)
    with pytest.raises(TypeError, match="DecisionRecord has no field catgory"):
        keys_of(DecisionRecord, "outcome", "catgory")
    for wrong in ("sender.nam", "outcome.value", "sender."):
        with pytest.raises(TypeError, match="has no field"):
            keys_of(DecisionRecord, wrong)


def test_only_decisions_and_reviews_are_requests(written: list[AuditEntry]) -> None:
    login = next(e for e in written if e.kind is EntryKind.LOGIN)
    with pytest.raises(RecordError, match="login entry's kind"):
        request_of(login)
    review = next(e for e in written if e.kind is EntryKind.REVIEW)
    assert request_of(review).reference == review.body["reference"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)


def _value(part: type[Part], name: str) -> st.SearchStrategy[Any]:
    (spec,) = (s for s in specs(part) if s.name == name)
    value: st.SearchStrategy[Any]
    if spec.part is not None:
        value = _body_of(spec.part)
    elif spec.shape == "strings":
        value = st.lists(st.text(max_size=8), max_size=3)
    else:
        value = {"string": st.text(max_size=8), "integer": st.integers(),
                 "boolean": st.booleans()}[spec.shape]
    return value | st.none() if spec.nullable else value


@st.composite
def _body_of(draw: st.DrawFn, part: type[Part]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for spec in specs(part):
        if draw(st.booleans()):
            body[spec.name] = draw(_value(part, spec.name))
    names = {spec.name for spec in specs(part)}
    body.update(draw(st.dictionaries(st.text(max_size=6).filter(lambda k: k not in names),
                                     _JSON, max_size=2)))
    return body


@given(st.sampled_from(list(EntryKind)).flatmap(
    lambda kind: st.tuples(st.just(kind), _body_of(RECORDS[kind]))))
def test_any_body_of_the_right_types_reads_back_to_the_same_bytes(
        drawn: tuple[EntryKind, dict[str, Any]]) -> None:
    kind, body = drawn
    record = parse(kind, body)
    assert canonical_json(record.body()) == canonical_json(body)
    assert parse(kind, json.loads(canonical_json(body))) == record


def test_a_record_serialises_the_way_the_log_stores_it() -> None:
    """The pair the log takes; the body is a fresh dict each time, so no writer can change
    what another entry says."""
    rotation = KeyRotationRecord(vkey="stateline/WA+0a1b2c3d+AQID")
    kind, body = rotation.for_log()
    assert kind is EntryKind.KEY_ROTATION and body == {"vkey": "stateline/WA+0a1b2c3d+AQID"}
    body["vkey"] = "changed"
    assert rotation.body()["vkey"] == "stateline/WA+0a1b2c3d+AQID"
