"""The policy in force: its Cedar text, what it means in plain words, the who-can-see-what
matrix (decided by the engine itself), and its history with diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...datadir import DataDir
from ...directory.store import Directory
from ...policy.engine import PolicyEngine, policy_version
from ...policy.explain import ROWS, Access, Explanation, explain
from ...policy.schema import ELEMENTS
from ...policy.source import PolicyError, PolicySource, compile_policies
from ...policy.store import NO_POLICY, NoChange, change, current_text, digest, history
from ..errors import NotFound
from ..grants import Permission
from ..guard import Dashboard
from ..headline import headline
from ..render import page

MARKS = {Access.RELEASED: ("yes", "released"), Access.WITHHELD: ("no", "withheld"),
         Access.REVIEW: ("held", "review"), Access.DENIED: ("-", "denied")}
"""A matrix cell's word and its CSS class; the word alone must be enough when printed."""
VERDICTS = {"allow": "answered", "review": "held for review", "deny": "denied"}


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: str
    """add, remove, hunk or same."""
    text: str


def explained(board: Dashboard, state: str, source: PolicySource) -> Explanation:
    return explained_in(board.data, state, source)


def explained_in(data: DataDir, state: str, source: PolicySource) -> Explanation:
    """The who-can-see-what matrix of a policy over the nation's directory today."""
    with Directory.open(data, create=False) as directory:
        snapshot = directory.snapshot()
    return explain(PolicyEngine(state, source, snapshot))


def directory_version(board: Dashboard) -> int:
    with Directory.open(board.data, create=False) as directory:
        return directory.version


def diff_lines(old: str, new: str, before: str, after: str) -> list[DiffLine]:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), before, after, lineterm="")
    kinds = {"+": "add", "-": "remove", "@": "hunk"}
    return [DiffLine(kinds.get(line[:1], "same"), line) for line in lines]


def matrix_context(explanation: Explanation,
                   changed: frozenset[tuple[str, str, str]] = frozenset()) -> dict[str, Any]:
    return {"explanation": explanation, "elements": ELEMENTS, "marks": MARKS,
            "verdicts": VERDICTS, "groups": ROWS, "changed": changed}


def changed_cells(old: Explanation, new: Explanation) -> frozenset[tuple[str, str, str]]:
    """(category label, key, element or "verdict") wherever the new policy decides otherwise."""
    before = {(view.label, row.key): row for view in old.categories for row in view.rows}
    found: set[tuple[str, str, str]] = set()
    for view in new.categories:
        for row in view.rows:
            was = before.get((view.label, row.key))
            if was is None or was.verdict is not row.verdict:
                found.add((view.label, row.key, "verdict"))
            for element, access in row.elements.items():
                if was is None or was.elements.get(element) is not access:
                    found.add((view.label, row.key, element))
    return frozenset(found)


def text_in_force(data: DataDir, state: str) -> tuple[str | None, PolicySource,
                                                     tuple[str, ...]]:
    """The policy text in force (None for none yet), compiled, with the problems that kept it
    from compiling (then no policy, which denies everything, stands in for it)."""
    text = current_text(data, state)
    try:
        return text, compile_policies(NO_POLICY if text is None else text), ()
    except PolicyError as error:
        return text, compile_policies(NO_POLICY), tuple(map(str, error.problems))


def routes(board: Dashboard) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/states/{state}/policy")
    def policy_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        text, source, problems = text_in_force(board.data, code)
        changes = history(board.data, code, "policy")
        version = policy_version(digest(NO_POLICY if text is None else text),
                                 directory_version(board))
        applied = request.query_params.get("applied", "")
        explanation = explained(board, code, source)
        return page(visit, "policy.html", area="policy", text=text, problems=problems,
                    applied=applied if applied.isdigit() else "",
                    version=version, last=changes[-1] if changes else None,
                    sentence=headline(explanation), **matrix_context(explanation))

    @router.get("/states/{state}/policy/history")
    def history_page(request: Request, state: str) -> Response:
        visit = board.visit(request, state, Permission.READ)
        changes = list(reversed(history(board.data, visit.state or "")))
        return page(visit, "history.html", area="policy", changes=changes)

    @router.get("/states/{state}/policy/history/{seq}")
    def change_page(request: Request, state: str, seq: int) -> Response:
        visit = board.visit(request, state, Permission.READ)
        code = visit.state or ""
        try:
            found = change(board.data, code, seq)
        except NoChange as error:
            raise NotFound(str(error)) from None
        lines = diff_lines(found.old_text, found.new_text, f"{code} before change {seq}",
                           f"{code} after change {seq}")
        return page(visit, "change.html", area="policy", change=found, lines=lines)

    return router
