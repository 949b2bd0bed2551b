"""`stateline policy whatif`: replay a state's recorded requests under a candidate policy and
show how outcomes would change, before anyone applies it. The candidate is never installed.

Errors are printed once, here: a candidate that does not compile lists every problem as
`file:line: message` on stderr (or an ``{"error": ...}`` object with `--json`), exit status 1.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import psycopg
import typer
from rich import box
from rich.table import Table

from ..audit import LogError
from ..datadir import DataDir
from ..policy.presets import UnknownPreset, preset
from ..policy.store import StateError, checked_state
from ..transparency.recorded import moment
from ..transparency.stats import parse_period
from ..transparency.whatif import Cell, Shift, WhatIf, to_json, whatif
from . import options, policy_state
from .policy import app  # the module, not names: it imports the policy group too

CANDIDATE = typer.Option(None, "--policy", help="The candidate Cedar policy file to replay.")
PRESET = typer.Option(None, "--preset", help="Or a shipped preset by name, e.g. block-ice.")
SINCE = typer.Option(None, "--since", help="Replay requests from this day or time on "
                                           "(YYYY-MM-DD[THH:MM], UTC; default: all).")
UNTIL = typer.Option(None, "--until", help="Up to this day (whole day) or time, UTC.")
PERIOD = typer.Option(None, "--period", help="Or a whole period: 2025, 2025-Q1, 2025-03 or "
                                             "2025-01-01..2025-06-30 (UTC days).")


@contextmanager
def reading(state: str) -> Iterator[None]:
    """A log or database that cannot be read becomes one clear error."""
    try:
        yield
    except (LogError, sqlite3.Error, psycopg.Error) as error:
        raise StateError(f"cannot read {state}'s audit log: {error}") from None


def parse_moment(text: str, name: str, end_of_day: bool = False) -> datetime:
    """A day (its start, or with `end_of_day` its last microsecond) or an ISO time, UTC."""
    try:
        if len(text.strip()) == 10:
            day = datetime.combine(datetime.fromisoformat(text.strip()).date(), time(), UTC)
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        raise StateError(f"{name} {text!r} is not a day (YYYY-MM-DD) or time "
                         "(YYYY-MM-DDTHH:MM)") from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _candidate(file: Path | None, name: str | None) -> tuple[str, str]:
    """The candidate's text and what to call it."""
    if (file is None) == (name is None):
        raise StateError("give a candidate: --policy FILE or --preset NAME (one of them)")
    if name is not None:
        try:
            return preset(name).text(), f"preset {preset(name).name}"
        except UnknownPreset as error:
            raise StateError(str(error)) from None
    assert file is not None
    try:
        return file.read_bytes().decode("utf-8"), str(file)
    except OSError as error:
        raise StateError(f"cannot read {file}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise StateError(f"{file} is not UTF-8 text (byte {error.start})") from None


@app.command("whatif")
def whatif_command(
    data: str = options.DATA,
    state: str = options.STATE,
    policy: Path | None = CANDIDATE,
    preset_name: str | None = PRESET,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    period: str | None = PERIOD,
    as_json: bool = options.JSON,
) -> None:
    """Replay recorded requests under a candidate policy: what it would have denied, held or
    let through, by category and message group. Requests imported from the state switch's
    records are replayed too, by when they were made. Nothing is installed."""
    folder = DataDir.resolve(data)
    source = str(policy) if policy else preset_name or "candidate"
    with policy_state.answering(as_json, source=source):
        code = checked_state(folder, state)
        text, label = _candidate(policy, preset_name)
        start, end = _range(since, until, period)
        with reading(code):
            result = whatif(folder, code, text, start, end)
    if as_json:
        typer.echo(json.dumps({"candidate_name": label, **to_json(result)}, indent=2))
        return
    _print(result, label)


def _range(since: str | None, until: str | None,
           period: str | None) -> tuple[datetime | None, datetime | None]:
    """The moments replayed from and up to (None: no bound), from --since and --until or
    from --period."""
    if period is not None:
        if since or until:
            raise StateError("give --period, or --since and --until, not both")
        try:
            found = parse_period(period)
        except ValueError as error:
            raise StateError(str(error)) from None
        return (parse_moment(found.first.isoformat(), "--period"),
                parse_moment(found.last.isoformat(), "--period", end_of_day=True))
    return (parse_moment(since, "--since") if since else None,
            parse_moment(until, "--until", end_of_day=True) if until else None)


SHOWN = {Shift.UNCHANGED: "same", Shift.NEWLY_DENIED: "denied",
         Shift.NEWLY_HELD: "held", Shift.NEWLY_ALLOWED: "answered"}
"""Columns for each change, short enough for an 80-column terminal."""


def _print(result: WhatIf, label: str) -> None:
    def say(text: object) -> None:
        policy_state.console.print(text, soft_wrap=True)  # an example stays on one line

    period = (f"from {_day(result.since_us)}" if result.since_us else "from the start") + (
        f" to {_day(result.until_us)}" if result.until_us else " to now")
    imported = (f", {result.imported:,} of them imported from the state switch's records"
                if result.imported else "")
    say(f"{result.state} what-if: {label} (candidate {result.candidate[:16]}), "
        f"{result.replayed:,} recorded requests {period}{imported}.")
    say("Not installed: the policy in force is unchanged.")
    rows = [(_row(cell, category if number == 0 else ""), None)
            for category, total in result.by_category().items()
            for number, cell in enumerate(c for c in result.cells if c.category == category)]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1, 0, 0),
                  caption="denied, held, answered: requests the candidate would newly deny, hold "
                          "or answer; elements: -name newly withheld, +name newly released")
    totals = {name: _row(total, name) for name, total in result.by_category().items()}
    whole = _row(result.total(), "all") if result.cells else None
    every = [r for r, _ in rows] + list(totals.values()) + ([whole] if whole else [])
    headers = ("category", "group", "requests", *SHOWN.values(), "elements")
    for n, header in enumerate(headers):
        last = n == len(headers) - 1
        widest = max([len(r[n]) for r in every] + [len(header)])
        table.add_column(header, justify="right" if n >= 2 and not last else "left",
                         no_wrap=not last, min_width=None if last else widest)
    for category, total in result.by_category().items():
        cells = [c for c in result.cells if c.category == category]
        for number, cell in enumerate(cells):
            table.add_row(*_row(cell, category if number == 0 else ""))
        if len(cells) > 1:
            table.add_row(*_row(total, ""), style="bold")
        table.add_section()
    if whole:
        table.add_row(*whole, style="bold")
    say(table)
    if result.examples:
        say("Examples, newest of each change:")
        for e in result.examples:
            say(f"  {moment(e.time_us):%Y-%m-%d %H:%M} {e.request_id} {e.ori} {e.category} "
                f"{e.key}: {e.before} -> {e.after}" + (f" ({e.policy})" if e.policy else "")
                + (" [imported]" if e.imported else ""))
    for why, count in result.skipped.items():
        say(f"Not replayed: {count:,} entries ({why}).")
    for note in result.notes:
        say(f"Note: {note}")


def _row(cell: Cell, label: str) -> list[str]:
    elements = [f"-{e} {n:,}" for e, n in sorted(cell.withheld.items())]
    elements += [f"+{e} {n:,}" for e, n in sorted(cell.released.items())]
    return [label, cell.group, f"{cell.requests:,}",
            *(f"{cell.shifts[s]:,}" for s in SHOWN), " ".join(elements)]


def _day(time_us: int | None) -> str:
    return "" if time_us is None else f"{moment(time_us):%Y-%m-%d %H:%M}"
