"""Accounts from the command line and from the dashboard: passwords shown once and kept only
as scrypt digests, sessions ended by a new password, and every change audited."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from stateline.audit import EntryKind, open_state_log
from stateline.cli import app as cli
from stateline.datadir import DataDir
from stateline.sim.nation import build_nation
from stateline.web.accounts import Accounts, check_password, hash_password

from .conftest import Browser, Nation, signed_in

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir(tmp_path_factory.mktemp("users"))
    build_nation(data, ("WA",), residents=20, seed=3)
    return data


def credentials(data: DataDir) -> list[dict[str, object]]:
    with open_state_log(data, "WA") as log:
        return [dict(e.body) for e in log.events([EntryKind.CREDENTIAL])
                if "user" in e.body]


def test_users_add_prints_a_password_once_and_keeps_only_its_digest(folder: DataDir) -> None:
    made = runner.invoke(cli, ["users", "add", "june", "--role", "reviewer", "--state", "wa",
                               "--data", str(folder.root), "--by", "admin"])
    assert made.exit_code == 0, made.output
    assert "Account june added: reviewer for WA." in made.output
    password = made.output.split("Password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert Accounts(folder).check("june", password) is not None
    with sqlite3.connect(folder.root / "web.db") as db:
        (stored,) = db.execute("SELECT password FROM account WHERE name = 'june'").fetchone()
    assert password not in stored and stored.startswith("scrypt$")
    assert credentials(folder)[-1] == {**credentials(folder)[-1], "action": "account-added",
                                       "user": "june", "role": "reviewer", "by": "admin"}


def test_users_list_passwd_and_remove(folder: DataDir) -> None:
    runner.invoke(cli, ["users", "add", "kim", "--role", "viewer", "--state", "WA",
                        "--data", str(folder.root), "--password-stdin"],
                  input="a long enough password\n")
    listed = runner.invoke(cli, ["users", "list", "--data", str(folder.root), "--json"])
    assert {"name": "kim", "role": "viewer", "state": "WA"}.items() <= \
        next(a for a in json.loads(listed.output) if a["name"] == "kim").items()
    assert "password" not in listed.output
    changed = runner.invoke(cli, ["users", "passwd", "kim", "--data", str(folder.root)])
    assert changed.exit_code == 0 and "Password (shown once)" in changed.output
    assert Accounts(folder).check("kim", "a long enough password") is None
    removed = runner.invoke(cli, ["users", "remove", "kim", "--data", str(folder.root)])
    assert removed.exit_code == 0
    assert [e["action"] for e in credentials(folder)[-3:]] == [
        "account-added", "password-set", "account-removed"]


def test_bad_accounts_are_refused_and_nothing_changes(folder: DataDir) -> None:
    for args, text in ((["add", "x", "--role", "boss", "--state", "WA"], "role 'boss'"),
                       (["add", "Bad Name", "--role", "viewer", "--state", "WA"], "account name"),
                       (["add", "y", "--role", "viewer", "--state", "OR"], "no state OR"),
                       (["remove", "nobody"], "no account 'nobody'")):
        refused = runner.invoke(cli, ["users", *args, "--data", str(folder.root)])
        assert refused.exit_code == 1 and text in refused.output
    short = runner.invoke(cli, ["users", "add", "z", "--role", "viewer", "--state", "WA",
                                "--data", str(folder.root), "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output


def test_a_password_digest_is_salted_and_checked_exactly() -> None:
    one, two = hash_password("same password"), hash_password("same password")
    assert one != two
    assert check_password("same password", one) and not check_password("same passworD", one)
    assert not check_password("same password", "md5$nonsense")


def test_a_coordinator_manages_accounts_of_its_state(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "cora")
    page = browser.get("/users").text
    assert "rey" in page and "nyla" not in page  # NY's accounts are not WA's to manage
    added = browser.post("/users", {"action": "add", "name": "newbie", "role": "viewer",
                                    "state": "WA"})
    assert added.status_code == 200 and 'id="new-password"' in added.text
    other = browser.post("/users", {"action": "add", "name": "nyguy", "role": "viewer",
                                    "state": "NY"})
    assert other.status_code == 403
    removed = browser.post("/users", {"action": "remove", "name": "newbie"})
    assert "Account newbie removed" in removed.text
    self_remove = browser.post("/users", {"action": "remove", "name": "cora"})
    assert self_remove.status_code == 403
    with open_state_log(nation.data, "WA") as log:
        actions = [e.body["action"] for e in log.events([EntryKind.CREDENTIAL])
                   if e.body.get("user") == "newbie"]
    assert actions == ["account-added", "account-removed"]


def test_a_new_password_ends_the_accounts_sessions(browser: Browser, nation: Nation) -> None:
    signed_in(browser, "vic")
    Accounts(nation.data).set_password("vic", "correct horse battery")
    answer = browser.client.get("/states/WA/", headers={"accept": "text/html"},
                                follow_redirects=False)
    assert answer.status_code == 303
