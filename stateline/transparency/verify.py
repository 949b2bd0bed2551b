"""Check a published report against the audit log it names, as the state's own auditors can:
the signed head is genuine and in the log, the log verifies, and the report recomputed from the
entries below that head (not from the rollups), its year decided again, is the same, cell for
cell and mark for mark. Anyone without the log runs `check` instead."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..audit import AuditLog, NoteError, SignedTreeHead, VerifyReport, read_state_log
from ..audit.checkpoint import parse, parse_time
from ..audit.note import Signature, Verifier
from ..datadir import DataDir
from ..errors import RequesterError
from ..policy.store import checked_state
from . import snapshot
from .model import PublicReport, as_json
from .report import assemble, scope

SHOWN = 20
"""Differences listed at most; the count says how many there are."""


class VerifyError(RequesterError):
    """A report that cannot be checked against this log: its head is not the state's."""

    code, status = "cannot-verify", 422


@dataclass(frozen=True, slots=True)
class Verdict:
    report: PublicReport
    log: VerifyReport
    differences: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(data: DataDir, report: PublicReport) -> Verdict:
    code = checked_state(data, report.state)
    keys, named = snapshot.log_keys(data, code), snapshot.witnesses(data, code)
    a = report.as_of
    try:
        signed = parse(a.checkpoint)
    except NoteError as error:
        raise VerifyError(f"as_of.checkpoint: {error}") from None
    h = signed.head
    key = next((k for k in keys if k.verify(h.body(), signed.log_signature)), None)
    if key is None:
        raise VerifyError(f"the report's signed head does not verify with {code}'s key")
    if (h.origin, h.size, h.root.hex()) != (a.origin, a.size, a.root):
        raise VerifyError("as_of's origin, size or root differ from its checkpoint")
    # The time a head was signed is not in its signed body; the report states it, and the
    # log's own record of its heads must agree (`_log_checked`).
    signed = replace(signed, head=replace(h, time_us=parse_time(a.time)))
    if a.verifier_key != key.vkey:
        raise VerifyError(f"as_of.verifier_key is not {code}'s key")
    log = read_state_log(data, code)
    if log is None:
        raise VerifyError(f"{code} has no audit log in {data.root}")
    with log:
        checked = _log_checked(log, keys, signed)
        kept = _kept_lines(log, signed, named)
    with snapshot.opened(data, code) as db:
        rollups = snapshot.recount(db, h.size, scope(report.period))
        changes = snapshot.policy_changes(db, h.size)
        imported = snapshot.imported(db, h.size, scope(report.period))
    again = assemble(code, report.period, signed.with_cosignatures(kept), key, named,
                     report.threshold, rollups, changes, kept=False, imported=imported)
    return Verdict(report, checked, tuple(differences(_data(report), _data(again))))


def _data(report: PublicReport) -> dict[str, Any]:
    """The report as JSON without its explanatory prose, which a later version may reword."""
    document = as_json(report)
    del document["definitions"], document["disclosure_control"]["method"]
    for source in document.get("sources", ()):
        del source["said"]
    return document


def _log_checked(log: AuditLog, keys: Sequence[Verifier],
                 signed: SignedTreeHead) -> VerifyReport:
    """The head is one the log signed, and the whole log still verifies."""
    held = {(s.head, s.head.time_us, s.key_id, s.signature) for s in log.heads()}
    if (signed.head, signed.head.time_us, signed.key_id, signed.signature) not in held:
        raise VerifyError(f"{log.origin}'s log holds no signed head of size {signed.head.size} "
                          "with this root, time and signature")
    checked = log.verify([k.public_key for k in keys])
    if checked.finding is not None:
        raise VerifyError(f"{log.origin}'s audit log does not verify: {checked.finding}")
    return checked


def _kept_lines(log: AuditLog, signed: SignedTreeHead,
                named: Sequence[Verifier]) -> tuple[Signature, ...]:
    """The named witnesses' cosignature lines the log keeps for the head, as a report
    carries them."""
    for held in log.heads():
        if held.head.same_tree(signed.head):
            return snapshot.cosigned(signed.head, held.cosignatures, named)
    return ()


def differences(published: Any, recomputed: Any) -> Iterator[str]:
    """Where the two JSON documents differ, named by table, row and column where there are
    some."""
    yield from _walk(published, recomputed, "")


def _walk(mine: Any, theirs: Any, path: str) -> Iterator[str]:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        if "cells" in mine and "rows" in mine:
            yield from _table(mine, theirs, path)
            return
        for name in sorted(mine.keys() | theirs.keys()):
            yield from _walk(mine.get(name), theirs.get(name), f"{path}.{name}".lstrip("."))
    elif isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        for n, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            label = a.get("id") if isinstance(a, dict) and "id" in a else n
            yield from _walk(a, b, f"{path}[{label}]")
    elif mine != theirs:
        yield f"{path}: the report has {_short(mine)}, the log gives {_short(theirs)}"


def _table(mine: dict[str, Any], theirs: dict[str, Any], path: str) -> Iterator[str]:
    shape = ("rows", "columns", "id", "title", "measure")
    if any(mine.get(n) != theirs.get(n) for n in shape):
        for name in shape:
            yield from _walk(mine.get(name), theirs.get(name), f"{path}.{name}")
        return
    rows, columns = mine["rows"]["labels"], mine["columns"]["labels"]
    for r, row in enumerate(rows):
        for c, column in enumerate(columns):
            yield from _walk(_at(mine["cells"], r, c), _at(theirs["cells"], r, c),
                             f"{path}[{row}][{column}]")
        yield from _walk(_at(mine["row_totals"], r), _at(theirs["row_totals"], r),
                         f"{path}[{row}][total]")
    for c, column in enumerate(columns):
        yield from _walk(_at(mine["column_totals"], c), _at(theirs["column_totals"], c),
                         f"{path}[total][{column}]")
    yield from _walk(mine.get("total"), theirs.get("total"), f"{path}[total][total]")


def _at(values: Any, *index: int) -> Any:
    for i in index:
        if not isinstance(values, list) or i >= len(values):
            return None
        values = values[i]
    return values


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
