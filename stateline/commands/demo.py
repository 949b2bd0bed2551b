"""`stateline demo`: build (or reuse) a synthetic nation and show what Stateline does today."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Table

from ..datadir import DataDir
from ..directory.categories import category
from ..directory.store import Directory
from ..dmv import open_store
from ..protocol import Reject, format_text, read
from ..sim.nation import NationError, build_nation, read_manifest
from . import options

DEMO_STATES = ("WA", "OR", "NY", "TX", "AZ")
DEMO_RESIDENTS = 5_000

MALFORMED = (
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE",
    "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC",
    "KQ.ORPPD0000.WA.OR.TXT\nOLN/WDL123456",
    "DQG.ORPPD0000.W1.TXT\nOLN/WDL123456",
    "dq.orppd000.wa.txt\r\nOLN/X1.\r\n",
)


def run(data: str = options.DATA) -> None:
    """Build (or reuse) a synthetic nation, then parse real queries and malformed ones."""
    console = Console()
    folder = DataDir.resolve(data)
    try:
        manifest = read_manifest(folder)
        console.print(f"Using the nation at {folder.root} (built {manifest.built}).")
    except NationError:
        console.print(f"Building a synthetic nation at {folder.root} ...")
        manifest = build_nation(folder, DEMO_STATES, DEMO_RESIDENTS, seed=1, force=True)
    with Directory.open(folder, create=False) as directory:
        agencies = directory.agencies()
    counts = Counter(category(agency, "WA") for agency in agencies)
    table = Table("statistics category (asking WA)", "agencies", title="Agency directory")
    for name, count in counts.most_common():
        table.add_row(name, f"{count:,}")
    console.print(table)

    store = open_store(folder.dmv_url(manifest.states[0]))
    try:
        sample = store.sample(1, seed=0)[0]
    finally:
        store.close()
    state = manifest.states[0]
    queries = (
        f"DQ.ORPPD0000.{state}.TXT\nOLN/{sample.oln}",
        f"DQ.ORPPD0000.{state}.OR.TXT\nNAM/{sample.name}.DOB/{sample.dob}.SEX/{sample.sex}.IMQ/Y",
        f"RQ.VTICE0900.{state}.*CASE42.TXT\nLIC/{sample.plate}.LIY/{sample.plate_year}"
        f".LIT/{sample.plate_type}",
        f"RQ.AZDPS0000.NL.TXT\nVIN/{sample.vin}",
        f"RPQ.ORPPD0000.{state}.TXT\nLIC/{sample.plate[:4]}*",
    )
    table = Table("input", "outcome", "as the network writes it", show_lines=True,
                  title=f"Queries for a {state} resident, and malformed ones")
    for text in (*queries, *MALFORMED):
        shown = text.replace("\r", "␍")
        try:
            message = read(text)
        except Reject as reject:
            table.add_row(shown, f"[red]rejected {reject.code.value}[/red]", reject.text)
            continue
        table.add_row(shown, f"[green]{message.key} accepted[/green]", format_text(message))
    console.print(table)
    console.print(f"Explore: stateline directory list --data {folder.root} --component ICE")
    console.print(f"         stateline dmv sample --data {folder.root} --state {state}")
    console.print("         echo 'DQ.ORPPD0000.WA.TXT\nOLN/WDL123456' | stateline msg parse")
    raise typer.Exit(0)
