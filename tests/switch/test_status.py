"""Service status: changed only with a name, every change logged with who and when."""

from __future__ import annotations

from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.switch import Service, SwitchError
from stateline.switch.status import StatusBoard


def test_changes_are_logged_with_who_and_the_previous_status(tmp_path: Path) -> None:
    with StatusBoard(DataDir(tmp_path)) as board:
        assert board.get("WA") is Service.IN and board.current() == {}
        board.set("wa", Service.OUT, "J. Rivera", "maintenance")
        board.set("NY", Service.REMOVED, "K. Osei")
        assert board.current() == {"WA": Service.OUT, "NY": Service.REMOVED}
        board.set("WA", Service.IN, "J. Rivera")
        assert board.current() == {"NY": Service.REMOVED}
        log = board.history()
    assert [(c.state, c.old, c.new, c.who) for c in log] == [
        ("WA", Service.OUT, Service.IN, "J. Rivera"),
        ("NY", Service.IN, Service.REMOVED, "K. Osei"),
        ("WA", Service.IN, Service.OUT, "J. Rivera"),
    ]
    assert log[-1].note == "maintenance"


@pytest.mark.parametrize(("state", "who", "problem"), [
    ("ZZ", "J. Rivera", "not a state code"), ("WA", "  ", "say who")])
def test_a_change_needs_a_state_and_a_name(tmp_path: Path, state: str, who: str,
                                           problem: str) -> None:
    with StatusBoard(DataDir(tmp_path)) as board, pytest.raises(SwitchError, match=problem):
        board.set(state, Service.OUT, who)
    with StatusBoard(DataDir(tmp_path)) as board:
        assert board.history() == []
