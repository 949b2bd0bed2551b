"""`stateline policy presets|check|test` as a coordinator runs them: one line per preset, OK or
every problem with its line, failing cases named with what differed, exit 1 when anything is
wrong, and no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.directory.store import Directory
from stateline.policy.presets import preset, presets
from stateline.sim.agencies import generate_agencies

runner = CliRunner()
BLOCK_ICE = preset("block-ice")
FAILING = """\
state: WA
cases:
  - {name: ICE is blocked, ori: VTICE0900, key: DQ, expect: deny, policy: block-ice}
  - {name: Portland is blocked, ori: ORPPD0000, key: RQ, expect: deny}
"""


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["policy", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding only the synthetic directory: enough for `--policy` runs."""
    folder = tmp_path_factory.mktemp("nation")
    with Directory.open(folder) as directory:
        directory.put_many(generate_agencies(seed=1))
    return folder


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    path = tmp_path / "mine.cases.yaml"
    path.write_text(FAILING)
    return path


def test_presets_lists_each_preset_on_one_line() -> None:
    code, out, _ = run("presets")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(presets())
    assert lines[0].split()[0] == "cj-baseline"
    assert any(line.startswith("block-ice ") and BLOCK_ICE.summary in line for line in lines)


def test_presets_json_names_the_files() -> None:
    code, out, _ = run("presets", "--json")
    listed = json.loads(out)
    assert code == 0
    assert [item["name"] for item in listed] == [p.name for p in presets()]
    assert all(Path(item["path"]).is_file() and Path(item["cases"]).is_file()
               for item in listed)


def test_presets_show_prints_the_text_and_refuses_an_unknown_name() -> None:
    code, out, _ = run("presets", "--show", "block-ice")
    assert (code, out) == (0, BLOCK_ICE.text())
    code, _, err = run("presets", "--show", "block-cia")
    assert code == 1
    assert "no preset 'block-cia'" in err and "block-ice-hsi" in err


def test_check_says_ok_with_the_policy_ids() -> None:
    code, out, _ = run("check", BLOCK_ICE.path)
    assert code == 0
    assert out.startswith("OK ")
    assert "4 policies: block-ice, cj-agencies-may-query" in out


def test_check_lists_every_problem_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cedar"
    bad.write_text('@id("one")\n@reason("fine")\npermit (principal, action, resource)\n'
                   'when { principal.departmnt == "DHS" };\n\n'
                   'permit (principal, action, resource);\n')
    code, out, err = run("check", bad)
    assert (code, out) == (1, "")
    assert f"{bad}: line 1 (one): " in err and "departmnt" in err
    assert f"{bad}: line 6: every policy needs @id" in err
    code, out, _ = run("check", bad, "--json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "invalid-policy"


def test_check_refuses_a_missing_file(tmp_path: Path) -> None:
    code, _, err = run("check", tmp_path / "none.cedar")
    assert code == 1
    assert "cannot read" in err


def test_test_a_preset_against_its_own_cases() -> None:
    code, out, _ = run("test", "--preset", "block-ice")
    assert code == 0
    assert out.startswith("preset block-ice: ")
    assert "all passed" in out


def test_test_all_presets_passes() -> None:
    code, out, _ = run("test", "--all-presets", "--json")
    answer = json.loads(out)
    assert (code, answer["ok"]) == (0, True)
    assert [r["policy"] for r in answer["runs"]] == [f"preset {p.name}" for p in presets()]


def test_a_failing_case_is_named_with_what_differed_and_exits_1(failing: Path) -> None:
    code, out, _ = run("test", "--preset", "block-ice", failing)
    assert code == 1
    assert f"{failing} against preset block-ice: 2 cases, 1 failed" in out
    assert ("FAIL case 2 'Portland is blocked' (line 4): expected deny, got allow "
            "(cj-agencies-may-query: ") in out


def test_a_failing_run_in_json(failing: Path) -> None:
    code, out, _ = run("test", "--preset", "block-ice", failing, "--json")
    [answer] = json.loads(out)["runs"]
    assert code == 1
    assert (answer["passed"], answer["failed"]) == (1, 1)
    assert answer["results"][0]["policies"] == ["block-ice"]


def test_test_a_policy_file_over_a_nations_directory(nation: Path, failing: Path) -> None:
    code, out, _ = run("test", "--data", nation, "--state", "WA", "--policy", BLOCK_ICE.path,
                       BLOCK_ICE.cases_path)
    assert (code, "all passed" in out) == (0, True)
    code, out, _ = run("test", "--data", nation, "--policy", BLOCK_ICE.path, failing)
    assert code == 1
    assert f"{failing} against {BLOCK_ICE.path}: 2 cases, 1 failed" in out


def test_a_malformed_case_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("state: WA\ncases:\n  - {ori: VTICE0900, key: DQ, expct: deny}\n")
    code, out, err = run("test", "--preset", "block-ice", bad)
    assert (code, out) == (1, "")
    assert err.startswith(f"{bad}: case 1 (line 3): unknown key 'expct'")
    code, out, _ = run("test", "--preset", "block-ice", bad, "--json")
    assert json.loads(out)["error"]["code"] == "invalid-cases"


def test_an_ori_not_in_the_nation_is_an_error(nation: Path, tmp_path: Path) -> None:
    cases = tmp_path / "typo.yaml"
    cases.write_text("state: WA\ncases:\n  - {ori: VTICE0999, key: DQ, expect: deny}\n")
    code, _, err = run("test", "--data", nation, "--policy", BLOCK_ICE.path, cases)
    assert code == 1
    assert "ORI VTICE0999 is not in the directory" in err


def test_a_bad_policy_file_is_listed_with_its_lines(nation: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.cedar"
    bad.write_text("permit (principal, action, resource);\n")
    code, _, err = run("test", "--data", nation, "--policy", bad, BLOCK_ICE.cases_path)
    assert code == 1
    assert f"{bad}: line 1: every policy needs @id" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--preset", "block-ice", "--all-presets"], "not both"),
    (["--all-presets", "x.yaml"], "use --preset NAME"),
    (["--preset", "block-ice", "--policy", "x.cedar"], "a preset brings its own text"),
    (["--preset", "block-cia"], "no preset 'block-cia'"),
    ([], "give CASES.yaml files"),
    (["x.yaml"], "give --state XX"),
])
def test_options_that_do_not_go_together_are_refused(args: list[str], message: str) -> None:
    code, _, err = run("test", *args)
    assert code == 1
    assert message in err


def test_without_a_nation_the_error_says_how_to_make_one(tmp_path: Path) -> None:
    code, _, err = run("test", "--data", tmp_path / "none", "--policy", BLOCK_ICE.path,
                       BLOCK_ICE.cases_path)
    assert code == 1
    assert "stateline nation init" in err
