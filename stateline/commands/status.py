"""`stateline status list|set`: each state's service status on the network, changed only by
a named operator, every change logged. Putting a state back in service delivers the traffic
held for it, in order, through the embedded network."""

from __future__ import annotations

import asyncio
import json

import typer

from ..datadir import DataDir
from ..switch import Service, SwitchConfig
from ..switch.holds import SqliteHolds
from ..switch.status import StatusBoard, StatusChange
from . import options
from .switching import answering, console, embedded
from .tables import ident, plural, print_table, text

app = typer.Typer(help="States' service status on the network: list it, change it.",
                  no_args_is_help=True)


@app.command("list")
def list_command(
    data: str = options.DATA,
    history: bool = typer.Option(False, "--history", help="Every logged change, newest first."),
    as_json: bool = options.JSON,
) -> None:
    """Each network state's status and how many messages are held for it."""
    folder = DataDir.resolve(data)
    with answering(as_json):
        with StatusBoard(folder) as board:
            if history:
                _print_history(board.history(), as_json)
                return
            down = board.current()
        held = asyncio.run(_held(folder))
        states = sorted(SwitchConfig.load(folder).members(folder) | set(down) | set(held))
    rows = [{"state": s, "status": down.get(s, Service.IN).value, "held": held.get(s, 0)}
            for s in states]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    print_table(console, (ident("state"), ident("status"), ident("held", "right")),
                [[str(row["state"]), str(row["status"]), f"{row['held']:,}"] for row in rows])


@app.command("set")
def set_command(
    state: str = typer.Argument(..., help="Two-letter state code, e.g. WA."),
    out_of_service: bool = typer.Option(False, "--out-of-service",
                                        help="Hold its traffic (.02.) until it returns."),
    in_service: bool = typer.Option(False, "--in-service",
                                    help="Back in service: held traffic is delivered."),
    remove: bool = typer.Option(False, "--remove",
                                help="Remove status: refuse its traffic (.04.), keep none."),
    by: str = typer.Option(..., "--by", help="Who makes the change (logged)."),
    note: str = typer.Option("", "--note", help="Why, for the log."),
    deliver: bool = typer.Option(True, "--deliver/--no-deliver",
                                 help="With --in-service, deliver held traffic now through "
                                      "the embedded network (leave it to a running switch "
                                      "with --no-deliver)."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Change a state's service status; the change is logged with who and when."""
    chosen = [status for flag, status in ((out_of_service, Service.OUT),
                                          (in_service, Service.IN), (remove, Service.REMOVED))
              if flag]
    if len(chosen) != 1:
        options.fail("give one of --out-of-service, --in-service or --remove", "invalid",
                     as_json)
    folder = DataDir.resolve(data)

    async def changing() -> tuple[StatusChange, int]:
        async with embedded(folder, retry=False) as (switch, _):
            change = await switch.set_status(state, chosen[0], by, note, deliver=False)
            sent = await switch.deliver_held(change.state) \
                if deliver and chosen[0] is Service.IN else 0
            return change, sent

    with answering(as_json):
        change, sent = asyncio.run(changing())
    if as_json:
        typer.echo(json.dumps({**change.to_json(), "delivered": sent}, indent=2))
        return
    console.print(f"{change.state}: {change.old.value} -> {change.new.value} "
                  f"(by {change.who}, {change.time:%Y-%m-%d %H:%M:%S} UTC)")
    if chosen[0] is Service.IN:
        console.print(f"delivered {plural(sent, 'held message')} to {change.state}")


async def _held(folder: DataDir) -> dict[str, int]:
    holds = SqliteHolds(folder)
    try:
        return await holds.counts()
    finally:
        await holds.close()


def _print_history(changes: list[StatusChange], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in changes], indent=2))
        return
    print_table(console, HISTORY_COLUMNS,
                [[f"{c.time:%Y-%m-%d %H:%M:%S}", c.state, c.old.value, c.new.value, c.who,
                  c.note] for c in changes],
                title=plural(len(changes), "status change"))


HISTORY_COLUMNS = (ident("time (UTC)"), ident("state"), ident("from"), ident("to"), text("by"),
                   text("note"))
