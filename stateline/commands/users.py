"""`stateline users add|list|passwd|remove`: dashboard accounts, with roles, in DIR/web.db.

A password is made and printed once unless `--password-stdin` gives one (never on the command
line, where other users and shell history would see it). Every change is audited in the log of
each state the account answers for. Errors are printed once: text on stderr, or with `--json`
the one JSON error shape on stdout; the exit status is 1 and nothing has changed.
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager

import typer
from rich.console import Console

from ..datadir import DataDir
from ..policy.store import current_user
from ..web import roster
from ..web.accounts import Account, Accounts, Role
from . import options
from .tables import ident, plural, print_table

app = typer.Typer(help="Dashboard accounts: coordinators, reviewers, auditors and viewers.",
                  no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)

NAME = typer.Argument(..., help="Account name: lower-case letters, digits, . _ -")
ROLE = typer.Option(..., "--role", help="coordinator, reviewer, auditor or viewer.")
ACCOUNT_STATE = typer.Option(..., "--state", help="The state it answers for, or ALL.")
STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                                                     "instead of making one.")
BY = typer.Option(None, "--by", help="Who makes the change (default: the OS user).")


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the accounts")


def _given(stdin: bool) -> str | None:
    return sys.stdin.readline().rstrip("\r\n") if stdin else None


def _json(account: Account) -> dict[str, str]:
    return {"name": account.name, "role": account.role.value, "state": account.state,
            "created": account.created.isoformat()}


@app.command("add")
def add_command(
    name: str = NAME,
    role: str = ROLE,
    state: str = ACCOUNT_STATE,
    data: str = options.DATA,
    stdin: bool = STDIN,
    by: str | None = BY,
) -> None:
    """Add an account; prints its password once unless one came on standard input."""
    with answering():
        account, secret = roster.add(DataDir.resolve(data), name, Role.parse(role), state,
                                     by or current_user(), _given(stdin))
    typer.echo(f"Account {account.name} added: {account.role.value} for {account.state}.")
    if not stdin:
        typer.echo(f"Password (shown once): {secret}")


@app.command("list")
def list_command(data: str = options.DATA, as_json: bool = options.JSON) -> None:
    """List the accounts: name, role, state, when made. Passwords are never shown."""
    with answering(as_json):
        found = Accounts(DataDir.resolve(data)).all()
    if as_json:
        typer.echo(json.dumps([_json(a) for a in found], indent=2))
        return
    print_table(console, (ident("name"), ident("role"), ident("state"), ident("created (UTC)")),
                [[a.name, a.role.value, a.state, f"{a.created:%Y-%m-%d %H:%M}"] for a in found],
                title=plural(len(found), "dashboard account"))


@app.command("passwd")
def passwd_command(
    name: str = NAME,
    data: str = options.DATA,
    stdin: bool = STDIN,
    by: str | None = BY,
) -> None:
    """Give an account a new password (printed once unless given); its sessions end."""
    with answering():
        account, secret = roster.set_password(DataDir.resolve(data), name,
                                              by or current_user(), _given(stdin))
    typer.echo(f"New password set for {account.name}; its sessions have ended.")
    if not stdin:
        typer.echo(f"Password (shown once): {secret}")


@app.command("remove")
def remove_command(name: str = NAME, data: str = options.DATA, by: str | None = BY) -> None:
    """Remove an account and end its sessions."""
    with answering():
        account = roster.remove(DataDir.resolve(data), name, by or current_user())
    typer.echo(f"Account {account.name} removed.")
