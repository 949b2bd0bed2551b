"""Docs tested against code: every command and make target a user can run is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.main import get_command

from stateline.cli import app
from stateline.errors import kinds

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def command_paths(group: typer.Typer) -> list[str]:
    root = get_command(group)
    paths: list[str] = []

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, f"{prefix} {name}".strip())
        else:
            paths.append(prefix)

    walk(root, "")
    return paths


def test_every_cli_command_is_documented_in_the_readme() -> None:
    missing = [path for path in command_paths(app) if f"stateline {path}" not in README]
    assert missing == []


def test_every_make_target_is_documented_in_the_readme() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY: (.+)$", makefile, re.MULTILINE)
    assert phony is not None
    internal = {"install", "clean"}
    missing = [t for t in phony.group(1).split() if t not in internal and f"make {t}" not in README]
    assert missing == []


def test_the_readme_promises_exactly_the_two_setup_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick_start, re.MULTILINE)
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def error_codes_section() -> str:
    found = re.search(r"^## Error codes\n(.+?)(?=^## )", README, re.MULTILINE | re.DOTALL)
    assert found, "README has no '## Error codes' section"
    return found.group(1)


def test_every_error_code_is_documented_with_its_status_and_side() -> None:
    import stateline.web.app  # noqa: F401  (the web rooms' errors, beside the CLI's)

    rows = {match.group(1): (int(match.group(2)), match.group(3)) for match in re.finditer(
        r"^\| `([a-z-]+)` \| (\d{3}) \| (requester|system) \|", error_codes_section(),
        re.MULTILINE)}
    for kind in kinds():
        assert kind.code in rows, f"{kind.__qualname__}: code {kind.code!r} is not in the README"
        assert rows[kind.code] == (kind.status, kind.side.value), kind.__qualname__
