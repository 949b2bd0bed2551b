"""`stateline report` (or `report build`): a state's statistics for a period as HTML, JSON or
CSV; `stateline report check` checks published reports without the log, as anyone can;
`stateline report verify` recomputes a published report from the audit log it names;
`stateline report site` writes every state's yearly reports as a static site.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1. A report that differs from the log also exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer

from ..datadir import DataDir
from ..errors import RequesterError
from ..transparency import csv, html
from ..transparency.check import Named, check, fetcher
from ..transparency.model import PublicReport, ReportError, dumps, loads
from ..transparency.report import build
from ..transparency.site import export
from ..transparency.stats import parse_period
from ..transparency.suppress import DEFAULT_THRESHOLD
from ..transparency.verify import SHOWN, verify
from . import options

app = typer.Typer(help="Public statistics: a state's requests and disclosures per requester, "
                       "with small counts protected, checkable against the audit log.",
                  no_args_is_help=True)

FORMATS: dict[str, Callable[[PublicReport], str]] = {
    "html": lambda report: html.render(report, staff=not report.period.published),
    "json": dumps, "csv": csv.render}
THRESHOLD = typer.Option(DEFAULT_THRESHOLD, "--threshold", min=3,
                         help="Counts from 1 to this less one are shown as <THRESHOLD.")
STATE = typer.Option(None, "--state", help="Two-letter state code, e.g. WA.")
PERIOD = typer.Option(None, "--period", help="2025, 2025-Q1, 2025-03 (published) or "
                                             "2025-01-01..2025-06-30 (staff only).")
FORMAT = typer.Option("html", "--format", help="html, json or csv.")
OUT = typer.Option(None, "--out", help="File to write (default: standard output).")
REPORT = typer.Argument(..., metavar="REPORT.json", help="A report in JSON form.")
SITE = typer.Option(..., "--out", help="Folder to write the site into.")
EARLIER = typer.Argument(None, metavar="[EARLIER.json]...",
                         help="Earlier reports of the same state: the log must have grown from "
                              "each to REPORT.json.")
URL = typer.Option(None, "--url", help="The state's public site (http://host:port): its key, "
                                       "its checkpoint now and consistency proofs.")
KEY = typer.Option(None, "--key", help="The state's log key (name+id+base64) from a source you "
                                       "trust; default: the key the report names.")
WITNESS_KEY = typer.Option(None, "--witness-key",
                           help="A witness's key you trust (repeat for more); default: the "
                                "witnesses the report names.")


class ReportCommandError(RequesterError):
    """A request this command cannot answer; the message says why."""

    code = "invalid"


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the audit log")


@app.callback(invoke_without_command=True)
def build_default(
    ctx: typer.Context,
    data: str = options.DATA,
    state: str | None = STATE,
    period: str | None = PERIOD,
    form: str = FORMAT,
    out: Path | None = OUT,
    threshold: int = THRESHOLD,
) -> None:
    """Build a state's report for a period, as of its audit log's latest cosigned head."""
    if ctx.invoked_subcommand is None:
        _build(data, state, period, form, out, threshold)


@app.command("build")
def build_command(
    data: str = options.DATA,
    state: str | None = STATE,
    period: str | None = PERIOD,
    form: str = FORMAT,
    out: Path | None = OUT,
    threshold: int = THRESHOLD,
) -> None:
    """Build a state's report for a period (a range of days too, for staff only)."""
    _build(data, state, period, form, out, threshold)


def _build(data: str, state: str | None, period: str | None, form: str, out: Path | None,
           threshold: int) -> None:
    with answering():
        if state is None or period is None:
            raise ReportCommandError("give --state and --period (or a command: build, check, "
                                     "verify, site)")
        render = FORMATS.get(form.strip().lower())
        if render is None:
            raise ReportCommandError(f"--format {form!r}: expected html, json or csv")
        report = build(DataDir.resolve(data), state, parse_period(period), threshold)
        text = render(report)
        if out is None:
            sys.stdout.write(text)
            return
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ReportCommandError(f"cannot write {out}: {error.strerror}") from None
    typer.echo(f"{report.state} {report.period.label}: {form.lower()} report written to {out} "
               f"({_summary(report)})")
    for line in counted_from(report):
        typer.echo(f"  {line}")


