"""A coordinator's policy text cannot stop the dashboard: a text nested past the engine's
limits is refused with the limit and the line, an engine crash in the child that checks a
text is a clear refusal, and the server answers afterwards."""

from __future__ import annotations

import ctypes
import threading

import pytest

from stateline.policy.isolated import IsolatedFailure, run_isolated
from stateline.policy.presets import preset
from stateline.policy.store import current_text

from .conftest import Browser, Nation, signed_in

HEAD = '@id("deep")\n@reason("Nested too deep.")\n'


def nested(depth: int) -> str:
    return (HEAD + "permit (principal, action, resource)\nwhen { " + "(" * depth + "true"
            + ")" * depth + " };\n")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_check_is_refused_and_the_server_still_answers(
        browser: Browser, nation: Nation, depth: int) -> None:
    before = current_text(nation.data, "WA")
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit")
    answer = browser.post("/states/WA/policy/check", {"text": nested(depth), "cases": ""})
    assert answer.status_code == 422
    assert "limit" in answer.text and "line " in answer.text
    assert browser.get("/states/WA/policy").status_code == 200
    assert current_text(nation.data, "WA") == before


def test_a_misspelt_category_is_refused_by_the_editor_with_the_name_meant(
        browser: Browser, nation: Nation) -> None:
    before = current_text(nation.data, "WA")
    text = preset("block-ice").text().replace('Category::"ICE"', 'Category::"ICEE"')
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit")
    for path in ("/states/WA/policy/check", "/states/WA/policy/apply"):
        answer = browser.post(path, {"text": text, "cases": "", "note": "typo",
                                     "override": "yes"})
        assert answer.status_code == 422
        assert "did you mean ICE?" in answer.text
    assert current_text(nation.data, "WA") == before


def test_a_text_within_the_limits_is_checked_in_full(browser: Browser) -> None:
    signed_in(browser, "cora")
    browser.get("/states/WA/policy/edit")
    answer = browser.post("/states/WA/policy/check",
                          {"text": preset("block-ice").text(), "cases": ""})
    assert answer.status_code == 200
    assert "Who could see what under it" in answer.text


def _crash() -> None:
    ctypes.string_at(0)


def _hang() -> None:
    threading.Event().wait()


def test_a_crash_in_the_child_is_a_clear_failure_not_a_dead_server() -> None:
    with pytest.raises(IsolatedFailure, match="crashed"):
        run_isolated(_crash)


def test_a_child_that_does_not_answer_in_time_is_stopped() -> None:
    with pytest.raises(IsolatedFailure, match="longer than"):
        run_isolated(_hang, timeout=1)


def test_a_childs_exception_is_its_message() -> None:
    with pytest.raises(IsolatedFailure, match="ZeroDivisionError"):
        run_isolated(divmod, 1, 0)

