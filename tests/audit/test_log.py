"""The audit log: append, reopen, proofs, signing cadence, and verify against tampering."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stateline.audit import (
    AuditLog,
    EntryKind,
    LogError,
    Tamper,
    load_or_create_key,
    open_state_log,
    read_state_log,
    signing_key,
)
from stateline.audit import verify as verify_module
from stateline.audit.checkpoint import TreeHead, sign
from stateline.audit.entries import leaf_data
from stateline.audit.log import pack_frontier
from stateline.audit.merkle import Frontier, leaf_hash, verify_consistency, verify_inclusion
from stateline.audit.sql import POSTGRES, SQLITE, Db
from stateline.audit.trusted import check_state
from stateline.datadir import DataDir

ORIGIN = "stateline/WA"
START = 1_772_366_400_000_000
STEP = 1_000  # µs between clock ticks, leaving room to forge an entry between two


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        self.now += STEP
        return self.now


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Store:
    """Where a test's log lives: a SQLite file, or a fresh schema in PostgreSQL."""

    target: Path | str
    schema: str

    def open(self, key: Ed25519PrivateKey, clock: Clock | None = None,
             origin: str = ORIGIN) -> AuditLog:
        if clock is None:
            return AuditLog.open(self.target, origin, key, schema=self.schema)
        return AuditLog.open(self.target, origin, key, clock, schema=self.schema)

    def connect(self) -> Db:
        """Another connection to the same rows, as anyone with the database's password has."""
        if isinstance(self.target, Path):
            return Db(sqlite3.connect(self.target, isolation_level=None), SQLITE)
        raw = psycopg.connect(self.target, autocommit=True)
        raw.execute(f"SET search_path TO {self.schema}")
        return Db(raw, POSTGRES)

    def attacker(self) -> Db:
        """A connection that has switched the append-only triggers off."""
        db = self.connect()
        if db.dialect is SQLITE:
            for (trigger,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).fetchall():
                db.execute(f"DROP TRIGGER {trigger}")
        else:
            for table in ("entries", "heads"):
                db.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        return db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield Store(tmp_path / "audit.db", "audit_wa")
        return
    url = os.environ["STATELINE_TEST_POSTGRES_URL"]
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    yield Store(url, schema)
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def decision(i: int) -> dict[str, object]:
    return {"request": f"R{i:05d}", "ori": "WA0340000", "outcome": "released", "records": [i]}


@pytest.fixture
def log(store: Store, key: Ed25519PrivateKey) -> Iterator[AuditLog]:
    """50 entries in batches of 5; signed heads #1 at 20 and #2 at 40; 10 unsigned after."""
    with store.open(key, Clock()) as audit:
        for batch in range(10):
            audit.append_many([(EntryKind.DECISION, decision(batch * 5 + i)) for i in range(5)])
            if audit.size in (20, 40):
                audit.sign_head()
        yield audit


def test_append_reopen_and_read_back(log: AuditLog, store: Store, key: Ed25519PrivateKey) -> None:
    assert log.size == 50
    entry = log.entry(7)
    assert (entry.seq, entry.kind, entry.body) == (7, EntryKind.DECISION, decision(7))
    assert entry.leaf == leaf_hash(
        leaf_data(
            entry.time_us,
            "decision",
            json.dumps(decision(7), sort_keys=True, separators=(",", ":")),
        )
    )
    root = log.head().root
    log.close()
    with store.open(key, Clock()) as again:
        assert (again.size, again.head().root) == (50, root)
        assert again.append(EntryKind.LOGIN, {"user": "reviewer"}) == 50
        assert again.entry(50).time_us > entry.time_us
        assert again.verify(key.public_key()).ok


def test_times_strictly_rise_even_within_a_batch(log: AuditLog) -> None:
    times = [log.entry(i).time_us for i in range(50)]
    assert times == sorted(set(times))


