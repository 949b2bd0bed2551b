"""`stateline history import`: a state switch's past records into the state's audit log.

Errors are printed once, by the CLI's edge: every problem of a refused file on stderr by file,
line (or CSV row) and column, or with `--json` as ``{"error": ...}`` on stdout; exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from ..datadir import DataDir
from ..history import FORMATS, ImportSummary, import_history
from ..history import Progress as Told
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="The years before Stateline: a state switch's past records, imported "
                       "into the state's audit log.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""File names and agency categories are data, not Rich markup."""

FILES = typer.Argument(..., metavar="FILE...", help="The switch's exported records.")
FORMAT = typer.Option("nlets-text", "--format",
                      help=f"How the files are written: {', '.join(FORMATS)}.")
MAP = typer.Option(None, "--map", metavar="MAP.toml",
                   help="For csv and jsonl: which column holds each value (docs/history.md).")
DRY_RUN = typer.Option(False, "--dry-run", help="Say what would be imported; write nothing.")
ZONE = typer.Option("UTC", "--zone", help="The time zone the switch's times are in, where "
                                          "they carry no offset (IANA name, e.g. "
                                          "America/Los_Angeles).")
SKIP = typer.Option(False, "--skip-duplicates",
                    help="Keep the first of requests a file holds twice (same time, sender "
                         "and message) instead of refusing the file.")

COLUMNS = (ident("year"), text("category"), text("outcome"), text("requests", "right"))


@app.command("import")
def import_command(
    files: list[Path] = FILES,
    state: str = options.STATE,
    data: str = options.DATA,
    fmt: str = FORMAT,
    column_map: Path | None = MAP,
    dry_run: bool = DRY_RUN,
    zone: str = ZONE,
    skip_duplicates: bool = SKIP,
    as_json: bool = options.JSON,
) -> None:
    """Import a switch's records (nlets-text, csv or jsonl) as `imported` audit entries, each
    file whole or not at all; every bad line is listed and nothing is written."""
    with options.answering(as_json, "the audit log"), _bar(as_json) as tell:
        summary = import_history(DataDir.resolve(data), state, files, fmt=fmt.strip().lower(),
                                 column_map=column_map, dry_run=dry_run,
                                 skip_duplicates=skip_duplicates, zone=zone, progress=tell)
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
        return
    _print(summary)


@contextmanager
def _bar(quiet: bool) -> Iterator[Told | None]:
    """A progress bar on a terminal: rows read (no total yet), then entries written."""
    if quiet or not console.is_terminal:
        yield None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("{task.completed:,} requests"), TimeElapsedColumn(),
                   console=console, transient=True)
    task: TaskID = bar.add_task("Reading", total=None)

    def tell(done: int, total: int) -> None:
        if total:
            bar.update(task, description="Writing", completed=done, total=total)
        else:
            bar.update(task, completed=done)

    with bar:
        yield tell


def _print(summary: ImportSummary) -> None:
    done = "Would import" if summary.dry_run else "Imported"
    for f in summary.files:
        skipped = f", {plural(f.skipped, 'duplicate')} skipped" if f.skipped else ""
        entries = "" if f.seqs is None else \
            f", audit entries {f.seqs.start:,} to {f.seqs.stop - 1:,}"
        console.print(Text(f"{f.path}: {plural(f.records, 'request')} read{skipped}, made "
                           f"{f.first[:10]} to {f.last[:10]}{entries}; SHA-256 {f.sha256}"))
    console.print(Text(f"{done} {plural(summary.imported, 'request')} into {summary.state}'s "
                       f"audit log, the senders as the directory has them on {summary.day}:"))
    rows = [[year, category, outcome, f"{count:,}"]
            for (year, category, outcome), count in summary.counts().items()]
    print_table(console, COLUMNS, rows)
    if summary.dry_run:
        console.print("Nothing was written (--dry-run).")
