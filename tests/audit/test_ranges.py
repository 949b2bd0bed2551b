"""Verify's ranges: hashed in chunks, by two processes sharing them, grafting to the same tree,
and the same first finding whatever the split, when the second process fails, when a value is
of a type only a forger writes, and while a gateway keeps appending."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import AuditLog, EntryKind, Finding, Tamper
from stateline.audit import ranges as ranges_module
from stateline.audit import verify as verify_module
from stateline.audit.entries import canonical_json, leaf_data
from stateline.audit.merkle import Frontier, leaf_hash
from stateline.audit.ranges import digest, grafted, prefixed_leaf_sql
from stateline.audit.sql import Db
from tests.audit import test_log

CASES = test_log.CASES
store, key, log = test_log.store, test_log.key, test_log.log
"""The tamper cases and the 50-entry log (heads at 20 and 40) of test_log, in SQLite and
PostgreSQL."""


def _named(finding: Finding | None) -> tuple[Tamper, int | None, int | None] | None:
    return None if finding is None else (finding.tamper, finding.seq, finding.head)


@pytest.mark.parametrize("chunk", [1, 2, 3, 4, 64])
def test_a_range_hashed_in_chunks_grafts_to_the_tree_at_every_stop(
        log: AuditLog, store: test_log.Store, chunk: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranges_module, "CHUNK", chunk)
    db = store.connect()
    try:
        first = digest(db, 0, 16, (5, 16))
        second = digest(db, 16, 32, (17, 20, 31, 32))
    finally:
        db.close()
    assert first is not None and second is not None
    for size, nodes in [*first.marks.items(),
                        *((s, grafted(first.nodes, m)) for s, m in second.marks.items())]:
        assert Frontier.restore(nodes).root() == log.root(size), size
    assert first.last_time < second.first_time


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "head"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_ranges_read_in_chunks_by_two_processes_name_the_same_first_finding(
    log: AuditLog,
    store: test_log.Store,
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[Db], None],
    kind: Tamper | None,
    seq: int | None,
    head: int | None,
) -> None:
    """Ranges of 8 read 2 rows at a time: findings fall inside chunks, on their edges and on
    the edges of ranges the other process hashed."""
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(verify_module, "BATCH", 8)
    monkeypatch.setattr(ranges_module, "CHUNK", 2)
    db = store.attacker()
    tamper(db)
    db.close()
    report = log.verify(key.public_key(), rollups=False)
    assert _named(report.finding) == ((kind, seq, head) if kind is not None else None)
    if kind is None:
        assert (report.entries, report.heads, report.unsigned) == (50, 2, 10)


def test_when_the_second_process_fails_this_one_hashes_its_ranges(
        log: AuditLog, store: test_log.Store, key: Ed25519PrivateKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(*_: object) -> Db:
        raise OSError("the second process cannot open the log")

    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(verify_module, "BATCH", 4)
    monkeypatch.setattr(ranges_module, "reader", unreadable)  # only the forked process opens
    report = log.verify(key.public_key(), rollups=False)
    assert report.ok and (report.entries, report.heads, report.unsigned) == (50, 2, 10)
    db = store.attacker()
    test_log.edit_body(db)
    db.close()
    assert _named(log.verify(key.public_key(), rollups=False).finding) == (
        Tamper.EDITED, 7, None)


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "two processes"])
def test_an_entry_whose_time_is_not_a_number_is_named_never_a_crash(
        log: AuditLog, store: test_log.Store, key: Ed25519PrivateKey, parallel: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A forger writes text where the time goes, and a leaf hash to match it."""
    if not isinstance(store.target, Path):
        pytest.skip("PostgreSQL's BIGINT column holds only numbers")
    if parallel:
        monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
        monkeypatch.setattr(verify_module, "BATCH", 4)
    db = store.attacker()
    (body,) = db.execute("SELECT body FROM entries WHERE seq = 7").fetchone()
    leaf = leaf_hash(leaf_data("soon", "decision", body))  # type: ignore[arg-type]
    db.execute("UPDATE entries SET time_us = 'soon', leaf = ? WHERE seq = 7", (leaf,))
    db.close()
    finding = log.verify(key.public_key(), rollups=not parallel).finding
    assert _named(finding) == (Tamper.EDITED, 7, None), str(finding)
    assert "'soon', not a number" in str(finding)


def test_the_database_builds_each_leaf_preimage_byte_for_byte(
        store: test_log.Store, key: Ed25519PrivateKey) -> None:
    """The prefixed preimage verify streams is 0x00 and what `entries.leaf_data` gives, for any
    text a body can hold."""
    rng = random.Random(13)
    alphabet = "aZ09 \"\\\n\t\u00e9\u2028\u4e2d\U0001f600"
    bodies = [{"n": i, "text": "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))}
              for i in range(30)]
    with store.open(key) as audit:
        audit.append_many([(EntryKind.DECISION, body) for body in bodies])
    db = store.connect()
    try:
        rows = db.execute(f"SELECT time_us, kind, body, {prefixed_leaf_sql(db.dialect)} "
                          "FROM entries ORDER BY seq").fetchall()
    finally:
        db.close()
    assert [bytes(r[3]) for r in rows] == [b"\x00" + leaf_data(t, k, b) for t, k, b, _ in rows]
    assert [r[2] for r in rows] == [canonical_json(b) for b in bodies]


def test_an_entry_a_gateway_appends_while_verify_runs_is_no_finding(
        log: AuditLog, store: test_log.Store, key: Ed25519PrivateKey,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Verify checks the log as it was when it read its size; what is appended after is the
    next verify's to check."""
    checked = verify_module._Pass.check_heads

    def appended_meanwhile(self: verify_module._Pass) -> None:
        with store.open(key) as gateway:
            gateway.append(EntryKind.DECISION, test_log.decision(50))
        checked(self)

    monkeypatch.setattr(verify_module._Pass, "check_heads", appended_meanwhile)
    report = log.verify(key.public_key())
    assert report.ok, report.finding
    assert (report.entries, report.heads, report.unsigned) == (50, 2, 10)
