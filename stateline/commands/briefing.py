"""`stateline briefing`: the coordinator's print-ready briefing for a state, written to a file.

Errors are printed once, here: text on stderr, or with `--json` an ``{"error": ...}`` object on
stdout; the exit status is 1 and no file is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..datadir import DataDir
from ..policy.store import StateError, checked_state
from ..transparency.briefing import Briefing, PresetEffect, briefing, render, to_json
from . import options, policy_state
from .policy_whatif import reading

OUT = typer.Option(Path("briefing.html"), "--out", help="Where to write the HTML page.")


def run(
    data: str = options.DATA,
    state: str = options.STATE,
    out: Path = OUT,
    as_json: bool = options.JSON,
) -> None:
    """Write the coordinator's briefing: what the state shares and to whom, the gaps, twelve
    months of requests, federal requesters, policy changes, flagged patterns and what each
    preset would have stopped. Print-ready HTML, no script."""
    folder = DataDir.resolve(data)
    with policy_state.answering(as_json, source="policy in force"):
        code = checked_state(folder, state)
        with reading(code):
            found = briefing(folder, code)
        try:
            out.write_text(render(found), encoding="utf-8")
        except OSError as error:
            raise StateError(f"cannot write {out}: {error.strerror}") from None
    if as_json:
        typer.echo(json.dumps({"out": str(out), **to_json(found)}, indent=2))
        return
    _print(found, out)


def _print(found: Briefing, out: Path) -> None:
    def say(text: str) -> None:
        policy_state.console.print(text, soft_wrap=True)  # a gap is one line, whatever width

    say(f"Wrote {out}: {found.state_name} ({found.state}) briefing, policy {found.version}, "
        f"{found.replayed:,} requests in the last twelve months.")
    say(f"Gaps ({len(found.gaps)}):")
    for gap in found.gaps:
        say(f"  - {gap.text}")
    counts = ", ".join(f"{r.rule.name} {len(r.flags)}" for r in found.flags.results)
    say(f"Flagged patterns: {len(found.flags.flags)} ({counts}).")
    say("What each preset would have changed in those twelve months, for ICE, HSI and CBP:")
    for effect in found.presets:
        say(f"  {effect.name:<42} " + ("in force (the baseline)" if effect.in_force
                                       else _changes(effect)))


def _changes(effect: PresetEffect) -> str:
    """"ICE 2 newly denied; HSI 1 newly held", each change counted once where it would end."""
    parts = []
    for category in effect.newly_denied:
        moved = [f"{count:,} {label}" for label, count in (
            ("newly denied", effect.newly_denied[category]),
            ("newly held", effect.newly_held[category]),
            ("newly answered", effect.newly_answered[category])) if count]
        if moved:
            parts.append(f"{category} " + ", ".join(moved))
    return "; ".join(parts) or "no change"
