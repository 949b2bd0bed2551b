"""`stateline audit verify|show|search|proof|counts|key|rotate-key`: check a state's audit log
against its pinned keys and checkpoints others hold, read it, and manage its signing key.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1. A log that fails `verify` also exits 1, naming the first bad entry.
Reading commands open the log read-only: none of them creates a file or a table.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ..audit import (
    AuditEntry,
    AuditLog,
    EntryKind,
    load_or_create_key,
    open_state_log,
    origin_of,
    read_state_log,
)
from ..audit.checkpoint import log_verifier
from ..audit.entries import canonical_json, leaf_data
from ..audit.keys import (
    KeyRefused,
    announced,
    key_place,
    load_key,
    pinned_path,
    place_key,
    read_pinned,
    signing_key_for,
    write_pinned,
)
from ..audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from ..audit.records import published, request_of
from ..audit.search import SEARCHED, Filters, made_us, scan
from ..audit.trusted import (
    Seen,
    StateCheck,
    check_state,
    read_checkpoint,
    read_checkpoint_file,
)
from ..audit.verify import TrustedCheckpoint
from ..audit.witnessing import Lag
from ..datadir import DataDir
from ..directory import names_in
from ..errors import RequesterError
from ..policy.store import checked_state
from . import options
from .tables import ident, plural, print_table, text

app = typer.Typer(help="Verify a state's tamper-evident audit log, and read its entries and "
                       "proofs.", no_args_is_help=True)
console = Console(markup=False, emoji=False, highlight=False)
"""Entry bodies are data, never Rich markup."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
TRUSTED = typer.Option([], "--trusted", metavar="CHECKPOINT_FILE",
                       help="A checkpoint of this log the state cannot take back (kept from a "
                            "witness or an earlier download): the log must hold it. Repeatable.")
WITNESS = typer.Option([], "--witness", metavar="URL",
                       help="A witness's URL: check the log against the latest checkpoint of it "
                            "that the witness cosigned. Repeatable.")
ROLLUPS = typer.Option(True, "--rollups/--no-rollups",
                       help="Recompute the rollups (the counts reports read) from the entries.")
NEW_KEY = typer.Option(..., "--new-key", metavar="FILE",
                       help="The new Ed25519 private key (PEM), made there (0600) if absent.")
WITNESS_SECONDS = 10.0


class AuditCommandError(RequesterError):
    """A request this command cannot answer; the message says why."""

    code = "invalid"


def answering(as_json: bool = False) -> AbstractContextManager[None]:
    return options.answering(as_json, "the audit log")


def _located(data: str, state: str) -> tuple[DataDir, str]:
    folder = DataDir.resolve(data)
    return folder, checked_state(folder, state)


@contextmanager
def _log(data: str, state: str) -> Iterator[tuple[AuditLog, str]]:
    folder, code = _located(data, state)
    log = read_state_log(folder, code)
    if log is None:
        raise AuditCommandError(f"{code} has no audit log yet in {folder.root}")
    with log:
        yield log, code


def when(time_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=time_us)


def _time_text(time_us: int) -> str:
    return f"{when(time_us):%Y-%m-%d %H:%M:%S.%f} UTC"


@app.command("verify")
def verify_command(
    data: str = options.DATA,
    state: str = options.STATE,
    trusted: list[Path] = TRUSTED,
    witness: list[str] = WITNESS,
    rollups: bool = ROLLUPS,
    as_json: bool = options.JSON,
) -> None:
    """Recompute every entry, the tree and every signed head against the pinned keys, and
    check the log holds each trusted checkpoint; exit 1 naming the first thing wrong."""
    with answering(as_json):
        folder, code = _located(data, state)
        origin = origin_of(code)
        given = [read_checkpoint_file(path, origin) for path in trusted]
        given += [c for url in witness if (c := _witnessed(url, origin)) is not None]
        check = check_state(folder, code, given, rollups=rollups)
    report, finding = check.report, check.report.finding
    rate = report.entries / report.seconds if report.seconds > 0 else 0.0
    if as_json:
        typer.echo(json.dumps({
            "state": code, "ok": report.ok, "entries": report.entries, "heads": report.heads,
            "unsigned": report.unsigned, "seconds": report.seconds,
            "entries_per_second": rate, "rollups_checked": report.rollups,
            "key": {"path": str(check.place.path), "source": check.place.source,
                    "beside_log": check.key_beside_log, "pinned": list(check.pinned)},
            "trusted": [_seen_json(s) for s in check.seen],
            "witnesses": [_lag_json(lag) for lag in check.lags],
            "finding": None if finding is None else {
                "tamper": finding.tamper.value, "detail": finding.detail, "seq": finding.seq,
                "head": finding.head, "place": finding.place, "text": str(finding)},
        }, indent=2))
    else:
        typer.echo(f"{code} audit log: {report.entries:,} entries checked, {report.heads:,} "
                   f"signed heads ({report.unsigned:,} entries after the last), "
                   f"{report.seconds:.3f} s, {rate:,.0f} entries/s")
        for line in _verify_notes(check):
            typer.echo(line)
        if finding is None:
            typer.echo("OK")
        else:
            typer.echo(f"TAMPERED: {finding}", err=True)
    if finding is not None:
        raise typer.Exit(1)


