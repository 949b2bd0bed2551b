"""`stateline directory` as a user runs it: tables and JSON, row-numbered refusals that change
nothing, and clear errors without tracebacks when there is no nation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.directory import Directory, Snapshot, format_agencies

from .samples import ICE, PARTNER, PORTLAND, SAMPLES, SPOKANE

runner = CliRunner()
JSON_KEYS = {"ori", "name", "state", "level", "agency_type", "department", "component",
             "permissions", "programs", "active", "criminal_justice", "contact"}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "nation"
    with Directory.open(folder) as directory:
        directory.put_many(SAMPLES)
    return folder


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["directory", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


def snapshot(data: Path) -> Snapshot:
    with Directory.open(data, create=False) as directory:
        return directory.snapshot()


def test_list_json_gives_every_attribute_with_lists_and_booleans(data: Path) -> None:
    code, out, _ = run("list", "--data", data, "--json")
    assert code == 0
    listed = json.loads(out)
    assert [item["ori"] for item in listed] == sorted(a.ori for a in SAMPLES)
    assert all(set(item) == JSON_KEYS for item in listed)
    partner = next(item for item in listed if item["ori"] == PARTNER.ori)
    assert partner["permissions"] == ["A", "D"]
    assert partner["programs"] == ["287g"]
    assert partner["active"] is True and partner["criminal_justice"] is True


@pytest.mark.parametrize(("filters", "expected"), [
    (["--state", "or"], [PORTLAND.ori]),
    (["--component", "ice"], [ICE.ori]),
    (["--program", "287g"], [PARTNER.ori]),
    (["--state", "WA", "--component", "ICE"], []),
])
def test_list_filters(data: Path, filters: list[str], expected: list[str]) -> None:
    code, out, _ = run("list", "--data", data, "--json", *filters)
    assert code == 0
    assert [item["ori"] for item in json.loads(out)] == expected


def test_list_prints_a_table_by_default(data: Path) -> None:
    code, out, _ = run("list", "--data", data, "--state", "WA")
    assert code == 0
    assert "4 agencies (directory version 1)" in out
    assert SPOKANE.ori in out and PORTLAND.ori not in out


def test_the_data_folder_can_come_from_the_environment(data: Path) -> None:
    result = runner.invoke(app, ["directory", "list", "--json"],
                           env={"STATELINE_DATA": str(data)})
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == len(SAMPLES)


def test_show_finds_a_lowercase_padded_ori_and_its_category(data: Path) -> None:
    code, out, _ = run("show", " vtice0900 ", "--data", data, "--home", "wa", "--json")
    assert code == 0
    shown = json.loads(out)
    assert set(shown) >= JSON_KEYS
    assert shown["categories"] == {"VT": "ICE", "WA": "ICE"}
    assert "federal-immigration" in shown["memberships"]["WA"]


def test_show_gives_in_state_and_out_of_state(data: Path) -> None:
    code, out, _ = run("show", "WASPD0100", "--data", data, "--home", "OR", "--json")
    assert code == 0
    assert json.loads(out)["categories"] == {"WA": "in-state", "OR": "out-of-state"}
    code, out, _ = run("show", "WASPD0100", "--data", data, "--home", "OR")
    assert code == 0
    assert "category, requests to OR" in out and "out-of-state" in out


def test_show_uses_a_states_own_rules(data: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[category]]\nname = "local police"\nagency_type = "PD"\n'
                     '[[category]]\nname = "other"\n')
    code, out, _ = run("show", "ORPPD0000", "--data", data, "--rules", rules, "--json")
    assert code == 0
    assert json.loads(out)["categories"] == {"OR": "local police"}
    rules.write_text('[[category]]\nname = "x"\nlevel = "federall"\n')
    code, out, err = run("show", "ORPPD0000", "--data", data, "--rules", rules)
    assert code == 1
    assert "level 'federall' is not one of" in err


@pytest.mark.parametrize(("args", "message", "code"), [
    (["show", "WAXXX0000"], "no agency WAXXX0000 in the directory", "not-found"),
    (["show", "WA"], "ORI 'WA' is not 9 letters or digits", "invalid-agency"),
    (["show", "WASPD0100", "--home", "ZZ"], "--home 'ZZ' is not a state code", "invalid-agency"),
])
def test_show_refuses_clearly(data: Path, args: list[str], message: str, code: str) -> None:
    status, out, err = run(*args, "--data", data)
    assert (status, out, err) == (1, "", message + "\n")
    status, out, _ = run(*args, "--data", data, "--json")
    assert status == 1
    assert json.loads(out) == {"error": {"code": code, "text": message}}


def test_import_adds_and_updates_in_one_edit(data: Path, tmp_path: Path) -> None:
    csv = tmp_path / "agencies.csv"
    moved = replace(ICE, contact="lesc@agencies.example")
    new = replace(SPOKANE, ori="WASPD0200", name="Spokane Valley Police")
    csv.write_text(format_agencies([moved, new, PORTLAND]))
    code, out, err = run("import", "--data", data, csv)
    assert (code, err) == (0, "")
    assert out == f"{csv}: 3 agencies: 1 added, 1 updated, 1 unchanged; directory version 2\n"
    with Directory.open(data, create=False) as directory:
        assert directory.get("vtice0900") == moved
        assert len(directory.agencies()) == len(SAMPLES) + 1


def test_import_with_replace_removes_what_the_file_does_not_list(data: Path,
                                                                   tmp_path: Path) -> None:
    csv = tmp_path / "agencies.csv"
    csv.write_text(format_agencies([ICE, SPOKANE]))
    code, out, _ = run("import", "--data", data, csv, "--replace")
    assert code == 0
    assert out.endswith(f"0 added, 0 updated, 2 unchanged, {len(SAMPLES) - 2} removed; "
                        "directory version 2\n")
    with Directory.open(data, create=False) as directory:
        assert directory.agencies() == [ICE, SPOKANE]


def test_a_malformed_csv_lists_every_row_error_and_changes_nothing(data: Path,
                                                                   tmp_path: Path) -> None:
    rows = format_agencies(SAMPLES).splitlines()
    rows[6] = rows[6].replace(",federal,", ",federall,")
    rows[8] = rows[8].replace(",yes,", ",perhaps,", 1)
    csv = tmp_path / "bad.csv"
    csv.write_text("\n".join(rows) + "\n")
    before = snapshot(data)
    code, out, err = run("import", "--data", data, csv, "--replace")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{csv}: 2 errors, nothing imported",
        "row 7, column level: 'federall' is not one of local, county, state, federal, tribal, "
        "international",
        "row 9, column criminal_justice: 'perhaps' is not yes or no",
    ]
    assert snapshot(data) == before


def test_import_refuses_bytes_that_are_not_utf8(data: Path, tmp_path: Path) -> None:
    csv = tmp_path / "latin1.csv"
    csv.write_bytes(format_agencies(SAMPLES).replace("Police", "Polic\u00eda").encode("latin-1"))
    code, _, err = run("import", "--data", data, csv)
    assert code == 1
    assert "not UTF-8 text: byte 0xed on line 4" in err
    assert snapshot(data).version == 1


def test_import_into_an_empty_folder_starts_a_directory(tmp_path: Path) -> None:
    csv = tmp_path / "agencies.csv"
    csv.write_text(format_agencies(SAMPLES))
    code, out, _ = run("import", "--data", tmp_path / "state", csv)
    assert code == 0
    assert out.endswith(f"{len(SAMPLES)} added, 0 updated, 0 unchanged; directory version 1\n")
    assert (tmp_path / "state" / "nation.db").is_file()


def test_a_refused_import_does_not_create_a_directory(tmp_path: Path) -> None:
    csv = tmp_path / "empty.csv"
    csv.write_text("")
    code, _, err = run("import", "--data", tmp_path / "state", csv)
    assert code == 1
    assert "the file is empty" in err
    assert not (tmp_path / "state").exists()


def test_export_then_import_round_trips_exactly(data: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    code, out, _ = run("export", "--data", data, first)
    assert code == 0
    assert out == f"{first}: {len(SAMPLES)} agencies exported (directory version 1)\n"
    assert run("import", "--data", tmp_path / "copy", first)[0] == 0
    assert run("export", "--data", tmp_path / "copy", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_export_to_a_folder_that_does_not_exist_is_a_clear_error(data: Path,
                                                                 tmp_path: Path) -> None:
    code, _, err = run("export", "--data", data, tmp_path / "no" / "such" / "file.csv")
    assert code == 1
    assert err.startswith("cannot write ")


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "VTICE0900"],
                                  ["export", "out.csv"]])
def test_no_nation_is_a_clear_error_without_a_traceback(tmp_path: Path,
                                                         args: list[str]) -> None:
    folder = tmp_path / "nowhere"
    code, out, err = run(*args, "--data", folder)
    assert code == 1
    expected = f"no nation at {folder}: run `stateline nation init {folder}`"
    if "--json" in args:
        assert json.loads(out) == {"error": {"code": "no-nation", "text": expected}}
    else:
        assert err == expected + "\n"
    assert not folder.exists()


def test_names_are_printed_as_typed_not_as_markup(tmp_path: Path) -> None:
    odd = replace(SPOKANE, name="Spokane [/] [red]PD :police_car:", contact="[bold]desk")
    with Directory.open(tmp_path) as directory:
        directory.put(odd)
    code, out, _ = run("list", "--data", tmp_path)
    assert code == 0
    assert "1 agency (directory version 1)" in out
    assert "[/] [red]PD" in " ".join(out.split())
    code, out, _ = run("show", odd.ori, "--data", tmp_path)
    assert code == 0
    assert ":police_car:" in out and "[bold]desk" in out
