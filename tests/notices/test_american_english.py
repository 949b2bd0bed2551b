"""What a resident or an official reads is in American English: the letters, the reports, the
briefing and the demo's words. A word list of British spellings is checked against every
template and against the strings (not the identifiers) of the rooms that write to people."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

import stateline

PACKAGE = Path(stateline.__file__).parent

BRITISH = re.compile(
    r"(?i)\b\w*(?:colour|organis|licenc|honour|centre|behaviour|favour|neighbour|recognis"
    r"|authoris|summaris|categoris|prioritis|minimis|apologis|catalogue|programme|judgement"
    r"|travell|labell|artefact|whilst|amongst|normalis|sanitis|utilis|optimis|standardis"
    r"|characteris|customis|enquir|practis|learnt|spelt|visualis|anonymis|deputis"
    r"|criminalis|legalis|penalis)\w*")
"""British spellings (and -ise verbs) a U.S. reader would trip on; "license" is the DMV's."""

WORDING_ROOMS = ("notices", "transparency", "sim", "commands/demo.py",
                 "commands/demo_tables.py", "commands/briefing.py")
"""Rooms whose strings reach residents and officials: letters, reports, briefings, the demo."""


def british_words(text: str) -> list[str]:
    return [match.group(0) for match in BRITISH.finditer(text)]


def _templates() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("templates/**/*") if p.is_file())


def _modules() -> list[Path]:
    found: list[Path] = []
    for room in WORDING_ROOMS:
        place = PACKAGE / room
        found.extend([place] if place.is_file() else sorted(place.rglob("*.py")))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    """Docstrings (of modules, classes, functions and attributes) speak to engineers."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) \
                and body and isinstance(body[0], ast.Expr):
            found.add(id(body[0].value))
        for before, after in itertools.pairwise(body):
            if isinstance(before, ast.Assign | ast.AnnAssign) and isinstance(after, ast.Expr):
                found.add(id(after.value))
    return found


def user_facing_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skipped]


def test_the_word_list_catches_british_spelling_and_spares_american() -> None:
    assert british_words("eye colour, a legal aid organisation, your licence, in honour "
                         "of, the centre, we recognise, officers deputised") == [
        "colour", "organisation", "licence", "honour", "centre", "recognise", "deputised"]
    assert british_words("eye color, a legal aid organization, your driver's license, "
                         "in honor of, the center, we recognize, a licensed dealer") == []


def test_the_scan_reads_every_room_that_writes_to_people() -> None:
    names = {p.name for p in _templates()}
    assert {"letters.html", "briefing.html", "report.html"} <= names
    assert {"letters.py", "briefing_gaps.py", "demo.py"} <= {p.name for p in _modules()}


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_templates_are_in_american_english(path: Path) -> None:
    found = [(n, w) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             for w in british_words(line)]
    assert found == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_strings_people_read_are_in_american_english(path: Path) -> None:
    found = [(line, w) for line, text in user_facing_strings(path) for w in british_words(text)]
    assert found == []


def test_the_shipped_policies_read_in_american_english() -> None:
    """A policy's reasons and comments are what a coordinator reads on the policy page and in
    the editor, and what a denial quotes."""
    found = {path.name: british_words(path.read_text(encoding="utf-8"))
             for path in sorted((PACKAGE / "policy" / "presets").glob("*.cedar"))}
    assert len(found) >= 6
    assert {name: words for name, words in found.items() if words} == {}
