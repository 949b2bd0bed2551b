"""The `stateline` command: one Typer app, a sub-command group per room that has one."""

from __future__ import annotations

import os

import typer

from . import logs
from .commands import (
    audit,
    briefing,
    credentials,
    demo,
    directory,
    dmv,
    gateway,
    history,
    msg,
    nation,
    notices,
    options,
    policy,
    policy_state,
    report,
    review,
    send,
    serve,
    status,
    switch,
    traffic,
    users,
    witness,
)

app = typer.Typer(
    cls=options.ErrorEdge,
    help="Stateline: a state-controlled network for driver and vehicle record queries.",
    no_args_is_help=True,
    add_completion=False,
)


LOG_FORMAT = typer.Option(
    None, "--log-format", envvar=logs.FORMAT_ENV, case_sensitive=False,
    help="Write the log on stderr as text or as one JSON object a line; the processes a "
         "command starts write theirs the same way.")


@app.callback()
def _options(log_format: logs.LogFormat | None = LOG_FORMAT) -> None:
    """Options of every command, given before its name: `stateline --log-format json serve`."""
    if log_format is not None:
        logs.configure(log_format)
        os.environ[logs.FORMAT_ENV] = log_format.value


app.add_typer(msg.app, name="msg")
app.add_typer(nation.app, name="nation")
app.add_typer(directory.app, name="directory")
app.add_typer(dmv.app, name="dmv")
app.add_typer(policy.app, name="policy")
app.add_typer(policy_state.orders_app, name="orders")
app.add_typer(policy_state.attest_app, name="attest")
app.add_typer(review.app, name="review")
app.add_typer(audit.app, name="audit")
app.add_typer(history.app, name="history")
app.add_typer(notices.app, name="notices")
app.add_typer(report.app, name="report")
app.add_typer(gateway.app, name="gateway")
app.add_typer(switch.app, name="switch")
app.add_typer(status.app, name="status")
app.add_typer(credentials.app, name="credentials")
app.add_typer(traffic.app, name="traffic")
app.add_typer(send.messages_app, name="messages")
app.command("send")(send.run)
app.command("serve")(serve.run)
app.add_typer(users.app, name="users")
app.add_typer(witness.app, name="witness")
app.command("briefing")(briefing.run)
app.command("demo")(demo.run)


def main() -> None:
    app()
