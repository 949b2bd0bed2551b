"""`stateline policy presets|check|test`: shipped presets, checking a policy file, running cases.

Errors are printed once, here at the edge, through `options.fail`: text on stderr, or with
`--json` the one JSON error shape; the exit status is 1. A test run with a failing case also
exits 1, so `policy test` can gate a change in CI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from ..datadir import DataDir
from ..directory.agency import DirectoryError
from ..directory.store import Directory, Snapshot
from ..policy.cases import CaseFile, CaseFileError, CaseReport, load_cases, run_cases
from ..policy.names import vetted
from ..policy.presets import Preset, UnknownPreset, preset, presets
from ..policy.source import PolicyError, PolicySource, compile_policies
from ..policy.store import NO_POLICY, StateError, current_text, directory_snapshot
from ..sim.agencies import generate_agencies
from . import options
from .policy import app

console = Console(markup=False, emoji=False, highlight=False)
"""Case names and policy ids are data, not Rich markup."""

SYNTHETIC_SEED = 1
"""Presets' cases name agencies of the synthetic nation this seed makes."""

SHOW = typer.Option(None, "--show", metavar="NAME", help="Print this preset's policy text.")
POLICY_FILE = typer.Argument(..., help="A policy text (.cedar) to check.")
CASES = typer.Argument(None, metavar="CASES.yaml", help="Case files (YAML).")
TEST_STATE = typer.Option(None, "--state", help="Home state of cases that name none; without "
                          "--policy, the state whose policy in force is tested.")
POLICY = typer.Option(None, "--policy", help="Test this policy text (.cedar) instead of the "
                      "state's policy in force.")
PRESET = typer.Option(None, "--preset", metavar="NAME", help="Test a shipped preset over the "
                      "synthetic directory: its own cases, or CASES if given.")
CHECK_STATE = typer.Option(None, "--state", help="Warn about forbids that block no agency of "
                           "the directory as this state sees them.")
ALL_PRESETS = typer.Option(False, "--all-presets", help="Test every shipped preset against "
                           "its own cases.")


@dataclass(frozen=True, slots=True)
class Run:
    """One policy text and the cases to run against it."""

    label: str
    policy: str
    cases: CaseFile
    shipped: bool = False
    """The cases are the preset's own: the label says enough."""

    @property
    def title(self) -> str:
        return self.label if self.shipped else f"{self.cases.source} against {self.label}"


@app.command("presets")
def presets_command(show: str | None = SHOW, as_json: bool = options.JSON) -> None:
    """List the shipped presets (complete policy sets to start from), or print one."""
    if show is not None:
        try:
            found = preset(show)
        except UnknownPreset as error:
            options.fail(str(error), "not-found", as_json)
        if as_json:
            typer.echo(json.dumps({**_preset_json(found), "text": found.text()}, indent=2))
        else:
            typer.echo(found.text(), nl=False)
        return
    if as_json:
        typer.echo(json.dumps([_preset_json(p) for p in presets()], indent=2))
        return
    width = max(len(p.name) for p in presets())
    for listed in presets():
        line = Text(listed.name.ljust(width + 2), style="bold")
        console.print(line.append(listed.summary), soft_wrap=True)


@app.command("check")
def check_command(
    file: Path = POLICY_FILE,
    data: str = options.DATA,
    state: str | None = CHECK_STATE,
    as_json: bool = options.JSON,
) -> None:
    """Check a policy file without putting it in force: OK and its policy ids, or every
    problem with its line. Names are checked against the nation in --data when there is one;
    with --state, forbids that block no agency of its directory are warned about."""
    text = _read(file, as_json)
    folder = DataDir.resolve(data)
    snapshot = directory_snapshot(folder)
    try:
        source, warnings = vetted(text, snapshot, state.strip().upper() if state else None)
    except PolicyError as error:
        _policy_failed(file, error, as_json)
    notes = [] if snapshot is not None else [
        f"agency ORIs were not checked: no nation at {folder.root}"]
    if as_json:
        typer.echo(json.dumps({"ok": True, "file": str(file), "policies": [
            {"id": p.id, "effect": p.effect, "line": p.line, "reason": p.reason}
            for p in source.policies], "warnings": [
            {"line": w.line, "policy": w.policy, "text": w.message} for w in warnings],
            "notes": notes}, indent=2))
        return
    for warning in warnings:
        typer.echo(f"{file}: warning: {warning}", err=True)
    for note in notes:
        typer.echo(f"{file}: note: {note}", err=True)
    console.print(Text("OK ", style="bold green").append(
        f"{file}: {len(source.policies)} policies: "
        + ", ".join(p.id for p in source.policies)), soft_wrap=True)


