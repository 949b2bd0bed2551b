"""`stateline notices list|export|sent|except`: letters a state owes people whose records were
asked for.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1 and nothing has changed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..audit import AuditLog, open_state_log
from ..datadir import DataDir
from ..notices import FILTERS, Filter, Notice, NoticeBook, NoticeError
from ..notices.letters import letters_html, mailing_csv
from ..policy.store import checked_state, current_user
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="Notices to people whose records were asked for: list and export "
                       "them, mark them sent or excepted.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Names and addresses are data, never Rich markup."""

STATUS = typer.Option("due", "--status", help="due (overdue included), overdue, sent, "
                                              "excepted or all.")
IDS = typer.Argument(..., metavar="ID...", help="Notice ids, e.g. NY-N000042.")
ID = typer.Argument(..., metavar="ID", help="A notice id, e.g. NY-N000042.")
BY = typer.Option(None, "--by", help="Who did it (default: the OS user).")
FORMATS = ("html", "csv")


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the notices")


def _book(data: str, state: str) -> tuple[DataDir, NoticeBook]:
    folder = DataDir.resolve(data)
    return folder, NoticeBook(folder, checked_state(folder, state))


def _filter(status: str) -> Filter:
    wanted = status.strip().lower()
    for name in FILTERS:
        if name == wanted:
            return name
    raise NoticeError(f"--status {status!r} is not one of {', '.join(FILTERS)}")


def _notice_json(n: Notice, today: date) -> dict[str, Any]:
    p = n.person
    return {"id": n.id, "status": n.status, "overdue": n.overdue(today),
            "deadline": n.deadline.isoformat(), "request_id": n.request_id,
            "reference": n.reference, "seq": n.seq,
            "person": {"oln": p.oln, "name": p.name, "street": p.street, "city": p.city,
                       "state": p.state, "zip": p.zip},
            "agency": n.agency, "category": n.category, "record": n.record,
            "outcome": n.outcome, "disclosed": list(n.disclosed),
            "requested": n.requested.isoformat(), "queued": n.queued.isoformat(),
            "closed_at": n.closed_at.isoformat() if n.closed_at else None,
            "closed_by": n.closed_by, "reason": n.reason, "note": n.note}


def _status_text(n: Notice, today: date) -> str:
    if n.overdue(today):
        late = n.days_late(today)
        return f"OVERDUE {plural(late, 'day')}"
    return n.status


def _counted(count: int, which: Filter) -> str:
    """A count of notices, e.g. "2 notices" or "1 overdue notice": the filter named unless
    it is all of them."""
    return plural(count, "notice" if which == "all" else f"{which} notice")


NOTICE_COLUMNS = (ident("notice"), ident("deadline"), ident("requested"), text("status"),
                  text("person"), text("requested by"))
"""Ids and dates are never cut short; names wrap on a narrow terminal instead."""


@app.command("list")
def list_command(
    data: str = options.DATA,
    state: str = options.STATE,
    status: str = STATUS,
    as_json: bool = options.JSON,
) -> None:
    """List notices, soonest deadline first; overdue ones are flagged."""
    with answering(as_json):
        which = _filter(status)
        _, book = _book(data, state)
        with book:
            today = book.today()
            found = book.notices(which, today)
            gaps = book.gaps()
            duty = book.duty
    if as_json:
        typer.echo(json.dumps({"state": book.state, "today": today.isoformat(),
                               "duty": duty.describe() if duty else None,
                               "notices": [_notice_json(n, today) for n in found],
                               "gaps": [{"seq": g.seq, "request": g.request,
                                         "time": g.time.isoformat(), "category": g.category,
                                         "outcome": g.outcome, "why": g.why} for g in gaps]},
                              indent=2))
        return
    if duty is None:
        typer.echo(f"{book.state} has no notice duty ([notices] in its config.toml).")
    overdue = sum(n.overdue(today) for n in found)
    if not found:
        typer.echo(f"{book.state}: no {which} notices.")
    else:
        title = f"{book.state}: {_counted(len(found), which)}"
        if overdue:
            title += f", {overdue:,} OVERDUE"
        print_table(console, NOTICE_COLUMNS,
                    [[n.id, n.deadline.isoformat(), f"{n.requested:%Y-%m-%d}",
                      _status_text(n, today), n.person.mailing_name, n.category]
                     for n in found],
                    title=title,
                    styles=["bold red" if n.overdue(today) else None for n in found])
    if gaps:
        typer.echo(f"{plural(len(gaps), 'qualifying request')} named no person who could be "
                   "told (see --json: gaps).")


