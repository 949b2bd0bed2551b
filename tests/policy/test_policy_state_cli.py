"""`stateline policy apply|show|history|explain`, `stateline orders` and `stateline attest` as a
coordinator runs them: refusals that list every problem and change nothing, versions and history
that tell who changed what, and clear errors without tracebacks."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from stateline.cli import app
from stateline.commands.policy_state import attest_app, orders_app
from stateline.datadir import DataDir
from stateline.policy.store import current_text, digest, history

runner = CliRunner()
registry_cli = typer.Typer()
registry_cli.add_typer(orders_app, name="orders")
registry_cli.add_typer(attest_app, name="attest")

BLOCK_ICE = """\
@id("cj-query")
@reason("Criminal-justice agencies may query.")
permit (principal, action in Action::"query", resource) when { principal.criminal_justice };

@id("block-ice")
@reason("No state resources for civil immigration enforcement without a court order.")
forbid (principal in Category::"ICE", action in Action::"query", resource)
unless { context.court_order };
"""

BROKEN = """\
@id("cj-query")
permit (principal, action in Action::"query", resource);

@id("Typo")
@reason("A misspelt attribute.")
forbid (principal, action, resource) when { principal.departmnt == "DHS" };
"""

SOON = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture
def data(small_nation: DataDir, tmp_path: Path) -> Path:
    """A copy of the shared nation this test may change."""
    folder = tmp_path / "nation"
    shutil.copytree(small_nation.root, folder)
    return folder


def run(*args: str | Path, group: typer.Typer = app) -> tuple[int, str, str]:
    result = runner.invoke(group, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wa.cedar"
    path.write_text(text)
    return path


def test_apply_puts_a_policy_in_force_and_says_old_and_new_version(data: Path,
                                                                   tmp_path: Path) -> None:
    before = current_text(DataDir(data), "WA") or ""
    code, out, _ = run("policy", "apply", "--data", data, "--state", "wa",
                       policy_file(tmp_path, BLOCK_ICE), "--note", "block ICE", "--who", "alice")
    assert code == 0
    assert f"{digest(before)[:16]} -> {digest(BLOCK_ICE)[:16]}" in out
    assert "in force" in out
    assert current_text(DataDir(data), "WA") == BLOCK_ICE
    last = history(DataDir(data), "WA")[-1]
    assert (last.who, last.note) == ("alice", "block ICE")


def test_apply_refuses_a_bad_file_line_by_line_and_changes_nothing(data: Path,
                                                                   tmp_path: Path) -> None:
    before = (current_text(DataDir(data), "WA"), history(DataDir(data), "WA"))
    bad = policy_file(tmp_path, BROKEN)
    code, out, err = run("policy", "apply", "--data", data, "--state", "WA", bad)
    assert code == 1 and out == ""
    assert "the policy in force is unchanged" in err
    assert f"{bad}:1: every policy needs @reason" in err
    assert f"{bad}:4: @id 'Typo' must be lower-case" in err
    assert f"{bad}:4: attribute `departmnt`" in err
    assert "Traceback" not in err
    assert (current_text(DataDir(data), "WA"), history(DataDir(data), "WA")) == before


def test_show_gives_the_text_and_version(data: Path, tmp_path: Path) -> None:
    run("policy", "apply", "--data", data, "--state", "WA", policy_file(tmp_path, BLOCK_ICE))
    code, out, _ = run("policy", "show", "--data", data, "--state", "WA", "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["text"] == BLOCK_ICE
    assert shown["version"].startswith(digest(BLOCK_ICE)[:16] + ".d")
    assert shown["problems"] == []
    code, out, _ = run("policy", "show", "--data", data, "--state", "WA")
    assert code == 0 and 'forbid (principal in Category::"ICE"' in out


def test_show_says_when_there_is_no_policy(data: Path) -> None:
    DataDir(data).policy("WA").unlink()
    code, out, _ = run("policy", "show", "--data", data, "--state", "WA")
    assert code == 0 and "every query is denied" in out


def test_history_lists_changes_and_diffs_one(data: Path, tmp_path: Path) -> None:
    run("policy", "apply", "--data", data, "--state", "WA", policy_file(tmp_path, BLOCK_ICE),
        "--who", "alice")
    code, out, _ = run("policy", "history", "--data", data, "--state", "WA", "--json")
    changes = json.loads(out)
    assert code == 0
    assert [(c["seq"], c["who"], c["kind"]) for c in changes] == [
        (1, "nation init", "policy"), (2, "alice", "policy")]
    assert changes[1]["old_version"] == changes[0]["new_version"]
    code, out, _ = run("policy", "history", "--data", data, "--state", "WA", "--diff", "2")
    assert code == 0
    assert '+@id("block-ice")' in out and "change 2: policy by alice" in out
    code, _, err = run("policy", "history", "--data", data, "--state", "WA", "--diff", "9")
    assert code == 1 and "no change 9" in err


def test_explain_prints_the_matrix_and_sentences(data: Path, tmp_path: Path) -> None:
    code, out, _ = run("policy", "explain", "--data", data, "--state", "WA", "--json")
    explained = json.loads(out)
    in_state = next(c for c in explained["categories"] if c["category"] == "in-state")
    assert in_state["rows"][0]["elements"]["identity"] == "released"
    run("policy", "apply", "--data", data, "--state", "WA", policy_file(tmp_path, BLOCK_ICE))
    code, out, _ = run("policy", "explain", "--data", data, "--state", "WA")
    assert code == 0
    assert "Who can see what" in out
    assert "ICE: every query denied (block-ice: No state resources" in " ".join(out.split())


@pytest.mark.parametrize("command", [("show",), ("history",), ("explain",)])
def test_a_state_without_a_folder_is_a_clear_error(data: Path, command: tuple[str]) -> None:
    code, _, err = run("policy", *command, "--data", data, "--state", "TX")
    assert code == 1 and "no state TX" in err and "Traceback" not in err
    code, out, _ = run("policy", *command, "--data", data, "--state", "TX", "--json")
    assert json.loads(out)["error"]["code"] == "no-state"


def test_apply_without_a_nation_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "states" / "WA").mkdir(parents=True)
    code, _, err = run("policy", "explain", "--data", tmp_path, "--state", "WA")
    assert code == 1 and "no nation" in err


def orders(*args: str | Path) -> tuple[int, str, str]:
    return run("orders", *args, group=registry_cli)


def test_orders_add_list_and_revoke(data: Path) -> None:
    code, out, _ = orders("add", "--data", data, "--state", "WA", "--ref", "2026-CV-0142",
                          "--component", "ice", "--oln", "WDL1234567", "--name", "DOE,JANE",
                          "--dob", "19900401", "--elements", "identity,license",
                          "--from", "2026-01-01", "--until", SOON, "--by", "clerk")
    assert code == 0 and "Court order 2026-CV-0142 on file in WA for ICE" in out
    code, out, _ = orders("list", "--data", data, "--state", "WA", "--json")
    [listed] = json.loads(out)
    assert listed["elements"] == ["identity", "license"]
    assert listed["subject"]["dob"] == "1990-04-01"
    assert (listed["status"], listed["entered_by"]) == ("in force", "clerk")
    code, out, _ = orders("revoke", "2026-CV-0142", "--data", data, "--state", "WA",
                          "--by", "coordinator")
    assert code == 0 and "revoked" in out
    code, out, _ = orders("list", "--data", data, "--state", "WA", "--json")
    assert json.loads(out)[0]["status"] == "revoked"
    assert [c.kind for c in history(DataDir(data), "WA")][-2:] == ["court-order"] * 2


@pytest.mark.parametrize(("change", "message"), [
    ({"--from": "2026-13-01"}, "--from '2026-13-01' is not a date"),
    ({"--ori": "WAXXX0000"}, "no agency WAXXX0000 in the directory"),
    ({"--elements": "identity,dna"}, "unknown element dna"),
    ({"--oln": ""}, "must name its subject"),
    ({"--state": "TX"}, "no state TX"),
])
def test_a_bad_order_is_a_clear_error_and_nothing_is_filed(data: Path, change: dict[str, str],
                                                            message: str) -> None:
    given = {"--data": str(data), "--state": "WA", "--ref": "R-1", "--ori": "WASPD0100",
             "--oln": "WDL1", "--from": "2026-01-01", "--until": SOON, **change}
    code, _, err = orders("add", *[part for pair in given.items() for part in pair])
    assert code == 1 and message in err and "Traceback" not in err
    assert json.loads(orders("list", "--data", data, "--state", "WA", "--json")[1]) == []


def test_revoking_an_unknown_order_is_an_error(data: Path) -> None:
    code, _, err = orders("revoke", "NOPE", "--data", data, "--state", "WA")
    assert code == 1 and "no court order 'NOPE'" in err


def test_attest_add_and_list(data: Path) -> None:
    code, out, _ = run("attest", "add", "--data", data, "--state", "WA", "--ori", "orppd0000",
                       "--until", SOON, "--by", "liaison", group=registry_cli)
    assert code == 0 and "by ORPPD0000" in out
    code, out, _ = run("attest", "list", "--data", data, "--state", "WA", "--json",
                       group=registry_cli)
    [made] = json.loads(out)
    assert (made["ori"], made["in_force"], made["entered_by"]) == ("ORPPD0000", True, "liaison")
    assert "civil immigration enforcement" in made["statement"]
    code, _, err = run("attest", "add", "--data", data, "--state", "WA", "--ori", "WAXXX0000",
                       "--until", SOON, group=registry_cli)
    assert code == 1 and "no agency WAXXX0000" in err
