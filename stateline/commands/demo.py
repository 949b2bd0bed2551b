"""`stateline demo`: a synthetic nation of eight states under eight sharing policies, live
traffic through the switch for a while, what each state answered, and the dashboard.

Dashboard passwords are kept only as digests, so each run sets new ones for the demo's
accounts and prints them: whoever lost the first run's output runs the demo again.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..datadir import DataDir
from ..roles.supervisor import Supervisor
from ..roles.switching import RemoteSwitch
from ..sim import scenario
from ..sim.drive import Outage, Tally, drive
from ..sim.history import (
    FOLDER,
    PER_DAY,
    Imported,
    imported_through,
    span_for,
    write_and_import,
)
from ..sim.nation import NationError
from ..sim.summary import snapshot, summarize
from ..sim.traffic import traffic
from ..switch.credentials import read_tokens
from ..web import client, roster
from ..web.accounts import AccountError, Accounts, Role, UnknownAccount
from . import options
from . import serve as serving
from .demo_tables import (
    accounts_table,
    categories_table,
    history_line,
    progress_line,
    scenario_table,
    states_table,
)

HOST = "127.0.0.1"
ACCOUNTS = (("coordinator", Role.COORDINATOR, "ALL"), ("ny-reviewer", Role.REVIEWER, "NY"),
            ("auditor", Role.AUDITOR, "ALL"), ("viewer", Role.VIEWER, "ALL"))
"""One account per role: a coordinator for every state, a reviewer for New York's queue."""

console = Console(highlight=False)


SECONDS = typer.Option(30.0, "--seconds", min=1.0, help="How long traffic runs.")
RATE = typer.Option(200.0, "--rate", min=1.0, help="Messages a second, on average.")
RESIDENTS = typer.Option(scenario.RESIDENTS, "--residents", min=100,
                         help="Residents per state, when the nation is built.")
SERVE = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard afterwards, until "
                                                      "Ctrl-C.")
PORT = typer.Option(8750, "--port", min=1, max=65535, help="The dashboard's port on 127.0.0.1.")
REBUILD = typer.Option(False, "--rebuild", help="Replace whatever nation the folder holds.")
HISTORY = typer.Option(True, "--history/--no-history", help="Write each state's switch records "
                       "for the two years before this one and this year to yesterday, and "
                       "import them (a run imports only days not yet imported).")
WORKERS = 2
"""Processes writing and importing the states' histories side by side."""


def run(
    data: str = options.DATA,
    seconds: float = SECONDS,
    rate: float = RATE,
    residents: int = RESIDENTS,
    serve: bool = SERVE,
    port: int = PORT,
    rebuild: bool = REBUILD,
    history: bool = HISTORY,
) -> None:
    """Build (or reuse) an eight-state nation, run realistic traffic through the switch, print
    what each state answered, then serve the dashboard."""
    folder = DataDir.resolve(data)
    other = client.running(folder)
    if other is not None:
        options.fail(f"{folder.root} is being served at {other.url} (pid {other.pid}): stop "
                     "that first, or give the demo another --data folder", "already-serving")
    if serve and not port_free(HOST, port):
        options.fail(f"port {port} on {HOST} is taken, so the dashboard could not be served "
                     f"after the traffic: stop what uses it, or choose another port with --port "
                     f"(make demo PORT={port + 1})")
    with _phase("Nation ready"):
        _prepare(folder, residents, rebuild)
    policies = {code: scenario.policy_in_force(folder, code) for code in scenario.CODES}
    console.print(scenario_table(policies))
    if history:
        _history(folder)
    with _phase("Network up: the switch, each state's gateway and the web front, each in a "
                "process of its own"):
        network = serving.start_network(folder, scenario.CODES, host=HOST,
                                        port=port if serve else 0, dashboard=serve)
    try:
        before = snapshot(folder, scenario.CODES)
        with _phase("Traffic and answers done"):
            tally = asyncio.run(_traffic(folder, network, seconds, rate))
        found = [summarize(code, before[code], after)
                 for code, after in snapshot(folder, scenario.CODES).items()]
        console.print(states_table(found, policies))
        console.print(categories_table(found))
        _told(tally, sum(summary.held for summary in found),
              sum(summary.requests for summary in found))
        url = f"http://{HOST}:{port}"
        with _phase("Accounts ready"):
            made = _accounts(folder)
        console.print(accounts_table(made, url))
    except BaseException:
        network.stop()
        raise
    if serve:
        console.print("Sign in to the dashboard with one of these accounts; Ctrl-C stops it.")
        serving.serve_network(folder, network, HOST)
    else:
        network.stop()
        console.print(f"Serve the network and the dashboard later: stateline serve --data "
                      f"{folder.root}")


