"""The `stateline` command as a user runs it: exit codes, JSON, and no tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from stateline.cli import app

runner = CliRunner()
QUERY = "DQ.ORPPD0000.WA.TXT\nOLN/WDL123456"


def test_msg_parse_prints_the_structured_message() -> None:
    result = runner.invoke(app, ["msg", "parse"], input=QUERY)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["key"] == "DQ"
    assert data["destinations"] == ["WA"]
    assert data["fields"] == [{"prefix": "OLN", "value": "WDL123456"}]


def test_msg_parse_prints_the_er_text_and_exits_1_for_a_malformed_message() -> None:
    result = runner.invoke(app, ["msg", "parse"], input="DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE")
    assert result.exit_code == 1
    assert result.stdout.startswith(".05. DOB INVALID OR MISSING\n")
    assert "Traceback" not in result.output


def test_msg_parse_json_errors_have_one_shape() -> None:
    result = runner.invoke(app, ["msg", "parse", "--json"], input="RQ.ORPPD0000.WA.TXT\nLIC/A1")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert sorted(error) == ["code", "text"] and error["code"] == "rejected"
    assert error["text"].startswith(".22. INVALID MESSAGE FORMAT - REFER TO RQ")


def test_msg_parse_also_reads_the_json_form() -> None:
    as_json = runner.invoke(app, ["msg", "parse"], input=QUERY).stdout
    result = runner.invoke(app, ["msg", "parse"], input=as_json)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(as_json)


def test_msg_format_turns_json_back_into_legacy_text() -> None:
    as_json = runner.invoke(app, ["msg", "parse"], input=QUERY).stdout
    result = runner.invoke(app, ["msg", "format"], input=as_json)
    assert result.exit_code == 0
    assert result.stdout == QUERY + "\n"


@pytest.mark.parametrize("bad", ["", "not json", "[1, 2]", '{"key": "DQ"}'])
def test_msg_format_refuses_bad_json_with_a_reject(bad: str) -> None:
    result = runner.invoke(app, ["msg", "format", "--json"], input=bad)
    assert result.exit_code == 1
    assert "error" in json.loads(result.stdout)


@pytest.mark.parametrize(
    "garbage", [b"\x00\x01\x02", b"DQ." * 1000, b"\xff\xfe\xc3", "🚓.🚓.🚓.TXT".encode()]
)
def test_garbage_never_produces_a_traceback(garbage: bytes) -> None:
    result = runner.invoke(app, ["msg", "parse"], input=garbage)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_msg_keys_lists_every_supported_key() -> None:
    result = runner.invoke(app, ["msg", "keys", "--json"])
    keys = {item["key"] for item in json.loads(result.stdout)}
    assert {"DQ", "DNQ", "DQG", "KQ", "RQ", "RQG", "RNQ", "RPQ", "AM", "SM", "ER"} <= keys


@pytest.mark.skipif(shutil.which("stateline") is None and sys.prefix == sys.base_prefix,
                    reason="the console script is installed by `make install`")
def test_the_installed_console_script_reads_stdin() -> None:
    script = shutil.which("stateline") or f"{sys.prefix}/bin/stateline"
    done = subprocess.run([script, "msg", "parse"], input=QUERY, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sender"] == "ORPPD0000"
