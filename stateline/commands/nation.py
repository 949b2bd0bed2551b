"""`stateline nation`: build a synthetic nation to run everything on."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from ..datadir import DataDir
from ..dmv import open_store
from ..sim.nation import (
    DEFAULT_RESIDENTS,
    DEFAULT_STATES,
    NationError,
    build_nation,
    parse_states,
    read_manifest,
)
from . import options

app = typer.Typer(help="Synthetic nations: directory, DMV stores and state configuration.",
                  no_args_is_help=True)
console = Console()
FOLDER = typer.Argument(..., help="Data folder to create, e.g. ./stateline-data.")


@app.command("init")
def init(
    folder: Path = FOLDER,
    states: str = typer.Option(",".join(DEFAULT_STATES), help="States with DMV stores."),
    residents: int = typer.Option(DEFAULT_RESIDENTS, min=1, help="Residents per state."),
    seed: int = typer.Option(1, help="Same seed, same nation."),
    force: bool = typer.Option(False, "--force", help="Replace a nation already there."),
) -> None:
    """Build a synthetic nation: every agency in the country, and DMV records for STATES."""
    try:
        chosen = parse_states(states)
        data = DataDir(folder)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
            directory_task = bar.add_task("directory", total=1)
            tasks = {s: bar.add_task(f"{s} residents", total=residents) for s in chosen}

            def tell(what: str, count: int) -> None:
                if what == "directory":
                    bar.update(directory_task, completed=1)
                else:
                    bar.advance(tasks[what], count)

            manifest = build_nation(data, chosen, residents, seed, force=force, progress=tell)
    except NationError as error:
        options.fail(error.text, error.code)
    console.print(f"Built a nation at {folder}: {manifest.agencies} agencies, "
                  f"{manifest.residents} residents in each of {', '.join(manifest.states)}.")
    console.print(f"Explore it: stateline directory list --data {folder} --component ICE")
    console.print(f"            stateline dmv sample --data {folder} --state {chosen[0]} --json")
    console.print(f"Send a query: stateline send --data {folder} --from {chosen[0]}SP00000 "
                  f"'DQ.{chosen[0]}SP00000.{chosen[0]}.TXT.OLN/...'  (credentials in "
                  f"{data.credentials_file})")


@app.command("show")
def show(data: str = options.DATA, as_json: bool = options.JSON) -> None:
    """What a nation holds: its seed, its states and their record counts."""
    folder = DataDir.resolve(data)
    try:
        manifest = read_manifest(folder)
    except NationError as error:
        options.fail(error.text, "no-nation", as_json)
    counts = {}
    for state in manifest.states:
        store = open_store(folder.dmv_url(state))
        try:
            counts[state] = store.counts()
        finally:
            store.close()
    if as_json:
        typer.echo(json.dumps({"seed": manifest.seed, "agencies": manifest.agencies,
                               "built": manifest.built, "states": counts}, indent=2))
        return
    table = Table("state", *next(iter(counts.values())).keys(), title=f"Nation at {folder.root}")
    for state, row in counts.items():
        table.add_row(state, *(f"{n:,}" for n in row.values()))
    console.print(table)
    console.print(f"{manifest.agencies:,} agencies · seed {manifest.seed} · built {manifest.built}")