def port_free(host: str, port: int) -> bool:
    """Checked before anything is built, so a taken port costs a second, not the whole demo."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@contextmanager
def _phase(what: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    console.print(f"[dim]{what} in {time.monotonic() - started:.1f} s[/dim]")


def _prepare(folder: DataDir, residents: int, rebuild: bool) -> None:
    total = residents * len(scenario.CODES)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed:,}/{task.total:,} residents"), TimeElapsedColumn(), console=console,
        transient=True)
    task = progress.add_task("Building", total=total)

    def tell(what: str, added: int) -> None:
        progress.update(task, advance=added, description=f"Building {what}")

    try:
        with progress if console.is_terminal else nullcontext():
            prepared = scenario.prepare(folder, residents, rebuild=rebuild, progress=tell)
    except NationError as error:
        options.fail(str(error), "nation-error")
    if prepared.built:
        console.print(f"Built a synthetic nation at {folder.root}: "
                      f"{prepared.manifest.agencies:,} agencies, {residents:,} residents in "
                      f"each of {len(scenario.CODES)} states.")
    else:
        console.print(f"Using the nation at {folder.root} (built {prepared.manifest.built}).")
    if prepared.scenario_applied:
        console.print("Put the demo's policies in place, with Oregon's court order "
                      f"{scenario.ORDER_REFERENCE} and New York's notice duty.")


def _history(folder: DataDir) -> None:
    """Each state's past traffic, written as its switch would export it and imported, a
    process per state at a time, the busiest first so the two processes end together; a
    state whose log already reaches yesterday is left alone."""
    today = datetime.now(UTC).date()
    due = {code: span for code in sorted(scenario.CODES, key=lambda c: -PER_DAY[c])
           if (span := span_for(today, imported_through(folder, code))) is not None}
    if not due:
        console.print("History: every state's log already holds its past traffic up to "
                      "yesterday.")
        return
    started = time.monotonic()
    progress = Progress(TextColumn("History"), BarColumn(), TextColumn(
        "{task.completed}/{task.total} states written and imported"), TimeElapsedColumn(),
        console=console, transient=True)
    task = progress.add_task("history", total=len(due))
    done: list[Imported] = []
    spawn = multiprocessing.get_context("spawn")  # no copy of this process's threads or stores
    with progress if console.is_terminal else nullcontext(), ProcessPoolExecutor(
            min(WORKERS, len(due)), mp_context=spawn) as pool:
        futures = [pool.submit(write_and_import, str(folder.root), code, span, today)
                   for code, span in due.items()]
        try:
            for future in as_completed(futures):
                done.append(future.result())
                progress.advance(task)
        except BaseException:  # one state refused: the others not begun are not begun
            pool.shutdown(cancel_futures=True)
            raise
    console.print(history_line(done, time.monotonic() - started, folder.root / FOLDER))


async def _traffic(folder: DataDir, network: Supervisor, seconds: float,
                   rate: float) -> Tally:
    """The demo's traffic through the switch process to the eight gateway processes, with a
    short outage in the middle; a progress bar shows it as it goes."""
    queries = traffic(scenario.setting(folder), scenario.SEED, rate)
    start = seconds * 0.4
    outage = Outage(scenario.OUT_OF_SERVICE, start, start + min(5.0, max(1.0, seconds * 0.15)))
    progress = Progress(TextColumn("Traffic"), BarColumn(), TextColumn(
        "{task.completed:.1f}/{task.total:.0f} s · {task.fields[rate]:,.0f} messages/s"),
        console=console)
    task: TaskID = progress.add_task("traffic", total=seconds, rate=0.0)
    line = Text("")

    def tick(tally: Tally, elapsed: float) -> None:
        progress.update(task, completed=min(elapsed, seconds),
                        rate=tally.sent / min(elapsed, seconds) if elapsed > 0 else 0.0)
        line.truncate(0)
        line.append_text(progress_line(tally))

    switch = RemoteSwitch(folder, network.switch_socket, network.run)
    await switch.start()
    try:
        with Live(Group(progress, line), console=console, refresh_per_second=8) as live:
            tally = await drive(switch, read_tokens(folder), queries, seconds, outage=outage,
                                tick=tick, told=live.console.print)
    finally:
        await switch.close()
    if not console.is_terminal:
        console.line()  # a Live display ends its last line itself only on a terminal
    return tally


def _told(tally: Tally, held: int, legs: int) -> None:
    malformed = tally.streams.get("malformed", 0)
    console.print(
        f"The switch carried {tally.sent:,} messages; {malformed:,} were malformed on purpose "
        f"and rejected with a reason; {tally.delivered_late:,} were held while "
        f"{scenario.OUT_OF_SERVICE} was out of service and delivered when it returned.")
    console.print(
        f"The states logged {legs:,} requests: a multi-state query (to several states, or NL "
        "to every state in a region) reaches each state as a request of its own, and rejected "
        "messages reach none, so the states' count and the switch's differ.")
    console.print(f"{held:,} HSI queries wait in New York's review queue, and New York owes a "
                  "notice to each person an immigration agency asked about: both are in the "
                  "dashboard, for a coordinator or reviewer to work.")


def _accounts(folder: DataDir) -> list[tuple[str, str, str, str]]:
    """Make the demo's accounts, or give the existing ones new passwords."""
    accounts = Accounts(folder)
    made = []
    for name, role, state in ACCOUNTS:
        try:
            accounts.get(name)
        except UnknownAccount:
            account, secret = roster.add(folder, name, role, state, scenario.WHO)
        else:
            try:
                account, secret = roster.set_password(folder, name, scenario.WHO)
            except AccountError as error:
                options.fail(str(error), "account-error")
        made.append((account.name, account.role.value, account.state, secret))
    return made
