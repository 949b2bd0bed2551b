"""The log's key: kept apart from the data folder, pinned there as a public key, refused when
it is not the pinned one, and rotated by an entry signed under the old key."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from stateline.audit import (
    AuditLog,
    EntryKind,
    KeyRefused,
    Tamper,
    audit_db,
    log_keys,
    open_state_log,
    read_state_log,
)
from stateline.audit.checkpoint import sign, verifier_key
from stateline.audit.keys import KEYS_ENV, keys_for_size, read_pinned
from stateline.datadir import DataDir

ORIGIN = "stateline/WA"


def write_key(path: Path, key: Ed25519PrivateKey | None = None) -> Ed25519PrivateKey:
    key = key or Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    folder = DataDir(tmp_path / "data")
    folder.state_dir("WA").mkdir(parents=True)
    return folder


def entries(data: DataDir) -> int:
    with sqlite3.connect(audit_db(data, "WA")) as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def verified(data: DataDir) -> tuple[bool, str]:
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        report = log.verify(log_keys(data, "WA"))
    return report.ok, str(report.finding)


def test_by_default_the_key_stays_beside_the_log_and_is_pinned_on_first_use(
        data: DataDir) -> None:
    with open_state_log(data, "WA") as log:
        log.append(EntryKind.LOGIN, {"user": "j.doe"})
    folder = data.state_dir("WA")
    key = serialization.load_pem_private_key((folder / "audit-key.pem").read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    assert (folder / "audit-key.pub").read_text() == \
        verifier_key(ORIGIN, key.public_key()) + "\n"
    assert verified(data) == (True, "None")


@pytest.mark.parametrize("named_by", ["config", "environment"])
def test_a_key_kept_outside_the_folder_leaves_only_the_public_key_in_it(
        data: DataDir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named_by: str) -> None:
    secrets = tmp_path / "secrets"
    key = write_key(secrets / "WA.pem")
    if named_by == "config":
        data.config("WA").write_text(f'[audit]\nsigning_key = "{secrets / "WA.pem"}"\n')
    else:
        monkeypatch.setenv(KEYS_ENV, str(secrets))
    with open_state_log(data, "WA") as log:
        log.append(EntryKind.LOGIN, {"user": "j.doe"})
    assert sorted(p.name for p in data.state_dir("WA").iterdir()
                  if p.name.startswith("audit-key")) == ["audit-key.pub"]
    assert [v.vkey for v in read_pinned(data.state_dir("WA") / "audit-key.pub")] == \
        [verifier_key(ORIGIN, key.public_key())]
    assert verified(data) == (True, "None")


def test_a_configured_key_that_is_not_there_writes_nothing(data: DataDir,
                                                           tmp_path: Path) -> None:
    data.config("WA").write_text(f'[audit]\nsigning_key = "{tmp_path / "gone.pem"}"\n')
    with open_state_log(data, "WA") as log, pytest.raises(KeyRefused, match="no signing key"):
        log.append(EntryKind.LOGIN, {"user": "j.doe"})
    assert entries(data) == 0
    assert not (tmp_path / "gone.pem").exists()


def test_a_key_written_over_the_pinned_one_is_refused_and_never_used(data: DataDir) -> None:
    with open_state_log(data, "WA") as log:
        log.append(EntryKind.LOGIN, {"user": "j.doe"})
    pinned = (data.state_dir("WA") / "audit-key.pub").read_text()
    write_key(data.state_dir("WA") / "audit-key.pem")
    with open_state_log(data, "WA") as log:
        with pytest.raises(KeyRefused, match="not the log's pinned key"):
            log.append(EntryKind.LOGIN, {"user": "mallory"})
        with pytest.raises(KeyRefused):
            log.sign_head()
    assert entries(data) == 1
    assert (data.state_dir("WA") / "audit-key.pub").read_text() == pinned


def test_a_deleted_key_is_not_made_again_once_one_is_pinned(data: DataDir) -> None:
    with open_state_log(data, "WA") as log:
        log.append(EntryKind.LOGIN, {"user": "j.doe"})
    (data.state_dir("WA") / "audit-key.pem").unlink()
    with open_state_log(data, "WA") as log, pytest.raises(KeyRefused, match="no signing key"):
        log.append(EntryKind.LOGIN, {"user": "mallory"})
    assert not (data.state_dir("WA") / "audit-key.pem").exists()


def test_a_writer_signs_what_it_appended_when_it_closes(data: DataDir) -> None:
    with open_state_log(data, "WA") as writer:
        writer.append(EntryKind.LOGIN, {"user": "j.doe"})
        writer.append(EntryKind.LOGIN, {"user": "j.roe"})
    log = read_state_log(data, "WA")
    assert log is not None
    with log:
        assert [h.head.size for h in log.heads()] == [2]
        assert log.verify(log_keys(data, "WA")).unsigned == 0
    with open_state_log(data, "WA") as reader:
        assert reader.size == 2  # a handle that only read signs nothing
    with sqlite3.connect(audit_db(data, "WA")) as db:
        assert db.execute("SELECT count(*) FROM heads").fetchone() == (1,)


def test_a_log_opened_to_read_creates_nothing(data: DataDir) -> None:
    assert read_state_log(data, "WA") is None
    assert not audit_db(data, "WA").exists()
    audit_db(data, "WA").touch()
    assert read_state_log(data, "WA") is None
    assert audit_db(data, "WA").stat().st_size == 0


def test_which_key_signs_which_head() -> None:
    # Keys 0, 1, 2, announced by entries 9 and 19: a rotation's own head (size 10 or 20)
    # may be signed by the old key or the new.
    assert [keys_for_size(3, [9, 19], size) for size in (0, 9, 10, 11, 20, 21, 99)] == [
        [0], [0], [0, 1], [1], [1, 2], [2], [2]]
    assert keys_for_size(2, [], 5) == [0]  # a pinned key no entry announced signs nothing


@pytest.fixture
def rotated(tmp_path: Path) -> tuple[AuditLog, Ed25519PrivateKey, Ed25519PrivateKey]:
    """5 entries and a head under the first key; a rotation (entry 5, head 6 by the first key);
    then 3 entries and a head under the second."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log = AuditLog.open(tmp_path / "audit.db", ORIGIN, old)
    for n in range(5):
        log.append(EntryKind.LOGIN, {"n": n})
    log.sign_head()
    rotation = log.rotate_key(new)
    assert rotation.head.size == 6 and rotation.key_id == sign(rotation.head, old).key_id
    for n in range(3):
        log.append(EntryKind.LOGIN, {"n": n})
    later = log.sign_head()
    assert later.key_id == sign(later.head, new).key_id
    return log, old, new


