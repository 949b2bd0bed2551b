"""`stateline dmv`: look into a state's DMV store, copy it, or serve it as the state's own DMV
system would (`responder`)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console

from ..datadir import DataDir
from ..dmv import open_store
from ..dmv.layouts import LAYOUTS
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="A state's DMV records.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Names and numbers are data, never Rich markup."""

SAMPLE_COLUMNS = (ident("oln"), ident("dob"), ident("plate"), ident("vin"), text("name"),
                  text("sex"), text("year"), text("type"))


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
    print_table(console, SAMPLE_COLUMNS,
                [[row.oln, row.dob, row.plate, row.vin, row.name, row.sex, row.plate_year,
                  row.plate_type] for row in rows],
                title=f"{code}: {plural(len(rows), 'sample record')}")


@app.command("copy")
def copy(
    data: str = options.DATA,
    state: str = options.STATE,
    to: str = typer.Option(..., "--to", metavar="URL",
                           help="PostgreSQL URL, e.g. postgresql://postgres@127.0.0.1/stateline."),
    replace: bool = typer.Option(False, "--replace",
                                 help="Copy over records already in the state's schema."),
    as_json: bool = options.JSON,
) -> None:
    """Copy a state's DMV records into PostgreSQL (schema dmv_wa for WA), whole or not at
    all, for `stateline gateway serve --db URL`."""
    from ..dmv.copy import copy_state, schema_for
    from ..dmv.store import StoreError

    folder = DataDir.resolve(data)
    code = state.strip().upper()
    if not to.startswith(("postgresql://", "postgres://")):
        options.fail(f"{to} is not a postgresql:// URL", "invalid", as_json)
    try:
        counts = copy_state(folder, code, to, replace=replace)
    except StoreError as error:
        options.fail(str(error), "store-error", as_json)
    if as_json:
        typer.echo(json.dumps({"state": code, "schema": schema_for(code), "counts": counts},
                              indent=2))
        return
    copied = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    typer.echo(f"{code}: {copied} copied to schema {schema_for(code)}")


LAYOUT_NAMES = ", ".join(LAYOUTS)


@app.command("responder")
def responder(
    data: str = options.DATA,
    state: str = options.STATE,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8790, "--port", min=1, max=65535, help="TCP port to listen on."),
    layout: str = typer.Option("prefixed", "--format", metavar="LAYOUT",
                               help=f"The answer layout: {LAYOUT_NAMES}."),
    tcp: bool = typer.Option(False, "--tcp", help="Length-prefixed frames over TCP (a 4-byte "
                                                  "big-endian length, then UTF-8) instead of "
                                                  "HTTP POST."),
) -> None:
    """Serve the state's DMV records as its own DMV system would, in a state-specific answer
    layout, for a gateway in proxy mode (config.toml [dmv] upstream) to sit in front of. It
    answers whoever asks: deciding is the gateway's work. Runs until SIGTERM or Ctrl-C."""
    import asyncio

    import uvicorn

    from ..dmv.responder import Responder, http_app, serve_tcp
    from ..gateway.lookup import SEARCHES
    from ..gateway.pipeline import gateway_oris

    folder = DataDir.resolve(data)
    code = state.strip().upper()
    if layout not in LAYOUTS:
        options.fail(f"no answer layout {layout!r}; the layouts are {LAYOUT_NAMES}")
    if not folder.dmv_db(code).is_file():
        known = ", ".join(folder.states()) or "none"
        options.fail(f"no DMV store for {code} at {folder.root} (states here: {known})",
                     "no-store")
    chosen = LAYOUTS[layout]
    store = open_store(folder.dmv_url(code))
    served = Responder(store, SEARCHES, chosen, *gateway_oris(folder, code))

    def started(url: str) -> None:
        typer.echo(f"{code} DMV responder: {url} ({'frames' if tcp else 'HTTP POST'}), "
                   f"{chosen.name} layout; a gateway reads it with field_map = "
                   f"\"{chosen.name}\" ({chosen.field_map})")

    try:
        if tcp:
            asyncio.run(serve_tcp(served, host, port, started))
        else:
            started(f"http://{host}:{port}/")
            uvicorn.run(http_app(served), host=host, port=port, log_level="warning",
                        access_log=False)
    finally:
        store.close()
    typer.echo(f"{code} DMV responder stopped: {served.answered:,} queries answered")
