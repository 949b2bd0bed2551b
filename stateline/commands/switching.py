"""What the switch commands share: the embedded network (the switch over in-process gateways,
each opened on its first message), error handling, and how a submission is printed."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager

import typer
from rich.console import Console

from ..datadir import DataDir
from ..switch import Switch, SwitchError
from ..switch.views import Submission
from ..transport.inprocess import InProcessTransport
from . import options

console = Console(markup=False, emoji=False, highlight=False)
"""Messages, ORIs and names are data, never Rich markup."""


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the switch's stores")


def _errors_only() -> None:
    """On the command line the refusal already shows as the command's own error: print the
    switch's log only for failures (the refusal log keeps the rest)."""
    for name in ("stateline.switch", "stateline.transport"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.ERROR)


@asynccontextmanager
async def embedded(data: DataDir, *, retry: bool = True) -> AsyncIterator[
        tuple[Switch, InProcessTransport]]:
    """The whole network in this process: a started switch, gateways opened as needed."""
    if not data.nation_db.is_file():
        raise SwitchError(f"no nation at {data.root}: run `stateline nation init {data.root}`")
    _errors_only()
    transport = InProcessTransport(data, lazy=True)
    switch = Switch(data, transport, retry=retry)
    await switch.start()
    try:
        yield switch, transport
    finally:
        await switch.close()


def show(submission: Submission, as_json: bool) -> None:
    """A submission as JSON, or each message the sender got back as delivered."""
    if as_json:
        typer.echo(json.dumps(submission.to_json(), indent=2))
        return
    verdict = "accepted" if submission.accepted else "rejected"
    console.print(f"message {submission.message_id}: {verdict}")
    for view in submission.responses:
        late = " (late)" if view.late else ""
        console.print(f"\n--- {view.state} {view.key} {view.outcome}{late}")
        console.print(view.text)
    if submission.pending:
        console.print(f"\nstill owed an answer by: {' '.join(submission.pending)}")
