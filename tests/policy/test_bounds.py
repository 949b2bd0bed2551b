"""Policy text is bounded before the engine sees it: a text nested or sized past the limits is
refused with the limit and the line, by `policy check`, `apply` and `whatif` alike, and no
process crashes on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.policy import PolicyError, compile_policies
from stateline.policy.source import MAX_DEPTH, MAX_REASON, MAX_SIZE
from stateline.policy.store import current_text

HEAD = '@id("deep")\n@reason("Nested too deep.")\n'
CLI = Path(sys.executable).with_name("stateline")


def nested(depth: int, opening: str = "(", closing: str = ")") -> str:
    return (HEAD + "permit (principal, action, resource)\nwhen { "
            + opening * depth + "true" + closing * depth + " };\n")


def stateline(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_nesting_up_to_the_limit_compiles() -> None:
    # The braces of `when { }` are the first level.
    assert compile_policies(nested(MAX_DEPTH - 1)).policies[0].id == "deep"


@pytest.mark.parametrize(("opening", "closing", "tail"), [("(", ")", ""),
                                                          ("[", "]", " == [true]"),
                                                          ("{a: ", "}", " == {}")])
def test_nesting_past_the_limit_is_refused_with_the_limit_and_its_line(opening: str,
                                                                       closing: str,
                                                                       tail: str) -> None:
    depth = MAX_DEPTH
    text = (HEAD + "permit (principal, action, resource)\nwhen { "
            + opening * depth + "true" + closing * depth + tail + " };\n")
    with pytest.raises(PolicyError) as caught:
        compile_policies(text)
    [problem] = caught.value.problems
    assert problem.line == 4
    assert f"limit is {MAX_DEPTH}" in problem.message


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    text = (HEAD + "// " + "(" * 500 + "\npermit (principal, action, resource)\n"
            'when { context.reason == "' + "[" * 500 + '" };\n')
    assert compile_policies(text).policies[0].line == 1


def test_chained_if_expressions_count_as_nesting() -> None:
    chain = "if true then " * MAX_DEPTH + "true" + " else false" * MAX_DEPTH
    text = HEAD + f"permit (principal, action, resource) when {{ {chain} }};\n"
    with pytest.raises(PolicyError, match=f"limit is {MAX_DEPTH}"):
        compile_policies(text)


def test_a_text_past_the_size_limit_is_refused_with_the_line_it_crosses_on() -> None:
    line = "// " + "x" * 96 + "\n"
    text = HEAD + "permit (principal, action, resource);\n" + line * (MAX_SIZE // len(line) + 1)
    with pytest.raises(PolicyError) as caught:
        compile_policies(text)
    [problem] = caught.value.problems
    assert f"{MAX_SIZE:,} characters" in problem.message
    assert problem.line == text.count("\n", 0, MAX_SIZE) + 1


def test_a_reason_past_its_limit_is_refused_and_one_at_the_limit_compiles() -> None:
    def policy(reason: str) -> str:
        return f'@id("long")\n@reason("{reason}")\npermit (principal, action, resource);\n'

    compile_policies(policy("x" * MAX_REASON))
    with pytest.raises(PolicyError) as caught:
        compile_policies(policy("x" * (MAX_REASON + 1)))
    [problem] = caught.value.problems
    assert f"the limit is {MAX_REASON}" in problem.message and problem.line == 1


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_policy_check_refuses_deep_nesting_with_a_clear_error(tmp_path: Path, depth: int) -> None:
    file = tmp_path / "deep.cedar"
    file.write_text(nested(depth))
    done = stateline("policy", "check", file)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{file}: line 4: " in done.stderr or f"{file}: line 1: " in done.stderr
    assert "limit" in done.stderr


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_apply_and_whatif_refuse_deep_nesting_and_the_policy_in_force_stays(
        small_nation: DataDir, tmp_path: Path, depth: int) -> None:
    before = current_text(small_nation, "WA")
    file = tmp_path / "deep.cedar"
    file.write_text(nested(depth))
    for args in (("apply", file, "--state", "WA"),
                 ("whatif", "--policy", file, "--state", "WA")):
        done = stateline("policy", *args, "--data", small_nation.root)
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert "limit" in done.stderr
    assert current_text(small_nation, "WA") == before
