"""Policy texts: a good one compiles once; a bad one is refused with every problem's line."""

from __future__ import annotations

import pytest

from stateline.policy import PolicyError, compile_policies
from stateline.policy.source import statements

GOOD = """\
// Criminal-justice agencies may query; ICE may not.
@id("cj-baseline")
@reason("Criminal-justice agencies may query.")
permit (principal, action in Action::"query", resource)
when { principal.criminal_justice };

@id("block-ice")
@reason("No state resources for civil immigration enforcement; a string with ; and } inside.")
forbid (principal in Category::"ICE", action in Action::"query", resource);
"""


def test_a_good_text_compiles_with_ids_reasons_effects_and_lines() -> None:
    source = compile_policies(GOOD)
    assert [(p.id, p.effect, p.line) for p in source.policies] == [
        ("cj-baseline", "permit", 2),
        ("block-ice", "forbid", 7),
    ]
    assert source.policy("block-ice") is not None
    assert source.by_engine_id["policy1"].id == "block-ice"
    assert len(source.digest) == 64


def test_statements_ignore_semicolons_in_strings_and_comments() -> None:
    text = '// a; b\n@id("x") @reason("a;b") permit (principal, action, resource);\n'
    assert [s.line for s in statements(text)] == [2]


@pytest.mark.parametrize(
    ("broken", "line", "says"),
    [
        (GOOD.replace("principal.criminal_justice", "principal.criminal_justic"), 2,
         "criminal_justic"),
        (GOOD.replace("when { principal.criminal_justice }", "when { principal.criminal_justice"),
         2, "cannot read"),
        (GOOD.replace('@reason("Criminal-justice agencies may query.")\n', ""), 2, "@reason"),
        (GOOD.replace('@id("block-ice")', '@id("cj-baseline")'), 7, "used twice"),
        (GOOD.replace('@id("block-ice")\n', ""), 7, "@id"),
        (GOOD.replace('@id("block-ice")', '@id("Block ICE")'), 7, "lower-case"),
        (GOOD + "\npermit (principal, action, resource) when { 1 + };\n", 11, "cannot read"),
        (GOOD.replace('Action::"query"', 'Action::"qeury"', 1), 2, "qeury"),
    ],
)
def test_a_bad_text_is_refused_with_the_line_of_the_problem(broken: str, line: int,
                                                            says: str) -> None:
    with pytest.raises(PolicyError) as caught:
        compile_policies(broken)
    problem = next(p for p in caught.value.problems if says in p.message)
    assert problem.line == line
    assert f"line {line}" in str(caught.value)


@pytest.mark.parametrize("empty", ["", "   \n", "// nothing but a comment\n"])
def test_an_empty_policy_is_refused_rather_than_denying_everything_by_accident(empty: str) -> None:
    with pytest.raises(PolicyError, match="no policy"):
        compile_policies(empty)


def test_templates_are_refused() -> None:
    template = '@id("t") @reason("r") permit (principal == ?principal, action, resource);'
    with pytest.raises(PolicyError):
        compile_policies(template)
