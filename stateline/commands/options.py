"""Options every command that works on a nation shares."""

from __future__ import annotations

import json
from typing import NoReturn

import typer

from ..datadir import DATA_ENV, DEFAULT_DATA

DATA = typer.Option(
    DEFAULT_DATA, "--data", envvar=DATA_ENV, help="The nation's data folder.",
    show_default=True,
)
STATE = typer.Option(..., "--state", help="Two-letter state code, e.g. WA.")
JSON = typer.Option(False, "--json", help="Answer in JSON.")


def fail(text: str, code: str = "invalid", as_json: bool = False) -> NoReturn:
    """Print an error once, at the edge (stderr, or JSON on stdout), and exit with status 1."""
    if as_json:
        typer.echo(json.dumps({"error": {"code": code, "text": text}}))
    else:
        typer.echo(text, err=True)
    raise typer.Exit(1)