def _witnessed(url: str, origin: str) -> TrustedCheckpoint | None:
    """The latest checkpoint of the log a witness cosigned; None (said so) when none."""
    from ..witness.client import latest_checkpoint

    text = latest_checkpoint(url, origin, timeout=WITNESS_SECONDS)
    if text is None:
        typer.echo(f"witness {url} has cosigned no checkpoint of {origin}", err=True)
        return None
    return read_checkpoint(text, f"the checkpoint witness {url} cosigned", origin)


def _verify_notes(check: StateCheck) -> Iterator[str]:
    place = check.place
    if check.key_beside_log:
        yield (f"key: kept beside the log ({place.path}), so whoever holds the data folder "
               "holds it; only a trusted checkpoint (--trusted) or a witness (--witness) makes "
               "this check independent")
    else:
        yield f"key: kept outside the data folder ({place.source}); {len(check.pinned)} pinned"
    if not check.report.rollups:
        yield "rollups: not recomputed (--no-rollups)"
    for seen in check.seen:
        yield (f"trusted: {seen.source}: size {seen.size:,}, root "
               f"{base64.b64encode(seen.root).decode()}")
        for c in seen.cosigners:
            state = {True: "verifies", False: "DOES NOT VERIFY", None: "key not configured"}
            stamp = f" at {_seconds_text(c.timestamp)}" if c.timestamp is not None else ""
            yield f"  cosigned by {c.name}{stamp} ({state[c.verified]})"
    for lag in check.lags:
        cosigned = ("has cosigned nothing yet" if lag.cosigned is None else
                    f"last cosigned size {lag.cosigned:,} at {_seconds_text(lag.cosigned_at)}")
        behind = (f"{lag.entries:,} entries behind for {lag.seconds:,.0f} s" if lag.entries
                  else "up to date")
        yield f"witness {lag.witness.name} ({lag.witness.url}): {behind}; {cosigned}"


def _seconds_text(seconds: int | None) -> str:
    if seconds is None:
        return "an unknown time"
    ago = max(time.time() - seconds, 0)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S} UTC ({ago:,.0f} s ago)"


def _seen_json(seen: Seen) -> dict[str, Any]:
    return {"source": seen.source, "size": seen.size,
            "root": base64.b64encode(seen.root).decode(),
            "cosigners": [{"name": c.name, "timestamp": c.timestamp, "verified": c.verified}
                          for c in seen.cosigners]}


def _lag_json(lag: Lag) -> dict[str, Any]:
    return {"name": lag.witness.name, "url": lag.witness.url, "signed": lag.signed,
            "cosigned": lag.cosigned, "cosigned_at": lag.cosigned_at,
            "lag_entries": lag.entries, "lag_seconds": lag.seconds}