def test_verify_follows_the_chain_of_keys(
        rotated: tuple[AuditLog, Ed25519PrivateKey, Ed25519PrivateKey]) -> None:
    log, old, new = rotated
    assert log.entry(5).body == {"vkey": verifier_key(ORIGIN, new.public_key())}
    report = log.verify([old.public_key(), new.public_key()])
    assert report.ok, report.finding
    assert (report.heads, report.keys) == (3, 2)


@pytest.mark.parametrize("chain, tamper, where", [
    ("old", Tamper.KEYS, "entry 5"),              # the log announces a key nobody pinned
    ("new", Tamper.RESIGNED, "signed head #1"),   # pinned keys rewritten to the new key only
    ("old,new,other", Tamper.KEYS, "the pinned keys"),
])
def test_a_chain_the_log_does_not_announce_is_tampering(
        rotated: tuple[AuditLog, Ed25519PrivateKey, Ed25519PrivateKey], chain: str,
        tamper: Tamper, where: str) -> None:
    log, old, new = rotated
    keys = {"old": old, "new": new, "other": Ed25519PrivateKey.generate()}
    finding = log.verify([keys[k].public_key() for k in chain.split(",")]).finding
    assert finding is not None and finding.tamper is tamper
    assert str(finding).startswith(where)


def test_the_old_key_cannot_sign_after_the_rotation(
        rotated: tuple[AuditLog, Ed25519PrivateKey, Ed25519PrivateKey],
        tmp_path: Path) -> None:
    log, old, new = rotated
    log.close()
    with AuditLog.open(tmp_path / "audit.db", ORIGIN, old) as stale:
        stale.append(EntryKind.LOGIN, {"n": "late"})
        with pytest.raises(KeyRefused, match="rotated"):
            stale.sign_head()
        forged = sign(stale.head(), old)  # as whoever kept a copy of the old key would
    h = forged.head
    with sqlite3.connect(tmp_path / "audit.db") as db:
        db.execute("INSERT INTO heads (size, time_us, root, key_id, signature) "
                   "VALUES (?,?,?,?,?)", (h.size, h.time_us, h.root, forged.key_id,
                                          forged.signature))
    with AuditLog.open(tmp_path / "audit.db", ORIGIN, new) as reopened:
        finding = reopened.verify([old.public_key(), new.public_key()]).finding
    assert finding is not None and finding.tamper is Tamper.RESIGNED
    assert "pinned key #1, which does not sign heads of that size" in str(finding)


def test_a_process_holding_the_old_key_reads_the_new_one_where_it_is_kept(
        data: DataDir) -> None:
    """A gateway keeps its log open while a coordinator rotates the key: its next head is
    signed with the key found where the state keeps it."""
    with open_state_log(data, "WA") as gateway:
        gateway.append(EntryKind.LOGIN, {"user": "j.doe"})
        place = data.state_dir("WA") / "audit-key.pem"
        with open_state_log(data, "WA") as coordinator:
            new = Ed25519PrivateKey.generate()
            coordinator.rotate_key(new)
        gateway.append(EntryKind.LOGIN, {"user": "j.roe"})
        with pytest.raises(KeyRefused, match="rotated"):
            gateway.sign_head()  # the pinned file and the key file still hold the old key
        (data.state_dir("WA") / "audit-key.pub").write_text(
            (data.state_dir("WA") / "audit-key.pub").read_text()
            + verifier_key(ORIGIN, new.public_key()) + "\n")
        write_key(place, new)
        signed = gateway.sign_head()
    assert signed.key_id == sign(signed.head, new).key_id
    assert verified(data) == (True, "None")
