"""What-if replay: the recorded requests decided again under a candidate policy, never installed.

Each request is rebuilt from its audit entry: the sender as the log recorded it at that moment
(not as the directory has it today), its key and reason code, whether it asked for a photo,
whether a court order was on file, and whether an attestation was in force. Identical requests
are grouped by the database and each group is decided once, by the same engine a gateway uses.
Requests imported from the state switch's records are replayed alike, placed by when they were
made; their senders are as the directory had them on the day of the import, and the result
says how many there were.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from ..audit import open_state_log
from ..audit.rollups import GROUPS
from ..datadir import DataDir
from ..directory.categories import DEFAULT_RULES, RuleTable
from ..policy.engine import Decision, Verdict, referenced_context
from ..policy.registry import Registry
from ..policy.source import PolicySource, compile_policies
from ..policy.store import checked_state
from .provenance import ImportedFile, imported_files
from .recorded import ShapeCount, Window, at, micros, moment, ordered, shapes
from .senders import RecordedSenders

RECORDED: dict[str, Verdict] = {
    "released": Verdict.ALLOW,
    "partial": Verdict.ALLOW,
    "no-record": Verdict.ALLOW,
    "denied": Verdict.DENY,
    "held": Verdict.REVIEW,
}
"""Recorded outcomes as the verdicts behind them; `error` entries decided nothing."""
DISCLOSED = frozenset({"released", "partial"})


class Shift(Enum):
    """How a request's verdict moves from what happened to what the candidate decides."""

    UNCHANGED = "unchanged"
    NEWLY_DENIED = "newly denied"
    NEWLY_HELD = "newly held"
    NEWLY_ALLOWED = "newly allowed"


_TO: dict[Verdict, Shift] = {Verdict.DENY: Shift.NEWLY_DENIED, Verdict.REVIEW: Shift.NEWLY_HELD,
                             Verdict.ALLOW: Shift.NEWLY_ALLOWED}
SHIFTS: dict[tuple[Verdict, Verdict], Shift] = {
    (before, after): Shift.UNCHANGED if before is after else _TO[after]
    for before in Verdict for after in Verdict
}

EXAMPLES = 3
"""Examples kept per category, message group and change."""

MULTI_STATE_NOTE = ("The candidate reads context.multi_state: entries logged before the "
                    "switch passed that on were replayed as single-state queries.")


@dataclass(slots=True)
class Cell:
    """One category and message group: how its requests would have come out."""

    category: str
    group: str
    requests: int = 0
    shifts: Counter[Shift] = field(default_factory=Counter)
    withheld: Counter[str] = field(default_factory=Counter)
    """Elements disclosed then that the candidate would withhold, by element."""
    released: Counter[str] = field(default_factory=Counter)
    """Elements withheld then that the candidate would release."""

    @property
    def stopped(self) -> int:
        """Requests that got through or were held then, and that the candidate would deny or
        hold: what a block would have stopped."""
        return self.shifts[Shift.NEWLY_DENIED] + self.shifts[Shift.NEWLY_HELD]

    @property
    def changed(self) -> int:
        return self.requests - self.shifts[Shift.UNCHANGED]

    def add(self, other: Cell) -> None:
        self.requests += other.requests
        self.shifts.update(other.shifts)
        self.withheld.update(other.withheld)
        self.released.update(other.released)


@dataclass(frozen=True, slots=True)
class Example:
    """One replayed request whose verdict changes; no query terms, only who and what kind."""

    seq: int
    request_id: str
    time_us: int
    ori: str
    category: str
    key: str
    shift: Shift
    before: str
    """The recorded outcome."""
    after: str
    """The candidate's verdict."""
    policy: str
    """The candidate's deciding policy, if one decided."""
    imported: bool = False
    """Read from the state switch's records; `time_us` is when it was made."""


@dataclass(frozen=True, slots=True)
class WhatIf:
    state: str
    candidate: str
    """The candidate's SHA-256 digest."""
    since_us: int | None
    until_us: int | None
    replayed: int
    skipped: dict[str, int]
    """Entries not replayed, by why: `error` outcomes decided nothing, say."""
    cells: tuple[Cell, ...]
    examples: tuple[Example, ...]
    notes: tuple[str, ...]
    imported: int = 0
    """Replayed requests read from the state switch's records rather than decided live."""
    files: tuple[ImportedFile, ...] = ()
    """The imported files those came from, with how many of the range's requests each holds."""

    def by_category(self) -> dict[str, Cell]:
        """Every message group of each category added up, in the order cells come."""
        totals: dict[str, Cell] = {}
        for cell in self.cells:
            totals.setdefault(cell.category, Cell(cell.category, "all")).add(cell)
        return totals

    def total(self) -> Cell:
        whole = Cell("all", "all")
        for cell in self.cells:
            whole.add(cell)
        return whole


@dataclass(frozen=True, slots=True)
class History:
    """A state's recorded requests in a time range, grouped, ready to replay under any policy."""

    data: DataDir
    state: str
    since_us: int | None
    until_us: int | None
    shapes: tuple[ShapeCount, ...]
    files: tuple[ImportedFile, ...] = ()
    """The imported files the range's requests were partly read from."""

    @property
    def imported(self) -> int:
        return sum(c.entries for c in self.shapes if c.shape.imported)


def read_history(data: DataDir, state: str, since: datetime | None = None,
                 until: datetime | None = None) -> History:
    """Read once; `replay` decides it under as many candidates as wanted."""
    code = checked_state(data, state)
    since_us, until_us = micros(since), micros(until)
    with Registry(data, code) as registry:
        windows = [Window(a.ori, micros(a.entered_at) or 0,
                          micros(a.valid_until, end=True) or 0)
                   for a in registry.attestations()]
    with open_state_log(data, code) as log:
        found = shapes(log, since_us, until_us, windows)
        files = imported_files(log.select, log.dialect, since_us, until_us)
    return History(data, code, since_us, until_us, tuple(found), tuple(files))