def test_a_failed_batch_leaves_nothing(log: AuditLog, key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        log.append_many([(EntryKind.LOGIN, {"user": "a"}), ("not-a-kind", {})])
    assert log.size == 50
    with pytest.raises(LogError):
        log.entry(50)
    assert log.append(EntryKind.REVIEW, {"ref": "H1", "by": "j.doe"}) == 50
    assert log.verify(key.public_key()).ok


def test_another_connection_cannot_change_history(log: AuditLog, store: Store) -> None:
    db = store.connect()
    statements = [
        "UPDATE entries SET body = '{}' WHERE seq = 1",
        "DELETE FROM entries",
        "DELETE FROM heads",
        "UPDATE heads SET size = 1",
    ]
    if db.dialect is POSTGRES:
        statements += ["TRUNCATE entries", "TRUNCATE heads"]
    for sql in statements:
        with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
            db.execute(sql)
    db.close()


def test_inclusion_and_consistency_proofs(log: AuditLog) -> None:
    heads = log.heads()
    assert [h.head.size for h in heads] == [20, 40]
    for signed in heads:
        h = signed.head
        assert log.root(h.size) == h.root
        for seq in (0, 7, h.size - 1):
            proof = log.inclusion_proof(seq, h.size)
            assert verify_inclusion(log.entry(seq).leaf, seq, h.size, proof, h.root)
    first, second = heads[0].head, heads[1].head
    proof = log.consistency_proof(first.size, second.size)
    assert verify_consistency(first.size, second.size, proof, first.root, second.root)
    now = log.head()
    proof = log.consistency_proof(second.size)
    assert verify_consistency(second.size, now.size, proof, second.root, now.root)
    with pytest.raises(LogError):
        log.inclusion_proof(50)
    with pytest.raises(LogError):
        log.consistency_proof(10, 51)


def test_maybe_sign_by_count_or_by_time(store: Store, key: Ed25519PrivateKey) -> None:
    clock = Clock()
    with store.open(key, clock) as audit:
        assert audit.maybe_sign(every_entries=3, every_seconds=5) is None
        audit.append_many([(EntryKind.LOGIN, {"n": i}) for i in range(3)])
        signed = audit.maybe_sign(every_entries=3, every_seconds=5)
        assert signed is not None and signed.head.size == 3
        audit.append(EntryKind.LOGIN, {"n": 3})
        assert audit.maybe_sign(every_entries=3, every_seconds=5) is None
        clock.now += 5_000_000
        late = audit.maybe_sign(every_entries=3, every_seconds=5)
        assert late is not None and late.head.size == 4
        clock.now += 10_000_000
        assert audit.maybe_sign(every_entries=3, every_seconds=5) is None  # nothing new


def test_a_log_belongs_to_one_origin(log: AuditLog, store: Store, key: Ed25519PrivateKey) -> None:
    with pytest.raises(LogError, match="stateline/WA"):
        store.open(key, origin="stateline/OR")


def test_state_log_lives_in_the_state_folder(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    with open_state_log(data, "wa") as audit:
        audit.append(EntryKind.POLICY_CHANGE, {"version": 2})
        signed = audit.sign_head()
    assert signed.head.origin == "stateline/WA"
    assert (tmp_path / "states/WA/audit.db").exists()
    assert (tmp_path / "states/WA/audit-key.pem").stat().st_mode & 0o777 == 0o600


def test_an_empty_log_verifies(store: Store, key: Ed25519PrivateKey) -> None:
    with store.open(key) as audit:
        audit.sign_head()
        report = audit.verify(key.public_key())
    assert report.ok and (report.entries, report.heads) == (0, 1)


# Tampering: each case opens the file as an attacker would, drops the triggers, changes rows.


def untouched(db: Db) -> None:
    """A connection that reads but writes nothing."""


def edit_body(db: Db) -> None:
    db.execute("""UPDATE entries SET body = replace(body, '"released"', '"denied"') WHERE seq=7""")


def rewrite_entry_and_leaf(db: Db) -> None:
    body = json.dumps({"request": "R00007", "outcome": "denied"}, separators=(",", ":"))
    (t,) = db.execute("SELECT time_us FROM entries WHERE seq = 7").fetchone()
    leaf = leaf_hash(leaf_data(t, "decision", body))
    db.execute("UPDATE entries SET body = ?, leaf = ? WHERE seq = 7", (body, leaf))


def rewrite_unsigned_entry_and_leaf(db: Db) -> None:
    (t, body) = db.execute("SELECT time_us, body FROM entries WHERE seq = 45").fetchone()
    body = body.replace("released", "denied")
    leaf = leaf_hash(leaf_data(t, "decision", body))
    db.execute("UPDATE entries SET body = ?, leaf = ? WHERE seq = 45", (body, leaf))


def delete_entry(db: Db) -> None:
    db.execute("DELETE FROM entries WHERE seq = 7")


def swap_rows(db: Db) -> None:
    """Swap entries 7 and 8 whole, leaf hashes included."""
    db.execute("UPDATE entries SET seq = -1 WHERE seq = 7")
    db.execute("UPDATE entries SET seq = 7 WHERE seq = 8")
    db.execute("UPDATE entries SET seq = 8 WHERE seq = -1")


def swap_contents(db: Db) -> None:
    """Swap what entries 7 and 8 say, leaving each leaf hash in place."""
    a = db.execute("SELECT time_us, kind, body FROM entries WHERE seq = 7").fetchone()
    b = db.execute("SELECT time_us, kind, body FROM entries WHERE seq = 8").fetchone()
    db.execute("UPDATE entries SET time_us=?, kind=?, body=? WHERE seq = 7", b)
    db.execute("UPDATE entries SET time_us=?, kind=?, body=? WHERE seq = 8", a)


def move_entry_later(db: Db) -> None:
    """Move entry 3 to position 9, shifting 4..9 down: only time order shows it."""
    rows = db.execute(
        "SELECT seq, time_us, kind, body, leaf FROM entries WHERE seq BETWEEN 3 AND 9"
    ).fetchall()
    moved = [*rows[1:], rows[0]]
    db.execute("DELETE FROM entries WHERE seq BETWEEN 3 AND 9")
    db.executemany(
        "INSERT INTO entries VALUES (?, ?, ?, ?, ?)",
        [(3 + i, *row[1:]) for i, row in enumerate(moved)],
    )


def forged_row(db: Db, seq: int, time_us: int) -> tuple[object, ...]:
    body = json.dumps({"request": "FAKE", "outcome": "denied"}, separators=(",", ":"))
    return (seq, time_us, "decision", body, leaf_hash(leaf_data(time_us, "decision", body)))


def insert_at_end(db: Db) -> None:
    (t,) = db.execute("SELECT max(time_us) FROM entries").fetchone()
    db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", forged_row(db, 50, t + 1))


def insert_in_middle(db: Db) -> None:
    """Renumber 10.. up by one and slip a well-formed entry in at 10."""
    (t,) = db.execute("SELECT time_us FROM entries WHERE seq = 9").fetchone()
    db.execute("UPDATE entries SET seq = -seq - 1000 WHERE seq >= 10")
    db.execute("UPDATE entries SET seq = -seq - 999 WHERE seq < 0")
    db.execute("INSERT INTO entries VALUES (?, ?, ?, ?, ?)", forged_row(db, 10, t + 1))
    leaves = [leaf for (leaf,) in db.execute("SELECT leaf FROM entries ORDER BY seq")]
    frontier = Frontier()
    frontier.extend(leaves)
    db.execute("UPDATE tree SET size = ?, frontier = ?", (frontier.size, pack_frontier(frontier)))


def truncate_behind_head(db: Db) -> None:
    """Cut everything from entry 15 and make the log's own state agree."""
    db.execute("DELETE FROM entries WHERE seq >= 15")
    leaves = [leaf for (leaf,) in db.execute("SELECT leaf FROM entries ORDER BY seq")]
    frontier = Frontier()
    frontier.extend(leaves)
    db.execute("UPDATE tree SET size = ?, frontier = ?", (frontier.size, pack_frontier(frontier)))


def truncate_unsigned_tail(db: Db) -> None:
    db.execute("DELETE FROM entries WHERE seq >= 45")


def add_head_with_another_key(db: Db) -> None:
    (root,) = db.execute("SELECT root FROM heads WHERE id = 2").fetchone()
    signed = sign(TreeHead(ORIGIN, 40, root, START + 10**9), Ed25519PrivateKey.generate())
    db.execute(
        "INSERT INTO heads VALUES (3, 40, ?, ?, ?, ?)",
        (signed.head.time_us, root, signed.key_id, signed.signature),
    )


def resign_head_with_another_key(db: Db) -> None:
    size, t, root = db.execute("SELECT size, time_us, root FROM heads WHERE id = 1").fetchone()
    signed = sign(TreeHead(ORIGIN, size, root, t), Ed25519PrivateKey.generate())
    db.execute(
        "UPDATE heads SET key_id=?, signature=? WHERE id=1", (signed.key_id, signed.signature)
    )


def edit_head_root(db: Db) -> None:
    db.execute("UPDATE heads SET root = ? WHERE id = 1", (sha256(b"x").digest(),))


def edit_head_size(db: Db) -> None:
    db.execute("UPDATE heads SET size = 19 WHERE id = 1")


def edit_body_and_forge_later_head(db: Db) -> None:
    edit_body(db)
    edit_head_root(db)
    db.execute("UPDATE heads SET root = ? WHERE id = 2", (sha256(b"x").digest(),))


CASES: list[tuple[Callable[[Db], None], Tamper | None, int | None, int | None]] = [
    (untouched, None, None, None),
    (edit_body, Tamper.EDITED, 7, None),
    (rewrite_entry_and_leaf, Tamper.REWRITTEN, None, 1),
    (rewrite_unsigned_entry_and_leaf, Tamper.REWRITTEN, 40, None),
    (delete_entry, Tamper.DELETED, 7, None),
    (swap_rows, Tamper.REORDERED, 7, None),
    (swap_contents, Tamper.REORDERED, 7, None),
    (move_entry_later, Tamper.REORDERED, 3, None),
    (insert_at_end, Tamper.APPENDED, 50, None),
    (insert_in_middle, Tamper.REWRITTEN, None, 1),
    (truncate_behind_head, Tamper.TRUNCATED, 15, None),
    (truncate_unsigned_tail, Tamper.TRUNCATED, 45, None),
    (add_head_with_another_key, Tamper.RESIGNED, None, 3),
    (resign_head_with_another_key, Tamper.RESIGNED, None, 1),
    (edit_head_root, Tamper.FORGED_HEAD, None, 1),
    (edit_head_size, Tamper.FORGED_HEAD, None, 1),
    (edit_body_and_forge_later_head, Tamper.EDITED, 7, None),
]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "head"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_verify_names_the_first_bad_entry_or_head(
    log: AuditLog,
    store: Store,
    key: Ed25519PrivateKey,
    tamper: Callable[[Db], None],
    kind: Tamper | None,
    seq: int | None,
    head: int | None,
) -> None:
    db = store.attacker()
    tamper(db)
    db.close()
    report = log.verify(key.public_key())
    if kind is None:
        assert report.ok, report.finding
        assert (report.entries, report.heads, report.unsigned) == (50, 2, 10)
        return
    assert report.finding is not None, "tampering went unnoticed"
    finding = report.finding
    assert (finding.tamper, finding.seq, finding.head) == (kind, seq, head), str(finding)
    assert str(finding).startswith(f"entry {seq}:" if seq is not None else f"signed head #{head}:")


def test_verify_with_another_public_key_rejects_every_head(log: AuditLog) -> None:
    report = log.verify(Ed25519PrivateKey.generate().public_key())
    assert report.finding is not None
    assert (report.finding.tamper, report.finding.head) == (Tamper.RESIGNED, 1)


def test_truncation_is_named_before_a_forged_head_beyond_it(
    log: AuditLog, store: Store, key: Ed25519PrivateKey
) -> None:
    db = store.attacker()
    db.execute("DELETE FROM entries WHERE seq >= 30")
    db.execute("UPDATE heads SET root = ? WHERE id = 2", (bytes(32),))
    db.close()
    finding = log.verify(key.public_key()).finding
    assert finding is not None
    assert (finding.tamper, finding.seq) == (Tamper.TRUNCATED, 30)


def query(category: str, key: str, outcome: str, records: int = 1,
          photo: bool = False) -> dict[str, object]:
    return {"category": category, "key": key, "outcome": outcome,
            "records": [f"R{i}" for i in range(records)], "photo_released": photo}


def test_rollups_count_each_batch_by_day_category_group_and_outcome(
    store: Store, key: Ed25519PrivateKey
) -> None:
    clock = Clock()
    with store.open(key, clock) as audit:
        audit.append_many([
            (EntryKind.DECISION, query("ICE", "DQ", "denied", records=0)),
            (EntryKind.DECISION, query("ICE", "DQ", "denied", records=0)),
            (EntryKind.DECISION, query("in-state", "DQ", "released", records=2, photo=True)),
            (EntryKind.DECISION, query("in-state", "RQ", "partial")),
            (EntryKind.POLICY_CHANGE, {"version": 3}),
        ])
        clock.now += 86_400_000_000  # the next day
        audit.append(EntryKind.DECISION, query("HSI", "KQ", "held", records=0))
        audit.append(EntryKind.REVIEW, query("HSI", "KQ", "released", records=3))
        rows = [(r.day, r.kind, r.category, r.group, r.outcome, r.entries, r.photos, r.records)
                for r in audit.rollups()]
        assert rows == [
            ("2026-03-01", "decision", "ICE", "driver", "denied", 2, 0, 0),
            ("2026-03-01", "decision", "in-state", "driver", "released", 1, 1, 2),
            ("2026-03-01", "decision", "in-state", "vehicle", "partial", 1, 0, 1),
            ("2026-03-01", "policy-change", "", "", "", 1, 0, 0),
            ("2026-03-02", "decision", "HSI", "history", "held", 1, 0, 0),
            ("2026-03-02", "review", "HSI", "history", "released", 1, 0, 3),
        ]
        assert [r.day for r in audit.rollups(since="2026-03-02")] == ["2026-03-02"] * 2
        assert [e.kind for e in audit.events([EntryKind.POLICY_CHANGE, EntryKind.REVIEW])] == [
            EntryKind.POLICY_CHANGE, EntryKind.REVIEW]
        assert audit.verify(key.public_key()).ok


def test_a_failed_batch_adds_nothing_to_the_rollups(log: AuditLog) -> None:
    before = log.rollups()
    with pytest.raises(ValueError):
        log.append_many([(EntryKind.DECISION, query("ICE", "DQ", "denied")), ("nope", {})])
    assert log.rollups() == before


@pytest.mark.parametrize("change", [
    "UPDATE rollups SET entries = entries - 1",
    "UPDATE rollups SET photos = photos + 1",
    "DELETE FROM rollups",
    "INSERT INTO rollups VALUES ('2026-03-01', 'decision', 'ICE', 'driver', 'denied', 1, 0, 0)",
])
def test_verify_catches_rollups_that_disagree_with_the_entries(
    log: AuditLog, store: Store, key: Ed25519PrivateKey, change: str
) -> None:
    db = store.attacker()
    db.execute(change)
    db.close()
    finding = log.verify(key.public_key()).finding
    assert finding is not None and finding.tamper is Tamper.ROLLUPS
    assert str(finding).startswith("rollups: rollups disagree with the entries: 2026-03-01")


@pytest.mark.postgres
def test_a_state_can_keep_its_log_in_postgresql(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    url = os.environ["STATELINE_TEST_POSTGRES_URL"]
    data = DataDir(tmp_path)
    data.state_dir("ZZ").mkdir(parents=True)
    data.config("ZZ").write_text(f'[audit]\nurl = "{url}"\n')
    try:
        assert read_state_log(data, "ZZ") is None  # no schema yet, and none made by looking
        with open_state_log(data, "ZZ") as audit:
            audit.append(EntryKind.LOGIN, {"user": "coordinator"})
            assert audit.verify(load_public(data)).ok
        assert not (tmp_path / "states/ZZ/audit.db").exists()
        check = check_state(data, "ZZ")
        assert check.report.ok and (check.report.entries, check.report.unsigned) == (1, 0)
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("DROP SCHEMA IF EXISTS audit_zz CASCADE")


def load_public(data: DataDir) -> Ed25519PublicKey:
    return load_or_create_key(signing_key(data, "ZZ")).public_key()


def test_a_log_url_in_the_config_must_be_postgresql(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    data.state_dir("ZZ").mkdir(parents=True)
    data.config("ZZ").write_text('[audit]\nurl = "mysql://x"\n')
    with pytest.raises(LogError, match=r"\[audit\] url"):
        open_state_log(data, "ZZ")


def test_a_long_log_recomputes_its_rollups_in_a_second_process(
    log: AuditLog, store: Store, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
    assert log.verify(key.public_key()).ok
    db = store.attacker()
    db.execute("UPDATE rollups SET records = records + 1")
    db.close()
    finding = log.verify(key.public_key()).finding
    assert finding is not None and finding.tamper is Tamper.ROLLUPS


def test_select_reads_and_refuses_anything_else(log: AuditLog) -> None:
    (count,) = log.select("SELECT count(*) FROM entries WHERE seq < ?", (10,)).fetchone()
    assert count == 10
    with pytest.raises(LogError, match="SELECT statements only"):
        log.select("DELETE FROM rollups")
    assert log.rollups()


def test_cosignatures_are_kept_with_their_head_and_served_in_its_checkpoint(
        tmp_path: Path) -> None:
    from stateline.audit.note import COSIGNATURE, Signer, parse_note, verified_by

    witness = Signer("auditor.example", Ed25519PrivateKey.generate(), COSIGNATURE)
    with AuditLog.open(tmp_path / "audit.db", "stateline/WA", Ed25519PrivateKey.generate()) as log:
        log.append("decision", {"n": 1})
        first = log.sign_head()
        log.append("decision", {"n": 2})
        latest = log.sign_head()
        line = witness.sign(latest.head.body(), 1_800_000_000)
        log.add_cosignatures(latest.head, [line, line])
        assert log.latest_head() == latest.with_cosignatures((line,))
        assert [h.cosignatures for h in log.heads()] == [(), (line,)]
        assert first.cosignatures == ()
        note = parse_note(log.latest_head().note())  # type: ignore[union-attr]
        assert [v for v, _ in verified_by(note, [witness.verifier])] == [witness.verifier]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq", "head"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_verify_in_two_processes_names_the_same_first_finding(
    log: AuditLog,
    store: Store,
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    tamper: Callable[[Db], None],
    kind: Tamper | None,
    seq: int | None,
    head: int | None,
) -> None:
    """Without the rollups, a second process hashes every other range (4 entries here)."""
    monkeypatch.setattr(verify_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(verify_module, "BATCH", 4)
    db = store.attacker()
    tamper(db)
    db.close()
    report = log.verify(key.public_key(), rollups=False)
    found = report.finding
    named = (found.tamper, found.seq, found.head) if found is not None else None
    assert named == ((kind, seq, head) if kind is not None else None), str(found)
    if kind is None:
        assert (report.entries, report.heads, report.unsigned, report.rollups) == (
            50, 2, 10, False)


def test_a_witness_is_shown_growth_from_the_frontier_kept_at_a_head(log: AuditLog) -> None:
    for old, new in ((20, 50), (40, 50), (20, 40), (0, 50), (7, 50), (50, 50)):
        assert log.growth_proof(old, new) == log.consistency_proof(old, new), (old, new)
    assert log.frontier_at(20) is not None and log.frontier_at(7) is None
    with pytest.raises(LogError):
        log.growth_proof(20, 51)
