"""The `stateline` command: one Typer app, a sub-command group per room that has one."""

from __future__ import annotations

import typer

from .commands import demo, msg

app = typer.Typer(
    help="Stateline: a state-controlled network for driver and vehicle record queries.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(msg.app, name="msg")
app.command("demo")(demo.run)


def main() -> None:
    app()
