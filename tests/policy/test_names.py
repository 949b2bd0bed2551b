"""A policy that names what does not exist is refused, with the line and the nearest names; a
`forbid` that takes in no agency of the directory is warned about, by id. A refused policy
leaves the old one in force."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.commands.policy_cases import synthetic_snapshot
from stateline.datadir import DataDir
from stateline.policy import PolicyError, compile_policies
from stateline.policy.names import idle_forbids, named_entities, unknown_names, vetted
from stateline.policy.presets import preset, presets
from stateline.policy.store import apply, current_text
from stateline.sim.nation import build_nation

runner = CliRunner()
SNAPSHOT = synthetic_snapshot()
ICE_ORI = "VTICE0900"
BLOCK_ICEE = preset("block-ice").text().replace('Category::"ICE"', 'Category::"ICEE"')
LINE_OF_ICEE = BLOCK_ICEE.splitlines().index(next(
    line for line in BLOCK_ICEE.splitlines() if "ICEE" in line)) + 1
HEAD = '@id("x")\n@reason("Because.")\n'


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    folder = DataDir(tmp_path_factory.mktemp("names"))
    build_nation(folder, ("WA",), residents=20, seed=3)
    return folder


def test_a_misspelt_category_is_refused_with_its_line_and_the_name_meant() -> None:
    with pytest.raises(PolicyError) as caught:
        vetted(BLOCK_ICEE, SNAPSHOT)
    [problem] = caught.value.problems
    assert problem.line == LINE_OF_ICEE
    assert problem.policy == "block-ice"
    assert 'Category::"ICEE"' in problem.message
    assert "did you mean ICE?" in problem.message


@pytest.mark.parametrize(("body", "unknown", "meant"), [
    ('permit (principal, action == Action::"release", resource == Element::"photos");',
     'Element::"photos"', "photo"),
    ('permit (principal, action == Action::"release", resource in ElementGroup::"standrd");',
     'ElementGroup::"standrd"', "standard"),
    ('permit (principal, action, resource == State::"wa");', 'State::"wa"', "WA"),
    ('forbid (principal == Agency::"VTICE0901", action, resource);', 'Agency::"VTICE0901"',
     ICE_ORI),
    ('forbid (principal, action, resource)\n'
     'when { principal in [Category::"in-state", Category::"ICE", Category::"hsi"] };',
     'Category::"hsi"', "HSI"),
    ('forbid (principal, action, resource)\nwhen { principal in Category::"federal immigration" '
     "};", 'Category::"federal immigration"', "federal-immigration"),
])
def test_every_kind_of_unknown_name_is_refused(body: str, unknown: str, meant: str) -> None:
    with pytest.raises(PolicyError) as caught:
        vetted(HEAD + body + "\n", SNAPSHOT)
    [problem] = caught.value.problems
    assert unknown in problem.message
    assert meant in problem.message.split("did you mean", 1)[1]
    assert problem.line == 3 + body.count("\n")


def test_names_in_comments_and_strings_are_not_entities() -> None:
    text = (HEAD + '// Category::"nothing"\npermit (principal, action, resource)\n'
            'when { context.reason == "Category::" };\n')
    assert unknown_names(compile_policies(text), SNAPSHOT) == []
    assert [n.type for n in named_entities(text)] == []


def test_every_preset_names_only_what_exists() -> None:
    for shipped in presets():
        source, _ = vetted(shipped.text(), SNAPSHOT, "WA")
        assert unknown_names(source, SNAPSHOT) == []


def test_a_forbid_no_agency_falls_under_is_warned_about_by_id() -> None:
    text = (preset("block-ice").text() + '\n@id("tribal-ice")\n@reason("No tribal ICE.")\n'
            'forbid (principal in Category::"ICE", action, resource)\n'
            'when { principal.level == "tribal" };\n')
    warnings = idle_forbids(compile_policies(text), SNAPSHOT, "WA")
    assert [w.policy for w in warnings] == ["tribal-ice"]
    assert "blocks no one" in str(warnings[0])


def test_forbids_that_take_someone_in_are_not_warned_about() -> None:
    for name in ("block-ice", "block-ice-review-hsi", "block-dhs-immigration-except-court-order"):
        assert idle_forbids(compile_policies(preset(name).text()), SNAPSHOT, "WA") == []


def test_policy_check_refuses_an_unknown_name(tmp_path: Path, data: DataDir) -> None:
    file = tmp_path / "icee.cedar"
    file.write_text(BLOCK_ICEE)
    result = runner.invoke(app, ["policy", "check", str(file), "--data", str(data.root)])
    assert result.exit_code == 1
    assert f"line {LINE_OF_ICEE}" in result.stderr
    assert "did you mean ICE?" in result.stderr


def test_policy_check_warns_about_an_idle_forbid(tmp_path: Path, data: DataDir) -> None:
    file = tmp_path / "idle.cedar"
    file.write_text(preset("block-ice").text().replace(
        "resource);", 'resource)\nwhen { principal.level == "tribal" };', 1))
    result = runner.invoke(app, ["policy", "check", str(file), "--data", str(data.root),
                                 "--state", "WA"])
    assert result.exit_code == 0, result.output
    assert "block-ice" in result.stderr
    assert "blocks no one" in result.stderr


def test_apply_refuses_an_unknown_name_and_the_old_policy_stays(tmp_path: Path,
                                                                data: DataDir) -> None:
    before = current_text(data, "WA")
    file = tmp_path / "icee.cedar"
    file.write_text(BLOCK_ICEE)
    result = runner.invoke(app, ["policy", "apply", str(file), "--data", str(data.root),
                                 "--state", "WA"])
    assert result.exit_code == 1
    assert "did you mean ICE?" in result.stderr
    with pytest.raises(PolicyError):
        apply(data, "WA", BLOCK_ICEE, "tester")
    assert current_text(data, "WA") == before


def test_apply_warns_about_an_idle_forbid_and_puts_it_in_force(tmp_path: Path,
                                                               data: DataDir) -> None:
    text = preset("block-ice").text().replace(
        "resource);", 'resource)\nwhen { principal.level == "tribal" };', 1)
    file = tmp_path / "idle.cedar"
    file.write_text(text)
    result = runner.invoke(app, ["policy", "apply", str(file), "--data", str(data.root),
                                 "--state", "WA"])
    assert result.exit_code == 0, result.output
    assert "block-ice" in result.stderr and "blocks no one" in result.stderr
    assert current_text(data, "WA") == text