def counted_from(report: PublicReport) -> list[str]:
    """Where the period's requests were counted from, a line each, when some were imported:
    "1,204 requests from the state switch's records, imported on 2026-12-07 (3f2a9c1b0d4e)"."""
    return [f"{_count(c.requests)} requests {c.said()}" for c in report.sources]


def _count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _summary(report: PublicReport) -> str:
    a = report.as_of
    staff = "" if report.period.published else "; a range of days: staff only, never publish it"
    return (f"as of signed head {a.size:,} at {a.time}; {report.withheld} table places show a "
            f"mark instead of a count{staff}")


@app.command("verify")
def verify_command(
    path: Path = REPORT,
    data: str = options.DATA,
    as_json: bool = options.JSON,
) -> None:
    """Recompute a JSON report from the audit log it names; exit 1 on any difference."""
    with answering(as_json):
        report = _read(path)
        verdict = verify(DataDir.resolve(data), report)
    found, a = verdict.differences, report.as_of
    if as_json:
        typer.echo(json.dumps({"ok": verdict.ok, "state": report.state,
                               "period": report.period.label, "size": a.size, "root": a.root,
                               "entries_checked": verdict.log.entries,
                               "differences": list(found)}, indent=2))
    elif verdict.ok:
        typer.echo(f"{report.state} {report.period.label}: OK, the report matches the audit "
                   f"log at signed head {a.size:,} (root {a.root[:16]}...); the log verified "
                   f"({verdict.log.entries:,} entries, {verdict.log.heads:,} signed heads)")
    else:
        places = "1 place" if len(found) == 1 else f"{len(found)} places"
        typer.echo(f"{report.state} {report.period.label}: DIFFERENT from the audit log at "
                   f"signed head {a.size:,} in {places}:", err=True)
        for line in found[:SHOWN]:
            typer.echo(f"  {line}", err=True)
        if len(found) > SHOWN:
            typer.echo(f"  ... and {len(found) - SHOWN} more", err=True)
    if not verdict.ok:
        raise typer.Exit(1)


@app.command("check")
def check_command(
    path: Path = REPORT,
    earlier: list[Path] | None = EARLIER,
    url: str | None = URL,
    key: str | None = KEY,
    witness_key: list[str] | None = WITNESS_KEY,
    as_json: bool = options.JSON,
) -> None:
    """Check reports without the state's log: signatures, cosignatures, only growth."""
    with options.answering(as_json, "the reports"):
        named = [Named(str(p), _read(p)) for p in (path, *(earlier or []))]
        found = check(named, [key] if key else [], witness_key or [],
                      fetcher(url) if url else None)
    failed = [f.text for f in found if not f.ok]
    if as_json:
        typer.echo(json.dumps({"ok": not failed, "checked": [
            {"ok": f.ok, "text": f.text} for f in found]}, indent=2))
    else:
        for finding in found:
            typer.echo(f"{'ok    ' if finding.ok else 'FAILED'}  {finding.text}",
                       err=not finding.ok)
        summary = (f"{len(failed)} of {len(found)} checks FAILED" if failed else
                   f"OK: {len(found)} checks passed")
        typer.echo(summary, err=bool(failed))
    if failed:
        raise typer.Exit(1)


def _read(path: Path) -> PublicReport:
    try:
        return loads(path.read_text(encoding="utf-8"))
    except ReportError as error:
        raise ReportError(f"{path}: {error}") from None


@app.command("site")
def site_command(
    data: str = options.DATA,
    out: Path = SITE,
    threshold: int = THRESHOLD,
) -> None:
    """Write every state's yearly reports (HTML, JSON, CSV) and an index page to a folder."""
    with answering():
        site = export(DataDir.resolve(data), out, threshold)
    for item in site.listed:
        typer.echo(f"{item.state} {item.period}: {', '.join(item.files.values())}")
    for skipped in site.skipped:
        typer.echo(f"{skipped.state}: no report ({skipped.reason})")
    typer.echo(f"{len(site.listed)} reports; index at {out / 'index.html'}")
