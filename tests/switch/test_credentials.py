"""Credentials: a token works only while in force, only its digest is stored, and the
synthetic nation's tokens file is readable by its owner alone."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.switch import CredentialError
from stateline.switch.credentials import (
    TOKEN_PREFIX,
    CredentialBook,
    read_tokens,
    save_tokens,
    token_for,
)


def test_a_token_checks_until_it_is_revoked(tmp_path: Path) -> None:
    with CredentialBook(DataDir(tmp_path)) as book:
        token, credential = book.issue("orppd0000", "J. Rivera", "front desk")
        assert token.startswith(TOKEN_PREFIX) and credential.ori == "ORPPD0000"
        assert book.check(token) == credential
        assert book.check(token + "x") is None
        revoked = book.revoke(credential.id.upper())
        assert revoked.revoked is not None and not revoked.in_force
        assert book.check(token) is None
        with pytest.raises(CredentialError, match="already revoked"):
            book.revoke(credential.id)
        with pytest.raises(CredentialError, match="no credential"):
            book.revoke("feedface00")
        assert [c.id for c in book.credentials("ORPPD0000")] == [credential.id]


def test_only_digests_are_stored(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    with CredentialBook(data) as book:
        token, _ = book.issue("ORPPD0000", "test")
    raw = data.switch_db.read_bytes()
    assert token.encode() not in raw
    with sqlite3.connect(data.switch_db) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(credential)")]
    assert "token" not in columns and "digest" in columns


def test_an_ori_that_is_not_nine_characters_gets_no_credential(tmp_path: Path) -> None:
    with CredentialBook(DataDir(tmp_path)) as book, pytest.raises(CredentialError):
        book.issue("ORPPD", "test")


def test_refusals_are_logged_newest_first(tmp_path: Path) -> None:
    with CredentialBook(DataDir(tmp_path)) as book:
        _, credential = book.issue("ORPPD0000", "test")
        book.refuse("unknown or revoked token", claimed_ori="WASPD0100")
        book.refuse("wrong ORI", credential, "WASPD0100")
        newest, oldest = book.refusals()
    assert (newest.reason, newest.credential, newest.credential_ori, newest.claimed_ori) == \
        ("wrong ORI", credential.id, "ORPPD0000", "WASPD0100")
    assert (oldest.credential, oldest.claimed_ori) == (None, "WASPD0100")


def test_the_tokens_file_is_owner_only_and_merges(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    save_tokens(data, {"ORPPD0000": "slag_a"})
    save_tokens(data, {"WASPD0100": "slag_b", "ORPPD0000": "slag_c"})
    assert stat.S_IMODE(data.credentials_file.stat().st_mode) == 0o600
    assert read_tokens(data) == {"ORPPD0000": "slag_c", "WASPD0100": "slag_b"}
    assert token_for(data, "wasPD0100") == "slag_b"
    with pytest.raises(CredentialError, match="credentials issue NYSPD0000 --save"):
        token_for(data, "NYSPD0000")


def test_a_new_nation_has_one_working_credential_per_agency(nation: DataDir) -> None:
    tokens = read_tokens(nation)
    assert stat.S_IMODE(nation.credentials_file.stat().st_mode) == 0o600
    with Directory.open(nation, create=False) as directory:
        assert sorted(tokens) == [agency.ori for agency in directory.agencies()]
    with CredentialBook(nation) as book:
        credential = book.check(tokens["VTICE0900"])
    assert credential is not None and credential.ori == "VTICE0900"
