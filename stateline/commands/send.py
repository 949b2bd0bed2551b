"""`stateline send` and `stateline messages show`: one message through the embedded network,
as an agency sends it, and the answers that came later.

The command authenticates as the agency named by `--from`, with the token a synthetic nation
keeps for it in DIR/credentials.json (or `--token`). Exit status 0 when the switch accepted the
message, 1 when it rejected it or the command could not run.
"""

from __future__ import annotations

import asyncio
import sys

import typer

from ..datadir import DataDir
from ..protocol import form_of
from ..switch.credentials import token_for
from ..switch.views import Submission
from ..web import client as server
from . import options
from .switching import answering, embedded, show

messages_app = typer.Typer(help="Messages sent through the switch: their answers so far.",
                           no_args_is_help=True)

MESSAGE = typer.Argument(..., help="The message as legacy text (a line break or a period "
                                   "after TXT), or its JSON form; - reads it from stdin.")
FROM = typer.Option(..., "--from", help="The ORI to send as.")
TOKEN = typer.Option(None, "--token", envvar="STATELINE_TOKEN",
                     help="The agency's token (default: its token in DIR/credentials.json).")
WAIT = typer.Option(None, "--wait", min=0.0,
                    help="Seconds to wait for answers (default: switch.toml's wait_seconds).")
URL = typer.Option(None, "--url", envvar="STATELINE_URL",
                   help="A running `stateline serve` (default: the one DIR/serve.json records, "
                        "if it answers; otherwise the network runs embedded here).")


def _server(folder: DataDir, url: str | None) -> str | None:
    """Where a running network answers, if one does: sending through it keeps one switch and
    one writer per state's log."""
    if url:
        return url
    found = server.running(folder)
    return found.url if found else None


def run(
    message: str = MESSAGE,
    data: str = options.DATA,
    sender: str = FROM,
    token: str | None = TOKEN,
    wait: float | None = WAIT,
    url: str | None = URL,
    as_json: bool = options.JSON,
) -> None:
    """Send one message through the network (a running `stateline serve`, else one run
    here) and print what comes back."""
    folder = DataDir.resolve(data)
    raw = sys.stdin.read() if message == "-" else message
    form = form_of(raw)
    with answering(as_json):
        secret = token or token_for(folder, sender)

        async def sending() -> Submission:
            async with embedded(folder) as (switch, _):
                return await switch.submit(raw, secret, form=form, wait=wait)

        address = _server(folder, url)
        submission = (server.Client(address, secret).send(raw, form=form, wait=wait)
                      if address else asyncio.run(sending()))
    show(submission, as_json)
    if not submission.accepted:
        raise typer.Exit(1)


@messages_app.command("show")
def show_command(
    message_id: str = typer.Argument(..., help="The id `stateline send` printed."),
    data: str = options.DATA,
    sender: str = FROM,
    token: str | None = TOKEN,
    url: str | None = URL,
    as_json: bool = options.JSON,
) -> None:
    """A message's answers so far, late ones included (reviewed requests, held traffic
    delivered when a state returned). Only the sending agency's credential may read them."""
    folder = DataDir.resolve(data)
    with answering(as_json):
        secret = token or token_for(folder, sender)

        async def reading() -> Submission:
            async with embedded(folder, retry=False) as (switch, transport):
                await transport.collect_late()
                return switch.submission(message_id.strip(), secret)

        address = _server(folder, url)
        submission = (server.Client(address, secret).submission(message_id.strip())
                      if address else asyncio.run(reading()))
    show(submission, as_json)
