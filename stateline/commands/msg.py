"""`stateline msg`: read, write and list Nlets-style messages."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from ..protocol import KEYS, Reject, format_text, format_xml, read_any, to_json
from .tables import ident, plural, print_table, text

app = typer.Typer(help="Read and write Nlets-style messages.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)

JSON_OPTION = typer.Option(False, "--json", help="Answer in JSON, errors included.")


def read_stdin() -> str:
    """All of stdin as text; bytes that are not UTF-8 become U+FFFD instead of a traceback."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return sys.stdin.read()
    data: bytes = buffer.read()
    return data.decode("utf-8", errors="replace")


def _refuse(reject: Reject, as_json: bool) -> None:
    typer.echo(json.dumps(reject.as_json()) if as_json else reject.text)
    raise typer.Exit(1)


@app.command("parse")
def parse_command(as_json: bool = JSON_OPTION) -> None:
    """Read one message on stdin (legacy text, JSON from '{', Nlets XML from '<') and print it
    as JSON.

    A message that breaks the protocol gets its ER reject text and exit status 1.
    """
    raw = read_stdin()
    try:
        message = read_any(raw)
    except Reject as reject:
        _refuse(reject, as_json)
        return
    typer.echo(json.dumps(to_json(message), indent=2))


XML_OPTION = typer.Option(False, "--xml", help="Write Nlets XML (NIEM) instead of legacy text.")


@app.command("format")
def format_command(as_json: bool = JSON_OPTION, as_xml: bool = XML_OPTION) -> None:
    """Read one message on stdin (JSON, legacy text or Nlets XML) and print it as legacy text,
    or as Nlets XML with --xml."""
    raw = read_stdin()
    try:
        message = read_any(raw)
        typer.echo(format_xml(message).rstrip("\n") if as_xml else format_text(message))
    except Reject as reject:
        _refuse(reject, as_json)


@app.command("keys")
def keys_command(as_json: bool = JSON_OPTION) -> None:
    """List the message keys Stateline handles, with their field sets and destinations."""
    if as_json:
        typer.echo(json.dumps([
            {
                "key": spec.key,
                "meaning": spec.meaning,
                "text": spec.text.value,
                "field_sets": [list(s) for s in spec.field_sets],
                "optional": sorted(spec.optional),
                "destinations": spec.destinations.addressing.value,
                "most_destinations": spec.destinations.most,
                "response": spec.response,
                "group": spec.group,
            }
            for spec in KEYS.values()
        ], indent=2))
        return
    print_table(console, KEY_COLUMNS, [
        [spec.key, spec.response or "", spec.meaning,
         " | ".join("+".join(s) for s in spec.field_sets) or "free text",
         " ".join(sorted(spec.optional)),
         f"{spec.destinations.addressing.value} (≤{spec.destinations.most})"]
        for spec in KEYS.values()], title=plural(len(KEYS), "message key"))


KEY_COLUMNS = (ident("key"), ident("answer"), text("meaning"), text("needs one of"),
               text("optional"), text("to"))
