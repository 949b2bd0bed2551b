"""`stateline traffic search`: the switch's traffic log (one rolling year), searched by key,
sender, destination, message id, time range and text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import typer

from ..datadir import DataDir
from ..directory import AgencyNames, names_in
from ..switch.traffic import Entry, Search, TrafficLog
from . import options
from .switching import answering, console
from .tables import ident, plural, print_table, text

LIMIT = 100_000
"""The most entries one search shows."""

app = typer.Typer(help="The switch's traffic log: every message in and out, kept one year.",
                  no_args_is_help=True)


def _when(text: str | None, option: str, *, end: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD: the whole day counts) or ISO time, in UTC unless it says."""
    if not text:
        return None
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text.strip())
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        options.fail(f"{option}: {text!r} is not a date (YYYY-MM-DD) or an ISO time "
                     "between the years 1 and 9999")


@app.command("search")
def search_command(
    key: str | None = typer.Option(None, "--key", help="Message key, e.g. DQ or DR."),
    sender: str | None = typer.Option(None, "--sender", help="Sending ORI."),
    destination: str | None = typer.Option(None, "--destination",
                                           help="State code or ORI it went to."),
    message_id: str | None = typer.Option(None, "--message-id", help="The switch's id."),
    since: str | None = typer.Option(None, "--since", help="From this date or time (UTC)."),
    until: str | None = typer.Option(None, "--until",
                                     help="To this date (inclusive) or time (UTC)."),
    text: str | None = typer.Option(None, "--text", help="Text anywhere in the message."),
    limit: int = typer.Option(50, "--limit", min=1, max=LIMIT, help="Most entries shown."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Messages in the traffic log, newest first; every filter given must match."""
    search = Search(key, sender, destination, message_id, _when(since, "--since"),
                    _when(until, "--until", end=True), text, limit)
    folder = DataDir.resolve(data)
    with answering(as_json):
        if not folder.traffic_db.exists():
            found = []
        else:
            with TrafficLog(folder) as log:
                found = log.search(search)
    if as_json:
        typer.echo(json.dumps([e.to_json() for e in found], indent=2))
        return
    if not found:
        console.print("NOT ON FILE")
        return
    names = names_in(folder)
    print_table(console, COLUMNS, [_row(e, names) for e in found],
                title=f"{plural(len(found), 'message')}, newest first")


COLUMNS = (ident("time (UTC)"), ident("dir"), ident("message"), ident("key"), ident("sender"),
           ident("to"), text("agency"), text("text"))


def _row(entry: Entry, names: AgencyNames) -> list[str]:
    body = entry.text.split("TXT", 1)[-1].strip().replace("\n", " ")
    return [f"{entry.time:%Y-%m-%d %H:%M:%S}", entry.direction, entry.message_id, entry.key,
            entry.sender, entry.destination, _agency(entry, names), body[:48]]


def _agency(entry: Entry, names: AgencyNames) -> str:
    """The agency at the far end: the sender of a query, the addressee of an answer."""
    for ori in (entry.sender, entry.destination):
        if names(ori) != ori:
            return names(ori)
    return ""
