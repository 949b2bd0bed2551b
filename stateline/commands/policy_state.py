"""`stateline policy apply|show|history|explain`, `stateline orders`, `stateline attest`: the
policy in force, its changes, and the court orders and attestations that open records.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1 and nothing has changed.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..datadir import DataDir
from ..directory import names_in
from ..directory.agency import DirectoryError
from ..directory.store import Directory, NoNation
from ..policy.engine import PolicyEngine, policy_version
from ..policy.explain import ROWS, Access, Explanation, explain, to_json
from ..policy.names import vetted
from ..policy.registry import (
    DEFAULT_STATEMENT,
    Registry,
    RegistryError,
    Subject,
    UnknownOrder,
    attestation_json,
    order_json,
    parse_date,
    parse_elements,
)
from ..policy.schema import ELEMENTS
from ..policy.source import PolicyError
from ..policy.store import (
    NO_POLICY,
    Change,
    NoChange,
    NoState,
    StateError,
    apply,
    change,
    checked_state,
    current_text,
    digest,
    directory_snapshot,
    history,
    load_source,
    now,
)
from . import options
from .policy import app
from .tables import ident, plural, print_table, text

orders_app = typer.Typer(help="Court orders that open one subject's records to an agency.",
                         no_args_is_help=True)
attest_app = typer.Typer(help="Attestations that an agency will not use a state's data for "
                              "civil immigration enforcement.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Policy texts, names and notes are data, never Rich markup."""

ERROR_CODES: tuple[tuple[type[Exception], str], ...] = (
    (NoNation, "no-nation"),
    (NoState, "no-state"),
    (NoChange, "not-found"),
    (UnknownOrder, "not-found"),
    (PolicyError, "invalid-policy"),
    (RegistryError, "invalid"),
    (StateError, "state-error"),
    (DirectoryError, "invalid"),
)
"""The `code` of a JSON error, most specific type first."""

FILE = typer.Argument(..., help="The Cedar policy file to put in force.")
NOTE = typer.Option("", "--note", help="Why the policy changes; kept in the history.")
WHO = typer.Option(None, "--who", help="Who makes the change (default: the OS user).")
BY = typer.Option(None, "--by", help="Who enters it (default: the OS user).")
DIFF = typer.Option(None, "--diff", help="Print the change with this number as a unified diff.")

MARKS: dict[Access, tuple[str, str]] = {
    Access.RELEASED: ("yes", "green"),
    Access.WITHHELD: ("no", "yellow"),
    Access.REVIEW: ("held", "cyan"),
    Access.DENIED: ("-", "red"),
}
SHORT = {"identity": "id", "description": "desc", "address": "addr", "license": "lic",
         "credential": "cred", "ssn": "ssn", "photo": "photo", "vehicle": "veh",
         "registration": "reg", "history": "hist"}
"""Element columns four characters wide, so the matrix fits an 80-column terminal."""
VERDICTS = {"allow": ("answer", "green"), "review": ("held", "cyan"), "deny": ("denied", "red")}


@contextmanager
def answering(as_json: bool = False, source: str = "policy") -> Iterator[None]:
    """A refused policy lists every problem as `source:line: message`; other errors print
    their message."""
    try:
        yield
    except (StateError, PolicyError, DirectoryError) as error:
        code = next(code for kind, code in ERROR_CODES if isinstance(error, kind))
        text = str(error)
        if isinstance(error, PolicyError):
            text = "\n".join([f"{source}: refused; the policy in force is unchanged"] + [
                f"{source}:{p.line}: {p.message}" + (f" ({p.policy})" if p.policy else "")
                for p in error.problems])
        options.fail(text, code, as_json)


def _data(data: str) -> DataDir:
    return DataDir.resolve(data)


def _directory_version(data: DataDir) -> int:
    with Directory.open(data, create=False) as directory:
        return directory.version


def _short(version: str) -> str:
    return version[:16] if version else "(none)"


