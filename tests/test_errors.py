"""One error model: the same error gets the same code, status and side whichever command or
API meets it, printed once by the CLI's edge in the one JSON shape."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stateline.cli import app
from stateline.datadir import DataDir
from stateline.errors import Side, StatelineError, kinds
from stateline.policy.store import NoState

runner = CliRunner()

NO_STATE = [
    ["policy", "show"], ["policy", "history"], ["orders", "list"], ["review", "list"],
    ["audit", "verify"], ["audit", "counts"], ["notices", "list"],
]
"""Commands that name a state: each had its own map, and gave a wrong state three codes."""


@pytest.mark.parametrize("command", NO_STATE, ids=" ".join)
def test_a_state_that_is_not_there_is_no_state_from_every_command(
        small_nation: DataDir, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--data", str(small_nation.root), "--state", "ZZ",
                                 "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == {"error": {"code": "no-state", "text": json.loads(
        result.stdout)["error"]["text"]}}
    assert "Traceback" not in result.output


def test_an_error_no_command_catches_is_printed_once_by_the_edge(tmp_path: object) -> None:
    result = runner.invoke(app, ["nation", "show", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "no-nation"
    result = runner.invoke(app, ["nation", "show", "--data", str(tmp_path)])
    assert result.exit_code == 1 and result.stdout == "" and "nation" in result.stderr


def test_every_code_means_one_status_and_one_side() -> None:
    import stateline.web.app  # noqa: F401  (the web rooms' errors, beside the CLI's)

    seen: dict[str, tuple[int, Side]] = {}
    for kind in kinds():
        assert seen.setdefault(kind.code, (kind.status, kind.side)) == (kind.status, kind.side), \
            kind.__qualname__
        assert kind.side is (Side.SYSTEM if kind.status >= 500 else Side.REQUESTER), \
            kind.__qualname__


def test_an_error_carries_its_text_in_the_one_shape() -> None:
    error: StatelineError = NoState("no state ZZ here")
    assert (error.status, error.side) == (404, Side.REQUESTER)
    assert error.as_json() == {"error": {"code": "no-state", "text": "no state ZZ here"}}
