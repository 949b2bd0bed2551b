"""Options every command that works on a nation shares."""

from __future__ import annotations

import typer

from ..datadir import DATA_ENV, DEFAULT_DATA

DATA = typer.Option(
    DEFAULT_DATA, "--data", envvar=DATA_ENV, help="The nation's data folder.",
    show_default=True,
)
STATE = typer.Option(..., "--state", help="Two-letter state code, e.g. WA.")
JSON = typer.Option(False, "--json", help="Answer in JSON.")
