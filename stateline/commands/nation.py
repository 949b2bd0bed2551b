"""`stateline nation`: build a synthetic nation to run everything on."""

from __future__ import annotations

import typer

app = typer.Typer(help="Synthetic nations: directory, DMV stores and state configuration.",
                  no_args_is_help=True)
