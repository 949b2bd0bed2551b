"""Log lines as a collector reads them: with `--log-format json` one JSON object a line naming
the process's role, states and pid (and the traceback of an error), the choice passed on to the
processes a command starts; text otherwise."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from stateline import logs
from stateline.cli import app
from stateline.roles.status import ROLE_ENV


@pytest.fixture(autouse=True)
def root_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's changes to the root logger and to the environment are undone after it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    monkeypatch.setenv(logs.FORMAT_ENV, "")  # so that undoing it unsets what a test exports
    monkeypatch.delenv(logs.FORMAT_ENV)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_carry_the_role_states_pid_and_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ROLE_ENV, "gateway:WA,OR")
    logs.configure("json", logging.INFO)
    logging.getLogger("stateline.gateway").info("opened %s", "WA")
    try:
        raise ZeroDivisionError("synthetic")
    except ZeroDivisionError:
        logging.getLogger("stateline.switch").exception("delivery failed")
    first, second = lines(capsys.readouterr().err)
    assert {k: first[k] for k in ("level", "logger", "message", "role", "states", "pid")} == {
        "level": "INFO", "logger": "stateline.gateway", "message": "opened WA",
        "role": "gateway", "states": ["WA", "OR"], "pid": os.getpid()}
    assert str(first["time"]).endswith("+00:00") and "exception" not in first
    assert second["level"] == "ERROR"
    assert "ZeroDivisionError: synthetic" in str(second["exception"])


def test_configuring_again_replaces_the_handler_rather_than_doubling_lines(
        capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json")
    logs.configure("text")
    logging.getLogger("stateline.web").warning("one line")
    [line] = capsys.readouterr().err.splitlines()
    assert line.endswith(f" WARNING stateline[{os.getpid()}] stateline.web: one line")


def test_a_format_that_is_not_one_is_refused_and_from_the_environment_falls_back_to_text(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(logs.LogFormatError, match="use one of text, json"):
        logs.configure("xml")
    monkeypatch.setenv(logs.FORMAT_ENV, "xml")
    logs.configure_from_environment()
    assert "names no log format (text, json): writing text" in capsys.readouterr().err


def test_the_cli_flag_writes_json_and_passes_it_on_to_started_processes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROLE_ENV, "web")
    result = CliRunner().invoke(app, ["--log-format", "json", "dmv", "--help"])
    assert result.exit_code == 0, result.output
    assert os.environ[logs.FORMAT_ENV] == "json"
    handler = logging.getLogger().handlers[-1]
    record = logging.LogRecord("stateline", logging.WARNING, __file__, 1, "hello", None, None)
    assert json.loads(handler.format(record))["role"] == "web"


def test_the_cli_refuses_a_log_format_it_does_not_know() -> None:
    result = CliRunner().invoke(app, ["--log-format", "xml", "dmv", "--help"])
    assert result.exit_code == 2
    assert "xml" in result.output