@app.command("apply")
def apply_command(
    file: Path = FILE,
    data: str = options.DATA,
    state: str = options.STATE,
    note: str = NOTE,
    who: str | None = WHO,
) -> None:
    """Put a policy file in force for a state; a bad file is refused, line by line."""
    folder = _data(data)
    with answering(source=str(file)):
        code = checked_state(folder, state)
        try:
            text = file.read_bytes().decode("utf-8")
        except OSError as error:
            raise StateError(f"cannot read {file}: {error.strerror}") from None
        except UnicodeDecodeError as error:
            raise StateError(f"{file} is not UTF-8 text (byte {error.start})") from None
        _, warnings = vetted(text, directory_snapshot(folder), code)
        done = apply(folder, code, text, who, note)
    for warning in warnings:
        typer.echo(f"{file}: warning: {warning}", err=True)
    typer.echo(f"{code} policy {_short(done.old_version)} -> {_short(done.new_version)}: "
               f"in force (change {done.seq} by {done.who}); running gateways switch "
               "within a second.")


@app.command("show")
def show_command(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Show the policy text in force and its version (policy digest and directory version)."""
    folder = _data(data)
    with answering(as_json):
        code = checked_state(folder, state)
        text = current_text(folder, code)
        directory_version = _directory_version(folder)
        changes = history(folder, code, "policy")
        problem = ""
        try:
            load_source(folder, code)
        except PolicyError as error:
            problem = str(error)
    policy_digest = digest(NO_POLICY if text is None else text)
    last = changes[-1] if changes else None
    shown = {
        "state": code,
        "version": policy_version(policy_digest, directory_version),
        "policy_digest": policy_digest,
        "directory_version": directory_version,
        "text": text,
        "problems": problem.splitlines(),
        "changed_at": last.time.isoformat() if last else None,
        "changed_by": last.who if last else None,
    }
    if as_json:
        typer.echo(json.dumps(shown, indent=2))
        return
    typer.echo(f"{code} policy, version {shown['version']}"
               + (f" (changed {last.time:%Y-%m-%d %H:%M:%S} UTC by {last.who})" if last else ""))
    if text is None:
        typer.echo(f"{code} has no policy file: every query is denied (no-policy).")
        return
    if problem:
        typer.echo("This file does not compile: a running gateway keeps its previous policy, "
                   "a restarted one denies every query.\n" + problem, err=True)
    typer.echo(text.rstrip("\n"))


@app.command("history")
def history_command(
    data: str = options.DATA,
    state: str = options.STATE,
    diff: int | None = DIFF,
    as_json: bool = options.JSON,
) -> None:
    """List the changes to a state's policy, court orders and attestations, oldest first."""
    folder = _data(data)
    with answering(as_json):
        code = checked_state(folder, state)
        if diff is not None:
            _print_diff(change(folder, code, diff), code, as_json)
            return
        changes = history(folder, code)
    if as_json:
        typer.echo(json.dumps([_change_json(c) for c in changes], indent=2))
        return
    print_table(console, CHANGE_COLUMNS,
                [[str(c.seq), f"{c.time:%Y-%m-%d %H:%M:%S}", c.kind, _versions(c), c.who,
                  c.note] for c in changes],
                title=f"{code}: {plural(len(changes), 'change')}")


CHANGE_COLUMNS = (ident("#", "right"), ident("time (UTC)"), ident("kind"), ident("version"),
                  text("who"), text("note"))


def _versions(c: Change) -> str:
    if c.kind != "policy":
        return ""
    return f"{c.old_version[:8] or '(none)'} -> {c.new_version[:8]}"


def _change_json(c: Change) -> dict[str, object]:
    return {"seq": c.seq, "time": c.time.isoformat(), "kind": c.kind, "who": c.who,
            "old_version": c.old_version, "new_version": c.new_version,
            "old_text": c.old_text, "new_text": c.new_text, "note": c.note}


def _print_diff(c: Change, code: str, as_json: bool) -> None:
    lines = difflib.unified_diff(c.old_text.splitlines(keepends=True),
                                 c.new_text.splitlines(keepends=True),
                                 f"{code} before change {c.seq}", f"{code} after change {c.seq}")
    text = "".join(lines)
    if as_json:
        typer.echo(json.dumps({**_change_json(c), "diff": text}, indent=2))
    else:
        typer.echo(f"change {c.seq}: {c.kind} by {c.who} at {c.time:%Y-%m-%d %H:%M:%S} UTC"
                   + (f" ({c.note})" if c.note else ""))
        typer.echo(text.rstrip("\n") or "(no difference in text)")


@app.command("explain")
def explain_command(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Say in plain words what the policy in force does, as decided by the engine itself."""
    folder = _data(data)
    with answering(as_json):
        code = checked_state(folder, state)
        source = load_source(folder, code)
        with Directory.open(folder, create=False) as directory:
            snapshot = directory.snapshot()
        explanation = explain(PolicyEngine(code, source, snapshot))
    if as_json:
        typer.echo(json.dumps(to_json(explanation), indent=2))
        return
    _print_explanation(explanation)


def _print_explanation(explanation: Explanation) -> None:
    policies = Table(title=f"{explanation.state} policy in force, version {explanation.version}",
                     box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("id", "effect", "line", "reason"):
        policies.add_column(column, no_wrap=column != "reason")
    for policy in explanation.policies:
        policies.add_row(policy.id, policy.effect, str(policy.line), policy.reason)
    console.print(policies)
    matrix = Table(title="Who can see what (one agency per category; photo asked for)",
                   box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    matrix.add_column("category", no_wrap=True, max_width=16)
    matrix.add_column("key", no_wrap=True)
    matrix.add_column("verdict", no_wrap=True)
    for element in ELEMENTS:
        matrix.add_column(SHORT[element], no_wrap=True, justify="center")
    for view in explanation.categories:
        labels = (view.category, view.where or view.agency.ori,
                  view.agency.ori if view.where else "")
        for number, row in enumerate(view.rows):
            verdict, colour = VERDICTS[row.verdict.value]
            cells = [Text(*MARKS[row.elements[e]]) if e in row.elements else Text("")
                     for e in ELEMENTS]
            label = labels[number] if number < len(labels) else ""
            matrix.add_row(Text(label, "dim" if number else "bold"), row.key,
                           Text(verdict, colour), *cells,
                           end_section=number == len(view.rows) - 1)
    console.print(matrix)
    console.print("Keys: " + ", ".join(f"{key} {group}" for key, group in ROWS.items()) + ".")
    console.print("yes released · no withheld (marked in the response) · held released only "
                  "after review · - denied · blank: not in this response")
    console.print()
    for view in explanation.categories:
        console.print(view.sentence)
    if explanation.missing:
        console.print(f"Not shown (no active agency in the directory): "
                      f"{', '.join(explanation.missing)}.")


REF = typer.Option(..., "--ref", help="The order's court reference, e.g. 2026-CV-0142.")
REF_ARGUMENT = typer.Argument(..., help="The court order's reference.")
ORDER_ORI = typer.Option(None, "--ori", help="The agency the order is for.")
COMPONENT = typer.Option(None, "--component", help="Or a whole federal component, e.g. ICE.")
OLN = typer.Option(None, "--oln", help="Subject's operator's license number.")
NAME = typer.Option(None, "--name", help="Subject's name, LAST,FIRST (with --dob).")
DOB = typer.Option(None, "--dob", help="Subject's date of birth, CCYYMMDD.")
PLATE = typer.Option(None, "--plate", help="Vehicle's license plate.")
VIN = typer.Option(None, "--vin", help="Vehicle identification number.")
ELEMENTS_OPTION = typer.Option("all", "--elements",
                               help=f"Elements the order allows: all, or some of "
                                    f"{','.join(ELEMENTS)}.")
FROM = typer.Option(..., "--from", help="First day the order is valid (YYYY-MM-DD).")
UNTIL = typer.Option(..., "--until", help="Last day it is valid (YYYY-MM-DD).")
ATTEST_ORI = typer.Option(..., "--ori", help="The attesting agency's ORI.")
STATEMENT = typer.Option(DEFAULT_STATEMENT, "--statement", help="What the agency certifies.")


def _known_agency(data: DataDir, ori: str) -> str:
    with Directory.open(data, create=False) as directory:
        agency = directory.get(ori)
    if agency is None:
        raise RegistryError(f"no agency {ori.strip().upper()} in the directory")
    return agency.ori


@orders_app.command("add")
def orders_add(
    data: str = options.DATA,
    state: str = options.STATE,
    ref: str = REF,
    ori: str | None = ORDER_ORI,
    component: str | None = COMPONENT,
    oln: str | None = OLN,
    name: str | None = NAME,
    dob: str | None = DOB,
    plate: str | None = PLATE,
    vin: str | None = VIN,
    elements: str = ELEMENTS_OPTION,
    valid_from: str = FROM,
    valid_until: str = UNTIL,
    by: str | None = BY,
) -> None:
    """Put a court order on file: it opens the subject's records to the agency or component."""
    folder = _data(data)
    with answering():
        checked_state(folder, state)
        subject = Subject(oln or "", name or "", parse_date(dob, "--dob") if dob else None,
                          plate or "", vin or "")
        start, end = parse_date(valid_from, "--from"), parse_date(valid_until, "--until")
        allowed = parse_elements(elements)
        holder = _known_agency(folder, ori) if ori else ""
        with Registry(folder, state) as registry:
            order = registry.add_order(ref, subject, start, end, ori=holder,
                                       component=component or "", elements=allowed, who=by)
    typer.echo(f"Court order {order.reference} on file in {registry.state} for "
               f"{order.ori or order.component}: {' '.join(order.subject.identifiers)}, "
               f"{_elements_text(order.elements)}, {order.valid_from} to {order.valid_until} "
               f"(entered by {order.entered_by}).")


def _elements_text(elements: tuple[str, ...]) -> str:
    return "all elements" if set(elements) == set(ELEMENTS) else ",".join(elements)


@orders_app.command("list")
def orders_list(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """List the court orders on file, revoked and expired ones included, with their status."""
    folder = _data(data)
    with answering(as_json), Registry(folder, state) as registry:
        orders = registry.orders()
    moment = now()
    if as_json:
        typer.echo(json.dumps([{**order_json(o), "status": o.status(moment)} for o in orders],
                              indent=2))
        return
    names = names_in(folder)
    print_table(console, ORDER_COLUMNS,
                [[o.reference, o.ori or o.component, "\n".join(o.subject.identifiers),
                  f"{o.valid_from}\n{o.valid_until}", o.status(moment),
                  names(o.ori) if o.ori else "", _elements_text(o.elements), o.entered_by]
                 for o in orders],
                title=f"{registry.state}: {plural(len(orders), 'court order')}")


ORDER_COLUMNS = (ident("reference"), ident("for"), ident("subject"), ident("valid"),
                 text("status"), text("agency"), text("elements"), text("entered by"))
"""A subject's identifiers, and the first and last day of an order, one per line."""


@orders_app.command("revoke")
def orders_revoke(
    reference: str = REF_ARGUMENT,
    data: str = options.DATA,
    state: str = options.STATE,
    by: str | None = BY,
) -> None:
    """Revoke a court order: from now on it opens nothing."""
    folder = _data(data)
    with answering(), Registry(folder, state) as registry:
        order = registry.revoke_order(reference, by)
    when = order.revoked_at or now()
    typer.echo(f"Court order {order.reference} revoked in {registry.state} at "
               f"{when:%Y-%m-%d %H:%M:%S} UTC by {order.revoked_by}.")


@attest_app.command("add")
def attest_add(
    data: str = options.DATA,
    state: str = options.STATE,
    ori: str = ATTEST_ORI,
    until: str = UNTIL,
    statement: str = STATEMENT,
    by: str | None = BY,
) -> None:
    """Record an agency's attestation; it sets `attested` for its queries until the date."""
    folder = _data(data)
    with answering():
        checked_state(folder, state)
        end = parse_date(until, "--until")
        agency = _known_agency(folder, ori)
        with Registry(folder, state) as registry:
            made = registry.add_attestation(agency, end, statement, by)
    typer.echo(f"Attestation {made.id} by {made.ori} on file in {registry.state} until "
               f"{made.valid_until} (entered by {made.entered_by}).")


@attest_app.command("list")
def attest_list(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """List attestations on file, with whether each is in force now."""
    folder = _data(data)
    with answering(as_json), Registry(folder, state) as registry:
        made = registry.attestations()
    moment: datetime = now()
    if as_json:
        typer.echo(json.dumps([{**attestation_json(a), "in_force": a.in_force(moment)}
                               for a in made], indent=2))
        return
    names = names_in(folder)
    print_table(console, ATTESTATION_COLUMNS,
                [[str(a.id), a.ori, str(a.valid_until), "yes" if a.in_force(moment) else "no",
                  names(a.ori), a.entered_by, a.statement] for a in made],
                title=f"{registry.state}: {plural(len(made), 'attestation')}")


ATTESTATION_COLUMNS = (ident("#", "right"), ident("ORI"), ident("until"), ident("in force"),
                       text("agency"), text("entered by"), text("statement"))
