"""The attacks issue 13 reports, run as written by someone holding the data folder: each passes
a check of the log against itself, and each is TAMPERED against a checkpoint the state cannot
take back (`stateline audit verify --trusted`)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from stateline.audit import EntryKind, audit_db, open_state_log
from stateline.audit.checkpoint import TreeHead, sign, verifier_key
from stateline.audit.log import pack_frontier
from stateline.audit.merkle import Frontier, leaf_hash
from stateline.audit.rollups import implied, recompute_sql
from stateline.audit.sql import SQLITE
from stateline.commands import audit
from stateline.datadir import DataDir

ORIGIN = "stateline/WA"
root = typer.Typer()
root.add_typer(audit.app, name="audit")
runner = CliRunner()


def verify(data: DataDir, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["audit", "verify", "--data", str(data.root), "--state", "WA",
                                  *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """WA's log: 30 entries, signed heads at 10, 20 and 30; the checkpoint at 30 kept outside
    the folder (`trusted.txt`), as a witness or an earlier download keeps it."""
    folder = DataDir(tmp_path / "data")
    folder.state_dir("WA").mkdir(parents=True)
    with open_state_log(folder, "WA") as log:
        for batch in range(3):
            log.append_many([(EntryKind.DECISION, {"n": batch * 10 + i, "ori": "WAPD00100",
                                                   "category": "in-state", "key": "DQ",
                                                   "outcome": "released", "records": ["R1"]})
                             for i in range(10)])
            log.sign_head()
        (tmp_path / "trusted.txt").write_text(log.latest_head().note())  # type: ignore[union-attr]
    return folder


def trusted(data: DataDir) -> str:
    return str(data.root.parent / "trusted.txt")


class Attacker:
    """The log's database opened directly, its append-only triggers dropped."""

    def __init__(self, data: DataDir) -> None:
        self.data = data
        self.db = sqlite3.connect(audit_db(data, "WA"), isolation_level=None)
        for (trigger,) in self.db.execute("SELECT name FROM sqlite_master WHERE type='trigger'"
                                          ).fetchall():
            self.db.execute(f"DROP TRIGGER {trigger}")

    def edit(self, seq: int) -> None:
        """Change what entry `seq` says, with a leaf hash to match."""
        t, kind, body = self.db.execute("SELECT time_us, kind, body FROM entries WHERE seq = ?",
                                        (seq,)).fetchone()
        body = body.replace("WAPD00100", "WAPD00999")
        leaf = leaf_hash(f"{t}\n{kind}\n{body}".encode())
        self.db.execute("UPDATE entries SET body = ?, leaf = ? WHERE seq = ?", (body, leaf, seq))

    def roots(self) -> dict[int, bytes]:
        frontier, roots = Frontier(), {0: Frontier().root()}
        for (leaf,) in self.db.execute("SELECT leaf FROM entries ORDER BY seq").fetchall():
            frontier.append(leaf)
            roots[frontier.size] = frontier.root()
        return roots

    def settle(self) -> None:
        """Make the log's own state (tree row, rollups) agree with the entries left."""
        leaves = [leaf for (leaf,) in self.db.execute("SELECT leaf FROM entries ORDER BY seq")]
        frontier = Frontier()
        frontier.extend(leaves)
        self.db.execute("UPDATE tree SET size = ?, frontier = ?",
                        (frontier.size, pack_frontier(frontier)))
        counts = implied(self.db.execute(recompute_sql(SQLITE), (frontier.size,)))
        self.db.execute("DELETE FROM rollups")
        self.db.executemany("INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [(r.day, r.kind, r.category, r.group, r.outcome, r.entries,
                              r.photos, r.records) for r in counts])

    def resign(self, key: Ed25519PrivateKey) -> None:
        """Sign every head again, over the roots the entries now give, with `key`."""
        roots = self.roots()
        for hid, size, t in self.db.execute("SELECT id, size, time_us FROM heads").fetchall():
            signed = sign(TreeHead(ORIGIN, size, roots[size], t), key)
            self.db.execute("UPDATE heads SET root = ?, key_id = ?, signature = ? WHERE id = ?",
                            (roots[size], signed.key_id, signed.signature, hid))

    def close(self) -> None:
        self.db.close()


