"""Policy text as an entry point: whatever a coordinator types, pastes or saves (lone
surrogates, bytes that are not UTF-8, deep nesting, fragments of Cedar), checking it ends in a
clear refusal or success, never a traceback or a crashed process."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stateline.cli import app
from stateline.policy import PolicyError, compile_policies

runner = CliRunner()
TOKENS = ('@id("a")', '@reason("r")', "permit", "forbid", "(", ")", "[", "]", "{", "}",
          "principal", "action", "resource", ",", ";", "when", "unless", "if", "then", "else",
          "&&", "||", "!", "==", ".", "in", 'Category::"ICE"', 'Action::"query"', '"', "\\",
          "context.court_order", "//", "\n", " ", "1", "true", "?principal", "\ud800",
          "\x00", "\u202e", "::")
ANY_CHARACTER = st.one_of(st.characters(), st.characters(categories=["Cs"]))
"""Every code point, surrogates included."""
FRAGMENTS = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(ANY_CHARACTER, max_size=8)),
                     max_size=60).map("".join)


@st.composite
def policy_texts(draw: st.DrawFn) -> str:
    """Cedar-ish fragments, sometimes wrapped in brackets thousands deep."""
    body = draw(FRAGMENTS)
    depth = draw(st.one_of(st.just(0), st.integers(0, 3_000)))
    opening, closing = draw(st.sampled_from([("(", ")"), ("[", "]"), ("{a: ", "}"),
                                             ("if true then ", " else false")]))
    inner = opening * depth + body + closing * draw(st.sampled_from([0, depth]))
    head = draw(st.sampled_from(["", '@id("x")\n@reason("y")\npermit (principal, action, '
                                     "resource) when { "]))
    return head + inner + draw(st.sampled_from(["", " };", ";"]))


@settings(max_examples=300, deadline=None)
@given(policy_texts())
def test_any_text_compiles_or_is_refused_with_lines(text: str) -> None:
    try:
        source = compile_policies(text)
    except PolicyError as error:
        assert error.problems
        assert all(problem.line >= 1 and problem.message for problem in error.problems)
    else:
        assert source.policies


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(policy_texts().map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.binary(max_size=200)))
def test_policy_check_answers_any_file_with_ok_or_a_clear_error(tmp_path: Path,
                                                                content: bytes) -> None:
    file = tmp_path / "fuzz.cedar"
    file.write_bytes(content)
    result = runner.invoke(app, ["policy", "check", str(file), "--data", str(tmp_path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert result.stderr.strip()
        assert "Traceback" not in result.stderr
