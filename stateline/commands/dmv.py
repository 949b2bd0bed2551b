"""`stateline dmv`: look into a state's DMV store."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

from ..datadir import DataDir
from ..dmv import open_store
from . import options

app = typer.Typer(help="A state's DMV records.", no_args_is_help=True)
console = Console()


@app.command("sample")
def sample(
    data: str = options.DATA,
    state: str = options.STATE,
    n: int = typer.Option(5, "--n", min=1, max=1000, help="How many records."),
    seed: int = typer.Option(0, help="Another seed, other records."),
    as_json: bool = options.JSON,
) -> None:
    """Sample records, with the values a real query would carry (name, DOB, plate, VIN)."""
    folder = DataDir.resolve(data)
    code = state.strip().upper()
    if not folder.dmv_db(code).is_file():
        known = ", ".join(folder.states()) or "none"
        options.fail(f"no DMV store for {code} at {folder.root} (states here: {known})",
                     "no-store", as_json)
    store = open_store(folder.dmv_url(code))
    try:
        rows = store.sample(n, seed)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    table = Table("oln", "name", "dob", "sex", "plate", "year", "type", "vin",
                  title=f"{code} sample")
    for row in rows:
        table.add_row(row.oln, row.name, row.dob, row.sex, row.plate, row.plate_year,
                      row.plate_type, row.vin)
    console.print(table)
