"""`stateline credentials issue|list|revoke|log`: the tokens agencies present to the switch,
each bound to one ORI and kept only as a SHA-256 digest; and the attempts the switch refused."""

from __future__ import annotations

import json

import typer

from ..datadir import DataDir
from ..directory import AgencyNames, names_in
from ..directory.store import Directory
from ..policy.store import current_user
from ..switch import CredentialError
from ..switch.credentials import Credential, CredentialBook, save_tokens
from . import options
from .switching import answering, console
from .tables import ident, plural, print_table, text

app = typer.Typer(help="Agency credentials for the switch: issue, list, revoke; refused "
                       "attempts.", no_args_is_help=True)


@app.command("issue")
def issue_command(
    ori: str = typer.Argument(..., help="The agency's ORI; it must be in the directory."),
    who: str | None = typer.Option(None, "--who", help="Who issues it (default: the OS user)."),
    note: str = typer.Option("", "--note", help="What it is for."),
    save: bool = typer.Option(False, "--save", help="Also keep it in DIR/credentials.json, so "
                                                    "`stateline send --from ORI` uses it "
                                                    "(synthetic nations only)."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Issue a token bound to one ORI; it is printed once and only its digest is kept."""
    folder = DataDir.resolve(data)
    with answering(as_json):
        with Directory.open(folder, create=False) as directory:
            agency = directory.get(ori)
        if agency is None:
            raise CredentialError(f"no agency {ori.strip().upper()} in the directory")
        with CredentialBook(folder) as book:
            token, credential = book.issue(agency.ori, who or current_user(), note)
        if save:
            save_tokens(folder, {credential.ori: token})
    if as_json:
        typer.echo(json.dumps({"token": token, **credential.to_json()}, indent=2))
        return
    console.print(token)
    console.print(f"credential {credential.id} for {credential.ori}: shown once, keep it safe"
                  + (f"; saved in {folder.credentials_file}" if save else ""), style="dim")


@app.command("list")
def list_command(
    ori: str | None = typer.Option(None, "--ori", help="Only this agency's credentials."),
    limit: int = typer.Option(50, "--limit", min=1, help="Most rows printed."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Credentials by ORI: ids, who issued them, revoked or not; never the tokens."""
    folder = DataDir.resolve(data)
    with answering(as_json), CredentialBook(folder) as book:
        found = book.credentials(ori)
    if as_json:
        typer.echo(json.dumps([c.to_json() for c in found[:limit]], indent=2))
        return
    _table(found[:limit], names_in(folder))
    if len(found) > limit:
        console.print(f"{len(found) - limit:,} more; narrow with --ori or raise --limit")


@app.command("revoke")
def revoke_command(
    credential_id: str = typer.Argument(..., help="The credential's id (from `list`)."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Revoke a credential: the switch refuses its token from the next message on."""
    folder = DataDir.resolve(data)
    with answering(as_json), CredentialBook(folder) as book:
        credential = book.revoke(credential_id)
    if as_json:
        typer.echo(json.dumps(credential.to_json(), indent=2))
        return
    console.print(f"revoked credential {credential.id} of {credential.ori}")


@app.command("log")
def log_command(
    limit: int = typer.Option(50, "--limit", min=1, help="Most rows printed."),
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Attempts the switch refused, newest first: unknown or revoked tokens, and messages
    naming another ORI than the credential's."""
    folder = DataDir.resolve(data)
    with answering(as_json), CredentialBook(folder) as book:
        refused = book.refusals(limit)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in refused], indent=2))
        return
    names = names_in(folder)
    print_table(console, REFUSAL_COLUMNS,
                [[f"{r.time:%Y-%m-%d %H:%M:%S}", r.credential or "-", r.credential_ori or "-",
                  r.claimed_ori or "-", names(r.claimed_ori) if r.claimed_ori else "", r.reason]
                 for r in refused],
                title=plural(len(refused), "refused attempt"))


REFUSAL_COLUMNS = (ident("time (UTC)"), ident("credential"), ident("its ORI"),
                   ident("claimed ORI"), text("claimed agency"), text("reason"))
CREDENTIAL_COLUMNS = (ident("id"), ident("ORI"), ident("created (UTC)"), text("agency"),
                      ident("revoked"), text("who"), text("note"))


def _table(credentials: list[Credential], names: AgencyNames) -> None:
    print_table(console, CREDENTIAL_COLUMNS,
                [[c.id, c.ori, f"{c.created:%Y-%m-%d %H:%M}", names(c.ori),
                  f"{c.revoked:%Y-%m-%d %H:%M}" if c.revoked else "", c.who, c.note]
                 for c in credentials],
                title=plural(len(credentials), "credential"))
