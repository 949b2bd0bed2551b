"""`stateline directory`: list, show, import and export the agency directory.

Errors are printed once, here at the edge: as text on stderr, or with `--json` as
``{"error": {"code": ..., "text": ...}}`` on stdout; either way the exit status is 1.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ..datadir import DataDir
from ..directory.agency import Agency, DirectoryError, join_letters, join_programs, to_json
from ..directory.categories import DEFAULT_RULES, RuleTable, load_rules
from ..directory.csvio import export_file, read_file
from ..directory.store import Directory, UnknownAgency
from ..protocol import STATES
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="The directory of agencies (ORIs) and their attributes.",
                  no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Agency names are data, not Rich markup: `[red]` or `:police_car:` in a name prints as typed."""

STATE_FILTER = typer.Option(None, "--state", help="Only agencies in this state.")
COMPONENT_FILTER = typer.Option(None, "--component", help="Only this federal component, "
                                "e.g. ICE.")
PROGRAM_FILTER = typer.Option(None, "--program", help="Only agencies in this program, "
                              "e.g. 287g.")
ORI = typer.Argument(..., help="The agency's ORI, e.g. VTICE0900 (any case).")
HOME = typer.Option(None, "--home", help="Also show its statistics category for requests "
                    "to this state.")
RULES = typer.Option(None, "--rules", help="Category rules (TOML) instead of the defaults.")
CSV_IN = typer.Argument(..., help="CSV file with the directory's header row.")
CSV_OUT = typer.Argument(..., help="CSV file to write (replaced if it exists).")
REPLACE = typer.Option(False, "--replace", help="Remove agencies the file does not list.")


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the directory")


def agencies_count(count: int) -> str:
    return plural(count, "agency")


def open_directory(data: str) -> Directory:
    """The directory of an existing nation; a missing one is a NoNation error."""
    return Directory.open(DataDir.resolve(data), create=False)


@app.command("list")
def list_command(
    data: str = options.DATA,
    state: str | None = STATE_FILTER,
    component: str | None = COMPONENT_FILTER,
    program: str | None = PROGRAM_FILTER,
    as_json: bool = options.JSON,
) -> None:
    """List agencies, sorted by ORI, narrowed by state, component or program."""
    with answering(as_json), open_directory(data) as directory:
        version = directory.version
        agencies = directory.agencies(state=state, component=component, program=program)
    if as_json:
        typer.echo(json.dumps([to_json(agency) for agency in agencies], indent=2))
        return
    print_table(console, LIST_COLUMNS,
                [[agency.ori, agency.name + ("" if agency.active else " (inactive)"),
                  agency.level.value, agency.agency_type,
                  " ".join(filter(None, (agency.department, agency.component))),
                  join_letters(agency.permissions), join_programs(agency.programs)]
                 for agency in agencies],
                title=f"{agencies_count(len(agencies))} (directory version {version})")


LIST_COLUMNS = (ident("ORI"), text("name"), text("level"), text("type"), text("federal"),
                text("perm"), text("programs"))


@app.command("show")
def show_command(
    ori: str = ORI,
    data: str = options.DATA,
    home: str | None = HOME,
    rules: Path | None = RULES,
    as_json: bool = options.JSON,
) -> None:
    """Show one agency and its statistics category, relative to its own state and `--home`."""
    with answering(as_json):
        rule_table = load_rules(rules) if rules else DEFAULT_RULES
        homes = _homes(home)
        with open_directory(data) as directory:
            agency = directory.get(ori)
        if agency is None:
            raise UnknownAgency(f"no agency {ori.strip().upper()} in the directory")
    states = (agency.state, *(h for h in homes if h != agency.state))
    if as_json:
        typer.echo(json.dumps({
            **to_json(agency),
            "categories": {s: rule_table.category(agency, s) for s in states},
            "memberships": {s: list(rule_table.memberships(agency, s)) for s in states},
        }, indent=2))
        return
    console.print(_card(agency, rule_table, states))


def _homes(home: str | None) -> tuple[str, ...]:
    if home is None:
        return ()
    code = home.strip().upper()
    if code not in STATES:
        raise DirectoryError(f"--home {home!r} is not a state code")
    return (code,)


def _card(agency: Agency, rules: RuleTable, states: tuple[str, ...]) -> Table:
    card = Table(show_header=False, title=f"{agency.ori} {agency.name}")
    for key, value in to_json(agency).items():
        shown = ", ".join(value) if isinstance(value, list) else value
        card.add_row(key, ("yes" if shown else "no") if isinstance(shown, bool) else str(shown))
    for state in states:
        card.add_row(f"category, requests to {state}", rules.category(agency, state))
        card.add_row(f"member of, requests to {state}",
                     ", ".join(rules.memberships(agency, state)))
    return card


@app.command("import")
def import_command(
    file: Path = CSV_IN,
    data: str = options.DATA,
    replace: bool = REPLACE,
) -> None:
    """Import agencies from CSV: every row is checked first, and one bad row changes nothing.

    A data folder without a directory gets one, so a state can start from its own list.
    """
    with answering():
        agencies = read_file(file)
        with Directory.open(DataDir.resolve(data), create=True) as directory:
            change = directory.put_many(agencies, replace=replace)
    removed = f", {change.removed} removed" if replace else ""
    typer.echo(f"{file}: {agencies_count(len(agencies))}: {change.added} added, {change.updated} "
               f"updated, {change.unchanged} unchanged{removed}; directory version "
               f"{change.version}")


@app.command("export")
def export_command(
    file: Path = CSV_OUT,
    data: str = options.DATA,
) -> None:
    """Export every agency to CSV, sorted by ORI; importing the file gives the same directory."""
    with answering(), open_directory(data) as directory:
        snapshot = export_file(directory, file)
    typer.echo(f"{file}: {agencies_count(len(snapshot))} exported (directory version "
               f"{snapshot.version})")
