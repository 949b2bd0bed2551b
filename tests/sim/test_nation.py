"""Building a nation: what lands in the data folder, and the commands that explore it."""

from __future__ import annotations

import json
import tomllib

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir
from stateline.directory.store import Directory
from stateline.dmv import open_store
from stateline.protocol import read
from stateline.sim.nation import NationError, build_nation, parse_states, read_manifest

runner = CliRunner()


def test_a_nation_has_a_directory_dmv_stores_configs_and_a_manifest(small_nation: DataDir) -> None:
    manifest = read_manifest(small_nation)
    assert manifest.states == ("WA", "OR", "NY")
    assert small_nation.states() == ["NY", "OR", "WA"]
    with Directory.open(small_nation, create=False) as directory:
        assert len(directory.agencies()) == manifest.agencies > 1_000
    for state in manifest.states:
        config = tomllib.loads(small_nation.config(state).read_text())
        assert config["gateway"]["driver_ori"] == f"{state}OLN0000"
        store = open_store(small_nation.dmv_url(state))
        try:
            assert store.counts()["people"] == 400
        finally:
            store.close()


def test_the_same_seed_builds_the_same_records(small_nation: DataDir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    again = DataDir(tmp_path / "again")
    build_nation(again, ("WA",), residents=400, seed=11)
    first, second = open_store(small_nation.dmv_url("WA")), open_store(again.dmv_url("WA"))
    try:
        assert first.sample(5, seed=2) == second.sample(5, seed=2)
    finally:
        first.close()
        second.close()


def test_a_nation_is_not_built_over_another_without_force(small_nation: DataDir) -> None:
    with pytest.raises(NationError, match="--force"):
        build_nation(small_nation, ("WA",), residents=10)


@pytest.mark.parametrize("bad", ["WA,XX", "WA,WA", "", " , "])
def test_state_lists_are_checked(bad: str) -> None:
    with pytest.raises(NationError):
        parse_states(bad)


def test_dmv_sample_json_gives_values_that_form_valid_queries(small_nation: DataDir) -> None:
    result = runner.invoke(app, ["dmv", "sample", "--data", str(small_nation.root),
                                 "--state", "wa", "--n", "5", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    for row in rows:
        assert set(row) == {"oln", "name", "dob", "sex", "plate", "plate_year", "plate_type",
                            "vin"}
        read(f"DQ.ORPPD0000.WA.TXT\nNAM/{row['name']}.DOB/{row['dob']}.SEX/{row['sex']}")
        read(f"RQ.ORPPD0000.WA.TXT\nLIC/{row['plate']}.LIY/{row['plate_year']}"
             f".LIT/{row['plate_type']}")
        read(f"RQ.ORPPD0000.WA.TXT\nVIN/{row['vin']}")
        read(f"DQ.ORPPD0000.WA.TXT\nOLN/{row['oln']}")


def test_dmv_sample_for_a_state_without_a_store_says_which_states_exist(
    small_nation: DataDir,
) -> None:
    result = runner.invoke(app, ["dmv", "sample", "--data", str(small_nation.root),
                                 "--state", "TX"])
    assert result.exit_code == 1
    assert "NY, OR, WA" in result.output


def test_nation_init_builds_and_refuses_to_overwrite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = str(tmp_path / "n")
    args = ["nation", "init", folder, "--states", "AZ", "--residents", "50", "--seed", "3"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "Built a nation" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "--force" in again.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    shown = runner.invoke(app, ["nation", "show", "--data", folder, "--json"])
    assert json.loads(shown.stdout)["states"]["AZ"]["people"] == 50


def test_nation_show_without_a_nation_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["nation", "show", "--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "stateline nation init" in result.output