def attacked(data: DataDir, how: Callable[[Attacker], None]) -> None:
    attacker = Attacker(data)
    try:
        how(attacker)
    finally:
        attacker.close()


def test_an_honest_log_holds_its_trusted_checkpoint(data: DataDir) -> None:
    code, out, _ = verify(data, "--trusted", trusted(data), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["ok"] and shown["unsigned"] == 0
    assert shown["trusted"] == [{"source": trusted(data), "size": 30,
                                 "root": shown["trusted"][0]["root"], "cosigners": []}]
    assert shown["key"]["beside_log"] is True
    code, out, _ = verify(data, "--trusted", trusted(data))
    assert code == 0 and out.rstrip().endswith("OK")
    assert "key: kept beside the log" in out and "only a trusted checkpoint" in out


def test_a_rollback_passes_alone_and_is_tampered_against_the_checkpoint(data: DataDir) -> None:
    def roll_back(attacker: Attacker) -> None:
        attacker.db.execute("DELETE FROM entries WHERE seq >= 10")
        attacker.db.execute("DELETE FROM heads WHERE size > 10")
        attacker.settle()

    attacked(data, roll_back)
    code, out, _ = verify(data)
    assert code == 0 and "10 entries checked, 1 signed heads" in out  # what the issue found
    code, out, err = verify(data, "--trusted", trusted(data))
    assert code == 1 and "OK" not in out
    assert f"TAMPERED: entry 10: rolled back: the log holds 10 entries, but {trusted(data)} " \
           "shows 30" in err


@pytest.mark.parametrize("how", ["zero bytes", "missing"])
def test_an_emptied_database_is_tampered_and_never_made_again(data: DataDir, how: str) -> None:
    path = audit_db(data, "WA")
    if how == "missing":
        path.unlink()
    else:
        os.truncate(path, 0)
    for args in ((), ("--trusted", trusted(data))):
        code, _, err = verify(data, *args)
        assert code == 1 and "TAMPERED: entry 0: truncated: " in err
        assert ("trusted.txt shows 30 entries" if args else "its key was pinned") in err
    assert (path.stat().st_size == 0) if how == "zero bytes" else not path.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        ["audit-key.pem", "audit-key.pub"] + (["audit.db"] if how == "zero bytes" else []))


