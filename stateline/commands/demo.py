"""`stateline demo`: build (or reuse) a synthetic nation and show what Stateline does today."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.table import Table

from ..datadir import DataDir
from ..directory.categories import category
from ..directory.store import Directory, Snapshot
from ..dmv import open_store
from ..policy import Decision, PolicyEngine, Request, Verdict
from ..policy.presets import preset
from ..policy.store import apply, history, load_source
from ..protocol import Reject, format_text, read
from ..sim.nation import NationError, build_nation, read_manifest
from . import options

DEMO_STATES = ("WA", "OR", "NY", "TX", "AZ")
DEMO_RESIDENTS = 5_000
DEMO_POLICIES = {
    "WA": "block-ice",
    "OR": "block-dhs-immigration-except-court-order",
    "NY": "block-ice-review-hsi",
    "TX": "cj-baseline",
    "AZ": "block-ice-and-287g",
}
"""Each demo state starts from a different preset, so the table shows them side by side."""
ASKERS = ("ORPPD0000", "AZDPS0000", "VTICE0900", "NYHSI0100", "TXCBP0100", "NYCIS0100")

MALFORMED = (
    "DQ.ORPPD0000.WA.TXT\nNAM/DOE,JANE",
    "RQ.ORPPD0000.WA.TXT\nLIC/ABC1234.LIT/PC",
    "KQ.ORPPD0000.WA.OR.TXT\nOLN/WDL123456",
    "DQG.ORPPD0000.W1.TXT\nOLN/WDL123456",
    "dq.orppd000.wa.txt\r\nOLN/X1.\r\n",
)


def _decisions(folder: DataDir, states: tuple[str, ...], snapshot: Snapshot) -> Table:
    """A driver query (photo asked for) from each asker to each state, as its policy decides."""
    engines = {state: PolicyEngine(state, load_source(folder, state), snapshot)
               for state in states}
    caption = "; ".join(f"{s}: {_policy_name(folder, s)}" for s in states)
    table = Table("DQ with photo from", *states, caption=f"Policies in force: {caption}",
                  title="Who gets what: each state's policy in force, decided by the engine")
    for ori in ASKERS:
        agency = snapshot.get(ori)
        kind = (agency.component or agency.level.value) if agency else "unknown"
        label = f"{ori} ({kind})"
        cells = []
        for state in states:
            decision = engines[state].decide(Request(ori, "DQ", image_requested=True))
            cells.append(_cell(decision))
        table.add_row(label, *cells)
    return table


def _policy_name(folder: DataDir, state: str) -> str:
    changes = history(folder, state, "policy")
    return changes[-1].note.removeprefix("preset ") if changes and changes[-1].note else ""


def _cell(decision: Decision) -> str:
    if decision.verdict is Verdict.DENY:
        return f"[red]denied[/red]\n{decision.policies[0]}"
    if decision.verdict is Verdict.REVIEW:
        return f"[yellow]held for review[/yellow]\n{decision.policies[0]}"
    withheld = ",".join(decision.withheld)
    return "[green]answered[/green]" + (f"\nwithheld {withheld}" if withheld else "")


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
        for state, name in DEMO_POLICIES.items():
            apply(folder, state, preset(name).text(), who="demo", note=f"preset {name}")
    with Directory.open(folder, create=False) as directory:
        agencies = directory.agencies()
        snapshot = directory.snapshot()
    counts = Counter(category(agency, "WA") for agency in agencies)
    table = Table("statistics category (asking WA)", "agencies", title="Agency directory")
    for name, count in counts.most_common():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(_decisions(folder, manifest.states, snapshot))

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
