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
from ...directory.store import Directory
from ...policy.cases import CaseFileError, CaseReport, load_cases, parse_cases, run_cases
from ...policy.presets import Preset, UnknownPreset, preset, presets
from ...policy.source import PolicyError, PolicySource, compile_policies
from ...policy.store import NO_POLICY, StateError, apply, current_text
from ..errors import NotFound
from ..grants import Permission
from ..guard import Dashboard, Visit
from ..render import HEADERS, page
from .policy import changed_cells, diff_lines, explained, matrix_context

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


def test_runs(board: Dashboard, state: str, source: PolicySource, cases: str) -> list[TestRun]:
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
            with Directory.open(board.data, create=False) as directory:
                snapshot = directory.snapshot()
            runs.append(TestRun(title, run_cases(source, parse_cases(cases, "cases", state),
                                                 snapshot)))
        except CaseFileError as error:
            runs.append(TestRun(title, None, str(error)))
    return runs


def replay(board: Dashboard, state: str, text: str) -> Any:
    """Last year's recorded requests decided under the text; None where replay is not part of
    this installation."""
    try:
        module: Any = importlib.import_module("stateline.transparency.whatif")
    except ImportError:
        return None
    since = datetime.now(UTC) - timedelta(days=REPLAY_DAYS)
    return module.whatif(board.data, state, text, since=since)


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
        try:
            source = compile_policies(text)
        except PolicyError as error:
            return _editor(visit, text, cases, error.problems, 422)
        return await run_in_threadpool(_checked, board, visit, source, cases)

    @router.post("/states/{state}/policy/apply")
    async def apply_page(request: Request, state: str) -> Response:
        visit, form = await board.acting(request, state, Permission.POLICY)
        code = visit.state or ""
        text, cases, note = form.get("text").replace("\r\n", "\n"), form.get("cases"), \
            form.get("note").strip()
        try:
            source = compile_policies(text)
        except PolicyError as error:
            return _editor(visit, text, cases, error.problems, 422)
        if not note:
            return await run_in_threadpool(_checked, board, visit, source, cases,
                                           "Say why the policy changes: the note is kept in "
                                           "the history and the audit log.")
        runs = await run_in_threadpool(test_runs, board, code, source, cases)
        if not all(run.ok for run in runs) and form.get("override") != "yes":
            return await run_in_threadpool(_checked, board, visit, source, cases,
                                           "Some tests fail: tick the box to apply anyway.")
        try:
            done = await run_in_threadpool(apply, board.data, code, text,
                                           visit.account.name, note)
        except StateError as error:
            return await run_in_threadpool(_checked, board, visit, source, cases,
                                           f"Not applied: {error}")
        return RedirectResponse(f"/states/{code}/policy?applied={done.seq}", 303,
                                headers=HEADERS)

    return router


def _checked(board: Dashboard, visit: Visit, source: PolicySource, cases: str,
             problem: str = "") -> Response:
    code = visit.state or ""
    old_text = current_text(board.data, code)
    old = explained(board, code, compile_policies(NO_POLICY if old_text is None else old_text))
    new = explained(board, code, source)
    runs = test_runs(board, code, source, cases)
    lines = diff_lines(old_text or "", source.text, f"{code} in force", "proposed")
    result = replay(board, code, source.text)
    return page(visit, "checked.html", 200 if not problem else 422, area="policy",
                text=source.text, cases=cases, runs=runs, lines=lines,
                whatif=result, whatif_rows=replay_rows(result), replay_days=REPLAY_DAYS,
                tests_ok=all(run.ok for run in runs), problem=problem,
                **matrix_context(new, changed_cells(old, new)))
