"""`stateline dmv`: look into a state's DMV store."""

from __future__ import annotations

import typer

app = typer.Typer(help="A state's DMV records.", no_args_is_help=True)
