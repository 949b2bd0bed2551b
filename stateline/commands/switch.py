"""`stateline switch serve|send|show`: the switch in a process of its own over NATS JetStream,
with each state's gateway in others (`stateline gateway serve --nats`), and an agency's
message sent to it, or its answers read back, over the same bus."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from ..datadir import DataDir
from ..protocol import form_of
from ..switch import SwitchError
from ..switch.credentials import token_for
from ..switch.views import ResponseView, Submission
from ..transport.nats import BusUnavailable, Names
from ..transport.nats_switch import Refused, show, submit
from . import options
from .send import FROM, MESSAGE, TOKEN, WAIT
from .switch_serve import serve
from .switching import answering
from .switching import show as print_submission
from .tables import plural

app = typer.Typer(help="Run the switch in its own process over NATS JetStream, and send it "
                       "messages.", no_args_is_help=True)

NATS = typer.Option(..., "--nats", metavar="URL", envvar="STATELINE_NATS",
                    help="The NATS server, e.g. nats://127.0.0.1:4222.")
PREFIX = typer.Option("stateline", "--prefix", help="Subject and stream prefix: another "
                                                    "prefix is another network on the server.")


@contextmanager
def on_the_bus(as_json: bool = False) -> Iterator[None]:
    """The switch commands' errors, and the bus's, printed once."""
    with answering(as_json):
        try:
            yield
        except BusUnavailable as error:
            options.fail(str(error), "bus-unavailable", as_json)
        except Refused as refused:
            options.fail(refused.text, refused.code, as_json)


def network(prefix: str, as_json: bool = False) -> Names:
    try:
        return Names(prefix)
    except ValueError as error:
        options.fail(str(error), "invalid", as_json)


@app.command("serve")
def serve_command(
    data: str = options.DATA,
    nats_url: str = NATS,
    prefix: str = PREFIX,
    host: str = typer.Option("127.0.0.1", "--host", help="Address the HTTP API listens on."),
    port: int = typer.Option(8750, "--port", min=0, max=65535,
                             help="Port of the HTTP API (0: any free port; see DIR/serve.json)."),
    dashboard: bool = typer.Option(True, "--dashboard/--no-dashboard",
                                   help="Serve the coordinators' dashboard too."),
) -> None:
    """Run the switch over NATS until SIGTERM or Ctrl-C.

    State gateways answer on their queue groups, held traffic waits in a JetStream stream,
    late answers arrive on another; agencies reach the switch through the HTTP API
    (`stateline send`) or on PREFIX.switch.submit (`stateline switch send`)."""
    folder = DataDir.resolve(data)
    names = network(prefix)
    with on_the_bus():
        if not folder.nation_db.is_file():
            raise SwitchError(f"no nation at {folder.root}: run "
                              f"`stateline nation init {folder.root}`")
        taken, stopped_by = serve(folder, nats_url, names, host, port, dashboard=dashboard)
    typer.echo(f"switch stopped ({stopped_by}): {plural(taken, 'message')} taken over NATS; "
               "deliveries finished")


async def stop_signals() -> tuple[asyncio.Event, list[str]]:
    """An event SIGINT or SIGTERM sets, and the list that names which signal came."""
    stop = asyncio.Event()
    came: list[str] = []

    def stopping(sig: signal.Signals) -> None:
        came.append(sig.name)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping, sig)
    return stop, came


@app.command("send")
def send_command(
    message: str = MESSAGE,
    data: str = options.DATA,
    sender: str = FROM,
    token: str | None = TOKEN,
    wait: float | None = WAIT,
    nats_url: str = NATS,
    prefix: str = PREFIX,
    as_json: bool = options.JSON,
) -> None:
    """Send one message through a running `stateline switch serve`.

    Prints what comes back; exit status 1 when the switch rejects the message."""
    folder = DataDir.resolve(data)
    raw = sys.stdin.read() if message == "-" else message
    form = form_of(raw)
    with on_the_bus(as_json):
        secret = token or token_for(folder, sender)
        got = asyncio.run(submit(nats_url, network(prefix, as_json), raw, secret, form=form,
                                 wait=wait))
    _print(got, as_json)
    if not got.get("accepted"):
        raise typer.Exit(1)


@app.command("show")
def show_command(
    message_id: str = typer.Argument(..., help="The id `stateline switch send` printed."),
    data: str = options.DATA,
    sender: str = FROM,
    token: str | None = TOKEN,
    nats_url: str = NATS,
    prefix: str = PREFIX,
    as_json: bool = options.JSON,
) -> None:
    """A message's answers so far, from a running `stateline switch serve`.

    Late answers included; only the sending agency's credential may read them."""
    folder = DataDir.resolve(data)
    with on_the_bus(as_json):
        secret = token or token_for(folder, sender)
        got = asyncio.run(show(nats_url, network(prefix, as_json), message_id.strip(), secret))
    _print(got, as_json)


def _print(got: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(got, indent=2))
        return
    views = tuple(ResponseView(str(r["key"]), str(r["state"]), str(r["outcome"]), (),
                               str(r["text"]), r.get("reference"), bool(r.get("late")))
                  for r in got.get("responses", []))
    print_submission(Submission(str(got["message_id"]), bool(got["accepted"]), views,
                                tuple(got.get("pending", []))), as_json=False)
