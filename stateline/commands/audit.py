"""`stateline audit verify|show|search|proof|counts`: check a state's audit log and read it.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1. A log that fails `verify` also exits 1, naming the first bad entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich import box
from rich.console import Console
from rich.table import Table

from ..audit import (
    AuditEntry,
    AuditLog,
    EntryKind,
    audit_db,
    audit_url,
    load_or_create_key,
    open_state_log,
    signing_key,
)
from ..audit.entries import canonical_json, leaf_data
from ..audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from ..datadir import DataDir
from ..errors import RequesterError
from ..policy.store import checked_state
from . import options

app = typer.Typer(help="Verify a state's tamper-evident audit log, and read its entries and "
                       "proofs.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Entry bodies are data, never Rich markup."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEARCHED = ("decision", "review")
"""Entry kinds `search` looks at: decisions on queries, first-hand or after review."""

SEQ_HELP = "The entry's sequence number (the first entry is 0)."
SEQ = typer.Argument(..., metavar="SEQ", help=SEQ_HELP)
PROOF_SEQ = typer.Argument(None, metavar="[SEQ]", help=SEQ_HELP)
SIZE = typer.Option(None, "--size", help="Tree size to prove against (default: the log's size).")
CONSISTENCY = typer.Option(None, "--consistency", metavar="M N",
                           help="Prove the tree of size M is a prefix of the tree of size N.")
AGENCY = typer.Option(None, "--agency", help="Requesting agency's ORI.")
CATEGORY = typer.Option(None, "--category", help="Requester category, e.g. ICE.")
KEY = typer.Option(None, "--key", help="Message key, e.g. DQ.")
OUTCOME = typer.Option(None, "--outcome", help="released, partial, denied, held, no-record or "
                                               "error.")
SINCE = typer.Option(None, "--since", help="From this date or time (YYYY-MM-DD[THH:MM], UTC).")
UNTIL = typer.Option(None, "--until", help="Up to this date (whole day) or time, UTC.")
LIMIT = typer.Option(50, "--limit", min=1, help="At most this many entries, newest first.")


class AuditCommandError(RequesterError):
    """A request this command cannot answer; the message says why."""

    code = "invalid"


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the audit log")


def _located(data: str, state: str) -> tuple[DataDir, str]:
    folder = DataDir.resolve(data)
    code = checked_state(folder, state)
    if audit_url(folder, code) is None and not audit_db(folder, code).is_file():
        raise AuditCommandError(f"{code} has no audit log yet in {folder.root}")
    return folder, code


@contextmanager
def _log(data: str, state: str) -> Iterator[tuple[AuditLog, str]]:
    folder, code = _located(data, state)
    with open_state_log(folder, code) as log:
        yield log, code


def _public_key(folder: DataDir, code: str) -> Ed25519PublicKey:
    path = signing_key(folder, code)
    if not path.is_file():
        raise AuditCommandError(f"{code} has no signing key at {path}: its signed heads "
                                "cannot be checked")
    return load_or_create_key(path).public_key()


def when(time_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=time_us)


def _time_text(time_us: int) -> str:
    return f"{when(time_us):%Y-%m-%d %H:%M:%S.%f} UTC"


@app.command("verify")
def verify_command(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Recompute every entry, the tree and every signed head; exit 1 naming the first bad
    entry."""
    with answering(as_json):
        folder, code = _located(data, state)
        key = _public_key(folder, code)
        with open_state_log(folder, code) as log:
            report = log.verify(key)
    rate = report.entries / report.seconds if report.seconds > 0 else 0.0
    finding = report.finding
    if as_json:
        typer.echo(json.dumps({
            "state": code, "ok": report.ok, "entries": report.entries, "heads": report.heads,
            "unsigned": report.unsigned, "seconds": report.seconds,
            "entries_per_second": rate,
            "finding": None if finding is None else {
                "tamper": finding.tamper.value, "detail": finding.detail, "seq": finding.seq,
                "head": finding.head, "text": str(finding)},
        }, indent=2))
    else:
        typer.echo(f"{code} audit log: {report.entries:,} entries checked, {report.heads:,} "
                   f"signed heads ({report.unsigned:,} entries after the last), "
                   f"{report.seconds:.3f} s, {rate:,.0f} entries/s")
        if finding is None:
            typer.echo("OK")
        else:
            typer.echo(f"TAMPERED: {finding}", err=True)
    if finding is not None:
        raise typer.Exit(1)


@dataclass(frozen=True, slots=True)
class _Against:
    """The head a proof is checked against."""

    size: int
    root: bytes
    label: str