@app.command("key")
def key_command(
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Print the log's verifier key (`name+id+base64`), which others check its checkpoints
    with; the pinned chain, first key first, with --json."""
    with answering(as_json):
        folder, code = _located(data, state)
        place = key_place(folder, code)
        chain = read_pinned(pinned_path(folder, code))
        if not chain:  # first use: the key is found where it is kept, and pinned
            load_key(place, create=False)
            signing_key_for(folder, code, origin_of(code))
            chain = read_pinned(pinned_path(folder, code))
    if as_json:
        typer.echo(json.dumps({"state": code, "vkey": chain[-1].vkey,
                               "pinned": [v.vkey for v in chain], "key": str(place.path),
                               "source": place.source, "beside_log": place.beside_log},
                              indent=2))
        return
    typer.echo(chain[-1].vkey)


@app.command("rotate-key")
def rotate_key_command(
    new_key: Path = NEW_KEY,
    data: str = options.DATA,
    state: str = options.STATE,
    as_json: bool = options.JSON,
) -> None:
    """Announce a new signing key in the log, under a head the old key signs, then pin it and
    put it where the state keeps its key; later heads are signed with it. Run again after an
    interruption, it finishes the same rotation."""
    with answering(as_json):
        folder, code = _located(data, state)
        origin = origin_of(code)
        place = key_place(folder, code)
        new = load_or_create_key(new_key)
        vkey = log_verifier(origin, new.public_key())
        pinned_file = pinned_path(folder, code)
        if read_state_log(folder, code) is None:
            raise AuditCommandError(f"{code} has no audit log yet in {folder.root}")
        with open_state_log(folder, code) as log:
            rotations = log.key_rotations()
            last = announced(rotations[-1].body, origin).vkey if rotations else None
            chain = read_pinned(pinned_file)
            head = None
            if vkey.vkey != last:  # else a rotation interrupted before it was pinned or placed
                if chain[-1:] == [vkey]:
                    raise KeyRefused(f"{new_key} holds the key already in force")
                head = log.rotate_key(new)
        chain = read_pinned(pinned_file)
        if chain[-1:] != [vkey]:
            write_pinned(pinned_file, [*chain, vkey])
        try:
            place_key(place, new)
        except OSError as error:
            raise KeyRefused(f"the log now announces {vkey.vkey}, but the key could not be put "
                             f"at {place.path} ({place.source}): {error}; put {new_key} there "
                             "before the log can sign again") from None
    if as_json:
        typer.echo(json.dumps({"state": code, "vkey": vkey.vkey, "key": str(place.path),
                               "announced_at": None if head is None else head.head.size - 1,
                               "signed_size": None if head is None else head.head.size},
                              indent=2))
        return
    if head is None:
        typer.echo(f"{code}: the rotation to {vkey.vkey} was already in the log; it is now "
                   f"pinned and the key is at {place.path}")
        return
    typer.echo(f"{code}: entry {head.head.size - 1} announces {vkey.vkey}, under a head of size "
               f"{head.head.size} signed with the old key. The new key is pinned in "
               f"{pinned_file} and kept at {place.path} ({place.source}); later heads are "
               "signed with it. Witnesses must list the new key for this log.")


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


def search_entries(folder: DataDir, code: str, filters: Filters,
                   limit: int) -> Iterator[AuditEntry]:
    """Matching request entries (live, imported or reviewed), newest first, each by its own
    time."""
    log = read_state_log(folder, code)
    if log is None:
        raise AuditCommandError(f"{code} has no audit log yet in {folder.root}")
    with log:
        found = 0
        for entry in scan(log, SEARCHED, filters.since_us, filters.until_us):
            if filters.match(entry):
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
    """List request entries (live, imported or reviewed) that match every filter given,
    newest first; an imported request by when it was made."""
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
        typer.echo(json.dumps([{"seq": e.seq, "time": when(made_us(e)).isoformat(),
                                "kind": e.kind.value, "body": e.body} for e in found],
                              indent=2, ensure_ascii=False))
        return
    names = names_in(folder)
    rows = []
    for e in found:
        r = request_of(e)
        rows.append([str(e.seq), f"{when(made_us(e)):%Y-%m-%d %H:%M:%S}", r.ori, r.key,
                     r.outcome, names(r.ori) if r.ori else "", r.category, e.kind.value,
                     r.policies[0] if r.policies else ""])
    shown = plural(len(found), "matching entry", "matching entries")
    title = (f"{code}: the newest {shown} (raise --limit to see more)" if len(found) >= limit
             else f"{code}: {shown}, newest first")
    print_table(console, SEARCH_COLUMNS, rows, title=title)


SEARCH_COLUMNS = (ident("#", "right"), ident("time (UTC)"), ident("ORI"), ident("key"),
                  ident("outcome"), text("agency"), text("category"), text("kind"),
                  text("policy"))


@app.command("schema")
def schema_command(
    kind: str | None = typer.Argument(None, metavar="[KIND]",
                                      help="An entry kind, e.g. decision; all kinds if none."),
    as_json: bool = options.JSON,
) -> None:
    """Print the JSON Schema of an audit entry kind's body, or list every kind's schema."""
    names = [k.value for k in EntryKind]
    with answering(as_json):
        if kind is not None and kind not in names:
            raise AuditCommandError(f"{kind!r} is not an entry kind: {', '.join(names)}")
    if kind is not None:
        typer.echo(published(EntryKind(kind)), nl=False)
        return
    files = {name: f"stateline/audit/schemas/{name}.schema.json" for name in names}
    if as_json:
        typer.echo(json.dumps(files, indent=2))
        return
    for name, path in files.items():
        typer.echo(f"{name:14} {path}")


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
        days = [_day(text, name) for text, name in ((since, "--since"), (until, "--until"))]
        with _log(data, state) as (log, code):
            rows = log.rollups(days[0] or "", days[1] or "9999-12-31")
    if as_json:
        typer.echo(json.dumps([{"day": r.day, "kind": r.kind, "category": r.category,
                                "group": r.group, "outcome": r.outcome, "entries": r.entries,
                                "photos": r.photos, "records": r.records} for r in rows],
                              indent=2))
        return
    print_table(console, COUNT_COLUMNS,
                [[r.day, r.kind, r.category or "-", r.group or "-", r.outcome or "-",
                  f"{r.entries:,}", f"{r.photos:,}", f"{r.records:,}"] for r in rows],
                title=f"{code}: audit counts by day")


COUNT_COLUMNS = (ident("day"), ident("kind"), ident("category"), ident("group"),
                 ident("outcome"), ident("entries", "right"), ident("photos", "right"),
                 ident("records", "right"))
"""Every cell is a code or a number a reader compares: none of them may be cut."""


def _day(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise AuditCommandError(f"{name} {text!r} is not a day (YYYY-MM-DD)") from None
