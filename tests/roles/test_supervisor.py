"""The supervisor before any role runs: one network per data folder, the web port held for
every web front to come, sockets that fit however many states a process serves, states
shared fairly among a pool, and run folders of dead supervisors swept away."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from stateline.datadir import DataDir
from stateline.protocol import STATES
from stateline.roles import supervisor as supervising
from stateline.roles.supervisor import (
    FolderServed,
    PortTaken,
    Supervisor,
    gateway_groups,
)

FIFTY = tuple(sorted(set(STATES) - {"DC", "GU", "PR", "VI"}))


def made(data: DataDir, groups: list[tuple[str, ...]], port: int = 0) -> Supervisor:
    data.root.mkdir(parents=True, exist_ok=True)
    return Supervisor(data, groups, host="127.0.0.1", port=port, dashboard=False)


def test_states_are_shared_among_a_pool_and_each_gets_its_own_process_by_default() -> None:
    assert gateway_groups(["WA", "OR", "NY"], None) == [("NY",), ("OR",), ("WA",)]
    pool = gateway_groups(list(FIFTY), 3)
    assert sorted(s for group in pool for s in group) == sorted(FIFTY)
    assert [len(group) for group in pool] == [17, 17, 16]
    assert gateway_groups(["WA"], 8) == [("WA",)]


def test_a_process_serving_fifty_states_has_a_socket_path_that_fits(tmp_path: Path) -> None:
    network = made(DataDir(tmp_path / "d"), [FIFTY])
    try:
        (role,) = network.gateways
        assert role.name == "gateway-1" and role.states == FIFTY
        assert role.socket is not None and len(str(role.socket).encode()) < 100
        assert all(state in role.argv for state in FIFTY)
    finally:
        network.stop()


def test_a_second_network_on_the_same_folder_is_refused_until_the_first_stops(
        tmp_path: Path) -> None:
    data = DataDir(tmp_path / "d")
    first = made(data, [("WA",)])
    try:
        with pytest.raises(FolderServed, match="already served"):
            made(data, [("WA",)])
    finally:
        first.stop()
    made(data, [("WA",)]).stop()


def test_the_web_port_is_held_by_the_supervisor_so_no_one_else_can_take_it(
        tmp_path: Path) -> None:
    network = made(DataDir(tmp_path / "d"), [("WA",)])
    try:
        with socket.socket() as squatter, pytest.raises(OSError):
            squatter.bind(("127.0.0.1", network.port))
        with pytest.raises(PortTaken, match=str(network.port)):
            made(DataDir(tmp_path / "other"), [("WA",)], port=network.port)
    finally:
        network.stop()
    with socket.socket() as after:  # let go when the network stops
        after.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        after.bind(("127.0.0.1", network.port))


def test_a_run_folder_whose_supervisor_died_is_swept_at_the_next_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervising.tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"{supervising.RUN_PREFIX}stale"
    stale.mkdir(mode=0o700)
    (stale / supervising.PID_FILE).write_text(dead.stdout.strip())
    alive = tmp_path / f"{supervising.RUN_PREFIX}alive"
    alive.mkdir(mode=0o700)
    (alive / supervising.PID_FILE).write_text(str(os.getpid()))
    network = made(DataDir(tmp_path / "d"), [("WA",)])
    try:
        assert not stale.exists() and alive.exists()
        assert network.run.parent == tmp_path and oct(network.run.stat().st_mode)[-3:] == "700"
    finally:
        network.stop()
    assert not network.run.exists()
