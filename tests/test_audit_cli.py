"""`stateline audit verify|show|search|proof` on a small nation with real gateway traffic."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stateline.audit import audit_db, open_state_log
from stateline.audit.merkle import verify_consistency, verify_inclusion
from stateline.audit.note import parse_vkey
from stateline.commands import audit
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import open_store
from stateline.gateway import Gateway
from stateline.policy import store as policy_store
from stateline.policy.presets import preset
from stateline.protocol import read
from stateline.sim.nation import build_nation

HSI = "NYHSI0100"
ICE = "VTICE0900"

root = typer.Typer()
root.add_typer(audit.app, name="audit")
runner = CliRunner()


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """Two policy changes (the nation's baseline, then a preset), five queries (police twice,
    ICE, HSI, police again), a signed head after the first four, then a held request released
    by a reviewer."""
    data = DataDir(tmp_path_factory.mktemp("audit-cli"))
    build_nation(data, ("WA",), residents=200, seed=3)
    policy_store.apply(data, "WA", preset("block-ice-review-hsi").text(), who="test")
    with Directory.open(data, create=False) as directory:
        police = next(a.ori for a in directory.agencies(state="WA", active=True)
                      if a.agency_type == "PD")
    store = open_store(data.dmv_url("WA"))
    try:
        olns = [s.oln for s in store.sample(4, seed=7)]
    finally:
        store.close()
    with Gateway(data, "WA") as gateway:
        for sender, oln in ((police, olns[0]), (police, olns[1]), (ICE, olns[2]),
                            (HSI, olns[3])):
            gateway.handle(read(f"DQ.{sender}.WA.TXT\nOLN/{oln}"))
        gateway.log.sign_head()
        gateway.handle(read(f"DQ.{police}.WA.TXT\nOLN/{olns[1]}"))
        (held,) = gateway.queue.pending()
        gateway.release(held.reference, "coordinator")
    return data


def run(data: DataDir, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(root, ["audit", *args, "--data", str(data.root), "--state", "WA"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def entries(data: DataDir) -> list[tuple[int, str, dict[str, object]]]:
    with sqlite3.connect(audit_db(data, "WA")) as db:
        rows = db.execute("SELECT seq, kind, body FROM entries ORDER BY seq").fetchall()
    return [(seq, kind, json.loads(body)) for seq, kind, body in rows]


def test_verify_passes_on_an_honest_log(nation: DataDir) -> None:
    size = len(entries(nation))
    with open_state_log(nation, "WA") as log:
        heads = len(log.heads())
    assert heads >= 2  # the one signed by hand, and the gateway's own on closing
    code, out, _ = run(nation, "verify")
    assert code == 0
    assert f"{size} entries checked, {heads} signed heads" in out and "entries/s" in out
    assert out.rstrip().endswith("OK")
    code, out, _ = run(nation, "verify", "--json")
    report = json.loads(out)
    assert report["ok"] and report["entries"] == size and report["heads"] == heads
    assert report["finding"] is None


def tampered(nation: DataDir, tmp_path: Path) -> DataDir:
    copy = DataDir(tmp_path / "copy")
    shutil.copytree(nation.root, copy.root)
    return copy


def test_verify_names_an_edited_entry(nation: DataDir, tmp_path: Path) -> None:
    data = tampered(nation, tmp_path)
    with sqlite3.connect(audit_db(data, "WA")) as db:
        db.execute("DROP TRIGGER entries_no_update")
        body = json.loads(db.execute("SELECT body FROM entries WHERE seq = 4").fetchone()[0])
        body["outcome"] = "released"
        db.execute("UPDATE entries SET body = ? WHERE seq = 4",
                   (json.dumps(body, sort_keys=True, separators=(",", ":")),))
    code, out, err = run(data, "verify")
    assert code == 1
    assert "entry 4: edited:" in err and "OK" not in out
    code, out, _ = run(data, "verify", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert report["finding"]["seq"] == 4 and report["finding"]["tamper"] == "edited"
    assert report["entries"] == 4
    code, out, _ = run(data, "show", "4")
    assert code == 0 and out.rstrip().endswith("verifies: NO")


def test_verify_names_a_deleted_entry(nation: DataDir, tmp_path: Path) -> None:
    data = tampered(nation, tmp_path)
    with sqlite3.connect(audit_db(data, "WA")) as db:
        db.execute("DROP TRIGGER entries_no_delete")
        db.execute("DELETE FROM entries WHERE seq = 3")
    code, _, err = run(data, "verify")
    assert code == 1 and "entry 3: deleted:" in err


def test_show_prints_the_entry_and_a_proof_that_verifies(nation: DataDir) -> None:
    code, out, _ = run(nation, "show", "4")
    assert code == 0
    assert out.startswith("entry 4: decision at ")
    assert f"  ori: {ICE}" in out and "  outcome: denied" in out and "  category: ICE" in out
    assert "inclusion proof against signed head #" in out
    assert out.rstrip().endswith("verifies: yes")
    code, out, _ = run(nation, "show", "7", "--json")
    shown = json.loads(out)
    assert shown["kind"] == "review" and shown["body"]["reviewer"] == "coordinator"
    assert shown["verified"] and shown["proof"]["size"] == len(entries(nation))
    proof = [bytes.fromhex(h) for h in shown["proof"]["hashes"]]
    assert verify_inclusion(bytes.fromhex(shown["leaf"]), 7, shown["proof"]["size"], proof,
                            bytes.fromhex(shown["proof"]["root"]))


def test_search_filters_newest_first(nation: DataDir) -> None:
    code, out, _ = run(nation, "search", "--json")
    found = json.loads(out)
    assert code == 0 and [e["seq"] for e in found] == [7, 6, 5, 4, 3, 2]
    code, out, _ = run(nation, "search", "--category", "ice", "--json")
    assert [(e["seq"], e["body"]["outcome"]) for e in json.loads(out)] == [(4, "denied")]
    code, out, _ = run(nation, "search", "--agency", HSI, "--json")
    assert [(e["seq"], e["kind"]) for e in json.loads(out)] == [(7, "review"), (5, "decision")]
    code, out, _ = run(nation, "search", "--outcome", "held", "--key", "dq", "--json")
    assert [e["seq"] for e in json.loads(out)] == [5]
    code, out, _ = run(nation, "search", "--outcome", "released", "--limit", "1", "--json")
    assert [e["seq"] for e in json.loads(out)] == [6]
    code, out, _ = run(nation, "search", "--until", "2000-01-01", "--json")
    assert json.loads(out) == []
    code, out, _ = run(nation, "search", "--since", "2000-01-01", "--agency", ICE)
    assert code == 0 and "1 matching entry" in out and ICE in out and "denied" in out


def test_search_rejects_a_bad_date(nation: DataDir) -> None:
    code, out, err = run(nation, "search", "--since", "yesterday")
    assert code == 1 and "--since 'yesterday' is not a date" in err and out == ""


def test_proof_inclusion_and_consistency(nation: DataDir) -> None:
    size = len(entries(nation))
    code, out, _ = run(nation, "proof", "3", "--size", "6", "--json")
    proof = json.loads(out)
    assert code == 0 and proof["verified"] and proof["size"] == 6
    with open_state_log(nation, "WA") as log:
        assert proof["hashes"] == [h.hex() for h in log.inclusion_proof(3, 6)]
        signed_at_6 = next(h for h in log.heads() if h.head.size == 6)
        assert proof["root"] == signed_at_6.head.root.hex()
        leaf = log.entry(3).leaf
    assert verify_inclusion(leaf, 3, 6, [bytes.fromhex(h) for h in proof["hashes"]],
                            bytes.fromhex(proof["root"]))
    code, out, _ = run(nation, "proof", "0")
    assert code == 0 and f"in the tree of size {size}" in out
    assert out.rstrip().endswith("verifies: yes")
    code, out, _ = run(nation, "proof", "--consistency", "6", str(size), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["verified"]
    assert verify_consistency(6, size, [bytes.fromhex(h) for h in shown["hashes"]],
                              bytes.fromhex(shown["root1"]), bytes.fromhex(shown["root2"]))
    code, out, _ = run(nation, "proof", "--consistency", "3", "5")
    assert code == 0 and "consistency proof from size 3" in out and "verifies: yes" in out


@pytest.mark.parametrize("args, message", [
    (("show", "99"), "no entry 99"),
    (("proof", "3", "--size", "2"), "entry 3 is not in a tree of size 2"),
    (("proof", "1", "--size", "99"), "the log holds"),
    (("proof", "--consistency", "5", "2"), "need 0 <= M <= N"),
    (("proof",), "give SEQ [--size N] or --consistency M N"),
])
def test_bad_requests_are_clear_errors(nation: DataDir, args: tuple[str, ...],
                                       message: str) -> None:
    code, _, err = run(nation, *args)
    assert code == 1 and message in err and "Traceback" not in err


def test_a_state_without_a_log_is_a_clear_error(tmp_path: Path, nation: DataDir) -> None:
    result = runner.invoke(root, ["audit", "verify", "--data", str(nation.root),
                                  "--state", "OR"])
    assert result.exit_code == 1 and "no state OR" in result.stderr
    empty = DataDir(tmp_path)
    empty.state_dir("WA").mkdir(parents=True)
    code, out, _ = run(empty, "search", "--json")
    assert code == 1 and "has no audit log" in json.loads(out)["error"]["text"]


def test_counts_come_from_the_rollups(nation: DataDir) -> None:
    code, out, _ = run(nation, "counts", "--json")
    assert code == 0
    rows = {(r["kind"], r["category"], r["outcome"]): r["entries"] for r in json.loads(out)}
    assert rows[("policy-change", "", "")] == 2
    assert rows[("decision", "ICE", "denied")] == 1
    assert rows[("decision", "HSI", "held")] == 1
    assert rows[("review", "HSI", "partial")] == 1  # released after review, SSN withheld
    assert rows[("decision", "in-state", "released")] == 3
    code, out, _ = run(nation, "counts")
    assert code == 0 and "ICE" in out and "denied" in out
    code, out, _ = run(nation, "counts", "--since", "2000-01-01", "--until", "2000-12-31",
                       "--json")
    assert (code, json.loads(out)) == (0, [])
    code, _, err = run(nation, "counts", "--since", "yesterday")
    assert code == 1 and "--since 'yesterday' is not a day" in err


def test_policy_changes_are_audited_with_the_text_put_in_force(nation: DataDir) -> None:
    changes = [(seq, body) for seq, kind, body in entries(nation) if kind == "policy-change"]
    assert [seq for seq, _ in changes] == [0, 1]
    body = changes[1][1]
    assert body["who"] == "test" and body["change_kind"] == "policy"
    assert body["new_version"] == policy_store.digest(preset("block-ice-review-hsi").text())
    assert body["text"] == preset("block-ice-review-hsi").text()


def test_key_prints_the_log_verifier_key(nation: DataDir) -> None:
    pinned = (nation.state_dir("WA") / "audit-key.pub").read_text().split()
    code, out, _ = run(nation, "key")
    assert code == 0 and out.strip() == pinned[-1]
    assert parse_vkey(out.strip()).name == "stateline/WA"
    code, out, _ = run(nation, "key", "--json")
    shown = json.loads(out)
    assert (shown["vkey"], shown["pinned"], shown["beside_log"]) == (pinned[-1], pinned, True)


def test_rotate_key_announces_the_new_key_under_the_old_and_signs_with_it(
        nation: DataDir, tmp_path: Path) -> None:
    data = tampered(nation, tmp_path)
    before = len(entries(data))
    old = (data.state_dir("WA") / "audit-key.pub").read_text().split()
    new_key = tmp_path / "keys" / "wa-2026.pem"
    new_key.parent.mkdir()
    code, out, _ = run(data, "rotate-key", "--new-key", str(new_key), "--json")
    rotated = json.loads(out)
    assert code == 0 and rotated["announced_at"] == before
    assert new_key.stat().st_mode & 0o777 == 0o600
    assert (data.state_dir("WA") / "audit-key.pem").read_bytes() == new_key.read_bytes()
    assert (data.state_dir("WA") / "audit-key.pub").read_text().split() == \
        [*old, rotated["vkey"]]
    assert entries(data)[-1] == (before, "key-rotation", {"vkey": rotated["vkey"]})
    assert run(data, "key")[1].strip() == rotated["vkey"]
    with Gateway(data, "WA") as gateway:
        gateway.handle(read(f"DQ.{ICE}.WA.TXT\nOLN/WDL0000000AB"))
    code, out, _ = run(data, "verify", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["unsigned"] == 0
    assert report["key"]["pinned"] == [*old, rotated["vkey"]]
    code, out, _ = run(data, "rotate-key", "--new-key", str(new_key))
    assert code == 0 and "was already in the log" in out
    assert len(entries(data)) == before + 2  # the rotation and the query, nothing more


def test_rotate_key_refuses_the_key_in_force(nation: DataDir, tmp_path: Path) -> None:
    data = tampered(nation, tmp_path)
    code, _, err = run(data, "rotate-key", "--new-key",
                       str(data.state_dir("WA") / "audit-key.pem"))
    assert code == 1 and "already in force" in err


def test_schema_prints_each_kinds_published_schema_and_refuses_an_unknown_kind() -> None:
    listed = runner.invoke(root, ["audit", "schema"])
    assert listed.exit_code == 0
    assert "key-rotation   stateline/audit/schemas/key-rotation.schema.json" in listed.stdout
    decision = runner.invoke(root, ["audit", "schema", "decision"])
    document = json.loads(decision.stdout)
    assert document["$schema"].endswith("2020-12/schema")
    assert {"ori", "category", "outcome"} <= set(document["properties"])
    wrong = runner.invoke(root, ["audit", "schema", "decisions", "--json"])
    assert wrong.exit_code == 1 and json.loads(wrong.stdout)["error"]["code"] == "invalid"
