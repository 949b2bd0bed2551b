"""`stateline directory`: list, import and export the agency directory."""

from __future__ import annotations

import typer

app = typer.Typer(help="The directory of agencies (ORIs) and their attributes.",
                  no_args_is_help=True)