def whatif(data: DataDir, state: str, candidate_text: str, since: datetime | None = None,
           until: datetime | None = None, rules: RuleTable = DEFAULT_RULES) -> WhatIf:
    """Replay a state's recorded requests under a candidate policy text, with examples. The
    text is compiled first: a bad one raises PolicyError with line numbers. Nothing is
    installed and nothing is written."""
    source = compile_policies(candidate_text)
    return replay(read_history(data, state, since, until), source, rules, examples=True)


def replay(history: History, source: PolicySource, rules: RuleTable = DEFAULT_RULES, *,
           examples: bool = False) -> WhatIf:
    """Decide every recorded shape under `source` and tally what changes; with `examples`,
    a few requests per change are read back from the log."""
    engines = RecordedSenders(history.state, source, rules, (c.shape for c in history.shapes))
    cells: dict[tuple[str, str], Cell] = {}
    picked: dict[tuple[str, str, Shift], list[tuple[int, Decision]]] = {}
    skipped: Counter[str] = Counter()
    imported = 0
    for counted in history.shapes:
        shape, entries = counted.shape, counted.entries
        before = RECORDED.get(shape.outcome)
        decision = engines.decide(shape) if before is not None else None
        if before is None or decision is None:
            why = (f"outcome {shape.outcome or 'none'}" if before is None
                   else "sender cannot be rebuilt")
            skipped[why] += entries
            continue
        group = GROUPS.get(shape.key, "")
        cell = cells.setdefault((shape.category, group), Cell(shape.category, group))
        shift = SHIFTS[before, decision.verdict]
        cell.requests += entries
        cell.shifts[shift] += entries
        imported += entries if shape.imported else 0
        if shape.outcome in DISCLOSED and decision.verdict is Verdict.ALLOW:
            for element in set(shape.released) - set(decision.released):
                cell.withheld[element] += entries
            for element in set(shape.withheld) & set(decision.released):
                cell.released[element] += entries
        if shift is not Shift.UNCHANGED:
            picked.setdefault((shape.category, group, shift), []).append(
                (counted.newest, decision))
    rank = {name: n for n, name in enumerate(ordered({c.category for c in cells.values()}))}
    chosen = [pair for (category, group, shift), found in sorted(
                  picked.items(), key=lambda kv: (rank[kv[0][0]], kv[0][1], kv[0][2].value))
              for pair in sorted(found, key=lambda pair: -pair[0])[:EXAMPLES]]
    notes = (MULTI_STATE_NOTE,) if "multi_state" in referenced_context(source.text) else ()
    replayed = sum(c.requests for c in cells.values())
    if imported:
        notes = (imported_note(imported, replayed, history.files), *notes)
    return WhatIf(history.state, source.digest, history.since_us, history.until_us,
                  replayed, dict(skipped),
                  tuple(sorted(cells.values(), key=lambda c: (rank[c.category], c.group))),
                  _examples(history, chosen) if examples else (), notes, imported,
                  history.files)


def imported_note(imported: int, replayed: int, files: tuple[ImportedFile, ...]) -> str:
    """What a replay of imported requests rests on, in words."""
    said = "; ".join(f.said() for f in files)
    return (f"{imported:,} of the {replayed:,} replayed requests were read {said}: each was "
            "decided as the switch recorded it (its key, reason and terms), with its sender's "
            "attributes as the directory had them on the day of the import, not when the "
            "request was made.")


def _examples(history: History, chosen: list[tuple[int, Decision]]) -> tuple[Example, ...]:
    with open_state_log(history.data, history.state) as log:
        found = at(log, [seq for seq, _ in chosen])
    examples = []
    for seq, decision in chosen:
        entry = found.get(seq)
        if entry is None:
            continue
        before = RECORDED[entry.outcome]
        examples.append(Example(seq, entry.request_id, entry.time_us, entry.ori,
                                entry.category, entry.key, SHIFTS[before, decision.verdict],
                                entry.outcome, decision.verdict.value,
                                decision.policies[0] if decision.policies else "",
                                entry.imported))
    return tuple(examples)


def to_json(result: WhatIf) -> dict[str, Any]:
    """A replay as the CLI's `--json` and the API answer it."""
    def cell(c: Cell) -> dict[str, Any]:
        return {"category": c.category, "group": c.group, "requests": c.requests,
                **{shift.value.replace(" ", "_"): c.shifts[shift] for shift in Shift},
                "stopped": c.stopped, "elements_newly_withheld": dict(sorted(c.withheld.items())),
                "elements_newly_released": dict(sorted(c.released.items()))}

    return {
        "state": result.state,
        "candidate": result.candidate,
        "installed": False,
        "since": _iso(result.since_us),
        "until": _iso(result.until_us),
        "replayed": result.replayed,
        "imported": result.imported,
        "imported_files": [{"sha256": f.sha256, "file": f.file, "imported": f.imported_on,
                            "requests": f.requests, "said": f.said()} for f in result.files],
        "changed": result.total().changed,
        "skipped": result.skipped,
        "total": cell(result.total()),
        "categories": [cell(c) for c in result.by_category().values()],
        "cells": [cell(c) for c in result.cells],
        "examples": [{"request_id": e.request_id, "time": _iso(e.time_us), "ori": e.ori,
                      "category": e.category, "key": e.key, "change": e.shift.value,
                      "before": e.before, "after": e.after, "policy": e.policy,
                      "imported": e.imported}
                     for e in result.examples],
        "notes": list(result.notes),
    }


def _iso(time_us: int | None) -> str | None:
    return None if time_us is None else moment(time_us).isoformat()