@app.command("test")
def test_command(
    cases: list[Path] | None = CASES,
    data: str = options.DATA,
    state: str | None = TEST_STATE,
    policy: Path | None = POLICY,
    preset_name: str | None = PRESET,
    all_presets: bool = ALL_PRESETS,
    as_json: bool = options.JSON,
) -> None:
    """Run test cases against a policy and show what differed; exit 1 if any case fails.

    Against a nation: CASES with --policy FILE (or the state's policy in force) over the
    directory in --data. Without a nation: --preset NAME or --all-presets over the synthetic
    directory.
    """
    files = list(cases or [])
    try:
        if preset_name is not None or all_presets:
            runs = _preset_runs(preset_name, all_presets, files, policy, state)
            snapshot = synthetic_snapshot()
        else:
            runs = _file_runs(files, DataDir.resolve(data), state, policy, as_json)
            with Directory.open(DataDir.resolve(data), create=False) as directory:
                snapshot = directory.snapshot()
        sources = {run.policy: _compiled(run, as_json) for run in runs}
        reports = [(run, run_cases(sources[run.policy], run.cases, snapshot)) for run in runs]
    except (CaseFileError, UnknownPreset, DirectoryError, StateError, _Refused) as error:
        options.fail(str(error), _code(error), as_json)
    if as_json:
        typer.echo(json.dumps({"ok": all(r.ok for _, r in reports),
                               "runs": [_run_json(run, report) for run, report in reports]},
                              indent=2))
    else:
        for run, report in reports:
            _print_report(run, report)
    if not all(report.ok for _, report in reports):
        raise typer.Exit(1)


def synthetic_snapshot() -> Snapshot:
    """The synthetic nation's directory, made in memory: presets test without a nation."""
    agencies = {agency.ori: agency for agency in generate_agencies(seed=SYNTHETIC_SEED)}
    return Snapshot(0, MappingProxyType(agencies))


class _Refused(ValueError):
    """Options that do not go together, or a policy that cannot be found."""


def _preset_runs(name: str | None, every: bool, files: list[Path], policy: Path | None,
                 state: str | None) -> list[Run]:
    if name is not None and every:
        raise _Refused("give --preset NAME or --all-presets, not both")
    if policy is not None:
        raise _Refused("--policy tests a file of your own; a preset brings its own text")
    if every and files:
        raise _Refused("--all-presets runs each preset's own cases; to run CASES against "
                       "one preset, use --preset NAME")
    chosen: list[Preset] = list(presets()) if every else [preset(name or "")]
    if files:
        return [Run(f"preset {found.name}", found.text(), load_cases(f, state))
                for found in chosen for f in files]
    return [Run(f"preset {found.name}", found.text(), load_cases(found.cases_path, state),
                shipped=True) for found in chosen]


def _file_runs(files: list[Path], data: DataDir, state: str | None, policy: Path | None,
               as_json: bool) -> list[Run]:
    if not files:
        raise _Refused("give CASES.yaml files to run, or --preset NAME / --all-presets")
    if policy is not None:
        text, label = _read(policy, as_json), str(policy)
    else:
        if state is None:
            raise _Refused("give --state XX to test that state's policy in force, or "
                           "--policy FILE.cedar")
        text, label = _policy_in_force(data, state), f"{state.upper()} policy in force"
    return [Run(label, text, load_cases(f, state)) for f in files]


def _policy_in_force(data: DataDir, state: str) -> str:
    """The text the state's gateway decides by: its policy file, or deny-all without one."""
    text = current_text(data, state)
    return NO_POLICY if text is None else text


def _read(path: Path, as_json: bool) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as error:
        options.fail(f"{path}: cannot read ({error.strerror})", "not-found", as_json)
    except UnicodeDecodeError as error:
        options.fail(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})",
                     "invalid-policy", as_json)


def _compiled(run: Run, as_json: bool) -> PolicySource:
    try:
        return compile_policies(run.policy)
    except PolicyError as error:
        _policy_failed(run.label, error, as_json)


def _policy_failed(where: Path | str, error: PolicyError, as_json: bool) -> NoReturn:
    options.fail("\n".join(f"{where}: {problem}" for problem in error.problems),
                 "invalid-policy", as_json)


def _code(error: Exception) -> str:
    codes: tuple[tuple[type[Exception], str], ...] = (
        (CaseFileError, "invalid-cases"), (UnknownPreset, "not-found"),
        (DirectoryError, "no-nation"), (StateError, "no-state"), (_Refused, "invalid"))
    return next(code for kind, code in codes if isinstance(error, kind))


def _print_report(run: Run, report: CaseReport) -> None:
    total = len(report.results)
    failed = len(report.failed)
    head = Text(f"{run.title}: {total} cases, ", style="bold")
    head.append(f"{failed} failed" if failed else "all passed",
                style="bold red" if failed else "bold green")
    console.print(head, soft_wrap=True)
    for result in report.failed:
        line = Text("  FAIL ", style="bold red").append(f"{result.case.title}: ")
        console.print(line.append(result.explanation), soft_wrap=True)


def _run_json(run: Run, report: CaseReport) -> dict[str, object]:
    return {
        "policy": run.label, "cases": run.cases.source,
        "passed": len(report.passed), "failed": len(report.failed),
        "results": [{
            "case": r.case.number, "name": r.case.name, "line": r.case.line,
            "passed": r.passed, "verdict": r.decision.verdict.value,
            "released": list(r.decision.released), "withheld": list(r.decision.withheld),
            "policies": list(r.decision.policies), "explanation": r.explanation,
        } for r in report.results],
    }


def _preset_json(found: Preset) -> dict[str, str]:
    return {"name": found.name, "summary": found.summary, "path": str(found.path),
            "cases": str(found.cases_path)}