def test_a_state_with_no_log_and_no_key_has_no_log_yet(tmp_path: Path) -> None:
    empty = DataDir(tmp_path)
    empty.state_dir("WA").mkdir(parents=True)
    code, out, _ = verify(empty, "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "not-found"
    assert not audit_db(empty, "WA").exists()


def new_key_over_the_old(data: DataDir, *, pin: bool) -> Ed25519PrivateKey:
    """Rewrite entry 3, sign every head again with a new key, and write that key over the
    state's key (and, with `pin`, over the pinned public key too)."""
    key = Ed25519PrivateKey.generate()

    def rewrite(attacker: Attacker) -> None:
        attacker.edit(3)
        attacker.settle()
        attacker.resign(key)

    attacked(data, rewrite)
    folder = data.state_dir("WA")
    (folder / "audit-key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    if pin:
        (folder / "audit-key.pub").write_text(verifier_key(ORIGIN, key.public_key()) + "\n")
    return key


def test_a_log_signed_again_with_a_new_key_is_tampered_against_the_checkpoint(
        data: DataDir) -> None:
    new_key_over_the_old(data, pin=True)
    code, out, _ = verify(data)
    assert code == 0 and out.rstrip().endswith("OK")  # the folder alone vouches for itself
    code, out, _ = verify(data, "--trusted", trusted(data), "--json")
    finding = json.loads(out)["finding"]
    assert code == 1 and (finding["tamper"], finding["place"]) == ("re-signed", trusted(data))
    assert "which is not the log's pinned key" in finding["detail"]
    assert "the log's keys were replaced" in finding["detail"]


def test_heads_signed_again_with_a_key_that_is_not_pinned_are_tampered(data: DataDir) -> None:
    new_key_over_the_old(data, pin=False)
    code, _, err = verify(data)
    assert code == 1 and "TAMPERED: signed head #1: re-signed: " in err


def test_an_unsigned_tail_edited_after_the_checkpoint_is_tampered(data: DataDir) -> None:
    def edit_behind_the_heads(attacker: Attacker) -> None:
        attacker.edit(25)
        attacker.db.execute("DELETE FROM heads WHERE size > 25")
        attacker.settle()

    attacked(data, edit_behind_the_heads)
    code, out, _ = verify(data, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["ok"] and shown["unsigned"] == 10  # edited where nothing signs
    code, out, err = verify(data, "--trusted", trusted(data))
    assert code == 1
    assert f"TAMPERED: {trusted(data)}: rewritten: its root at size 30 differs from the " \
           "log's: one of entries 20..29 was changed since it was seen" in err


@pytest.mark.parametrize("text, message", [
    ("not a checkpoint", "a note is text, a blank line, then signature lines"),
    (None, "cannot read the trusted checkpoint"),
    ("other", "is a checkpoint of stateline/OR, not stateline/WA"),
])
def test_a_trusted_checkpoint_that_cannot_be_used_is_a_clear_error(
        data: DataDir, tmp_path: Path, text: str | None, message: str) -> None:
    given = tmp_path / "given.txt"
    if text == "other":
        text = sign(TreeHead("stateline/OR", 1, bytes(32)), Ed25519PrivateKey.generate()).note()
    if text is not None:
        given.write_text(text)
    code, out, err = verify(data, "--trusted", str(given))
    assert code == 1 and message in err and "Traceback" not in err and out == ""


def test_the_rollups_can_be_left_out(data: DataDir) -> None:
    def miscount(attacker: Attacker) -> None:
        attacker.db.execute("UPDATE rollups SET entries = entries + 1")

    attacked(data, miscount)
    code, _, err = verify(data, "--trusted", trusted(data))
    assert code == 1 and "rollups disagree" in err
    code, out, _ = verify(data, "--trusted", trusted(data), "--no-rollups")
    assert code == 0 and "rollups: not recomputed" in out


def test_the_database_is_read_never_written(data: DataDir) -> None:
    path = audit_db(data, "WA")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=DELETE")  # no -wal or -shm file to hide a write in
    before = path.read_bytes(), path.stat().st_mtime_ns
    code, _, _ = verify(data, "--trusted", trusted(data))
    assert code == 0 and (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_cosignature_the_log_kept_catches_a_rollback_without_a_trusted_checkpoint(
        data: DataDir) -> None:
    from stateline.audit.note import COSIGNATURE, Signer

    witness = Signer("auditor.wa.example/w1", Ed25519PrivateKey.generate(), COSIGNATURE)
    data.config("WA").write_text(f'[[audit.witness]]\nurl = "http://127.0.0.1:9"\n'
                                 f'vkey = "{witness.verifier.vkey}"\n')
    with open_state_log(data, "WA") as log:
        head = log.latest_head()
        assert head is not None
        log.add_cosignatures(head.head, [witness.sign(head.head.body(), 1_800_000_000)])

    def roll_back(attacker: Attacker) -> None:
        attacker.db.execute("DELETE FROM entries WHERE seq >= 10")
        attacker.db.execute("DELETE FROM heads WHERE size > 10")
        attacker.settle()

    attacked(data, roll_back)
    code, _, err = verify(data, "--no-rollups")
    assert code == 1
    assert "TAMPERED: entry 10: rolled back: the log holds 10 entries, but the witness " \
           "auditor.wa.example/w1 cosigned 30" in err