@app.command("export")
def export_command(
    out: str = typer.Option(..., "--out", help="File to write, or - for standard output."),
    data: str = options.DATA,
    state: str = options.STATE,
    fmt: str = typer.Option("html", "--format", help="html (printable letters) or csv "
                                                     "(for a mailing house)."),
    status: str = STATUS,
    as_json: bool = options.JSON,
) -> None:
    """Write notices as printable HTML letters (one per page) or as CSV for mailing."""
    with answering(as_json):
        kind = fmt.strip().lower()
        if kind not in FORMATS:
            raise NoticeError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
        which = _filter(status)
        _, book = _book(data, state)
        with book:
            today = book.today()
            found = book.notices(which, today)
            text = (letters_html(found, book.duty, book.state, today) if kind == "html"
                    else mailing_csv(found))
        if out == "-":
            sys.stdout.write(text)
            return
        try:
            Path(out).write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise NoticeError(f"cannot write {out}: {error.strerror}") from None
    if as_json:
        typer.echo(json.dumps({"out": out, "format": kind, "notices": [n.id for n in found]}))
    else:
        typer.echo(f"{_counted(len(found), which)} written to {out} as {kind}.")


@contextmanager
def _acting(data: str, state: str) -> Iterator[tuple[NoticeBook, AuditLog]]:
    """The book and the state's audit log, where every change is recorded before it counts."""
    folder, book = _book(data, state)
    with book, open_state_log(folder, book.state) as log:
        yield book, log


def _who(by: str | None) -> str:
    return (by or "").strip() or current_user()


@app.command("sent")
def sent_command(
    ids: list[str] = IDS,
    data: str = options.DATA,
    state: str = options.STATE,
    by: str | None = BY,
    as_json: bool = options.JSON,
) -> None:
    """Mark notices as mailed; each change is written to the audit log."""
    with answering(as_json), _acting(data, state) as (book, log):
        done = book.mark_sent(ids, _who(by), log)
    if as_json:
        typer.echo(json.dumps([{"id": n.id, "status": n.status, "by": n.closed_by,
                                "at": n.closed_at.isoformat() if n.closed_at else None}
                               for n in done], indent=2))
        return
    for n in done:
        typer.echo(f"{n.id} marked sent by {n.closed_by} (deadline {n.deadline}).")


@app.command("except")
def except_command(
    notice: str = ID,
    reason: str = typer.Option(..., "--reason", help="One of the state's configured exception "
                                                     "reasons, e.g. court-order-sealed."),
    note: str = typer.Option(..., "--note", help="Why the exception applies (logged)."),
    data: str = options.DATA,
    state: str = options.STATE,
    by: str | None = BY,
    as_json: bool = options.JSON,
) -> None:
    """Record that a notice will not be sent, for a configured reason; the audit log keeps it."""
    with answering(as_json), _acting(data, state) as (book, log):
        done = book.mark_excepted(notice, reason, note, _who(by), log)
    if as_json:
        typer.echo(json.dumps({"id": done.id, "status": done.status, "reason": done.reason,
                               "note": done.note, "by": done.closed_by}, indent=2))
        return
    typer.echo(f"{done.id} excepted by {done.closed_by}: {done.reason} ({done.note}).")