def _head_for(log: AuditLog, seq: int) -> _Against:
    """The latest signed head that covers the entry, else the log's current head."""
    heads = log.heads()
    if heads and heads[-1].head.size > seq:
        h = heads[-1].head
        return _Against(h.size, h.root, f"signed head #{len(heads)} (size {h.size}, "
                                         f"{_time_text(h.time_us)})")
    current = log.head()
    return _Against(current.size, current.root, f"the current head (size {current.size}, "
                                                "not yet signed)")


def _recomputed_leaf(entry: AuditEntry) -> bytes:
    return leaf_hash(leaf_data(entry.time_us, entry.kind.value, canonical_json(entry.body)))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@app.command("show")
def show_command(
    seq: int = SEQ,
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Show one entry and its inclusion proof against the latest signed head."""
    with answering(as_json), _log(data, state) as (log, _code):
        entry = log.entry(seq)
        against = _head_for(log, seq)
        proof = log.inclusion_proof(seq, against.size)
        leaf = _recomputed_leaf(entry)
        verified = leaf == entry.leaf and verify_inclusion(leaf, seq, against.size, proof,
                                                           against.root)
    if as_json:
        typer.echo(json.dumps({
            "seq": entry.seq, "time": when(entry.time_us).isoformat(), "time_us": entry.time_us,
            "kind": entry.kind.value, "body": entry.body, "leaf": entry.leaf.hex(),
            "proof": {"against": against.label, "size": against.size,
                      "root": against.root.hex(), "hashes": [p.hex() for p in proof]},
            "verified": verified,
        }, indent=2, ensure_ascii=False))
        return
    typer.echo(f"entry {entry.seq}: {entry.kind.value} at {_time_text(entry.time_us)}")
    for name, value in entry.body.items():
        typer.echo(f"  {name}: {_value(value)}")
    typer.echo(f"leaf {entry.leaf.hex()}")
    typer.echo(f"inclusion proof against {against.label}, root {against.root.hex()}:")
    for number, node in enumerate(proof):
        typer.echo(f"  {number}: {node.hex()}")
    if not proof:
        typer.echo("  (none: the entry is the whole tree)")
    typer.echo("verifies: " + ("yes" if verified else "NO"))


def _moment(text: str, name: str, end_of_day: bool = False) -> int:
    """Microseconds since the epoch for a date (a whole day) or an ISO time, UTC if unzoned."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end_of_day:
                moment += timedelta(days=1) - timedelta(microseconds=1)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise AuditCommandError(f"{name} {text!r} is not a date (YYYY-MM-DD) or time "
                                "(YYYY-MM-DDTHH:MM[:SS])") from None
    return (moment - _EPOCH) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Filters:
    agency: str | None = None
    category: str | None = None
    key: str | None = None
    outcome: str | None = None
    since_us: int | None = None
    until_us: int | None = None

    def match(self, body: dict[str, Any]) -> bool:
        return ((self.agency is None or str(body.get("ori", "")).upper() == self.agency)
                and (self.category is None
                     or str(body.get("category", "")).upper() == self.category)
                and (self.key is None or str(body.get("key", "")).upper() == self.key)
                and (self.outcome is None or body.get("outcome") == self.outcome))


def search_entries(folder: DataDir, code: str, filters: Filters,
                   limit: int) -> Iterator[AuditEntry]:
    """Matching decision and review entries, newest first."""
    with open_state_log(folder, code) as log:
        found = 0
        for entry in log.scan([EntryKind(k) for k in SEARCHED], filters.since_us,
                              filters.until_us):
            if filters.match(dict(entry.body)):
                yield entry
                found += 1
                if found >= limit:
                    return


@app.command("search")
def search_command(
    data: str = options.DATA,
    state: str = options.STATE,
    agency: str | None = AGENCY,
    category: str | None = CATEGORY,
    key: str | None = KEY,
    outcome: str | None = OUTCOME,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    limit: int = LIMIT,
    as_json: bool = options.JSON,
) -> None:
    """List decision entries that match every filter given, newest first."""
    with answering(as_json):
        folder, code = _located(data, state)
        filters = Filters(
            agency.strip().upper() if agency else None,
            category.strip().upper() if category else None,
            key.strip().upper() if key else None,
            outcome.strip().lower() if outcome else None,
            _moment(since, "--since") if since else None,
            _moment(until, "--until", end_of_day=True) if until else None)
        found = list(search_entries(folder, code, filters, limit))
    if as_json:
        typer.echo(json.dumps([{"seq": e.seq, "time": when(e.time_us).isoformat(),
                                "kind": e.kind.value, "body": e.body} for e in found],
                              indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{code}: {len(found)} matching entries, newest first",
                  box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    for column in ("#", "time (UTC)", "kind", "ORI", "category", "key", "outcome", "policy"):
        table.add_column(column, no_wrap=column != "policy", overflow="fold")
    for e in found:
        body = e.body
        policies = body.get("policies") or []
        table.add_row(str(e.seq), f"{when(e.time_us):%Y-%m-%d %H:%M:%S}", e.kind.value,
                      str(body.get("ori", "")), str(body.get("category", "")),
                      str(body.get("key", "")), str(body.get("outcome", "")),
                      str(policies[0]) if policies else "")
    console.print(table)


@app.command("proof")
def proof_command(
    seq: int | None = PROOF_SEQ,
    size: int | None = SIZE,
    consistency: tuple[int, int] | None = CONSISTENCY,
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Print an entry's inclusion proof at a tree size, or with --consistency M N the proof
    that the tree of size M is a prefix of the tree of size N."""
    with answering(as_json), _log(data, state) as (log, _code):
        if consistency is not None:
            if seq is not None or size is not None:
                raise AuditCommandError("give either SEQ [--size N] or --consistency M N")
            old, new = consistency
            if not 0 <= old <= new <= log.size:
                raise AuditCommandError(f"need 0 <= M <= N <= {log.size} (the log's size), "
                                        f"not {old} and {new}")
            hashes = log.consistency_proof(old, new)
            root1, root2 = log.root(old), log.root(new)
            ok = verify_consistency(old, new, hashes, root1, root2)
            shown: dict[str, Any] = {"type": "consistency", "size1": old, "size2": new,
                                     "root1": root1.hex(), "root2": root2.hex()}
            title = (f"consistency proof from size {old} (root {root1.hex()}) to size {new} "
                     f"(root {root2.hex()}):")
        else:
            if seq is None:
                raise AuditCommandError("give SEQ [--size N] or --consistency M N")
            tree = log.size if size is None else size
            if not 0 <= tree <= log.size:
                raise AuditCommandError(f"the log holds {log.size} entries, not {tree}")
            hashes = log.inclusion_proof(seq, tree)
            root = log.root(tree)
            ok = verify_inclusion(log.entry(seq).leaf, seq, tree, hashes, root)
            shown = {"type": "inclusion", "seq": seq, "size": tree, "root": root.hex()}
            title = f"inclusion proof for entry {seq} in the tree of size {tree} " \
                    f"(root {root.hex()}):"
    if as_json:
        typer.echo(json.dumps({**shown, "hashes": [h.hex() for h in hashes], "verified": ok},
                              indent=2))
        return
    typer.echo(title)
    for node in hashes:
        typer.echo(node.hex())
    typer.echo("verifies: " + ("yes" if ok else "NO"))


@app.command("counts")
def counts_command(
    data: str = options.DATA,
    state: str = options.STATE,
    since: str | None = typer.Option(None, "--since", help="From this day (YYYY-MM-DD, UTC)."),
    until: str | None = typer.Option(None, "--until", help="Up to this day (YYYY-MM-DD)."),
    as_json: bool = options.JSON,
) -> None:
    """Requests and outcomes per day, category, message group and outcome, from the rollups
    kept with the entries (no rescan; `verify` checks them)."""
    with answering(as_json):
        folder, code = _located(data, state)
        days = [_day(text, name) for text, name in ((since, "--since"), (until, "--until"))]
        with open_state_log(folder, code) as log:
            rows = log.rollups(days[0] or "", days[1] or "9999-12-31")
    if as_json:
        typer.echo(json.dumps([{"day": r.day, "kind": r.kind, "category": r.category,
                                "group": r.group, "outcome": r.outcome, "entries": r.entries,
                                "photos": r.photos, "records": r.records} for r in rows],
                              indent=2))
        return
    table = Table(title=f"{code}: audit counts by day", box=box.SIMPLE_HEAD, pad_edge=False,
                  padding=(0, 1, 0, 0))
    for column in ("day", "kind", "category", "group", "outcome", "entries", "photos",
                   "records"):
        table.add_column(column, justify="right" if column in ("entries", "photos",
                                                                 "records") else "left")
    for r in rows:
        table.add_row(r.day, r.kind, r.category or "-", r.group or "-", r.outcome or "-",
                      f"{r.entries:,}", f"{r.photos:,}", f"{r.records:,}")
    console.print(table)


def _day(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise AuditCommandError(f"{name} {text!r} is not a day (YYYY-MM-DD)") from None
