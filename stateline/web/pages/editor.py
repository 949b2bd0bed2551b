"""Change a policy without the command line: edit the Cedar text, check it (every problem with
its line), run test cases (a preset's own when the text is a preset, and any written here),
see what it changes in the who-can-see-what matrix and in last year's recorded traffic, then
apply it with a note. Applying runs the cases again and refuses failures unless overridden."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...commands.policy_cases import synthetic_snapshot
from ...datadir import DataDir
from ...directory.store import Directory
from ...policy.cases import CaseFileError, CaseReport, load_cases, parse_cases, run_cases
from ...policy.explain import Explanation
from ...policy.isolated import IsolatedFailure, run_isolated
from ...policy.names import PolicyWarning, vetted
from ...policy.presets import Preset, UnknownPreset, preset, presets
from ...policy.source import PolicyError, PolicyProblem, PolicySource, compile_policies
from ...policy.store import NO_POLICY, StateError, apply, current_text, directory_snapshot
from ..errors import NotFound
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import HEADERS, page
from .policy import changed_cells, diff_lines, explained_in, matrix_context

REPLAY_DAYS = 365
"""How much recorded traffic the what-if replays."""


@dataclass(frozen=True, slots=True)
class TestRun:
    title: str
    report: CaseReport | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.report is not None and self.report.ok


def matching_preset(text: str) -> Preset | None:
    wanted = text.strip()
    return next((p for p in presets() if p.text().strip() == wanted), None)


def test_runs(data: DataDir, state: str, source: PolicySource, cases: str) -> list[TestRun]:
    """The preset's own cases (over the synthetic directory they are written for) and the
    cases typed in (over this nation's directory)."""
    runs: list[TestRun] = []
    shipped = matching_preset(source.text)
    if shipped is not None:
        title = f"preset {shipped.name}: its own cases"
        try:
            found = load_cases(shipped.cases_path, state)
            runs.append(TestRun(title, run_cases(source, found, synthetic_snapshot())))
        except CaseFileError as error:
            runs.append(TestRun(title, None, str(error)))
    if cases.strip():
        title = "the cases written here"
        try:
            with Directory.open(data, create=False) as directory:
                snapshot = directory.snapshot()
            runs.append(TestRun(title, run_cases(source, parse_cases(cases, "cases", state),
                                                 snapshot)))
        except CaseFileError as error:
            runs.append(TestRun(title, None, str(error)))
    return runs


def replay(data: DataDir, state: str, text: str) -> Any:
    """Last year's recorded requests decided under the text; None where replay is not part of
    this installation."""
    try:
        module: Any = importlib.import_module("stateline.transparency.whatif")
    except ImportError:
        return None
    since = datetime.now(UTC) - timedelta(days=REPLAY_DAYS)
    return module.whatif(data, state, text, since=since)


@dataclass(frozen=True, slots=True)
class ReplayRow:
    category: str
    requests: int
    unchanged: int
    denied: int
    held: int
    allowed: int
    withheld: str

    @property
    def changed(self) -> bool:
        return self.unchanged != self.requests


def replay_rows(result: Any) -> list[ReplayRow]:
    """One row per requester category of a what-if, for the page's table."""
    if result is None:
        return []
    rows = []
    for name, cell in result.by_category().items():
        counts = {shift.value: n for shift, n in cell.shifts.items()}
        rows.append(ReplayRow(name, cell.requests, counts.get("unchanged", 0),
                              counts.get("newly denied", 0), counts.get("newly held", 0),
                              counts.get("newly allowed", 0),
                              ", ".join(f"{e} {n:,}" for e, n in sorted(cell.withheld.items()))))
    return rows


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed text examined in a child process: refused with its problems, or compiled
    with its warnings, the matrices before and after, its test runs and its replay."""

    problems: tuple[PolicyProblem, ...]
    warnings: tuple[PolicyWarning, ...] = ()
    old: Explanation | None = None
    new: Explanation | None = None
    runs: tuple[TestRun, ...] = ()
    whatif: Any = None


def examine(data: DataDir, state: str, text: str, cases: str) -> Proposal:
    """Everything the check page shows, computed where the engine may run; module-level so a
    child process can be given it."""
    try:
        source, warnings = vetted(text, directory_snapshot(data), state)
    except PolicyError as error:
        return Proposal(error.problems)
    old_text = current_text(data, state)
    old = explained_in(data, state, compile_policies(NO_POLICY if old_text is None
                                                     else old_text))
    return Proposal((), tuple(warnings), old, explained_in(data, state, source),
                    tuple(test_runs(data, state, source, cases)), replay(data, state, text))


def _examined(board: Dashboard, state: str, text: str, cases: str) -> Proposal:
    """The examination in a child process: an engine crash there is a refusal here."""
    try:
        return run_isolated(examine, board.data, state, text, cases)
    except IsolatedFailure as error:
        return Proposal((PolicyProblem(1, f"this text could not be checked: {error}"),))


def _editor(visit: Visit, text: str, cases: str, problems: tuple[Any, ...] = (),
            status: int = 200, note: str = "") -> Response:
    return page(visit, "editor.html", status, area="policy", text=text, cases=cases,
                problems=problems, presets=presets(), note=note,
                bad_lines={p.line for p in problems})


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/policy/edit")
    def edit_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.POLICY)
        name = request.query_params.get("preset")
        if name:
            try:
                text = preset(name).text()
            except UnknownPreset as error:
                raise NotFound(str(error)) from None
        else:
            text = current_text(board.data, visit.state or "") or NO_POLICY
        return _editor(visit, text, "")

    @router.post("/states/{state}/policy/edit")
    async def edit_again(request: Request, state: str) -> Response:
        visit, form = await board.acting(request, state, Permission.POLICY)
        return _editor(visit, form.get("text"), form.get("cases"))

    @router.post("/states/{state}/policy/check")
    async def check(request: Request, state: str) -> Response:
        visit, form = await board.acting(request, state, Permission.POLICY)
        text, cases = form.get("text").replace("\r\n", "\n"), form.get("cases")
        proposal = await run_in_threadpool(_examined, board, visit.state or "", text, cases)
        if proposal.problems:
            return _editor(visit, text, cases, proposal.problems, 422)
        return await run_in_threadpool(_checked, board, visit, proposal, text, cases)

    @router.post("/states/{state}/policy/apply")
    async def apply_page(request: Request, state: str) -> Response:
        visit, form = await board.acting(request, state, Permission.POLICY)
        code = visit.state or ""
        text, cases, note = form.get("text").replace("\r\n", "\n"), form.get("cases"), \
            form.get("note").strip()
        proposal = await run_in_threadpool(_examined, board, code, text, cases)
        if proposal.problems:
            return _editor(visit, text, cases, proposal.problems, 422)
        if not note:
            return await run_in_threadpool(_checked, board, visit, proposal, text, cases,
                                           "Say why the policy changes: the note is kept in "
                                           "the history and the audit log.")
        if not all(run.ok for run in proposal.runs) and form.get("override") != "yes":
            return await run_in_threadpool(_checked, board, visit, proposal, text, cases,
                                           "Some tests fail: tick the box to apply anyway.")
        try:
            # The same text just compiled and ran in a child, so the engine copes with it here.
            done = await run_in_threadpool(apply, board.data, code, text,
                                           visit.account.name, note)
        except PolicyError as error:
            return _editor(visit, text, cases, error.problems, 422)
        except StateError as error:
            return await run_in_threadpool(_checked, board, visit, proposal, text, cases,
                                           f"Not applied: {error}")
        return RedirectResponse(f"/states/{code}/policy?applied={done.seq}", 303,
                                headers=HEADERS)

    return router


def _checked(board: Dashboard, visit: Visit, proposal: Proposal, text: str, cases: str,
             problem: str = "") -> Response:
    code = visit.state or ""
    assert proposal.old is not None and proposal.new is not None
    lines = diff_lines(current_text(board.data, code) or "", text, f"{code} in force",
                       "proposed")
    runs = list(proposal.runs)
    return page(visit, "checked.html", 200 if not problem else 422, area="policy",
                text=text, cases=cases, runs=runs, lines=lines, warnings=proposal.warnings,
                whatif=proposal.whatif, whatif_rows=replay_rows(proposal.whatif),
                replay_days=REPLAY_DAYS, tests_ok=all(run.ok for run in runs),
                problem=problem, **matrix_context(proposal.new,
                                                  changed_cells(proposal.old, proposal.new)))
