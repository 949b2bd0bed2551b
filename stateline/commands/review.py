"""`stateline review list|release|deny`: the requests a state's policy held for a coordinator.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1 and nothing has been sent.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager

import typer
from rich.console import Console

from ..datadir import DataDir
from ..directory import names_in
from ..gateway import Gateway, Held, Result, ReviewError, ReviewQueue
from ..policy.store import checked_state, current_user
from ..protocol import format_text
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="Held requests waiting for a coordinator: list, release or deny them.",
                  no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""References, ORIs and policy names are data, never Rich markup."""

REF = typer.Argument(..., help="The held request's reference, e.g. WA-3F9A0C1B2D.")
BY = typer.Option(None, "--by", help="The reviewer's name (default: the OS user).")


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the review queue")


def _policy(held: Held) -> str:
    reasons = held.decision.reasons
    return reasons[0].policy if reasons else ""


def _held_json(held: Held) -> dict[str, object]:
    reasons = held.decision.reasons
    return {"reference": held.reference, "time": held.time.isoformat(), "ori": held.ori,
            "key": held.key, "message_id": held.message_id, "policy": _policy(held),
            "reason": reasons[0].text if reasons else "", "status": held.status}


@app.command("list")
def list_command(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """List held requests not yet reviewed, oldest first."""
    with answering(as_json):
        folder = DataDir.resolve(data)
        code = checked_state(folder, state)
        with ReviewQueue(folder, code) as queue:
            pending = queue.pending()
    if as_json:
        typer.echo(json.dumps([_held_json(h) for h in pending], indent=2))
        return
    if not pending:
        typer.echo(f"{code}: no requests waiting for review.")
        return
    names = names_in(folder)
    print_table(console, HELD_COLUMNS,
                [[h.reference, h.ori, h.key, f"{h.time:%Y-%m-%d %H:%M:%S}", names(h.ori),
                  _policy(h)] for h in pending],
                title=f"{code}: {plural(len(pending), 'held request')} waiting for review")


HELD_COLUMNS = (ident("reference"), ident("ORI"), ident("key"), ident("time (UTC)"),
                text("requester"), text("policy"))


def _review(data: str, state: str, reference: str, reviewer: str | None,
            release: bool, note: str) -> tuple[str, Result]:
    folder = DataDir.resolve(data)
    code = checked_state(folder, state)
    who = (reviewer or "").strip() or current_user()
    with Gateway(folder, code) as gateway:
        held = gateway.queue.get(reference)
        if held.status != "held":
            raise ReviewError(f"{held.reference} was already reviewed ({held.status}); "
                              "nothing was sent")
        act = gateway.release if release else gateway.deny
        return who, act(held.reference, who, note.strip())


def _print_result(result: Result, who: str, verb: str, as_json: bool) -> None:
    text = format_text(result.response)
    if as_json:
        typer.echo(json.dumps({"reference": result.reference, "outcome": result.outcome.value,
                               "reviewer": who, "seq": result.seq,
                               "to": list(result.response.destinations),
                               "response": text}, indent=2))
        return
    typer.echo(f"{result.reference} {verb} by {who}: {result.outcome.value}, audit entry "
               f"{result.seq}; late response to {', '.join(result.response.destinations)}:")
    typer.echo(text)


NOTE = typer.Option("", "--note", help="Why, for the audit entry (e.g. the court order).")


@app.command("release")
def release_command(
    reference: str = REF,
    data: str = options.DATA,
    state: str = options.STATE,
    by: str | None = BY,
    note: str = NOTE,
    as_json: bool = options.JSON,
) -> None:
    """Release a held request: it is answered now, as policy allows, and audited with your
    name."""
    with answering(as_json):
        who, result = _review(data, state, reference, by, release=True, note=note)
    _print_result(result, who, "released", as_json)


@app.command("deny")
def deny_command(
    reference: str = REF,
    data: str = options.DATA,
    state: str = options.STATE,
    by: str | None = BY,
    note: str = NOTE,
    as_json: bool = options.JSON,
) -> None:
    """Deny a held request: the requester gets a denial, audited with your name."""
    with answering(as_json):
        who, result = _review(data, state, reference, by, release=False, note=note)
    _print_result(result, who, "denied", as_json)
